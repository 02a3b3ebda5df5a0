// Poly1305 (RFC 8439 section 2.5) with 26-bit limbs and 64-bit products (AssemblyScript).
//
// The accumulator h and the clamped key r are five 26-bit limbs each. With
// s_i = 5·r_i (2^130 ≡ 5 mod p folds the high products back), after a block
// every h_i < 2^26 + 2^9, so h_i + m_i < 2^27.1, every product < 2^55.5 and
// each of the five-term column sums d_i < 2^58: exact in u64. No branch and
// no memory address depends on secret data.
import { HACC, PAD, POW } from "./layout";
import { polyBlocks4, simdReset } from "./poly1305_simd";

const M26: u32 = 0x3ffffff;

let h0: u32 = 0, h1: u32 = 0, h2: u32 = 0, h3: u32 = 0, h4: u32 = 0;
let r0: u32 = 0, r1: u32 = 0, r2: u32 = 0, r3: u32 = 0, r4: u32 = 0;
let k0: u32 = 0, k1: u32 = 0, k2: u32 = 0, k3: u32 = 0;

/** Keys the authenticator with the 32-byte one-time key at `key` (r || s) and empties h. */
export function polySetup(key: usize): void {
  // clamp r &= 0x0ffffffc0ffffffc0ffffffc0fffffff, then cut it into 26-bit limbs
  const t0 = load<u32>(key, 0) & 0x0fffffff;
  const t1 = load<u32>(key, 4) & 0x0ffffffc;
  const t2 = load<u32>(key, 8) & 0x0ffffffc;
  const t3 = load<u32>(key, 12) & 0x0ffffffc;
  r0 = t0 & M26;
  r1 = ((t0 >>> 26) | (t1 << 6)) & M26;
  r2 = ((t1 >>> 20) | (t2 << 12)) & M26;
  r3 = ((t2 >>> 14) | (t3 << 18)) & M26;
  r4 = t3 >>> 8;
  // r is lane 3 of the SIMD path's powers (the others are computed when first needed)
  store<u32>(POW, r0, 12);
  store<u32>(POW, r1, 28);
  store<u32>(POW, r2, 44);
  store<u32>(POW, r3, 60);
  store<u32>(POW, r4, 76);
  simdReset();
  k0 = load<u32>(key, 16);
  k1 = load<u32>(key, 20);
  k2 = load<u32>(key, 24);
  k3 = load<u32>(key, 28);
  h0 = 0;
  h1 = 0;
  h2 = 0;
  h3 = 0;
  h4 = 0;
}

/** Zeroes the key, its powers and the accumulator. */
export function polyClear(): void {
  const zero = i32x4.splat(0);
  for (let q: usize = POW; q < HACC + 32; q += 16) v128.store(q, zero);
  simdReset();
  h0 = 0; h1 = 0; h2 = 0; h3 = 0; h4 = 0;
  r0 = 0; r1 = 0; r2 = 0; r3 = 0; r4 = 0;
  k0 = 0; k1 = 0; k2 = 0; k3 = 0;
}

/** The 2^128 bit every full block carries, as it sits in limb 4. */
const HIBIT: u32 = 1 << 24;

/**
 * h = (h + m)·r mod p for each 16-byte block m at `p` (`n` a multiple of 16),
 * with `hibit` (HIBIT, or 0 for the final block of a raw Poly1305 message)
 * added to limb 4.
 */
function blocks(p: usize, n: usize, hibit: u32): void {
  const R0 = <u64>r0, R1 = <u64>r1, R2 = <u64>r2, R3 = <u64>r3, R4 = <u64>r4;
  const S1 = R1 * 5, S2 = R2 * 5, S3 = R3 * 5, S4 = R4 * 5;
  let a0 = h0, a1 = h1, a2 = h2, a3 = h3, a4 = h4;
  const end = p + n;
  while (p < end) {
    const m0 = load<u32>(p, 0), m1 = load<u32>(p, 4), m2 = load<u32>(p, 8), m3 = load<u32>(p, 12);
    const x0 = <u64>(a0 + (m0 & M26));
    const x1 = <u64>(a1 + (((m0 >>> 26) | (m1 << 6)) & M26));
    const x2 = <u64>(a2 + (((m1 >>> 20) | (m2 << 12)) & M26));
    const x3 = <u64>(a3 + (((m2 >>> 14) | (m3 << 18)) & M26));
    const x4 = <u64>(a4 + ((m3 >>> 8) | hibit));
    let d0 = x0 * R0 + x1 * S4 + x2 * S3 + x3 * S2 + x4 * S1;
    let d1 = x0 * R1 + x1 * R0 + x2 * S4 + x3 * S3 + x4 * S2;
    let d2 = x0 * R2 + x1 * R1 + x2 * R0 + x3 * S4 + x4 * S3;
    let d3 = x0 * R3 + x1 * R2 + x2 * R1 + x3 * R0 + x4 * S4;
    let d4 = x0 * R4 + x1 * R3 + x2 * R2 + x3 * R1 + x4 * R0;
    d1 += d0 >> 26;
    d2 += d1 >> 26;
    d3 += d2 >> 26;
    d4 += d3 >> 26;
    const c = (d4 >> 26) * 5 + (d0 & M26); // < 2^35
    a0 = <u32>c & M26;
    a1 = (<u32>d1 & M26) + <u32>(c >> 26);
    a2 = <u32>d2 & M26;
    a3 = <u32>d3 & M26;
    a4 = <u32>d4 & M26;
    p += 16;
  }
  h0 = a0; h1 = a1; h2 = a2; h3 = a3; h4 = a4;
}

/** Runs of at least this many bytes of full blocks go four blocks per step (poly1305_simd.ts). */
const SIMD_MIN: usize = 256;

/** Absorbs the `n` bytes at `p` (a multiple of 16) as full blocks. */
function fullBlocks(p: usize, n: usize): void {
  if (n >= SIMD_MIN) {
    const n4 = n & ~63;
    store<u32>(HACC, h0, 0);
    store<u32>(HACC, h1, 4);
    store<u32>(HACC, h2, 8);
    store<u32>(HACC, h3, 12);
    store<u32>(HACC, h4, 16);
    polyBlocks4(p, n4);
    h0 = load<u32>(HACC, 0);
    h1 = load<u32>(HACC, 4);
    h2 = load<u32>(HACC, 8);
    h3 = load<u32>(HACC, 12);
    h4 = load<u32>(HACC, 16);
    p += n4;
    n -= n4;
  }
  blocks(p, n, HIBIT);
}

/**
 * Absorbs `len` bytes at `p` as 16-byte blocks, a final partial block padded
 * with zeros (the AEAD padding): pieces of one field must be multiples of 16
 * bytes but the last.
 */
export function polyUpdate(p: usize, len: usize): void {
  const full = len & ~15;
  fullBlocks(p, full);
  const rest = len - full;
  if (rest > 0) {
    // (plain stores: in V8 a bulk-memory op is a runtime call, slower for 16 bytes)
    const q = p + full;
    for (let i: usize = 0; i < rest; i++) store<u8>(PAD + i, load<u8>(q + i));
    blocks(PAD, 16, HIBIT);
    zeroPad();
  }
}

/** Absorbs the AEAD length block: le64(aadLength) || le64(textLength). */
export function polyLengths(aadLength: u64, textLength: u64): void {
  store<u64>(PAD, aadLength, 0);
  store<u64>(PAD, textLength, 8);
  blocks(PAD, 16, HIBIT);
  zeroPad();
}

/**
 * Raw Poly1305 (RFC 8439 section 2.5) of `len` bytes at `p` under the 32-byte
 * key at `key`, tag to `out`: a final partial block gets a 1 byte after the
 * message instead of the 2^128 bit. The AEAD never calls it (so the shipped
 * module leaves it out); tests export it from a test build to check this
 * Poly1305 against the RFC's vectors with keys of their choosing.
 */
export function polyMac(key: usize, p: usize, len: usize, out: usize): void {
  polySetup(key);
  const full = len & ~15;
  fullBlocks(p, full);
  const rest = len - full;
  if (rest > 0) {
    const q = p + full;
    for (let i: usize = 0; i < rest; i++) store<u8>(PAD + i, load<u8>(q + i));
    store<u8>(PAD + rest, 1);
    blocks(PAD, 16, 0);
    zeroPad();
  }
  polyFinish(out);
  polyClear();
}

// @ts-ignore: decorator
@inline
function zeroPad(): void {
  store<u64>(PAD, 0, 0);
  store<u64>(PAD, 0, 8);
}

/** Writes the 16-byte tag (h mod p) + s mod 2^128 to `out`. */
export function polyFinish(out: usize): void {
  let a0 = h0, a1 = h1, a2 = h2, a3 = h3, a4 = h4, c: u32;
  // Two full carry passes leave every limb below 2^26 with h < 2^130: after the
  // first only a0 may exceed 2^26, by less than 2^6; the second ends either with
  // no carry out of a4, or with a1..a4 all zero and a0 tiny.
  for (let pass = 0; pass < 2; pass++) {
    c = a0 >>> 26; a0 &= M26; a1 += c;
    c = a1 >>> 26; a1 &= M26; a2 += c;
    c = a2 >>> 26; a2 &= M26; a3 += c;
    c = a3 >>> 26; a3 &= M26; a4 += c;
    c = a4 >>> 26; a4 &= M26; a0 += c * 5;
  }
  // g = h + 5 - 2^130; h >= p exactly when g does not go negative
  let g0 = a0 + 5; c = g0 >>> 26; g0 &= M26;
  let g1 = a1 + c; c = g1 >>> 26; g1 &= M26;
  let g2 = a2 + c; c = g2 >>> 26; g2 &= M26;
  let g3 = a3 + c; c = g3 >>> 26; g3 &= M26;
  const g4 = a4 + c - (1 << 26);
  const useG = (g4 >>> 31) - 1; // all ones when g4 >= 0
  const useH = ~useG;
  a0 = (a0 & useH) | (g0 & useG);
  a1 = (a1 & useH) | (g1 & useG);
  a2 = (a2 & useH) | (g2 & useG);
  a3 = (a3 & useH) | (g3 & useG);
  a4 = (a4 & useH) | (g4 & useG);
  // pack to 128 bits and add s
  let f = <u64>(a0 | (a1 << 26)) + k0;
  store<u32>(out, <u32>f, 0);
  f = <u64>((a1 >>> 6) | (a2 << 20)) + k1 + (f >> 32);
  store<u32>(out, <u32>f, 4);
  f = <u64>((a2 >>> 12) | (a3 << 14)) + k2 + (f >> 32);
  store<u32>(out, <u32>f, 8);
  f = <u64>((a3 >>> 18) | (a4 << 8)) + k3 + (f >> 32);
  store<u32>(out, <u32>f, 12);
}
