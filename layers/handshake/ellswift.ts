/**
 * ElligatorSwift encoding of secp256k1 public keys and the x-only ECDH that
 * BIP324 builds on, exactly as the BIP specifies them (`XSwiftEC`,
 * `XSwiftECInv`, `XElligatorSwift`, `ellswift_create`, `ellswift_ecdh_xonly`,
 * `v2_ecdh`).
 *
 * Every 64-byte string is a valid encoding, and an encoder that samples
 * uniformly makes public keys indistinguishable from random bytes. Field
 * arithmetic uses BigInt; curve multiplication uses `@noble/secp256k1`.
 * The decode side handles public data only, so it need not be constant time.
 *
 * @module
 */

import { Point } from "@noble/secp256k1";
import { sha256 } from "@noble/hashes/sha2.js";
import { checkBytes, concatBytes, randomBytes } from "../bytes.ts";

/** The secp256k1 field prime. */
const P = 2n ** 256n - 2n ** 32n - 977n;
/** The secp256k1 group order. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
/** A square root of -3 mod p that is itself a square. */
const C = 0xa2d2ba93507f1df233770c2a797962cc61f6d15da14ecd47d8d27ae1cd5f852n;
const SQRT_EXP = (P + 1n) / 4n;

const mod = (a: bigint): bigint => {
  const r = a % P;
  return r < 0n ? r + P : r;
};

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  while (exp > 0n) {
    if (exp & 1n) result = (result * b) % P;
    b = (b * b) % P;
    exp >>= 1n;
  }
  return result;
}

/** Modular inverse by the extended Euclidean algorithm; `a` must be non-zero mod p. */
function inv(a: bigint): bigint {
  let low = mod(a), high = P, lm = 1n, hm = 0n;
  while (low > 1n) {
    const q = high / low;
    [lm, hm] = [hm - lm * q, lm];
    [low, high] = [high - low * q, low];
  }
  return mod(lm);
}

/** "The" square root (itself a square), or null when `a` is not a square. */
function sqrt(a: bigint): bigint | null {
  const r = pow(a, SQRT_EXP);
  return (r * r) % P === mod(a) ? r : null;
}

/** Whether `x` is the x coordinate of a curve point (x³ + 7 is a square). */
function isValidX(x: bigint): boolean {
  return sqrt(x * x % P * x + 7n) !== null;
}

/** Big-endian bytes to bigint. */
function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = 0; i < bytes.length; i++) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/** bigint to 32 big-endian bytes. */
function toBytes32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** The SwiftEC map (u, t) → x, with the BIP's remapping of the exceptional inputs. */
function xswiftec(uIn: bigint, tIn: bigint): bigint {
  let u = mod(uIn), t = mod(tIn);
  if (u === 0n) u = 1n;
  if (t === 0n) t = 1n;
  const u3p7 = mod(u * u % P * u + 7n);
  if (mod(u3p7 + t * t) === 0n) t = mod(2n * t);
  const X = mod((u3p7 - t * t) * inv(2n * t));
  const Y = mod((X + t) * inv(C * u));
  const candidate1 = mod(u + 4n * Y * Y);
  if (isValidX(candidate1)) return candidate1;
  const xOverY = mod(X * inv(Y));
  const candidate2 = mod((-xOverY - u) * inv(2n));
  if (isValidX(candidate2)) return candidate2;
  const candidate3 = mod((xOverY - u) * inv(2n));
  if (isValidX(candidate3)) return candidate3;
  throw new Error("unreachable: XSwiftEC found no valid x");
}

/** XSwiftECInv(x, u, case): a t with XSwiftEC(u, t) = x, or null. */
function xswiftecInvBig(x: bigint, u: bigint, caseIndex: number): bigint | null {
  let v: bigint, s: bigint;
  if ((caseIndex & 2) === 0) {
    if (isValidX(mod(-x - u))) return null;
    v = x;
    s = mod(-(u * u % P * u + 7n) * inv(u * u + u * v + v * v));
  } else {
    s = mod(x - u);
    if (s === 0n) return null;
    const r = sqrt(mod(-s * (4n * (u * u % P * u + 7n) + 3n * u * u % P * s)));
    if (r === null) return null;
    if ((caseIndex & 1) === 1 && r === 0n) return null;
    v = mod((r * inv(s) - u) * inv(2n));
  }
  const w = sqrt(s);
  if (w === null) return null;
  const half = inv(2n);
  switch (caseIndex & 5) {
    case 0:
      return mod(-w * (u * (1n - C) % P * half + v));
    case 1:
      return mod(w * (u * (1n + C) % P * half + v));
    case 4:
      return mod(w * (u * (1n - C) % P * half + v));
    default: // 5
      return mod(-w * (u * (1n + C) % P * half + v));
  }
}

/**
 * Decodes a 64-byte ElligatorSwift encoding (`u || t`) to the 32-byte x
 * coordinate it represents. Every 64-byte input decodes.
 *
 * @example
 * ```ts
 * import { ellswiftDecode } from "./ellswift.ts";
 * console.assert(ellswiftDecode(new Uint8Array(64)).length === 32);
 * ```
 */
export function ellswiftDecode(encoding: Uint8Array): Uint8Array {
  checkBytes("encoding", encoding, 64);
  const u = toBigInt(encoding.subarray(0, 32));
  const t = toBigInt(encoding.subarray(32, 64));
  return toBytes32(xswiftec(u, t));
}

/**
 * XSwiftECInv: returns the 32-byte `t` such that decoding `u || t` yields
 * `x`, for the given case (0–7), or `null` when that case has no solution.
 * `u` and `x` are 32-byte big-endian field elements.
 *
 * @example
 * ```ts
 * import { ellswiftDecode, xswiftecInv } from "./ellswift.ts";
 * const u = new Uint8Array(32).fill(7);
 * const x = ellswiftDecode(new Uint8Array(64).fill(3));
 * for (let c = 0; c < 8; c++) {
 *   const t = xswiftecInv(u, x, c);
 *   if (t) console.assert(ellswiftDecode(new Uint8Array([...u, ...t]))[0] === x[0]);
 * }
 * ```
 */
export function xswiftecInv(u: Uint8Array, x: Uint8Array, caseIndex: number): Uint8Array | null {
  checkBytes("u", u, 32);
  checkBytes("x", x, 32);
  if (!Number.isInteger(caseIndex) || caseIndex < 0 || caseIndex > 7) {
    throw new RangeError(`caseIndex must be an integer 0..7, got ${caseIndex}`);
  }
  const t = xswiftecInvBig(mod(toBigInt(x)), mod(toBigInt(u)), caseIndex);
  return t === null ? null : toBytes32(t);
}

function scalarOf(privateKey: Uint8Array): bigint {
  checkBytes("privateKey", privateKey, 32);
  const d = toBigInt(privateKey);
  if (d === 0n || d >= N) throw new RangeError("privateKey must be a scalar in 1..n-1");
  return d;
}

/** Deterministic per-attempt randomness from a seed: SHA256(seed || counter). */
function attemptBytes(seed: Uint8Array, counter: number): Uint8Array {
  const msg = new Uint8Array(seed.length + 4);
  msg.set(seed);
  new DataView(msg.buffer).setUint32(seed.length, counter, true);
  return sha256(msg);
}

/**
 * Creates the 64-byte ElligatorSwift encoding of `privateKey`'s public key,
 * sampled uniformly among the key's encodings (XElligatorSwift).
 *
 * With `auxRandom` (32 bytes) the encoding is a deterministic function of the
 * key and `auxRandom`, which is what tests want; without it, fresh randomness
 * from Web Crypto is used.
 *
 * @example
 * ```ts
 * import { ellswiftCreate } from "./ellswift.ts";
 * const priv = new Uint8Array(32).fill(1);
 * console.assert(ellswiftCreate(priv).length === 64);
 * ```
 */
export function ellswiftCreate(privateKey: Uint8Array, auxRandom?: Uint8Array): Uint8Array {
  const d = scalarOf(privateKey);
  if (auxRandom !== undefined) checkBytes("auxRandom", auxRandom, 32);
  const x = Point.BASE.multiply(d).toAffine().x;
  const seed = sha256(
    concatBytes(
      new TextEncoder().encode("bip324/ellswift_create"),
      privateKey,
      auxRandom ?? randomBytes(32),
    ),
  );
  for (let attempt = 0;; attempt++) {
    const r = attemptBytes(seed, attempt);
    const u = mod(toBigInt(r));
    if (u === 0n) continue;
    const caseIndex = attemptBytes(seed, 0x80000000 + attempt)[0] & 7;
    const t = xswiftecInvBig(x, u, caseIndex);
    if (t !== null) return concatBytes(toBytes32(u), toBytes32(t));
  }
}

/**
 * x-only ECDH against an ElligatorSwift-encoded public key: the 32-byte x
 * coordinate of `privateKey · decode(ellswiftTheirs)`.
 *
 * @example
 * ```ts
 * import { ellswiftCreate, ellswiftEcdhXonly } from "./ellswift.ts";
 * const a = new Uint8Array(32).fill(1), b = new Uint8Array(32).fill(2);
 * const ab = ellswiftEcdhXonly(ellswiftCreate(b), a);
 * const ba = ellswiftEcdhXonly(ellswiftCreate(a), b);
 * console.assert(ab.every((v, i) => v === ba[i]));
 * ```
 */
export function ellswiftEcdhXonly(ellswiftTheirs: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const d = scalarOf(privateKey);
  const x = toBigInt(ellswiftDecode(ellswiftTheirs));
  const y = sqrt(x * x % P * x + 7n);
  if (y === null) throw new Error("unreachable: decoded x is not on the curve");
  return toBytes32(Point.fromAffine({ x, y }).multiply(d).toAffine().x);
}

const ECDH_TAG = sha256(new TextEncoder().encode("bip324_ellswift_xonly_ecdh"));

/**
 * BIP340-style tagged hash: SHA256(SHA256(tag) || SHA256(tag) || data).
 *
 * @example
 * ```ts
 * import { taggedHash } from "./ellswift.ts";
 * console.assert(taggedHash("x", new Uint8Array(0)).length === 32);
 * ```
 */
export function taggedHash(tag: string | Uint8Array, data: Uint8Array): Uint8Array {
  const t = typeof tag === "string" ? sha256(new TextEncoder().encode(tag)) : tag;
  return sha256(concatBytes(t, t, data));
}

/**
 * The BIP324 shared secret: the x-only ECDH result hashed with both 64-byte
 * encodings, initiator's first.
 *
 * @example
 * ```ts
 * import { ellswiftCreate, v2Ecdh } from "./ellswift.ts";
 * const a = new Uint8Array(32).fill(1), b = new Uint8Array(32).fill(2);
 * const ea = ellswiftCreate(a), eb = ellswiftCreate(b);
 * const s1 = v2Ecdh(a, eb, ea, true), s2 = v2Ecdh(b, ea, eb, false);
 * console.assert(s1.every((v, i) => v === s2[i]));
 * ```
 */
export function v2Ecdh(
  privateKey: Uint8Array,
  ellswiftTheirs: Uint8Array,
  ellswiftOurs: Uint8Array,
  initiating: boolean,
): Uint8Array {
  checkBytes("ellswiftOurs", ellswiftOurs, 64);
  checkBytes("ellswiftTheirs", ellswiftTheirs, 64);
  if (typeof initiating !== "boolean") throw new TypeError("initiating must be a boolean");
  const shared = ellswiftEcdhXonly(ellswiftTheirs, privateKey);
  const data = initiating
    ? concatBytes(ellswiftOurs, ellswiftTheirs, shared)
    : concatBytes(ellswiftTheirs, ellswiftOurs, shared);
  shared.fill(0);
  return taggedHash(ECDH_TAG, data);
}
