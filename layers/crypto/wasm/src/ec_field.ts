// secp256k1 field arithmetic mod p = 2^256 - 2^32 - 977 (AssemblyScript; not Deno TypeScript).
//
// An element is ten 26-bit limbs (u32, least significant first) in a 40-byte
// slot of linear memory: v = Σ lᵢ·2^(26i). Every function here leaves its
// result weakly reduced: limbs 0-8 at most 2^26 + 2^15 and limb 9 below
// 2^22, so v < 2^256 + 2^224 (not necessarily below p; `feNormalize` gives
// the unique representative), and every input must be weakly reduced too.
// Then each product of two limbs is below 2^52.001 and each column sum of a
// product (at most ten such terms, or five doubled ones and a square) below
// 2^55.5: exact in u64.
//
// Folding uses 2^256 ≡ 0x1000003D1 = 2^32 + 977 and 2^260 ≡ 0x1000003D10 =
// 2^36 + 0x3D10 (mod p), where 2^36 is 2^10 in the next limb up.
//
// Results may be written over an input. No branch and no memory address
// depends on the values.

const M26: u64 = 0x3ffffff;
const M22: u64 = 0x3fffff;

/** The limbs of 2p, each above the weak bound of its limb (so a + 2p - b never goes negative). */
const P2_0: u32 = 0x3fffc2f << 1;
const P2_1: u32 = 0x3ffffbf << 1;
const P2_M: u32 = 0x3ffffff << 1;
const P2_9: u32 = 0x3fffff << 1;

/**
 * Stores limbs (each below 2^57) at r, weakly reduced: a carry pass, the
 * bits above 2^256 (t < 2^35) folded back as 977 + 2^32, and the carries
 * that fold makes: limb 0 is then below 2^26 + 2^45, limb 1 below
 * 2^26 + 2^41, so after two more carries limb 2 is at most 2^26 + 2^15 and
 * nothing reaches limb 9, which the first pass left below 2^22.
 */
// @ts-ignore: decorator
@inline
function carryStore(
  r: usize,
  r0: u64, r1: u64, r2: u64, r3: u64, r4: u64, r5: u64, r6: u64, r7: u64, r8: u64, r9: u64,
): void {
  r1 += r0 >> 26; r0 &= M26;
  r2 += r1 >> 26; r1 &= M26;
  r3 += r2 >> 26; r2 &= M26;
  r4 += r3 >> 26; r3 &= M26;
  r5 += r4 >> 26; r4 &= M26;
  r6 += r5 >> 26; r5 &= M26;
  r7 += r6 >> 26; r6 &= M26;
  r8 += r7 >> 26; r7 &= M26;
  r9 += r8 >> 26; r8 &= M26;
  const t = r9 >> 22;
  r9 &= M22;
  r0 += t * 977;
  r1 += t << 6;
  r1 += r0 >> 26; r0 &= M26;
  r2 += r1 >> 26; r1 &= M26;
  store<u32>(r, <u32>r0, 0);
  store<u32>(r, <u32>r1, 4);
  store<u32>(r, <u32>r2, 8);
  store<u32>(r, <u32>r3, 12);
  store<u32>(r, <u32>r4, 16);
  store<u32>(r, <u32>r5, 20);
  store<u32>(r, <u32>r6, 24);
  store<u32>(r, <u32>r7, 28);
  store<u32>(r, <u32>r8, 32);
  store<u32>(r, <u32>r9, 36);
}

/**
 * Reduces the 19 column sums of a product (each below 2^55.5) into r. The
 * high columns become 26-bit limbs first (c19 takes the last carry, below
 * 2^30); limb 10 + j is then worth 0x3D10 at limb j and 2^10 at limb j + 1,
 * and c19's 2^10 share, at limb 10, comes round once more.
 */
// @ts-ignore: decorator
@inline
function reduce(
  r: usize,
  c0: u64, c1: u64, c2: u64, c3: u64, c4: u64, c5: u64, c6: u64, c7: u64, c8: u64, c9: u64,
  c10: u64, c11: u64, c12: u64, c13: u64, c14: u64, c15: u64, c16: u64, c17: u64, c18: u64,
): void {
  c11 += c10 >> 26; c10 &= M26;
  c12 += c11 >> 26; c11 &= M26;
  c13 += c12 >> 26; c12 &= M26;
  c14 += c13 >> 26; c13 &= M26;
  c15 += c14 >> 26; c14 &= M26;
  c16 += c15 >> 26; c15 &= M26;
  c17 += c16 >> 26; c16 &= M26;
  c18 += c17 >> 26; c17 &= M26;
  const c19 = c18 >> 26;
  c18 &= M26;
  carryStore(
    r,
    c0 + c10 * 0x3d10 + (c19 << 10) * 0x3d10,
    c1 + c11 * 0x3d10 + (c10 << 10) + (c19 << 20),
    c2 + c12 * 0x3d10 + (c11 << 10),
    c3 + c13 * 0x3d10 + (c12 << 10),
    c4 + c14 * 0x3d10 + (c13 << 10),
    c5 + c15 * 0x3d10 + (c14 << 10),
    c6 + c16 * 0x3d10 + (c15 << 10),
    c7 + c17 * 0x3d10 + (c16 << 10),
    c8 + c18 * 0x3d10 + (c17 << 10),
    c9 + c19 * 0x3d10 + (c18 << 10),
  );
}

/** r = a·b. */
export function feMul(r: usize, a: usize, b: usize): void {
  const a0: u64 = <u64>load<u32>(a, 0);
  const a1: u64 = <u64>load<u32>(a, 4);
  const a2: u64 = <u64>load<u32>(a, 8);
  const a3: u64 = <u64>load<u32>(a, 12);
  const a4: u64 = <u64>load<u32>(a, 16);
  const a5: u64 = <u64>load<u32>(a, 20);
  const a6: u64 = <u64>load<u32>(a, 24);
  const a7: u64 = <u64>load<u32>(a, 28);
  const a8: u64 = <u64>load<u32>(a, 32);
  const a9: u64 = <u64>load<u32>(a, 36);
  const b0: u64 = <u64>load<u32>(b, 0);
  const b1: u64 = <u64>load<u32>(b, 4);
  const b2: u64 = <u64>load<u32>(b, 8);
  const b3: u64 = <u64>load<u32>(b, 12);
  const b4: u64 = <u64>load<u32>(b, 16);
  const b5: u64 = <u64>load<u32>(b, 20);
  const b6: u64 = <u64>load<u32>(b, 24);
  const b7: u64 = <u64>load<u32>(b, 28);
  const b8: u64 = <u64>load<u32>(b, 32);
  const b9: u64 = <u64>load<u32>(b, 36);
  let c0: u64 = a0 * b0;
  let c1: u64 = a0 * b1 + a1 * b0;
  let c2: u64 = a0 * b2 + a1 * b1 + a2 * b0;
  let c3: u64 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  let c4: u64 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0;
  let c5: u64 = a0 * b5 + a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1 + a5 * b0;
  let c6: u64 = a0 * b6 + a1 * b5 + a2 * b4 + a3 * b3 + a4 * b2 + a5 * b1 + a6 * b0;
  let c7: u64 = a0 * b7 + a1 * b6 + a2 * b5 + a3 * b4 + a4 * b3 + a5 * b2 + a6 * b1 + a7 * b0;
  let c8: u64 = a0 * b8 + a1 * b7 + a2 * b6 + a3 * b5 + a4 * b4 + a5 * b3 + a6 * b2 + a7 * b1 + a8 * b0;
  let c9: u64 = a0 * b9 + a1 * b8 + a2 * b7 + a3 * b6 + a4 * b5 + a5 * b4 + a6 * b3 + a7 * b2 + a8 * b1 + a9 * b0;
  let c10: u64 = a1 * b9 + a2 * b8 + a3 * b7 + a4 * b6 + a5 * b5 + a6 * b4 + a7 * b3 + a8 * b2 + a9 * b1;
  let c11: u64 = a2 * b9 + a3 * b8 + a4 * b7 + a5 * b6 + a6 * b5 + a7 * b4 + a8 * b3 + a9 * b2;
  let c12: u64 = a3 * b9 + a4 * b8 + a5 * b7 + a6 * b6 + a7 * b5 + a8 * b4 + a9 * b3;
  let c13: u64 = a4 * b9 + a5 * b8 + a6 * b7 + a7 * b6 + a8 * b5 + a9 * b4;
  let c14: u64 = a5 * b9 + a6 * b8 + a7 * b7 + a8 * b6 + a9 * b5;
  let c15: u64 = a6 * b9 + a7 * b8 + a8 * b7 + a9 * b6;
  let c16: u64 = a7 * b9 + a8 * b8 + a9 * b7;
  let c17: u64 = a8 * b9 + a9 * b8;
  let c18: u64 = a9 * b9;
  reduce(r, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18);
}

/** r = a². */
export function feSqr(r: usize, a: usize): void {
  const a0: u64 = <u64>load<u32>(a, 0);
  const a1: u64 = <u64>load<u32>(a, 4);
  const a2: u64 = <u64>load<u32>(a, 8);
  const a3: u64 = <u64>load<u32>(a, 12);
  const a4: u64 = <u64>load<u32>(a, 16);
  const a5: u64 = <u64>load<u32>(a, 20);
  const a6: u64 = <u64>load<u32>(a, 24);
  const a7: u64 = <u64>load<u32>(a, 28);
  const a8: u64 = <u64>load<u32>(a, 32);
  const a9: u64 = <u64>load<u32>(a, 36);
  const d0: u64 = a0 << 1;
  const d1: u64 = a1 << 1;
  const d2: u64 = a2 << 1;
  const d3: u64 = a3 << 1;
  const d4: u64 = a4 << 1;
  const d5: u64 = a5 << 1;
  const d6: u64 = a6 << 1;
  const d7: u64 = a7 << 1;
  const d8: u64 = a8 << 1;
  let c0: u64 = a0 * a0;
  let c1: u64 = d0 * a1;
  let c2: u64 = d0 * a2 + a1 * a1;
  let c3: u64 = d0 * a3 + d1 * a2;
  let c4: u64 = d0 * a4 + d1 * a3 + a2 * a2;
  let c5: u64 = d0 * a5 + d1 * a4 + d2 * a3;
  let c6: u64 = d0 * a6 + d1 * a5 + d2 * a4 + a3 * a3;
  let c7: u64 = d0 * a7 + d1 * a6 + d2 * a5 + d3 * a4;
  let c8: u64 = d0 * a8 + d1 * a7 + d2 * a6 + d3 * a5 + a4 * a4;
  let c9: u64 = d0 * a9 + d1 * a8 + d2 * a7 + d3 * a6 + d4 * a5;
  let c10: u64 = d1 * a9 + d2 * a8 + d3 * a7 + d4 * a6 + a5 * a5;
  let c11: u64 = d2 * a9 + d3 * a8 + d4 * a7 + d5 * a6;
  let c12: u64 = d3 * a9 + d4 * a8 + d5 * a7 + a6 * a6;
  let c13: u64 = d4 * a9 + d5 * a8 + d6 * a7;
  let c14: u64 = d5 * a9 + d6 * a8 + a7 * a7;
  let c15: u64 = d6 * a9 + d7 * a8;
  let c16: u64 = d7 * a9 + a8 * a8;
  let c17: u64 = d8 * a9;
  let c18: u64 = a9 * a9;
  reduce(r, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18);
}

// @ts-ignore: decorator
@inline
function limb(a: usize, i: usize): u64 {
  return <u64>load<u32>(a + (i << 2));
}

/** r = a + b. */
export function feAdd(r: usize, a: usize, b: usize): void {
  carryStore(
    r,
    limb(a, 0) + limb(b, 0), limb(a, 1) + limb(b, 1), limb(a, 2) + limb(b, 2),
    limb(a, 3) + limb(b, 3), limb(a, 4) + limb(b, 4), limb(a, 5) + limb(b, 5),
    limb(a, 6) + limb(b, 6), limb(a, 7) + limb(b, 7), limb(a, 8) + limb(b, 8),
    limb(a, 9) + limb(b, 9),
  );
}

/** r = a - b, computed as a + 2p - b. */
export function feSub(r: usize, a: usize, b: usize): void {
  carryStore(
    r,
    limb(a, 0) + P2_0 - limb(b, 0), limb(a, 1) + P2_1 - limb(b, 1),
    limb(a, 2) + P2_M - limb(b, 2), limb(a, 3) + P2_M - limb(b, 3),
    limb(a, 4) + P2_M - limb(b, 4), limb(a, 5) + P2_M - limb(b, 5),
    limb(a, 6) + P2_M - limb(b, 6), limb(a, 7) + P2_M - limb(b, 7),
    limb(a, 8) + P2_M - limb(b, 8), limb(a, 9) + P2_9 - limb(b, 9),
  );
}

/** r = -a, computed as 2p - a. */
export function feNeg(r: usize, a: usize): void {
  carryStore(
    r,
    P2_0 - limb(a, 0), P2_1 - limb(a, 1), P2_M - limb(a, 2), P2_M - limb(a, 3),
    P2_M - limb(a, 4), P2_M - limb(a, 5), P2_M - limb(a, 6), P2_M - limb(a, 7),
    P2_M - limb(a, 8), P2_9 - limb(a, 9),
  );
}

/** r = k·a for a small k (below 2^30). */
export function feMulSmall(r: usize, a: usize, k: u64): void {
  carryStore(
    r,
    limb(a, 0) * k, limb(a, 1) * k, limb(a, 2) * k, limb(a, 3) * k, limb(a, 4) * k,
    limb(a, 5) * k, limb(a, 6) * k, limb(a, 7) * k, limb(a, 8) * k, limb(a, 9) * k,
  );
}

/** Copies the element at a to r. */
export function feCopy(r: usize, a: usize): void {
  memory.copy(r, a, 40);
}

/**
 * Reduces a to the unique representative in 0..p-1 (still ten limbs): after
 * a carry pass (limbs 0-8 below 2^26, the top carry into limb 9) v is below
 * 2^256 + 2^234 < 2p, and v ≥ p exactly when s = v + 2^32 + 977 reaches
 * 2^256; a mask picks v or s - 2^256 = v - p.
 */
export function feNormalize(r: usize, a: usize): void {
  let r0 = limb(a, 0), r1 = limb(a, 1), r2 = limb(a, 2), r3 = limb(a, 3), r4 = limb(a, 4);
  let r5 = limb(a, 5), r6 = limb(a, 6), r7 = limb(a, 7), r8 = limb(a, 8), r9 = limb(a, 9);
  r1 += r0 >> 26; r0 &= M26;
  r2 += r1 >> 26; r1 &= M26;
  r3 += r2 >> 26; r2 &= M26;
  r4 += r3 >> 26; r3 &= M26;
  r5 += r4 >> 26; r4 &= M26;
  r6 += r5 >> 26; r5 &= M26;
  r7 += r6 >> 26; r6 &= M26;
  r8 += r7 >> 26; r7 &= M26;
  r9 += r8 >> 26; r8 &= M26;
  // v + 2^32 + 977
  let s0 = r0 + 977, s1 = r1 + 64 + (s0 >> 26);
  s0 &= M26;
  let s2 = r2 + (s1 >> 26); s1 &= M26;
  let s3 = r3 + (s2 >> 26); s2 &= M26;
  let s4 = r4 + (s3 >> 26); s3 &= M26;
  let s5 = r5 + (s4 >> 26); s4 &= M26;
  let s6 = r6 + (s5 >> 26); s5 &= M26;
  let s7 = r7 + (s6 >> 26); s6 &= M26;
  let s8 = r8 + (s7 >> 26); s7 &= M26;
  let s9 = r9 + (s8 >> 26); s8 &= M26;
  const big = s9 >> 22; // 1 when v ≥ p (s < 2^257)
  s9 &= M22;
  const keep = big - 1, take = ~keep; // all ones / zero masks
  store<u32>(r, <u32>((r0 & keep) | (s0 & take)), 0);
  store<u32>(r, <u32>((r1 & keep) | (s1 & take)), 4);
  store<u32>(r, <u32>((r2 & keep) | (s2 & take)), 8);
  store<u32>(r, <u32>((r3 & keep) | (s3 & take)), 12);
  store<u32>(r, <u32>((r4 & keep) | (s4 & take)), 16);
  store<u32>(r, <u32>((r5 & keep) | (s5 & take)), 20);
  store<u32>(r, <u32>((r6 & keep) | (s6 & take)), 24);
  store<u32>(r, <u32>((r7 & keep) | (s7 & take)), 28);
  store<u32>(r, <u32>((r8 & keep) | (s8 & take)), 32);
  store<u32>(r, <u32>((r9 & keep) | (s9 & take)), 36);
}

/** Reads eight little-endian 32-bit words at w (a value below 2^256) into limbs at r. */
export function feFromWords(r: usize, w: usize): void {
  for (let i: usize = 0; i < 10; i++) {
    const bit = i * 26, word = bit >> 5, shift = <u64>(bit & 31);
    let v = <u64>load<u32>(w + (word << 2));
    if (word < 7) v |= (<u64>load<u32>(w + (word << 2), 4)) << 32;
    store<u32>(r + (i << 2), <u32>((v >> shift) & M26));
  }
}

/** Writes the normalized element at a as eight little-endian 32-bit words at w. */
export function feToWords(w: usize, a: usize): void {
  let acc: u64 = 0, bits: u64 = 0, out: usize = 0;
  for (let i: usize = 0; i < 10; i++) {
    acc |= limb(a, i) << bits;
    bits += 26;
    if (bits >= 32) {
      store<u32>(w + (out << 2), <u32>acc);
      out++;
      acc >>= 32;
      bits -= 32;
    }
  }
}
