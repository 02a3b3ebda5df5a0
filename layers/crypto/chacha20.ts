/**
 * ChaCha20 as RFC 8439 defines it (32-byte key, 32-bit block counter, 12-byte
 * nonce), written for a hot path: one {@linkcode ChaCha20} instance owns its
 * state and keystream block as preallocated `Uint32Array`s and writes into
 * caller buffers, so encrypting a packet allocates nothing.
 *
 * Words are loaded and stored byte by byte (little endian), so the code does
 * not depend on the platform's byte order.
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";

/** Bytes per ChaCha20 block. */
export const CHACHA_BLOCK_LEN = 64;

// "expand 32-byte k"
const SIGMA0 = 0x61707865, SIGMA1 = 0x3320646e, SIGMA2 = 0x79622d32, SIGMA3 = 0x6b206574;
const TWO32 = 4294967296;
/** From this many bytes on, {@linkcode ChaCha20.xor} reads and writes whole words. */
const DATAVIEW_MIN = 512;

/** Little-endian 32-bit word of `bytes` at `offset` (as an unsigned number). */
function load32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) |
    (bytes[offset + 3] << 24)) >>> 0;
}

/**
 * The ChaCha20 block function: `out = 20 rounds(state) + state`, word-wise.
 * `state` is the 16-word input (constants, key, counter, nonce); it is not
 * modified.
 *
 * @example RFC 8439 section 2.3.2 (first output word)
 * ```ts
 * import { chachaBlock } from "./chacha20.ts";
 * const state = Uint32Array.of(
 *   0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
 *   0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c,
 *   0x13121110, 0x17161514, 0x1b1a1918, 0x1f1e1d1c,
 *   0x00000001, 0x09000000, 0x4a000000, 0x00000000,
 * );
 * const out = new Uint32Array(16);
 * chachaBlock(state, out);
 * console.assert(out[0] === 0xe4e7f110);
 * ```
 */
export function chachaBlock(state: Uint32Array, out: Uint32Array): void {
  const s0 = state[0], s1 = state[1], s2 = state[2], s3 = state[3];
  const s4 = state[4], s5 = state[5], s6 = state[6], s7 = state[7];
  const s8 = state[8], s9 = state[9], s10 = state[10], s11 = state[11];
  const s12 = state[12], s13 = state[13], s14 = state[14], s15 = state[15];
  let x0 = s0, x1 = s1, x2 = s2, x3 = s3, x4 = s4, x5 = s5, x6 = s6, x7 = s7;
  let x8 = s8, x9 = s9, x10 = s10, x11 = s11, x12 = s12, x13 = s13, x14 = s14, x15 = s15;
  for (let i = 0; i < 10; i++) {
    // column round: QR(0,4,8,12) QR(1,5,9,13) QR(2,6,10,14) QR(3,7,11,15)
    x0 = (x0 + x4) | 0, x12 ^= x0, x12 = (x12 << 16) | (x12 >>> 16);
    x8 = (x8 + x12) | 0, x4 ^= x8, x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0, x12 ^= x0, x12 = (x12 << 8) | (x12 >>> 24);
    x8 = (x8 + x12) | 0, x4 ^= x8, x4 = (x4 << 7) | (x4 >>> 25);
    x1 = (x1 + x5) | 0, x13 ^= x1, x13 = (x13 << 16) | (x13 >>> 16);
    x9 = (x9 + x13) | 0, x5 ^= x9, x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0, x13 ^= x1, x13 = (x13 << 8) | (x13 >>> 24);
    x9 = (x9 + x13) | 0, x5 ^= x9, x5 = (x5 << 7) | (x5 >>> 25);
    x2 = (x2 + x6) | 0, x14 ^= x2, x14 = (x14 << 16) | (x14 >>> 16);
    x10 = (x10 + x14) | 0, x6 ^= x10, x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0, x14 ^= x2, x14 = (x14 << 8) | (x14 >>> 24);
    x10 = (x10 + x14) | 0, x6 ^= x10, x6 = (x6 << 7) | (x6 >>> 25);
    x3 = (x3 + x7) | 0, x15 ^= x3, x15 = (x15 << 16) | (x15 >>> 16);
    x11 = (x11 + x15) | 0, x7 ^= x11, x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0, x15 ^= x3, x15 = (x15 << 8) | (x15 >>> 24);
    x11 = (x11 + x15) | 0, x7 ^= x11, x7 = (x7 << 7) | (x7 >>> 25);
    // diagonal round: QR(0,5,10,15) QR(1,6,11,12) QR(2,7,8,13) QR(3,4,9,14)
    x0 = (x0 + x5) | 0, x15 ^= x0, x15 = (x15 << 16) | (x15 >>> 16);
    x10 = (x10 + x15) | 0, x5 ^= x10, x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0, x15 ^= x0, x15 = (x15 << 8) | (x15 >>> 24);
    x10 = (x10 + x15) | 0, x5 ^= x10, x5 = (x5 << 7) | (x5 >>> 25);
    x1 = (x1 + x6) | 0, x12 ^= x1, x12 = (x12 << 16) | (x12 >>> 16);
    x11 = (x11 + x12) | 0, x6 ^= x11, x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0, x12 ^= x1, x12 = (x12 << 8) | (x12 >>> 24);
    x11 = (x11 + x12) | 0, x6 ^= x11, x6 = (x6 << 7) | (x6 >>> 25);
    x2 = (x2 + x7) | 0, x13 ^= x2, x13 = (x13 << 16) | (x13 >>> 16);
    x8 = (x8 + x13) | 0, x7 ^= x8, x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0, x13 ^= x2, x13 = (x13 << 8) | (x13 >>> 24);
    x8 = (x8 + x13) | 0, x7 ^= x8, x7 = (x7 << 7) | (x7 >>> 25);
    x3 = (x3 + x4) | 0, x14 ^= x3, x14 = (x14 << 16) | (x14 >>> 16);
    x9 = (x9 + x14) | 0, x4 ^= x9, x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0, x14 ^= x3, x14 = (x14 << 8) | (x14 >>> 24);
    x9 = (x9 + x14) | 0, x4 ^= x9, x4 = (x4 << 7) | (x4 >>> 25);
  }
  out[0] = x0 + s0, out[1] = x1 + s1, out[2] = x2 + s2, out[3] = x3 + s3;
  out[4] = x4 + s4, out[5] = x5 + s5, out[6] = x6 + s6, out[7] = x7 + s7;
  out[8] = x8 + s8, out[9] = x9 + s9, out[10] = x10 + s10, out[11] = x11 + s11;
  out[12] = x12 + s12, out[13] = x13 + s13, out[14] = x14 + s14, out[15] = x15 + s15;
}

/**
 * A reusable ChaCha20 keystream generator. Set the key, nonce and counter,
 * then {@linkcode ChaCha20.xor} or {@linkcode ChaCha20.keystream}; each call
 * starts at a block boundary and advances the counter by the blocks it used.
 *
 * @example RFC 8439 section 2.4.2 (first bytes)
 * ```ts
 * import { ChaCha20 } from "./chacha20.ts";
 * const c = new ChaCha20();
 * c.setKey(Uint8Array.from({ length: 32 }, (_, i) => i));
 * c.setNonce(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0));
 * c.counter = 1;
 * const text = new TextEncoder().encode("Ladies");
 * c.xor(text, 0, text, 0, text.length);
 * console.assert(text[0] === 0x6e && text[1] === 0x2e);
 * ```
 */
export class ChaCha20 {
  #state = new Uint32Array(16);
  #block = new Uint32Array(16);

  constructor() {
    this.#state[0] = SIGMA0;
    this.#state[1] = SIGMA1;
    this.#state[2] = SIGMA2;
    this.#state[3] = SIGMA3;
  }

  /** Loads a 32-byte key from `key` at `offset`. */
  setKey(key: Uint8Array, offset = 0): void {
    checkBytes("key", key);
    if (!(offset >= 0 && offset + 32 <= key.length)) {
      throw new RangeError(`key must hold 32 bytes at offset ${offset}, got ${key.length}`);
    }
    const s = this.#state;
    for (let i = 0; i < 8; i++) s[4 + i] = load32(key, offset + 4 * i);
  }

  /** Loads a key given as eight little-endian 32-bit words. */
  setKeyWords(words: Uint32Array, offset = 0): void {
    const s = this.#state;
    for (let i = 0; i < 8; i++) s[4 + i] = words[offset + i];
  }

  /** Loads a 12-byte nonce. */
  setNonce(nonce: Uint8Array): void {
    checkBytes("nonce", nonce, 12);
    this.setNonceWords(load32(nonce, 0), load32(nonce, 4), load32(nonce, 8));
  }

  /** Loads a nonce given as its three little-endian 32-bit words. */
  setNonceWords(n0: number, n1: number, n2: number): void {
    const s = this.#state;
    s[13] = n0;
    s[14] = n1;
    s[15] = n2;
  }

  /** The block counter of the next block. */
  get counter(): number {
    return this.#state[12];
  }

  /** Sets the block counter of the next block (0 ≤ counter < 2³²). */
  set counter(value: number) {
    if (!Number.isInteger(value) || value < 0 || value >= TWO32) {
      throw new RangeError(`counter must be an integer 0..2^32-1, got ${value}`);
    }
    this.#state[12] = value;
  }

  /**
   * Writes the keystream block at the current counter into `out` (16 words)
   * and advances the counter.
   */
  block(out: Uint32Array): void {
    this.#reserve(1);
    chachaBlock(this.#state, out);
    this.#state[12]++;
  }

  /**
   * XORs `length` bytes of `input` (from `inOffset`) with the keystream into
   * `output` (from `outOffset`). `output` may be `input` at the same offset
   * (in place) or at a lower one; it must not overlap ahead of the input.
   */
  xor(
    input: Uint8Array,
    inOffset: number,
    output: Uint8Array,
    outOffset: number,
    length: number,
  ): void {
    this.#reserve(Math.ceil(length / CHACHA_BLOCK_LEN));
    const state = this.#state, block = this.#block;
    let i = inOffset, o = outOffset, left = length;
    if (left >= DATAVIEW_MIN) {
      // Long messages: word-wise XOR through DataViews (two small allocations per call).
      const din = new DataView(input.buffer, input.byteOffset, input.length);
      const dout = new DataView(output.buffer, output.byteOffset, output.length);
      for (; left >= CHACHA_BLOCK_LEN; left -= CHACHA_BLOCK_LEN) {
        chachaBlock(state, block);
        state[12]++;
        for (let j = 0; j < 16; j++, i += 4, o += 4) {
          dout.setUint32(o, din.getUint32(i, true) ^ block[j], true);
        }
      }
    }
    while (left >= CHACHA_BLOCK_LEN) {
      chachaBlock(state, block);
      state[12]++;
      for (let j = 0; j < 16; j++, i += 4, o += 4) {
        const w = block[j];
        output[o] = input[i] ^ w;
        output[o + 1] = input[i + 1] ^ (w >>> 8);
        output[o + 2] = input[i + 2] ^ (w >>> 16);
        output[o + 3] = input[i + 3] ^ (w >>> 24);
      }
      left -= CHACHA_BLOCK_LEN;
    }
    if (left > 0) {
      chachaBlock(state, block);
      state[12]++;
      for (let j = 0; j < left; j++) {
        output[o + j] = input[i + j] ^ (block[j >> 2] >>> ((j & 3) * 8));
      }
    }
  }

  /** Writes `length` keystream bytes into `output` from `offset`. */
  keystream(output: Uint8Array, offset: number, length: number): void {
    this.#reserve(Math.ceil(length / CHACHA_BLOCK_LEN));
    const state = this.#state, block = this.#block;
    for (let done = 0; done < length; done += CHACHA_BLOCK_LEN) {
      chachaBlock(state, block);
      state[12]++;
      const n = Math.min(CHACHA_BLOCK_LEN, length - done);
      for (let j = 0; j < n; j++) output[offset + done + j] = block[j >> 2] >>> ((j & 3) * 8);
    }
  }

  /** Zeroes the key, nonce, counter and last block. */
  wipe(): void {
    this.#state.fill(0, 4);
    this.#block.fill(0);
  }

  #reserve(blocks: number): void {
    if (this.#state[12] + blocks > TWO32) {
      throw new RangeError("ChaCha20 block counter would overflow (more than 2^32 blocks)");
    }
  }
}
