/**
 * ElligatorSwift encoding of secp256k1 public keys and the x-only ECDH that
 * BIP324 builds on, exactly as the BIP specifies them (`XSwiftEC`,
 * `XSwiftECInv`, `XElligatorSwift`, `ellswift_create`, `ellswift_ecdh_xonly`,
 * `v2_ecdh`).
 *
 * Every 64-byte string is a valid encoding, and an encoder that samples
 * uniformly makes public keys indistinguishable from random bytes. Field
 * arithmetic uses BigInt (`layers/crypto/secp256k1_field.ts`): square roots
 * by an addition chain, square tests by Jacobi symbols, and fractions
 * instead of inversions where the BIP divides. Public keys use
 * `@noble/secp256k1`'s precomputed base-point multiplication; ECDH uses the
 * x-only multiplication of `layers/crypto/secp256k1_xonly.ts`, which needs
 * neither y nor the decoded x in affine form. The decode side handles public
 * data only, so it need not be constant time.
 *
 * Secrets: every byte buffer that holds a private key copy, the raw ECDH x,
 * the shared secret or data derived from the private key is zeroed before
 * the function returns or throws. Hashes of secret input are streamed (never
 * concatenated into a copy) and their state is wiped. The functions that
 * produce a secret write it into a caller-owned `out` buffer when given one,
 * so the caller can wipe it. `bigint` copies of the scalar and of x cannot
 * be wiped (see SECURITY.md).
 *
 * @module
 */

import { Point } from "@noble/secp256k1";
import { sha256 } from "@noble/hashes/sha2.js";
import { checkBytes, concatBytes, randomBytes, wipe } from "../bytes.ts";
import {
  inv,
  isSquare,
  isValidX,
  isValidXFraction,
  mod,
  P,
  sqrt,
  sqrtRatio,
} from "../crypto/secp256k1_field.ts";
import { N, xOnlyMultiply } from "../crypto/secp256k1_xonly.ts";

/** A square root of -3 mod p that is itself a square. */
const C = 0xa2d2ba93507f1df233770c2a797962cc61f6d15da14ecd47d8d27ae1cd5f852n;
/** 1/2 mod p. */
const HALF = (P + 1n) / 2n;
/** (1 - c)/2 and (1 + c)/2 mod p, as XSwiftECInv's last step uses them. */
const C_MINUS = mod((1n - C) * HALF);
const C_PLUS = mod((1n + C) * HALF);

/** Big-endian bytes to bigint. */
function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = 0; i < bytes.length; i++) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/** bigint to 32 big-endian bytes, into `out` (default a new array). */
function toBytes32(n: bigint, out: Uint8Array = new Uint8Array(32)): Uint8Array {
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

const encoder = new TextEncoder();

/**
 * Every buffer this module holds a secret in, shared by all calls: each use
 * is synchronous and ends (returning or throwing) with the buffer zeroed, so
 * between calls they are all zero.
 */
const SCRATCH = {
  /** The raw x-only ECDH result inside {@linkcode v2Ecdh}. */
  ecdhX: new Uint8Array(32),
  /** {@linkcode ellswiftCreate}'s seed, a hash of the private key. */
  seed: new Uint8Array(32),
  /** seed || 4-byte counter, hashed per encoding attempt. */
  attempt: new Uint8Array(36),
  /** SHA256 of `attempt`. */
  digest: new Uint8Array(32),
} as const;

/**
 * The module's secret scratch buffers (see `SCRATCH`), for tests that check
 * they are zero after every call. Not part of the public API.
 */
export function ellswiftScratchForTests(): readonly Uint8Array[] {
  return Object.values(SCRATCH);
}

/** SHA256 of the concatenation of `parts`, streamed into `out` (32 bytes); the hash state is wiped. */
function sha256Into(out: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = sha256.create();
  try {
    for (const p of parts) h.update(p);
    h.digestInto(out);
  } finally {
    h.destroy();
  }
  return out;
}

/** Checks an optional 32-byte output buffer, or allocates one. */
function output(out: Uint8Array | undefined): Uint8Array {
  return out === undefined ? new Uint8Array(32) : checkBytes("out", out, 32);
}

/**
 * The SwiftEC map (u, t) → x, with the BIP's remapping of the exceptional
 * inputs, returning x as a fraction [n, d] so callers choose whether to pay
 * for the inversion (ECDH does not need it).
 *
 * With g = u³ + 7 and s = t² (after the remaps), the BIP's
 * X = (g - s)/(2t), Y = (X + t)/(cu) and c² = -3 give
 *
 * - x₁ = u + 4Y² = (3su³ - (g + s)²) / (3su²)
 * - x₂ = (-X/Y - u)/2 = -u((g - s)c + (g + s)) / (2(g + s))
 * - x₃ = (X/Y - u)/2 = u((g - s)c - (g + s)) / (2(g + s))
 *
 * (s ≠ 0, u ≠ 0 and g + s ≠ 0 after the remaps, so no denominator is 0.)
 */
function xswiftecFraction(uIn: bigint, tIn: bigint): [bigint, bigint] {
  let u = mod(uIn), t = mod(tIn);
  if (u === 0n) u = 1n;
  if (t === 0n) t = 1n;
  const u2 = (u * u) % P;
  const g = (u2 * u + 7n) % P;
  let s = (t * t) % P;
  if ((g + s) % P === 0n) s = (4n * s) % P; // t = 2t
  const gs = (g + s) % P;
  const d1 = (((3n * s) % P) * u2) % P;
  const n1 = mod(d1 * u - gs * gs);
  if (isValidXFraction(n1, d1)) return [n1, d1];
  const d23 = (2n * gs) % P;
  const gsc = ((g - s) * C) % P;
  const n2 = mod(-u * (gsc + gs));
  if (isValidXFraction(n2, d23)) return [n2, d23];
  return [mod(u * (gsc - gs)), d23];
}

/** XSwiftECInv(x, u, case): a t with XSwiftEC(u, t) = x, or null. */
function xswiftecInvBig(x: bigint, u: bigint, caseIndex: number): bigint | null {
  let v: bigint, w: bigint | null;
  const g = (((u * u) % P) * u + 7n) % P;
  if ((caseIndex & 2) === 0) {
    if (isValidX(mod(-x - u))) return null;
    v = x;
    // s = -g/(u² + uv + v²); w = sqrt(s) without inverting the denominator
    const m = (u * u + u * v + v * v) % P;
    if (m === 0n) return null; // only when x is not on the curve: no t maps to it
    w = sqrtRatio(mod(-g), m);
  } else {
    const s = mod(x - u);
    if (s === 0n) return null;
    // the BIP asks for sqrt(s) last; testing s first (a cheaper Jacobi symbol) fails early
    if (!isSquare(s)) return null;
    const r = sqrt(mod(-s * (4n * g + ((3n * u * u) % P) * s)));
    if (r === null) return null;
    if ((caseIndex & 1) === 1 && r === 0n) return null;
    // one exponentiation gives 1/sqrt(s), hence sqrt(s) = s/sqrt(s) and 1/s = (1/sqrt(s))²
    const rootInv = sqrtRatio(1n, s) as bigint; // s is a square
    w = (s * rootInv) % P;
    v = mod(((((r * rootInv) % P) * rootInv) % P - u) * HALF); // (r/s - u)/2
  }
  if (w === null) return null;
  switch (caseIndex & 5) {
    case 0:
      return mod(-w * ((u * C_MINUS) % P + v));
    case 1:
      return mod(w * ((u * C_PLUS) % P + v));
    case 4:
      return mod(w * ((u * C_MINUS) % P + v));
    default: // 5
      return mod(-w * ((u * C_PLUS) % P + v));
  }
}

/**
 * Decodes a 64-byte ElligatorSwift encoding (`u || t`) to the 32-byte x
 * coordinate it represents. Every 64-byte input decodes.
 *
 * @example
 * ```ts
 * import { ellswiftDecode } from "@bip324/bip324/cipher";
 * console.assert(ellswiftDecode(new Uint8Array(64)).length === 32);
 * ```
 */
export function ellswiftDecode(encoding: Uint8Array): Uint8Array {
  checkBytes("encoding", encoding, 64);
  const [n, d] = xswiftecFraction(
    toBigInt(encoding.subarray(0, 32)),
    toBigInt(encoding.subarray(32, 64)),
  );
  return toBytes32(mod(n * inv(d)));
}

/**
 * XSwiftECInv: returns the 32-byte `t` such that decoding `u || t` yields
 * `x`, for the given case (0–7), or `null` when that case has no solution.
 * `u` and `x` are 32-byte big-endian field elements.
 *
 * @example
 * ```ts
 * import { ellswiftDecode, xswiftecInv } from "@bip324/bip324/cipher";
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

const CREATE_TAG = encoder.encode("bip324/ellswift_create");

/**
 * Deterministic per-attempt randomness from the seed in `SCRATCH.attempt`:
 * SHA256(seed || counter), into `SCRATCH.digest`.
 */
function attemptBytes(counter: number): Uint8Array {
  const { attempt, digest } = SCRATCH;
  attempt[32] = counter & 0xff;
  attempt[33] = (counter >>> 8) & 0xff;
  attempt[34] = (counter >>> 16) & 0xff;
  attempt[35] = (counter >>> 24) & 0xff;
  return sha256Into(digest, attempt);
}

/**
 * Creates the 64-byte ElligatorSwift encoding of `privateKey`'s public key,
 * sampled uniformly among the key's encodings (XElligatorSwift).
 *
 * With `auxRandom` (32 bytes) the encoding is a deterministic function of the
 * key and `auxRandom`, which is what tests want; without it, fresh randomness
 * from Web Crypto is used. `privateKey` is read, never copied into a byte
 * buffer; everything derived from it here is zeroed before returning.
 *
 * @example
 * ```ts
 * import { ellswiftCreate } from "@bip324/bip324/cipher";
 * const priv = new Uint8Array(32).fill(1);
 * console.assert(ellswiftCreate(priv).length === 64);
 * ```
 */
export function ellswiftCreate(privateKey: Uint8Array, auxRandom?: Uint8Array): Uint8Array {
  const d = scalarOf(privateKey);
  if (auxRandom !== undefined) checkBytes("auxRandom", auxRandom, 32);
  const x = Point.BASE.multiply(d).toAffine().x;
  try {
    sha256Into(SCRATCH.seed, CREATE_TAG, privateKey, auxRandom ?? randomBytes(32));
    SCRATCH.attempt.set(SCRATCH.seed);
    for (let attempt = 0;; attempt++) {
      const u = mod(toBigInt(attemptBytes(attempt)));
      if (u === 0n) continue;
      const caseIndex = attemptBytes(0x80000000 + attempt)[0] & 7;
      const t = xswiftecInvBig(x, u, caseIndex);
      if (t !== null) return concatBytes(toBytes32(u), toBytes32(t));
    }
  } finally {
    wipe(SCRATCH.seed, SCRATCH.attempt, SCRATCH.digest);
  }
}

/**
 * x-only ECDH against an ElligatorSwift-encoded public key: the 32-byte x
 * coordinate of `privateKey · decode(ellswiftTheirs)`, written into `out`
 * (32 bytes, caller-owned: wipe it when done) or a new array.
 *
 * @example
 * ```ts
 * import { ellswiftCreate, ellswiftEcdhXonly } from "@bip324/bip324/cipher";
 * const a = new Uint8Array(32).fill(1), b = new Uint8Array(32).fill(2);
 * const ab = ellswiftEcdhXonly(ellswiftCreate(b), a);
 * const ba = ellswiftEcdhXonly(ellswiftCreate(a), b);
 * console.assert(ab.every((v, i) => v === ba[i]));
 * ```
 */
export function ellswiftEcdhXonly(
  ellswiftTheirs: Uint8Array,
  privateKey: Uint8Array,
  out?: Uint8Array,
): Uint8Array {
  const d = scalarOf(privateKey);
  checkBytes("ellswiftTheirs", ellswiftTheirs, 64);
  const result = output(out);
  const [n, xd] = xswiftecFraction(
    toBigInt(ellswiftTheirs.subarray(0, 32)),
    toBigInt(ellswiftTheirs.subarray(32, 64)),
  );
  return toBytes32(xOnlyMultiply(n, xd, d), result);
}

const ECDH_TAG = sha256(encoder.encode("bip324_ellswift_xonly_ecdh"));

/**
 * BIP340-style tagged hash: SHA256(SHA256(tag) || SHA256(tag) || data), into
 * `out` (32 bytes) or a new array. `tag` is a string or its 32-byte SHA256.
 * `data` is streamed into the hash, never copied; the hash state is wiped.
 *
 * @example
 * ```ts
 * import { taggedHash } from "@bip324/bip324/cipher";
 * console.assert(taggedHash("x", new Uint8Array(0)).length === 32);
 * ```
 */
export function taggedHash(
  tag: string | Uint8Array,
  data: Uint8Array,
  out?: Uint8Array,
): Uint8Array {
  const t = typeof tag === "string" ? sha256(encoder.encode(tag)) : checkBytes("tag", tag);
  checkBytes("data", data);
  return sha256Into(output(out), t, t, data);
}

/**
 * The BIP324 shared secret: the x-only ECDH result hashed with both 64-byte
 * encodings, initiator's first. The secret goes into `out` (32 bytes,
 * caller-owned: wipe it when done) or a new array; the raw ECDH x is zeroed
 * before this returns or throws, and `out` is written only on success.
 *
 * @example
 * ```ts
 * import { ellswiftCreate, v2Ecdh } from "@bip324/bip324/cipher";
 * const a = new Uint8Array(32).fill(1), b = new Uint8Array(32).fill(2);
 * const ea = ellswiftCreate(a), eb = ellswiftCreate(b);
 * const s1 = v2Ecdh(a, eb, ea, true), s2 = v2Ecdh(b, ea, eb, false);
 * console.assert(s1.every((v, i) => v === s2[i]));
 * ```
 *
 * @example Into a buffer the caller wipes
 * ```ts
 * import { ellswiftCreate, v2Ecdh } from "@bip324/bip324/cipher";
 * const a = new Uint8Array(32).fill(1), eb = ellswiftCreate(new Uint8Array(32).fill(2));
 * const secret = new Uint8Array(32);
 * try {
 *   v2Ecdh(a, eb, ellswiftCreate(a), true, secret);
 *   // … derive keys from `secret` …
 * } finally {
 *   secret.fill(0);
 * }
 * ```
 */
export function v2Ecdh(
  privateKey: Uint8Array,
  ellswiftTheirs: Uint8Array,
  ellswiftOurs: Uint8Array,
  initiating: boolean,
  out?: Uint8Array,
): Uint8Array {
  checkBytes("ellswiftOurs", ellswiftOurs, 64);
  checkBytes("ellswiftTheirs", ellswiftTheirs, 64);
  if (typeof initiating !== "boolean") throw new TypeError("initiating must be a boolean");
  const result = output(out);
  const x = SCRATCH.ecdhX;
  try {
    ellswiftEcdhXonly(ellswiftTheirs, privateKey, x);
    const [first, second] = initiating
      ? [ellswiftOurs, ellswiftTheirs]
      : [ellswiftTheirs, ellswiftOurs];
    return sha256Into(result, ECDH_TAG, ECDH_TAG, first, second, x);
  } finally {
    wipe(x);
  }
}
