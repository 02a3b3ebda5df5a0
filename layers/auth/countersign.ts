/**
 * Countersign (sipa, "Private authentication protocols", example 5): a
 * challenger with one acceptable public key Q learns whether the responder
 * holds its private key, and nothing else; the responder learns nothing at
 * all, not even whether it succeeded (forward challenger privacy).
 *
 * ```
 * challenger: d, y random (y resampled until C has even y)
 *             D = d·G,  C = y·G − h₁(x(d·Q) ‖ ctx)·M        sends D ‖ C
 * responder:  k random, R = k·G
 *             wⱼ = h₂(x(k·(C + h₁(x(pⱼ·D) ‖ ctx)·M)) ‖ ctx)  sends R ‖ shuffled w (padded)
 * challenger: accepts iff some wⱼ = h₂(x(y·R) ‖ ctx)
 * ```
 *
 * `ctx` is the BIP324 session id and the challenger's role, so a response
 * is worth nothing in another session or in the other direction. Points
 * travel as ElligatorSwift encodings; hashes are tagged
 * (`bip324.ts/countersign/secret`, `bip324.ts/countersign/proof`).
 *
 * @module
 */

import { bytesEqual, concatBytes } from "../bytes.ts";
import {
  decodePoint,
  encodePoint,
  hasEvenY,
  M,
  Point,
  randomScalar,
  type RandomSource,
  sharedScalar,
  shuffle,
  taggedHash,
  xBytes,
} from "./group.ts";

/** Bytes of a Countersign challenge: `D ‖ C`, two ElligatorSwift encodings. */
export const COUNTERSIGN_CHALLENGE_LEN = 128;

/** Bytes of a Countersign response with `slots` proof values: `R ‖ w₀ … w₍slots₋₁₎`. */
export function countersignResponseLength(slots: number): number {
  return 64 + 32 * slots;
}

const SECRET_TAG = "bip324.ts/countersign/secret";
const PROOF_TAG = "bip324.ts/countersign/proof";

/** `point · k`, allowing k = 0 (which a hash may, with negligible probability, yield). */
function mul(point: Point, k: bigint): Point {
  return k === 0n ? Point.ZERO : point.multiply(k);
}

/** The scalar of a shared point under this protocol's tag. */
const secretScalar = (shared: Point, context: Uint8Array): bigint =>
  sharedScalar(SECRET_TAG, shared, context);

/** h₂(x(point) ‖ ctx). */
function proof(point: Point, context: Uint8Array): Uint8Array {
  const x = xBytes(point);
  const h = taggedHash(PROOF_TAG, x, context);
  x.fill(0);
  return h;
}

/** What a Countersign challenger remembers until the response arrives. */
export interface CountersignState {
  /** The challenger's secret y. */
  y: bigint;
}

/**
 * Builds a challenge for the acceptable key `accept` (a random point when
 * the challenger accepts nobody: the message looks the same).
 */
export function countersignChallenge(
  accept: Point,
  context: Uint8Array,
  random: RandomSource,
): { message: Uint8Array; state: CountersignState } {
  const d = randomScalar(random);
  const D = Point.BASE.multiply(d);
  const h = secretScalar(accept.multiply(d), context);
  const hM = mul(M, h);
  for (;;) {
    const y = randomScalar(random);
    const C = Point.BASE.multiply(y).subtract(hM);
    if (C.is0() || !hasEvenY(C)) continue;
    return {
      message: concatBytes(encodePoint(D, random), encodePoint(C, random)),
      state: { y },
    };
  }
}

/**
 * Answers a challenge with one proof per private key (as scalars), padded
 * with random values to `slots` and shuffled. The responder learns nothing
 * from doing so. `challenge` must be {@linkcode COUNTERSIGN_CHALLENGE_LEN} bytes.
 */
export function countersignRespond(
  challenge: Uint8Array,
  keys: readonly bigint[],
  slots: number,
  context: Uint8Array,
  random: RandomSource,
): Uint8Array {
  const D = decodePoint(challenge.subarray(0, 64));
  const C = decodePoint(challenge.subarray(64, 128));
  const k = randomScalar(random);
  const R = Point.BASE.multiply(k);
  const proofs: Uint8Array[] = [];
  for (const p of keys) {
    const T = C.add(mul(M, secretScalar(D.multiply(p), context)));
    proofs.push(T.is0() ? random(32) : proof(T.multiply(k), context));
  }
  while (proofs.length < slots) proofs.push(random(32));
  shuffle(proofs, random);
  return concatBytes(encodePoint(R, random), ...proofs);
}

/**
 * Whether a response (`R ‖ w…`, length checked by the caller) proves the
 * challenged key: some wⱼ equals h₂(x(y·R) ‖ ctx). Compares every slot.
 */
export function countersignVerify(
  state: CountersignState,
  response: Uint8Array,
  context: Uint8Array,
): boolean {
  const R = decodePoint(response.subarray(0, 64));
  const expected = proof(R.multiply(state.y), context);
  let match = false;
  for (let at = 64; at + 32 <= response.length; at += 32) {
    match = bytesEqual(response.subarray(at, at + 32), expected) || match;
  }
  expected.fill(0);
  return match;
}
