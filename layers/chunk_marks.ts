/**
 * Marks the layers put on the chunks they hand each other, so that a chunk
 * can be worked on in place instead of copied. Internal: the marks only ever
 * make a layer skip a copy; an unmarked chunk is always handled correctly.
 *
 * - {@linkcode OWNED}: a view into a packet buffer the pipeline allocated,
 *   with room in front of it for the layers below (length field, header) and
 *   behind it for the tag. A layer that finds its input here removes it
 *   (each view is used in place at most once) and may write around it.
 * - {@linkcode DECOYS}: contents the shaping layer made up; the AEAD layer
 *   seals them with the ignore bit set.
 * - {@linkcode TAILS}: contents whose last bytes are not written yet, mapped
 *   to the caller's bytes that belong there (a large message's payload):
 *   the AEAD layer encrypts them from where they are, so the payload is never
 *   copied into the packet first. Unlike the other marks this one is not
 *   optional: only the aliasing encoder the session builds right above the
 *   AEAD layer makes it (no caller layer in between), and the AEAD layer
 *   always honours it.
 * - {@linkcode FRAGMENT_STARTS}: the first piece of a large packet body that
 *   the length layer hands on as it arrives, mapped to the body's total
 *   length; the pieces that follow it are the rest of that body, in order.
 *
 * @module
 */

/**
 * A few marked views, by identity. Marks live from one layer's `enqueue` to
 * the next layer's check, within one synchronous call, so there are rarely
 * more than one or two at a time: a tiny array is much cheaper than a
 * `WeakSet` per packet. A mark that is never checked (a caller's layer
 * replaced the chunk) is dropped once {@linkcode ViewMarks.LIMIT} newer ones
 * exist, and costs nothing but a skipped copy-free path.
 */
export class ViewMarks {
  /** Marks kept at most. */
  static readonly LIMIT = 16;
  #views: Uint8Array[] = [];

  /** Marks `view`. */
  add(view: Uint8Array): void {
    const views = this.#views;
    if (views.length >= ViewMarks.LIMIT) views.shift();
    views.push(view);
  }

  /** Whether `view` is marked. */
  has(view: Uint8Array): boolean {
    const views = this.#views;
    for (let i = views.length - 1; i >= 0; i--) if (views[i] === view) return true;
    return false;
  }

  /** Removes the mark of `view`; returns whether it was marked. */
  delete(view: Uint8Array): boolean {
    const views = this.#views;
    for (let i = views.length - 1; i >= 0; i--) {
      if (views[i] === view) {
        if (i === views.length - 1) views.pop();
        else views.splice(i, 1);
        return true;
      }
    }
    return false;
  }
}

/** Pipeline-allocated views with headroom (see the module doc). */
export const OWNED: ViewMarks = new ViewMarks();

/** Views mapped to one value each, by identity; like {@linkcode ViewMarks}, a few at a time. */
export class ViewTails {
  #views: Uint8Array[] = [];
  #tails: Uint8Array[] = [];

  /** Maps `view` to `tail`. */
  set(view: Uint8Array, tail: Uint8Array): void {
    if (this.#views.length >= ViewMarks.LIMIT) {
      this.#views.shift();
      this.#tails.shift();
    }
    this.#views.push(view);
    this.#tails.push(tail);
  }

  /** Removes and returns the tail of `view`, if it has one. */
  take(view: Uint8Array): Uint8Array | undefined {
    const views = this.#views;
    for (let i = views.length - 1; i >= 0; i--) {
      if (views[i] === view) {
        const tails = this.#tails, tail = tails[i];
        if (i === views.length - 1) {
          views.pop();
          tails.pop();
        } else {
          views.splice(i, 1);
          tails.splice(i, 1);
        }
        return tail;
      }
    }
    return undefined;
  }
}

/** Decoy contents made by the shaping layer. */
export const DECOYS: ViewMarks = new ViewMarks();

/** Contents still missing their last bytes → those bytes, where the caller has them. */
export const TAILS: ViewTails = new ViewTails();

/** First pieces of streamed packet bodies → the body's total length. */
export const FRAGMENT_STARTS: WeakMap<Uint8Array, number> = new WeakMap();

/** How a layer gets a fresh buffer of `size` bytes (default: a new array). */
export type Allocator = (size: number) => Uint8Array;

/** The default allocator. */
export const newBuffer: Allocator = (size) => new Uint8Array(size);
