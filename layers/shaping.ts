/**
 * Traffic shaping: the layer that adds decoy packets in front of outbound
 * messages. Decoys are encrypted like any packet (the AEAD layer sets their
 * ignore bit) and dropped by the receiver, so they change the shape of the
 * byte stream (sizes, counts) without changing what the peer reads.
 *
 * A {@linkcode ShapingPolicy} decides, message by message, which decoys to
 * send; {@linkcode shapingLayer} is the layer that asks it, sitting between
 * aliasing and the AEAD layer.
 *
 * @module
 */

import type { Layer } from "./layer.ts";
import { type Allocator, DECOYS, newBuffer, OWNED } from "./chunk_marks.ts";
import { LENGTH_FIELD_LEN } from "./length/length_cipher.ts";
import { HEADER_LEN } from "./packet_cipher.ts";
import { TAG_LEN } from "./aead/aead.ts";

/**
 * Given the contents length of the next outbound message, returns the
 * contents lengths of decoy packets to send before it (or nothing).
 */
export type ShapingPolicy = (contentsLength: number) => readonly number[] | undefined;

/** Options for {@linkcode randomDecoys}. */
export interface RandomDecoyOptions {
  /** Chance (0..1) of sending one decoy before a message. Default 0.1. */
  probability?: number;
  /** Largest decoy contents length; sizes are uniform in 0..maxSize. Default 1024. */
  maxSize?: number;
  /** Source of uniform numbers in [0, 1). Default `Math.random` (shape, not secrecy). */
  random?: () => number;
}

/**
 * The built-in policy: with probability `p`, one decoy of random size ≤ `maxSize`.
 *
 * @example
 * ```ts
 * import { randomDecoys } from "@bip324/bip324";
 *
 * const always = randomDecoys({ probability: 1, maxSize: 10 });
 * const decoys = always(37) ?? [];
 * console.assert(decoys.length === 1 && decoys[0] <= 10);
 * ```
 */
export function randomDecoys(options: RandomDecoyOptions = {}): ShapingPolicy {
  const probability = options.probability ?? 0.1;
  const maxSize = options.maxSize ?? 1024;
  const random = options.random ?? Math.random;
  if (!(probability >= 0 && probability <= 1)) {
    throw new RangeError(`probability must be in 0..1, got ${probability}`);
  }
  if (!Number.isInteger(maxSize) || maxSize < 0 || maxSize > 0xffffff) {
    throw new RangeError(`maxSize must be an integer 0..16777215, got ${maxSize}`);
  }
  return () => random() < probability ? [Math.floor(random() * (maxSize + 1))] : undefined;
}

/** Options for {@linkcode shapingLayer}. */
export interface ShapingLayerOptions {
  /** Called with the contents length of each decoy sent. */
  onDecoy?: (contentsLength: number) => void;
  /** Where decoy buffers are allocated. Default: new arrays. */
  alloc?: Allocator;
}

/**
 * The shaping layer: outbound, asks `policy` before each message's contents
 * and emits the decoys it wants first (all-zero contents, marked as decoys
 * for the AEAD layer); inbound, it passes contents through (the AEAD layer
 * has already dropped the peer's decoys).
 *
 * @example
 * ```ts
 * import { aeadEncryptor, randomDecoys, shapingLayer } from "@bip324/bip324/layers";
 * import { FSChaCha20Poly1305 } from "@bip324/bip324/cipher";
 *
 * const shaping = shapingLayer(randomDecoys({ probability: 1, maxSize: 0 }));
 * const out = ReadableStream.from([new Uint8Array(3)])
 *   .pipeThrough(new TransformStream(shaping.outbound))
 *   .pipeThrough(new TransformStream(aeadEncryptor(new FSChaCha20Poly1305(new Uint8Array(32)))));
 * const sizes: number[] = [];
 * for await (const body of out) sizes.push(body.length);
 * console.assert(sizes.join() === "17,20"); // the decoy, then the message
 * ```
 */
export function shapingLayer(
  policy: ShapingPolicy,
  options: ShapingLayerOptions = {},
): Layer<Uint8Array, Uint8Array> {
  if (typeof policy !== "function") throw new TypeError("policy must be a function");
  const alloc = options.alloc ?? newBuffer;
  const onDecoy = options.onDecoy;
  const head = LENGTH_FIELD_LEN + HEADER_LEN;
  return {
    inbound: {},
    outbound: {
      transform(contents, controller) {
        const decoys = policy(contents.length);
        if (decoys) {
          for (const length of decoys) {
            if (!Number.isInteger(length) || length < 0 || length > 0xffffff) {
              throw new RangeError(`decoy lengths must be integers 0..16777215, got ${length}`);
            }
            const packet = alloc(head + length + TAG_LEN);
            const decoy = packet.subarray(head, head + length);
            decoy.fill(0);
            OWNED.add(decoy);
            DECOYS.add(decoy);
            controller.enqueue(decoy);
            onDecoy?.(length);
          }
        }
        controller.enqueue(contents);
      },
    },
  };
}
