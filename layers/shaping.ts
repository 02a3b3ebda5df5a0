/**
 * Traffic shaping policies: functions the AEAD layer asks, before each
 * outbound message, which decoy packets to send first. Decoys are encrypted
 * like any packet and dropped by the receiver, so they change the shape of
 * the byte stream (sizes, counts) without changing what the peer reads.
 *
 * @module
 */

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
 * import { randomDecoys } from "./shaping.ts";
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
