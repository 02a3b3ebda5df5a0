/**
 * The simple multi-key private authentication protocol (sipa, "Private
 * authentication protocols", example 4): a challenger with up to n
 * acceptable public keys learns whether the responder holds any matching
 * private key, and not which one.
 *
 * ```
 * challenger: d, y random; D = d·G; w = h₂(y ‖ ctx)
 *             cᵢ = y − h₁(x(d·Qᵢ) ‖ ctx) for each of the n slots  sends D ‖ w ‖ shuffled c
 * responder:  fⱼ = h₁(x(pⱼ·D) ‖ ctx); z = cᵢ + fⱼ for the (i, j) with
 *             h₂(cᵢ + fⱼ ‖ ctx) = w, else a random scalar            sends z
 * challenger: accepts iff z = y
 * ```
 *
 * Unlike Countersign the responder can tell whether it matched (no forward
 * challenger privacy), so it sends a random z otherwise: both cases look
 * the same to everyone else. Tags: `bip324.ts/pap/secret`, `bip324.ts/pap/commit`.
 *
 * @module
 */

import { bytesEqual, concatBytes } from "../bytes.ts";
import {
  bytes32,
  decodePoint,
  encodePoint,
  N,
  Point,
  randomScalar,
  type RandomSource,
  sharedScalar,
  shuffle,
  taggedHash,
  toBig,
} from "./group.ts";

/** Bytes of a multi-key challenge with `slots` acceptable keys: `D ‖ w ‖ c₀ … c₍slots₋₁₎`. */
export function multiKeyChallengeLength(slots: number): number {
  return 64 + 32 + 32 * slots;
}

/** Bytes of a multi-key response: z. */
export const MULTIKEY_RESPONSE_LEN = 32;

const SECRET_TAG = "bip324.ts/pap/secret";
const COMMIT_TAG = "bip324.ts/pap/commit";

/** The scalar of a shared point under this protocol's tag. */
const secretScalar = (shared: Point, context: Uint8Array): bigint =>
  sharedScalar(SECRET_TAG, shared, context);

/** What a multi-key challenger remembers: y, as bytes (wiped after the check). */
export interface MultiKeyState {
  /** y as 32 big-endian bytes. */
  y: Uint8Array;
}

/** Builds a challenge for `accept` (already padded with random points to the slot count). */
export function multiKeyChallenge(
  accept: readonly Point[],
  context: Uint8Array,
  random: RandomSource,
): { message: Uint8Array; state: MultiKeyState } {
  const d = randomScalar(random);
  const y = randomScalar(random);
  const yBytes = bytes32(y);
  const D = Point.BASE.multiply(d);
  const c = accept.map((Q) => bytes32((y - secretScalar(Q.multiply(d), context) + N) % N));
  shuffle(c, random);
  const message = concatBytes(
    encodePoint(D, random),
    taggedHash(COMMIT_TAG, yBytes, context),
    ...c,
  );
  for (const ci of c) ci.fill(0);
  return { message, state: { y: yBytes } };
}

/**
 * Answers a challenge (length checked by the caller) with z: the opened y if
 * one of `keys` (scalars) matches a slot, else a random scalar. Every
 * (slot, key) pair is tried, whatever matched.
 */
export function multiKeyRespond(
  challenge: Uint8Array,
  keys: readonly bigint[],
  context: Uint8Array,
  random: RandomSource,
): Uint8Array {
  const D = decodePoint(challenge.subarray(0, 64));
  const w = challenge.subarray(64, 96);
  const f = keys.map((p) => secretScalar(D.multiply(p), context));
  const z = bytes32(randomScalar(random));
  for (let at = 96; at + 32 <= challenge.length; at += 32) {
    const c = toBig(challenge.subarray(at, at + 32));
    for (const fj of f) {
      const candidate = bytes32((c + fj) % N);
      const mask = bytesEqual(taggedHash(COMMIT_TAG, candidate, context), w) ? 0xff : 0;
      for (let i = 0; i < 32; i++) z[i] ^= (z[i] ^ candidate[i]) & mask;
      candidate.fill(0);
    }
  }
  return z;
}

/** Whether the response z opens the challenge (z = y). */
export function multiKeyVerify(state: MultiKeyState, response: Uint8Array): boolean {
  return bytesEqual(response, state.y);
}
