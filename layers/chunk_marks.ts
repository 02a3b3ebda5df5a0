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
 * - {@linkcode FRAGMENT_STARTS}: the first piece of a large packet body that
 *   the length layer hands on as it arrives, mapped to the body's total
 *   length; the pieces that follow it are the rest of that body, in order.
 *
 * @module
 */

/** Pipeline-allocated views with headroom (see the module doc). */
export const OWNED: WeakSet<Uint8Array> = new WeakSet();

/** Decoy contents made by the shaping layer. */
export const DECOYS: WeakSet<Uint8Array> = new WeakSet();

/** First pieces of streamed packet bodies → the body's total length. */
export const FRAGMENT_STARTS: WeakMap<Uint8Array, number> = new WeakMap();

/** How a layer gets a fresh buffer of `size` bytes (default: a new array). */
export type Allocator = (size: number) => Uint8Array;

/** The default allocator. */
export const newBuffer: Allocator = (size) => new Uint8Array(size);
