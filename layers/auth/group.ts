/**
 * The secp256k1 group operations private authentication needs, built on
 * `@noble/secp256k1`'s `Point` and this library's ElligatorSwift code:
 * scalars, tagged hashes (to bytes and to scalars), the second generator
 * {@linkcode M}, and points on the wire as 64-byte ElligatorSwift encodings
 * (uniformly random bytes, so no message reveals that it carries points).
 *
 * Every point that travels is used x-only (its ElligatorSwift encoding says
 * nothing about y): hashes take x coordinates, and the one point whose sign
 * matters (Countersign's `C`) is sampled with an even y.
 *
 * Scalars are `bigint`s, which JavaScript cannot wipe; byte copies of
 * secrets are wiped by the callers.
 *
 * @module
 */

import { Point } from "@noble/secp256k1";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "../bytes.ts";
import { ellswiftDecode, xswiftecInv } from "../handshake/ellswift.ts";
import { P } from "../crypto/secp256k1_field.ts";
import { N } from "../crypto/secp256k1_xonly.ts";

export { N };

/** A source of random bytes (Web Crypto by default; tests inject a seeded one). */
export type RandomSource = (length: number) => Uint8Array;

/** Big-endian bytes to bigint. */
export function toBig(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = 0; i < bytes.length; i++) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/** bigint (0 ≤ n < 2²⁵⁶) to 32 big-endian bytes. */
export function bytes32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** A uniformly random scalar in 1..n-1. */
export function randomScalar(random: RandomSource): bigint {
  for (;;) {
    const bytes = random(32);
    const k = toBig(bytes);
    bytes.fill(0);
    if (k > 0n && k < N) return k;
  }
}

const encoder = new TextEncoder();
const tagCache = new Map<string, Uint8Array>();

/** BIP340-style tagged hash of the concatenated parts. */
export function taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  let t = tagCache.get(tag);
  if (!t) {
    t = sha256(encoder.encode(tag));
    tagCache.set(tag, t);
  }
  const data = concatBytes(t, t, ...parts);
  const out = sha256(data);
  data.fill(0);
  return out;
}

/**
 * The scalar both ends derive from a shared point: the tagged hash of its x
 * (‖ `context`) as a scalar, 0 for the point at infinity. The x bytes are wiped.
 */
export function sharedScalar(tag: string, shared: Point, context: Uint8Array): bigint {
  if (shared.is0()) return 0n;
  const x = xBytes(shared);
  const h = hashToScalar(tag, x, context);
  x.fill(0);
  return h;
}

/** A tagged hash read as a scalar mod n (bias below 2⁻¹²⁷). */
export function hashToScalar(tag: string, ...parts: Uint8Array[]): bigint {
  const h = taggedHash(tag, ...parts);
  const k = toBig(h) % N;
  h.fill(0);
  return k;
}

/** The 32-byte x coordinate of a (non-zero) point. */
export function xBytes(point: Point): Uint8Array {
  return bytes32(point.toAffine().x);
}

/** The point with x coordinate `x` and even y (BIP340's lift_x); throws if there is none. */
export function liftX(x: bigint): Point {
  const compressed = new Uint8Array(33);
  compressed[0] = 0x02;
  compressed.set(bytes32(x), 1);
  return Point.fromBytes(compressed);
}

/** Whether a (non-zero) point's y coordinate is even. */
export function hasEvenY(point: Point): boolean {
  return (point.toAffine().y & 1n) === 0n;
}

/**
 * `M`, the second generator: the first point with even y whose x is
 * `SHA256("bip324.ts/privauth/M" || i)` for a one-byte counter i = 0, 1, …
 * Nobody knows its discrete logarithm with respect to G.
 */
export const M: Point = (() => {
  for (let i = 0; i < 256; i++) {
    const x = toBig(sha256(concatBytes(encoder.encode("bip324.ts/privauth/M"), Uint8Array.of(i))));
    if (x >= P) continue;
    try {
      return liftX(x);
    } catch { /* not on the curve: next counter */ }
  }
  throw new Error("unreachable: no generator candidate");
})();

/**
 * A uniformly chosen 64-byte ElligatorSwift encoding of `point`'s x
 * coordinate (XElligatorSwift: random u and case until the inverse map
 * succeeds).
 */
export function encodePoint(point: Point, random: RandomSource): Uint8Array {
  const x = xBytes(point);
  for (;;) {
    const r = random(33);
    const u = toBig(r.subarray(0, 32)) % P;
    const caseIndex = r[32] & 7;
    if (u === 0n) continue;
    const uBytes = bytes32(u);
    const t = xswiftecInv(uBytes, x, caseIndex);
    if (t) return concatBytes(uBytes, t);
  }
}

/** The point (even y) whose x a 64-byte ElligatorSwift encoding stands for; every input decodes. */
export function decodePoint(encoding: Uint8Array): Point {
  return liftX(toBig(ellswiftDecode(encoding)));
}

/** Shuffles `items` in place (Fisher–Yates with unbiased random indices). */
export function shuffle<T>(items: T[], random: RandomSource): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const bound = i + 1;
    const limit = Math.floor(0x1_0000_0000 / bound) * bound;
    let v: number;
    do {
      const b = random(4);
      v = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    } while (v >= limit);
    const j = v % bound;
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export { Point };
