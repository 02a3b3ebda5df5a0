/**
 * ElligatorSwift encoding of secp256k1 public keys and the x-only ECDH that
 * BIP324 builds on, exactly as the BIP specifies them (`XSwiftEC`,
 * `XSwiftECInv`, `XElligatorSwift`, `ellswift_create`, `ellswift_ecdh_xonly`,
 * `v2_ecdh`).
 *
 * Every 64-byte string is a valid encoding, and an encoder that samples
 * uniformly makes public keys indistinguishable from random bytes. The math
 * is in `layers/crypto/`, on `bigint`s: the SwiftEC map and its inverse
 * (`secp256k1_swiftec.ts`), public keys by a precomputed fixed-base table
 * (`secp256k1_base.ts`), ECDH by the GLV x-only multiplication
 * (`secp256k1_xonly.ts`), which needs neither y nor the decoded x in affine
 * form, and SHA-256 (`sha256.ts`). The two multiplications, the square
 * roots' exponentiation and the square tests run in a WebAssembly module
 * where one can be compiled (`secp256k1_wasm.ts`: the same steps, the same
 * results, in about 0.4 of the time).
 *
 * Timing: nothing here is constant time. `bigint` operations take time
 * that depends on their operands; the scalar multiplications run a
 * sequence of field operations that does not depend on the private key,
 * but index tables by its digits (see those modules). The number of
 * encoding attempts in {@linkcode ellswiftCreate} depends on a hash of the
 * key and of fresh randomness. Decoding handles public data only.
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

import { checkBytes, concatBytes, randomBytes, wipe } from "../bytes.ts";
import { inv, mod } from "../crypto/secp256k1_field.ts";
import { xswiftecFraction, xswiftecInvBig } from "../crypto/secp256k1_swiftec.ts";
import { N } from "../crypto/secp256k1_xonly.ts";
import { baseMultiplyXFast, xOnlyMultiplyFast } from "../crypto/secp256k1_wasm.ts";
import { Sha256, sha256ScratchForTests, type Sha256State } from "../crypto/sha256.ts";

/** 32 big-endian bytes to bigint (four 64-bit reads). */
function toBigInt(bytes: Uint8Array): bigint {
  const v = new DataView(bytes.buffer, bytes.byteOffset, 32);
  return (v.getBigUint64(0) << 192n) | (v.getBigUint64(8) << 128n) |
    (v.getBigUint64(16) << 64n) | v.getBigUint64(24);
}

/** bigint in 0..2²⁵⁶-1 to 32 big-endian bytes, into `out` (default a new array). */
function toBytes32(n: bigint, out: Uint8Array = new Uint8Array(32)): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset, 32);
  v.setBigUint64(24, BigInt.asUintN(64, n));
  v.setBigUint64(16, BigInt.asUintN(64, n >> 64n));
  v.setBigUint64(8, BigInt.asUintN(64, n >> 128n));
  v.setBigUint64(0, n >> 192n);
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

/** The one hasher of this module (each use is synchronous and ends with its state wiped). */
const hasher = new Sha256();
hasher.wipe();

/**
 * The module's secret scratch buffers (see `SCRATCH`, and the hasher's), for
 * tests that check they are zero after every call. Not part of the public API.
 */
export function ellswiftScratchForTests(): readonly Uint8Array[] {
  return [...Object.values(SCRATCH), ...hasher.buffersForTests(), ...sha256ScratchForTests()];
}

/**
 * SHA256 of the concatenation of `parts` (after the saved state `prefix`,
 * if given), streamed into `out` (32 bytes); the hash state is wiped.
 */
function sha256Into(
  out: Uint8Array,
  prefix: Sha256State | null,
  ...parts: Uint8Array[]
): Uint8Array {
  try {
    if (prefix === null) hasher.reset();
    else hasher.restore(prefix);
    for (const p of parts) hasher.update(p);
    hasher.digestInto(out);
  } finally {
    hasher.wipe();
  }
  return out;
}

/** Checks an optional 32-byte output buffer, or allocates one. */
function output(out: Uint8Array | undefined): Uint8Array {
  return out === undefined ? new Uint8Array(32) : checkBytes("out", out, 32);
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
  return sha256Into(digest, null, attempt);
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
  const x = baseMultiplyXFast(d);
  try {
    sha256Into(SCRATCH.seed, null, CREATE_TAG, privateKey, auxRandom ?? randomBytes(32));
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
  return toBytes32(xOnlyMultiplyFast(n, xd, d), result);
}

/** SHA256 of a string. */
function sha256Of(text: string): Uint8Array {
  return sha256Into(new Uint8Array(32), null, encoder.encode(text));
}

const ECDH_TAG = sha256Of("bip324_ellswift_xonly_ecdh");
/** The hash state after SHA256(tag) || SHA256(tag) for the ECDH tag: one whole block, hashed once. */
const ECDH_PREFIX = new Sha256().update(ECDH_TAG).update(ECDH_TAG).save();

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
  const t = typeof tag === "string" ? sha256Of(tag) : checkBytes("tag", tag);
  checkBytes("data", data);
  return sha256Into(output(out), null, t, t, data);
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
    return sha256Into(result, ECDH_PREFIX, first, second, x);
  } finally {
    wipe(x);
  }
}
