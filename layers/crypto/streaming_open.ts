/**
 * {@linkcode StreamingOpen}: checks one RFC 8439 ChaCha20-Poly1305 ciphertext
 * whose bytes arrive in pieces, without holding them. Used for BIP324 decoy
 * packets, whose plaintext is thrown away: the first plaintext byte (the
 * packet header) can be read as soon as it arrives, so a decoy is known
 * early, and its tag is still verified at the end before anything after it is
 * released.
 *
 * Pure TypeScript with its own state (not the shared backends' scratch), so
 * several may be open at once.
 *
 * @module
 */

import { ChaCha20 } from "./chacha20.ts";
import { Poly1305 } from "./poly1305.ts";
import { AEAD_TAG_LEN } from "./aead_types.ts";
import { checkBytes } from "../bytes.ts";

/**
 * Verifies a ciphertext + tag of known total length, fed in pieces.
 *
 * @example Checking a sealed message fed in two pieces
 * ```ts
 * import { createAeadBackend, StreamingOpen } from "@bip324/bip324/cipher";
 *
 * const key = new Uint8Array(32), nonce = new Uint8Array(12), aad = new Uint8Array(0);
 * const sealed = new Uint8Array(100 + 16);
 * createAeadBackend("pure").seal(key, nonce, aad, new Uint8Array(100), sealed);
 * const open = new StreamingOpen(key, nonce, aad, sealed.length);
 * open.update(sealed.subarray(0, 40));
 * open.update(sealed.subarray(40));
 * console.assert(open.finish());
 * ```
 */
export class StreamingOpen {
  #poly = new Poly1305();
  #tag = new Uint8Array(AEAD_TAG_LEN);
  #textLength: number;
  #seen = 0;
  #aadLength: number;
  #firstKeystreamByte: number;
  #done = false;

  /**
   * Starts verifying `total` bytes (ciphertext followed by the 16-byte tag)
   * under `key` and `nonce`, authenticating `aad`.
   */
  constructor(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, total: number) {
    checkBytes("key", key, 32);
    checkBytes("nonce", nonce, 12);
    checkBytes("aad", aad);
    if (!Number.isInteger(total) || total < AEAD_TAG_LEN) {
      throw new RangeError(`total must be an integer ≥ ${AEAD_TAG_LEN}, got ${total}`);
    }
    this.#textLength = total - AEAD_TAG_LEN;
    const chacha = new ChaCha20();
    chacha.setKey(key);
    chacha.setNonce(nonce);
    chacha.counter = 0;
    const block = new Uint32Array(16);
    chacha.block(block); // one-time Poly1305 key; counter now 1
    const w = block;
    this.#poly.initWords(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
    chacha.block(block); // keystream of the first plaintext block
    this.#firstKeystreamByte = block[0] & 0xff;
    block.fill(0);
    chacha.wipe();
    this.#aadLength = aad.length;
    this.#poly.update(aad, 0, aad.length);
    this.#poly.pad();
  }

  /** Decrypts the first ciphertext byte (not yet authenticated). */
  firstByte(ciphertextByte: number): number {
    return (ciphertextByte ^ this.#firstKeystreamByte) & 0xff;
  }

  /** Bytes still expected (ciphertext and tag). */
  get remaining(): number {
    return this.#textLength + AEAD_TAG_LEN - this.#seen;
  }

  /** Feeds the next bytes; throws `RangeError` past the announced total. */
  update(piece: Uint8Array): void {
    if (this.#done) throw new TypeError("finish() was already called");
    if (piece.length > this.remaining) {
      throw new RangeError(`piece of ${piece.length} bytes exceeds the ${this.remaining} expected`);
    }
    let offset = 0;
    if (this.#seen < this.#textLength) {
      const n = Math.min(piece.length, this.#textLength - this.#seen);
      this.#poly.update(piece, 0, n);
      this.#seen += n;
      offset = n;
    }
    while (offset < piece.length) {
      this.#tag[this.#seen - this.#textLength] = piece[offset++];
      this.#seen++;
    }
  }

  /** Whether every byte arrived and the tag verifies. Wipes the state. */
  finish(): boolean {
    if (this.#done) throw new TypeError("finish() was already called");
    this.#done = true;
    const complete = this.remaining === 0;
    const poly = this.#poly;
    poly.pad();
    poly.lengths(this.#aadLength, this.#textLength);
    const expected = new Uint8Array(AEAD_TAG_LEN);
    poly.finish(expected, 0);
    let diff = complete ? 0 : 1;
    for (let i = 0; i < AEAD_TAG_LEN; i++) diff |= expected[i] ^ this.#tag[i];
    expected.fill(0);
    this.#tag.fill(0);
    poly.wipe();
    this.#firstKeystreamByte = 0;
    return diff === 0;
  }

  /** Abandons the check and wipes the state. */
  destroy(): void {
    if (this.#done) return;
    this.#done = true;
    this.#tag.fill(0);
    this.#poly.wipe();
    this.#firstKeystreamByte = 0;
  }
}
