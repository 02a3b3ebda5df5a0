/**
 * The contract every ChaCha20-Poly1305 backend fulfils, and the argument
 * checks they share.
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";

/** Bytes of the Poly1305 tag after every ciphertext. */
export const AEAD_TAG_LEN = 16;

/**
 * One RFC 8439 ChaCha20-Poly1305 message at a time. Implementations are
 * synchronous and may keep scratch state, so one instance must not be used
 * re-entrantly (nothing in a synchronous call can re-enter it).
 *
 * @example A custom backend that wraps another
 * ```ts
 * import type { AeadBackend } from "@bip324/bip324";
 * import { PureAead } from "./pure_aead.ts";
 * const inner = new PureAead();
 * const counting: AeadBackend & { calls: number } = {
 *   name: "counting",
 *   calls: 0,
 *   seal(key, nonce, aad, plaintext, out) {
 *     this.calls++;
 *     inner.seal(key, nonce, aad, plaintext, out);
 *   },
 *   open(key, nonce, aad, ciphertext, out) {
 *     this.calls++;
 *     return inner.open(key, nonce, aad, ciphertext, out);
 *   },
 * };
 * counting.seal(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(1), new Uint8Array(17));
 * console.assert(counting.calls === 1);
 * ```
 */
export interface AeadBackend {
  /** A short name for diagnostics: `"pure"`, `"native"`, `"auto"`, … */
  readonly name: string;
  /**
   * Encrypts `plaintext` under the 32-byte `key` and 12-byte `nonce`,
   * authenticating `aad`, and writes ciphertext followed by the 16-byte tag
   * (`plaintext.length + 16` bytes) to the start of `out`. `out` may begin
   * at `plaintext` itself (in place).
   */
  seal(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
  ): void;
  /**
   * Optional: {@linkcode AeadBackend.seal} of the plaintext `head` followed by
   * `tail`, read from where they are (so a caller need not copy them
   * together first). `head` may begin at `out` (in place); `tail` must not
   * overlap `out`. Without it, the cipher copies `tail` behind `head` in
   * `out` and seals there.
   */
  sealParts?(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    head: Uint8Array,
    tail: Uint8Array,
    out: Uint8Array,
  ): void;
  /**
   * Verifies `ciphertext` (ciphertext followed by the 16-byte tag) and, only
   * if the tag is valid, writes the plaintext (`ciphertext.length - 16`
   * bytes) to the start of `out` and returns `true`. A bad tag returns
   * `false` and leaves `out` untouched. `out` may begin at `ciphertext`.
   */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    out: Uint8Array,
  ): boolean;
  /**
   * Optional: zeroes any scratch state that may still hold key material from
   * the last call. Called when a cipher that used the backend is destroyed.
   */
  wipe?(): void;
}

/**
 * The checks every backend runs: byte arrays of the right sizes. `textLength`
 * is the plaintext length; `outNeeded` how many bytes `out` must hold.
 *
 * @example
 * ```ts
 * import { checkAeadArgs } from "./aead_types.ts";
 * checkAeadArgs(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(4), 4);
 * ```
 */
export function checkAeadArgs(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  out: Uint8Array,
  outNeeded: number,
): void {
  checkBytes("key", key, 32);
  checkBytes("nonce", nonce, 12);
  checkBytes("aad", aad);
  if (checkBytes("out", out).length < outNeeded) {
    throw new RangeError(`out must be at least ${outNeeded} bytes, got ${out.length}`);
  }
}

/**
 * Checks `seal` arguments and returns the plaintext length.
 *
 * @example
 * ```ts
 * import { sealLength } from "./aead_types.ts";
 * const n = sealLength(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(3), new Uint8Array(19));
 * console.assert(n === 3);
 * ```
 */
export function sealLength(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  out: Uint8Array,
): number {
  const length = checkBytes("plaintext", plaintext).length;
  checkAeadArgs(key, nonce, aad, out, length + AEAD_TAG_LEN);
  return length;
}

/**
 * Checks `sealParts` arguments and returns the plaintext length (both parts).
 *
 * @example
 * ```ts
 * import { sealPartsLength } from "./aead_types.ts";
 * const n = sealPartsLength(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(1), new Uint8Array(2), new Uint8Array(19));
 * console.assert(n === 3);
 * ```
 */
export function sealPartsLength(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  head: Uint8Array,
  tail: Uint8Array,
  out: Uint8Array,
): number {
  const length = checkBytes("head", head).length + checkBytes("tail", tail).length;
  checkAeadArgs(key, nonce, aad, out, length + AEAD_TAG_LEN);
  return length;
}

/**
 * Seals `head` followed by `tail` into `out` with a backend's `sealParts`,
 * or, where it has none, by copying them together in `out` and sealing there.
 *
 * @example
 * ```ts
 * import { sealPartsWith } from "./aead_types.ts";
 * import { PureAead } from "./pure_aead.ts";
 * const out = new Uint8Array(19);
 * sealPartsWith(new PureAead(), new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(1), new Uint8Array(2), out);
 * ```
 */
export function sealPartsWith(
  backend: AeadBackend,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  head: Uint8Array,
  tail: Uint8Array,
  out: Uint8Array,
): void {
  if (typeof backend.sealParts === "function") {
    return backend.sealParts(key, nonce, aad, head, tail, out);
  }
  const length = sealPartsLength(key, nonce, aad, head, tail, out);
  if (head.buffer !== out.buffer || head.byteOffset !== out.byteOffset) out.set(head);
  out.set(tail, head.length);
  backend.seal(key, nonce, aad, out.subarray(0, length), out);
}

/**
 * Checks `open` arguments and returns the plaintext length, or -1 when the
 * ciphertext is shorter than a tag (which can never verify).
 *
 * @example
 * ```ts
 * import { openLength } from "./aead_types.ts";
 * const n = openLength(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(10), new Uint8Array(0));
 * console.assert(n === -1);
 * ```
 */
export function openLength(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  out: Uint8Array,
): number {
  const length = checkBytes("ciphertext", ciphertext).length - AEAD_TAG_LEN;
  if (length < 0) return -1;
  checkAeadArgs(key, nonce, aad, out, length);
  return length;
}
