/**
 * FSChaCha20: the forward-secure stream cipher BIP324 uses for the 3-byte
 * packet length fields.
 *
 * One ChaCha20 stream (nonce = 4 zero bytes + 8-byte little-endian epoch)
 * serves 224 consecutive chunks; the next 32 keystream bytes then become the
 * new key and the block counter restarts at 0. With 3-byte chunks an epoch
 * uses exactly 224 × 3 + 32 = 704 bytes = 11 blocks; the keystream is
 * computed two blocks at a time, so each length costs three XORs and an idle
 * cipher holds little.
 *
 * On rekey, keystream left over from the old key is dropped, as in Bitcoin
 * Core (the BIP's pseudocode would keep it; the two differ only for chunks
 * other than 3 bytes, which the protocol never uses).
 *
 * @module
 */

import { checkBytes, wipe } from "../bytes.ts";
import { ChaCha20 } from "../crypto/chacha20.ts";
import { REKEY_INTERVAL, RekeySchedule } from "../rekeying.ts";

/** Bytes of the encrypted length field at the start of every packet. */
export const LENGTH_FIELD_LEN = 3;

const BLOCK = 64;
/** Keystream blocks computed per refill (each length takes 3 bytes: 42 lengths per refill). */
const KEYSTREAM_BLOCKS = 2;
const KEYSTREAM_LEN = KEYSTREAM_BLOCKS * BLOCK;
/** Bytes an {@linkcode FSChaCha20} keeps: its key, then the keystream not yet used. */
export const FSCHACHA20_STATE_LEN: number = 32 + KEYSTREAM_LEN;

/**
 * Per-call scratch shared by every instance: it is only used inside one synchronous
 * method call (and wiped or overwritten before the next), so an idle cipher holds
 * nothing but its own key and position.
 */
const SCRATCH = {
  nonce: new Uint8Array(12),
  scratch: new Uint8Array(32),
  cipher: new ChaCha20(),
};

/**
 * Forward-secure ChaCha20 for packet lengths. Encryption and decryption are
 * the same operation ({@linkcode FSChaCha20.crypt}).
 *
 * @example Encrypting and decrypting a length
 * ```ts
 * import { FSChaCha20 } from "@bip324/bip324/cipher";
 * const key = new Uint8Array(32);
 * const sender = new FSChaCha20(key), receiver = new FSChaCha20(key);
 * const enc = sender.crypt(new Uint8Array([37, 0, 0]));
 * console.assert(receiver.crypt(enc)[0] === 37);
 * ```
 */
export class FSChaCha20 {
  /** The key (bytes 0..31), then the keystream not yet used (from byte 32): one array. */
  #state: Uint8Array;
  #schedule: RekeySchedule;
  /** Next keystream byte, counted from the keystream's start. */
  #pos: number;
  #nextBlock = 0;

  /**
   * Creates the cipher for one direction at chunk 0.
   *
   * @param key 32-byte initial key (copied; the copy is wiped by {@linkcode FSChaCha20.destroy}).
   * @param interval chunks per key; 224 on the wire, injectable for tests.
   * @param storage where to keep the key and keystream ({@linkcode FSCHACHA20_STATE_LEN}
   *   bytes from its start, which nothing else may use): lets several ciphers share one
   *   allocation. Default: an array of its own.
   */
  constructor(key: Uint8Array, interval: number = REKEY_INTERVAL, storage?: Uint8Array) {
    checkBytes("key", key, 32);
    this.#schedule = new RekeySchedule(interval);
    // Key and keystream share one allocation; the keystream is computed KEYSTREAM_BLOCKS
    // blocks at a time (an idle cipher holds 160 bytes, not a whole epoch's 736).
    if (storage === undefined) {
      this.#state = new Uint8Array(FSCHACHA20_STATE_LEN);
    } else if (checkBytes("storage", storage).length < FSCHACHA20_STATE_LEN) {
      throw new RangeError(
        `storage must be at least ${FSCHACHA20_STATE_LEN} bytes, got ${storage.length}`,
      );
    } else {
      this.#state = storage.subarray(0, FSCHACHA20_STATE_LEN);
    }
    this.#state.set(key);
    this.#pos = KEYSTREAM_LEN;
  }

  /** Chunks processed so far. */
  get chunkCounter(): number {
    return this.#schedule.epoch * this.#schedule.interval + this.#schedule.index;
  }

  /**
   * XORs `chunk` with the next keystream bytes into `out` (default: a new
   * array; `out` may be `chunk` itself), then advances the rekey schedule.
   */
  crypt(chunk: Uint8Array, out?: Uint8Array): Uint8Array {
    checkBytes("chunk", chunk);
    if (out === undefined) out = new Uint8Array(chunk.length);
    else if (checkBytes("out", out).length < chunk.length) {
      throw new RangeError(`out must be at least ${chunk.length} bytes, got ${out.length}`);
    }
    for (let i = 0; i < chunk.length; i++) out[i] = chunk[i] ^ this.#nextByte();
    this.#afterChunk();
    return out;
  }

  /**
   * Decrypts a 3-byte length field read from `input` at `offset` and returns
   * the contents length it encodes.
   */
  decryptLength(input: Uint8Array, offset = 0): number {
    const a = input[offset] ^ this.#nextByte();
    const b = input[offset + 1] ^ this.#nextByte();
    const c = input[offset + 2] ^ this.#nextByte();
    this.#afterChunk();
    return a | (b << 8) | (c << 16);
  }

  /** Encrypts `length` as a 3-byte little-endian field into `out` at `offset`. */
  encryptLength(length: number, out: Uint8Array, offset = 0): void {
    out[offset] = (length & 0xff) ^ this.#nextByte();
    out[offset + 1] = ((length >>> 8) & 0xff) ^ this.#nextByte();
    out[offset + 2] = ((length >>> 16) & 0xff) ^ this.#nextByte();
    this.#afterChunk();
  }

  /** Wipes the key and keystream. The cipher must not be used afterwards. */
  destroy(): void {
    wipe(this.#state);
    SCRATCH.cipher.wipe();
    this.#pos = KEYSTREAM_LEN;
  }

  #afterChunk(): void {
    if (this.#schedule.isLastInEpoch) {
      // The new key is the next 32 bytes of this epoch's stream (take them before the
      // epoch counter moves on: a refill here must still use the old nonce).
      const fresh = SCRATCH.scratch;
      for (let i = 0; i < 32; i++) fresh[i] = this.#nextByte(); // a refill may still need the key
      this.#state.set(fresh);
      fresh.fill(0);
      this.#nextBlock = 0;
      this.#pos = KEYSTREAM_LEN; // refill under the new key and epoch
    }
    this.#schedule.advance();
  }

  #nextByte(): number {
    if (this.#pos === KEYSTREAM_LEN) this.#refill();
    return this.#state[32 + this.#pos++];
  }

  #refill(): void {
    const c = SCRATCH.cipher;
    SCRATCH.nonce.fill(0);
    this.#schedule.writeEpoch(SCRATCH.nonce, 4);
    c.setKey(this.#state);
    c.setNonce(SCRATCH.nonce);
    c.counter = this.#nextBlock;
    c.keystream(this.#state, 32, KEYSTREAM_LEN);
    c.wipe();
    this.#nextBlock += KEYSTREAM_BLOCKS;
    this.#pos = 0;
  }
}
