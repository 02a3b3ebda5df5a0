/**
 * The pure TypeScript ChaCha20-Poly1305 backend (RFC 8439 section 2.8),
 * built on this library's {@linkcode ChaCha20} and {@linkcode Poly1305}
 * with preallocated state: sealing or opening a message of up to 511 bytes
 * allocates nothing.
 *
 * @module
 */

import { ChaCha20 } from "./chacha20.ts";
import { Poly1305 } from "./poly1305.ts";
import { AEAD_TAG_LEN, type AeadBackend, openLength, sealLength } from "./aead_types.ts";

/**
 * ChaCha20-Poly1305 in pure TypeScript. Tags are compared in constant time,
 * and `open` writes no plaintext unless the tag verifies.
 *
 * @example
 * ```ts
 * import { PureAead } from "./pure_aead.ts";
 * const aead = new PureAead(), key = new Uint8Array(32), nonce = new Uint8Array(12);
 * const box = new Uint8Array(3 + 16);
 * box.set([1, 2, 3]);
 * aead.seal(key, nonce, new Uint8Array(0), box.subarray(0, 3), box); // in place
 * console.assert(aead.open(key, nonce, new Uint8Array(0), box, box) && box[2] === 3);
 * ```
 */
export class PureAead implements AeadBackend {
  /** Always `"pure"`. */
  readonly name: string = "pure";
  #chacha = new ChaCha20();
  #poly = new Poly1305();
  #otk = new Uint32Array(16);
  #tag = new Uint8Array(AEAD_TAG_LEN);
  #aadLength = 0;

  /** See {@linkcode AeadBackend.seal}. */
  seal(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
  ): void {
    const length = sealLength(key, nonce, aad, plaintext, out);
    this.#start(key, nonce, aad);
    this.#chacha.xor(plaintext, 0, out, 0, length);
    this.#finish(out, length, out, length);
  }

  /** See {@linkcode AeadBackend.open}. */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    out: Uint8Array,
  ): boolean {
    const length = openLength(key, nonce, aad, ciphertext, out);
    if (length < 0) return false;
    this.#start(key, nonce, aad);
    const tag = this.#tag;
    this.#finish(ciphertext, length, tag, 0);
    let diff = 0;
    for (let i = 0; i < AEAD_TAG_LEN; i++) diff |= tag[i] ^ ciphertext[length + i];
    tag.fill(0);
    if (diff !== 0) return false;
    this.#chacha.xor(ciphertext, 0, out, 0, length);
    return true;
  }

  /**
   * Zeroes the scratch state, which holds the key and one-time key of the
   * last message until the next call overwrites them (wiping after every
   * message would cost ~7 % of a small packet). `FSChaCha20Poly1305.destroy()`
   * calls it, so no copy of a destroyed cipher's key stays behind.
   */
  wipe(): void {
    this.#chacha.wipe();
    this.#poly.wipe();
    this.#otk.fill(0);
    this.#tag.fill(0);
  }

  /** Keys ChaCha20 at block 0, derives the Poly1305 key and absorbs the padded AAD. */
  #start(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array): void {
    const chacha = this.#chacha, otk = this.#otk;
    chacha.setKey(key);
    chacha.setNonce(nonce);
    chacha.counter = 0;
    chacha.block(otk); // leaves the counter at 1 for the message
    this.#poly.initWords(otk[0], otk[1], otk[2], otk[3], otk[4], otk[5], otk[6], otk[7]);
    otk.fill(0);
    this.#aadLength = aad.length;
    this.#poly.update(aad, 0, aad.length);
    this.#poly.pad();
  }

  /** Absorbs the padded ciphertext and the lengths, writes the tag to `out` at `offset`. */
  #finish(ciphertext: Uint8Array, length: number, out: Uint8Array, offset: number): void {
    const poly = this.#poly;
    poly.update(ciphertext, 0, length);
    poly.pad();
    poly.lengths(this.#aadLength, length);
    poly.finish(out, offset);
  }
}

/**
 * Seals and opens one message with `aead` and checks it against this pure
 * backend (bytes, tag, a rejected bad tag): the self-test other backends run
 * before they are used.
 *
 * @example
 * ```ts
 * import { agreesWithPure, PureAead } from "./pure_aead.ts";
 * console.assert(agreesWithPure(new PureAead()));
 * ```
 */
export function agreesWithPure(aead: AeadBackend): boolean {
  const key = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
  const nonce = Uint8Array.from({ length: 12 }, (_, i) => 7 * i);
  const aad = Uint8Array.of(0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2);
  const plaintext = Uint8Array.from({ length: 100 }, (_, i) => i * 31);
  const expected = new Uint8Array(plaintext.length + AEAD_TAG_LEN);
  new PureAead().seal(key, nonce, aad, plaintext, expected);
  const got = new Uint8Array(expected.length);
  aead.seal(key, nonce, aad, plaintext, got);
  if (!got.every((v, i) => v === expected[i])) return false;
  const back = new Uint8Array(plaintext.length);
  if (!aead.open(key, nonce, aad, got, back)) return false;
  if (!back.every((v, i) => v === plaintext[i])) return false;
  got[got.length - 1] ^= 1;
  return !aead.open(key, nonce, aad, got, back);
}
