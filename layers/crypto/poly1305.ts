/**
 * Poly1305 (RFC 8439 section 2.5) without per-call allocations.
 *
 * The accumulator h lives in five 26-bit limbs held as JavaScript numbers
 * (exact integers below 2⁵³). Each key limb r_k is split into two 13-bit
 * halves a_k + 2¹³·b_k, so every partial sum of (h + m)·r stays below 2⁴⁵:
 *
 * - after a block, h_i < 2²⁶ (h_1 < 2²⁶ + 2), so x_i = h_i + m_i < 2²⁷·¹;
 * - a_k, b_k < 2¹³ and 5·a_k, 5·b_k < 2¹⁵·³⁴ (the ·5 folds 2¹³⁰ ≡ 5);
 * - A_i = Σ x_j·a′ and B_i = Σ x_j·b′ (five terms each) < 2⁴⁴·⁸.
 *
 * Limb i of the product is A_i + 2¹³·B_i; B_i is split at 2¹³ so the high
 * part moves to limb i + 1, and carries use `Math.floor` on exact values.
 * No branch or memory access depends on secret data.
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";

/** Bytes of a Poly1305 tag. */
export const POLY1305_TAG_LEN = 16;

const M26 = 0x3ffffff;
const TWO13 = 8192;
const TWO26 = 67108864;
const TWO32 = 4294967296;
const INV13 = 1 / TWO13;
const INV26 = 1 / TWO26;

/**
 * An incremental Poly1305 authenticator. {@linkcode Poly1305.init} with a
 * one-time key, feed data with {@linkcode Poly1305.update} (and
 * {@linkcode Poly1305.pad} for AEAD zero padding), then
 * {@linkcode Poly1305.finish}. One instance can be reused for any number of
 * messages.
 *
 * @example RFC 8439 section 2.5.2
 * ```ts
 * import { Poly1305 } from "./poly1305.ts";
 * import { fromHex, toHex } from "@bip324/bip324";
 * const mac = new Poly1305();
 * mac.init(fromHex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b"));
 * const msg = new TextEncoder().encode("Cryptographic Forum Research Group");
 * mac.update(msg, 0, msg.length);
 * const tag = new Uint8Array(16);
 * mac.finish(tag, 0);
 * console.assert(toHex(tag) === "a8061dc1305136c6c22b8baf0c0127a9");
 * ```
 */
export class Poly1305 {
  // r = a + 2^13 b per 26-bit limb; a5/b5 are 5·a, 5·b for the wrapped terms.
  #a = new Float64Array(5);
  #b = new Float64Array(5);
  #a5 = new Float64Array(5);
  #b5 = new Float64Array(5);
  #h = new Float64Array(5);
  #s = new Uint32Array(4);
  #buffer = new Uint8Array(16);
  #buffered = 0;

  /** Starts a message under the 32-byte one-time key `key` (at `offset`). */
  init(key: Uint8Array, offset = 0): void {
    checkBytes("key", key);
    if (!(offset >= 0 && offset + 32 <= key.length)) {
      throw new RangeError(`key must hold 32 bytes at offset ${offset}, got ${key.length}`);
    }
    this.initWords(
      load32(key, offset),
      load32(key, offset + 4),
      load32(key, offset + 8),
      load32(key, offset + 12),
      load32(key, offset + 16),
      load32(key, offset + 20),
      load32(key, offset + 24),
      load32(key, offset + 28),
    );
  }

  /**
   * Starts a message under a key given as eight little-endian 32-bit words
   * (r0..r3, s0..s3), e.g. the first half of a ChaCha20 block.
   */
  initWords(
    r0: number,
    r1: number,
    r2: number,
    r3: number,
    s0: number,
    s1: number,
    s2: number,
    s3: number,
  ): void {
    // clamp: r &= 0x0ffffffc0ffffffc0ffffffc0fffffff
    r0 &= 0x0fffffff;
    r1 &= 0x0ffffffc;
    r2 &= 0x0ffffffc;
    r3 &= 0x0ffffffc;
    this.#setLimb(0, r0 & M26);
    this.#setLimb(1, ((r0 >>> 26) | (r1 << 6)) & M26);
    this.#setLimb(2, ((r1 >>> 20) | (r2 << 12)) & M26);
    this.#setLimb(3, ((r2 >>> 14) | (r3 << 18)) & M26);
    this.#setLimb(4, r3 >>> 8);
    this.#h.fill(0);
    const s = this.#s;
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    this.#buffered = 0;
  }

  /** Absorbs `length` bytes of `data` from `offset`. */
  update(data: Uint8Array, offset: number, length: number): void {
    const buffer = this.#buffer;
    if (this.#buffered > 0) {
      const take = Math.min(16 - this.#buffered, length);
      for (let i = 0; i < take; i++) buffer[this.#buffered + i] = data[offset + i];
      this.#buffered += take;
      offset += take;
      length -= take;
      if (this.#buffered < 16) return;
      this.#blocks(buffer, 0, 1, 1);
      this.#buffered = 0;
    }
    const full = length >>> 4;
    if (full > 0) this.#blocks(data, offset, full, 1);
    const rest = length & 15;
    for (let i = 0; i < rest; i++) buffer[i] = data[offset + (full << 4) + i];
    this.#buffered = rest;
  }

  /**
   * Zero-pads the data absorbed so far to a multiple of 16 bytes, as the
   * ChaCha20-Poly1305 AEAD does after the AAD and after the ciphertext.
   */
  pad(): void {
    if (this.#buffered === 0) return;
    this.#buffer.fill(0, this.#buffered);
    this.#blocks(this.#buffer, 0, 1, 1);
    this.#buffered = 0;
  }

  /**
   * Absorbs one 16-byte block holding two 64-bit little-endian lengths (the
   * AEAD's final block). Must be called on a 16-byte boundary.
   */
  lengths(aadLength: number, dataLength: number): void {
    const b = this.#buffer;
    store32(b, 0, aadLength >>> 0);
    store32(b, 4, Math.floor(aadLength / TWO32));
    store32(b, 8, dataLength >>> 0);
    store32(b, 12, Math.floor(dataLength / TWO32));
    this.update(b, 0, 16);
  }

  /**
   * Writes the 16-byte tag into `out` at `offset`. The key stays in the state
   * until the next `init`/`initWords` or {@linkcode Poly1305.wipe}.
   */
  finish(out: Uint8Array, offset: number): void {
    if (this.#buffered > 0) {
      // final partial block: append 0x01, then zeros, and no 2^128 bit
      const buffer = this.#buffer;
      buffer[this.#buffered] = 1;
      buffer.fill(0, this.#buffered + 1);
      this.#blocks(buffer, 0, 1, 0);
    }
    const hh = this.#h;
    let h0 = hh[0], h1 = hh[1], h2 = hh[2], h3 = hh[3], h4 = hh[4], c: number;
    // full carry (all limbs are integers below 2^27 here)
    c = h1 >>> 26, h1 &= M26, h2 += c;
    c = h2 >>> 26, h2 &= M26, h3 += c;
    c = h3 >>> 26, h3 &= M26, h4 += c;
    c = h4 >>> 26, h4 &= M26, h0 += c * 5;
    c = h0 >>> 26, h0 &= M26, h1 += c;
    // g = h + 5 - 2^130; use g when it does not borrow (h ≥ p)
    let g0 = h0 + 5;
    c = g0 >>> 26, g0 &= M26;
    let g1 = h1 + c;
    c = g1 >>> 26, g1 &= M26;
    let g2 = h2 + c;
    c = g2 >>> 26, g2 &= M26;
    let g3 = h3 + c;
    c = g3 >>> 26, g3 &= M26;
    const g4 = (h4 + c - TWO26) | 0;
    const useG = ~(g4 >> 31); // all ones when g4 ≥ 0
    h0 = (h0 & ~useG) | (g0 & useG);
    h1 = (h1 & ~useG) | (g1 & useG);
    h2 = (h2 & ~useG) | (g2 & useG);
    h3 = (h3 & ~useG) | (g3 & useG);
    h4 = (h4 & ~useG) | (g4 & useG);
    // h mod 2^128 as four words, plus s
    const s = this.#s;
    let f = ((h0 | (h1 << 26)) >>> 0) + s[0];
    store32(out, offset, f >>> 0);
    f = (((h1 >>> 6) | (h2 << 20)) >>> 0) + s[1] + Math.floor(f / TWO32);
    store32(out, offset + 4, f >>> 0);
    f = (((h2 >>> 12) | (h3 << 14)) >>> 0) + s[2] + Math.floor(f / TWO32);
    store32(out, offset + 8, f >>> 0);
    f = (((h3 >>> 18) | (h4 << 8)) >>> 0) + s[3] + Math.floor(f / TWO32);
    store32(out, offset + 12, f >>> 0);
    this.#buffered = 0;
  }

  /** Clears the key, accumulator and buffer. */
  wipe(): void {
    this.#a.fill(0);
    this.#b.fill(0);
    this.#a5.fill(0);
    this.#b5.fill(0);
    this.#h.fill(0);
    this.#s.fill(0);
    this.#buffer.fill(0);
    this.#buffered = 0;
  }

  #setLimb(k: number, limb: number): void {
    const lo = limb & (TWO13 - 1), hi = limb >>> 13;
    this.#a[k] = lo;
    this.#b[k] = hi;
    this.#a5[k] = 5 * lo;
    this.#b5[k] = 5 * hi;
  }

  /** Absorbs `count` 16-byte blocks from `data` at `offset`; `hibit` is 1 for full blocks. */
  #blocks(data: Uint8Array, offset: number, count: number, hibit: number): void {
    const a = this.#a, b = this.#b, a5 = this.#a5, b5 = this.#b5, hh = this.#h;
    const a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4];
    const b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3], b4 = b[4];
    const c1 = a5[1], c2 = a5[2], c3 = a5[3], c4 = a5[4];
    const d1 = b5[1], d2 = b5[2], d3 = b5[3], d4 = b5[4];
    const top = hibit << 24;
    let h0 = hh[0], h1 = hh[1], h2 = hh[2], h3 = hh[3], h4 = hh[4];
    for (let n = 0, o = offset; n < count; n++, o += 16) {
      const w0 = load32(data, o), w1 = load32(data, o + 4);
      const w2 = load32(data, o + 8), w3 = load32(data, o + 12);
      const x0 = h0 + (w0 & M26);
      const x1 = h1 + (((w0 >>> 26) | (w1 << 6)) & M26);
      const x2 = h2 + (((w1 >>> 20) | (w2 << 12)) & M26);
      const x3 = h3 + (((w2 >>> 14) | (w3 << 18)) & M26);
      const x4 = h4 + ((w3 >>> 8) | top);

      const A0 = x0 * a0 + x1 * c4 + x2 * c3 + x3 * c2 + x4 * c1;
      const B0 = x0 * b0 + x1 * d4 + x2 * d3 + x3 * d2 + x4 * d1;
      const A1 = x0 * a1 + x1 * a0 + x2 * c4 + x3 * c3 + x4 * c2;
      const B1 = x0 * b1 + x1 * b0 + x2 * d4 + x3 * d3 + x4 * d2;
      const A2 = x0 * a2 + x1 * a1 + x2 * a0 + x3 * c4 + x4 * c3;
      const B2 = x0 * b2 + x1 * b1 + x2 * b0 + x3 * d4 + x4 * d3;
      const A3 = x0 * a3 + x1 * a2 + x2 * a1 + x3 * a0 + x4 * c4;
      const B3 = x0 * b3 + x1 * b2 + x2 * b1 + x3 * b0 + x4 * d4;
      const A4 = x0 * a4 + x1 * a3 + x2 * a2 + x3 * a1 + x4 * a0;
      const B4 = x0 * b4 + x1 * b3 + x2 * b2 + x3 * b1 + x4 * b0;

      // B_i·2^13 = lo·2^13 + hi·2^26: lo stays in limb i, hi moves to limb i + 1
      const q0 = Math.floor(B0 * INV13), q1 = Math.floor(B1 * INV13);
      const q2 = Math.floor(B2 * INV13), q3 = Math.floor(B3 * INV13);
      const q4 = Math.floor(B4 * INV13);
      let e0 = A0 + (B0 - q0 * TWO13) * TWO13 + q4 * 5;
      let e1 = A1 + (B1 - q1 * TWO13) * TWO13 + q0;
      let e2 = A2 + (B2 - q2 * TWO13) * TWO13 + q1;
      let e3 = A3 + (B3 - q3 * TWO13) * TWO13 + q2;
      let e4 = A4 + (B4 - q4 * TWO13) * TWO13 + q3;

      let c = Math.floor(e0 * INV26);
      h0 = e0 - c * TWO26;
      e1 += c, c = Math.floor(e1 * INV26), h1 = e1 - c * TWO26;
      e2 += c, c = Math.floor(e2 * INV26), h2 = e2 - c * TWO26;
      e3 += c, c = Math.floor(e3 * INV26), h3 = e3 - c * TWO26;
      e4 += c, c = Math.floor(e4 * INV26), h4 = e4 - c * TWO26;
      e0 = h0 + c * 5;
      c = Math.floor(e0 * INV26);
      h0 = e0 - c * TWO26;
      h1 += c;
    }
    hh[0] = h0, hh[1] = h1, hh[2] = h2, hh[3] = h3, hh[4] = h4;
  }
}

function load32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) |
    (bytes[offset + 3] << 24)) >>> 0;
}

function store32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value;
  bytes[offset + 1] = value >>> 8;
  bytes[offset + 2] = value >>> 16;
  bytes[offset + 3] = value >>> 24;
}
