// Poly1305 four blocks at a time with 128-bit SIMD (AssemblyScript), for long runs of blocks.
//
// Horner's rule split four ways: lane j of the accumulator vectors takes the
// blocks j, j+4, j+8, … of a run, each step h_j = (h_j + m)·r^4, and the last
// step of the run multiplies lane j by r^(4-j) instead, so that the lanes
// summed equal the one-block-at-a-time result. Limbs are 26 bits as in
// poly1305.ts: vector k holds limb k of the four lanes (i32x4), products
// are i64x2 pairs from extmul (lanes 0-1 low, 2-3 high).
//
// Bounds: the powers of r are kept with limbs below 2^26 + 2^9, so their
// 5× multiples are below 2^28.4; an accumulator limb is below 2^26 + 2^9 and
// a message limb below 2^26, so every product is below 2^55.4 and each
// five-term column sum below 2^57.7: exact in u64. The carries leave each
// lane as poly1305.ts leaves h. The lane sums (below 2^28.1) are carried once
// more before they go back to the scalar accumulator.
//
// No branch and no memory address depends on secret data: the branches
// test lengths and whether the powers were computed for this key.
import { HACC, POW } from "./layout";

const M26: u32 = 0x3ffffff;

/** Whether POW lanes 0-2 hold r^4, r^3, r^2 for the current key (lane 3, r, is set by polySetup). */
let powered = false;

/** Forgets the powers (a new key, or clear()); POW itself is zeroed by the caller. */
export function simdReset(): void {
  powered = false;
}

/** POW lane `dst` = lane `a` · lane `b` mod 2^130 - 5 (limbs below 2^26 + 2^9). */
function mulLanes(dst: usize, a: usize, b: usize): void {
  const pa = POW + (a << 2), pb = POW + (b << 2), pd = POW + (dst << 2);
  const x0 = <u64>load<u32>(pa, 0), x1 = <u64>load<u32>(pa, 16), x2 = <u64>load<u32>(pa, 32);
  const x3 = <u64>load<u32>(pa, 48), x4 = <u64>load<u32>(pa, 64);
  const y0 = <u64>load<u32>(pb, 0), y1 = <u64>load<u32>(pb, 16), y2 = <u64>load<u32>(pb, 32);
  const y3 = <u64>load<u32>(pb, 48), y4 = <u64>load<u32>(pb, 64);
  const s1 = y1 * 5, s2 = y2 * 5, s3 = y3 * 5, s4 = y4 * 5;
  const d0 = x0 * y0 + x1 * s4 + x2 * s3 + x3 * s2 + x4 * s1;
  let d1 = x0 * y1 + x1 * y0 + x2 * s4 + x3 * s3 + x4 * s2;
  let d2 = x0 * y2 + x1 * y1 + x2 * y0 + x3 * s4 + x4 * s3;
  let d3 = x0 * y3 + x1 * y2 + x2 * y1 + x3 * y0 + x4 * s4;
  let d4 = x0 * y4 + x1 * y3 + x2 * y2 + x3 * y1 + x4 * y0;
  d1 += d0 >> 26;
  d2 += d1 >> 26;
  d3 += d2 >> 26;
  d4 += d3 >> 26;
  const c = (d4 >> 26) * 5 + (d0 & M26);
  store<u32>(pd, <u32>c & M26, 0);
  store<u32>(pd, (<u32>d1 & M26) + <u32>(c >> 26), 16);
  store<u32>(pd, <u32>d2 & M26, 32);
  store<u32>(pd, <u32>d3 & M26, 48);
  store<u32>(pd, <u32>d4 & M26, 64);
}

// @ts-ignore: decorator
@inline
function lo(a: v128, b: v128): v128 {
  return i64x2.extmul_low_i32x4_u(a, b);
}

// @ts-ignore: decorator
@inline
function hi(a: v128, b: v128): v128 {
  return i64x2.extmul_high_i32x4_u(a, b);
}

// @ts-ignore: decorator
@inline
function add5(a: v128, b: v128, c: v128, d: v128, e: v128): v128 {
  return i64x2.add(i64x2.add(i64x2.add(a, b), i64x2.add(c, d)), e);
}

/** The 64-bit lanes of `a` (low) and `b` (high) cut to 32 bits, as one i32x4. */
// @ts-ignore: decorator
@inline
function narrow(a: v128, b: v128): v128 {
  return i32x4.shuffle(a, b, 0, 2, 4, 6);
}

// @ts-ignore: decorator
@inline
function sum4(v: v128): u32 {
  return <u32>i32x4.extract_lane(v, 0) + <u32>i32x4.extract_lane(v, 1) +
    <u32>i32x4.extract_lane(v, 2) + <u32>i32x4.extract_lane(v, 3);
}

/**
 * Absorbs the `n` bytes at `p` (`n` a positive multiple of 64) as full
 * blocks into the accumulator at HACC (five u32 limbs, as poly1305.ts keeps
 * h), four blocks per step.
 */
export function polyBlocks4(p: usize, n: usize): void {
  if (!powered) {
    mulLanes(2, 3, 3); // r^2
    mulLanes(1, 2, 3); // r^3
    mulLanes(0, 2, 2); // r^4
    powered = true;
  }
  const five = i32x4.splat(5), m = i32x4.splat(M26), m64 = i64x2.splat(M26);
  const hibit = i32x4.splat(1 << 24);
  // r^4 in every lane for all steps but the last
  let r0 = v128.load32_splat(POW, 0), r1 = v128.load32_splat(POW, 16);
  let r2 = v128.load32_splat(POW, 32), r3 = v128.load32_splat(POW, 48);
  let r4 = v128.load32_splat(POW, 64);
  let s1 = i32x4.mul(r1, five), s2 = i32x4.mul(r2, five);
  let s3 = i32x4.mul(r3, five), s4 = i32x4.mul(r4, five);
  // h enters lane 0
  const zero = i32x4.splat(0);
  let h0 = i32x4.replace_lane(zero, 0, load<u32>(HACC, 0));
  let h1 = i32x4.replace_lane(zero, 0, load<u32>(HACC, 4));
  let h2 = i32x4.replace_lane(zero, 0, load<u32>(HACC, 8));
  let h3 = i32x4.replace_lane(zero, 0, load<u32>(HACC, 12));
  let h4 = i32x4.replace_lane(zero, 0, load<u32>(HACC, 16));
  const last = p + n - 64;
  while (true) {
    if (p == last) {
      // the last step: lane j times r^(4-j)
      r0 = v128.load(POW, 0);
      r1 = v128.load(POW, 16);
      r2 = v128.load(POW, 32);
      r3 = v128.load(POW, 48);
      r4 = v128.load(POW, 64);
      s1 = i32x4.mul(r1, five);
      s2 = i32x4.mul(r2, five);
      s3 = i32x4.mul(r3, five);
      s4 = i32x4.mul(r4, five);
    }
    // four blocks, transposed: w_k holds word k of blocks 0..3
    const b0 = v128.load(p, 0), b1 = v128.load(p, 16), b2 = v128.load(p, 32), b3 = v128.load(p, 48);
    const t0 = i32x4.shuffle(b0, b1, 0, 4, 1, 5), t1 = i32x4.shuffle(b0, b1, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(b2, b3, 0, 4, 1, 5), t3 = i32x4.shuffle(b2, b3, 2, 6, 3, 7);
    const w0 = i32x4.shuffle(t0, t2, 0, 1, 4, 5), w1 = i32x4.shuffle(t0, t2, 2, 3, 6, 7);
    const w2 = i32x4.shuffle(t1, t3, 0, 1, 4, 5), w3 = i32x4.shuffle(t1, t3, 2, 3, 6, 7);
    const x0 = i32x4.add(h0, v128.and(w0, m));
    const x1 = i32x4.add(h1, v128.and(v128.or(i32x4.shr_u(w0, 26), i32x4.shl(w1, 6)), m));
    const x2 = i32x4.add(h2, v128.and(v128.or(i32x4.shr_u(w1, 20), i32x4.shl(w2, 12)), m));
    const x3 = i32x4.add(h3, v128.and(v128.or(i32x4.shr_u(w2, 14), i32x4.shl(w3, 18)), m));
    const x4 = i32x4.add(h4, v128.or(i32x4.shr_u(w3, 8), hibit));
    // d_k = sum of x_i · r_j (i + j = k) and x_i · 5r_j (i + j = k + 5), lanes 0-1 and 2-3
    const d0l = add5(lo(x0, r0), lo(x1, s4), lo(x2, s3), lo(x3, s2), lo(x4, s1));
    const d0h = add5(hi(x0, r0), hi(x1, s4), hi(x2, s3), hi(x3, s2), hi(x4, s1));
    let d1l = add5(lo(x0, r1), lo(x1, r0), lo(x2, s4), lo(x3, s3), lo(x4, s2));
    let d1h = add5(hi(x0, r1), hi(x1, r0), hi(x2, s4), hi(x3, s3), hi(x4, s2));
    let d2l = add5(lo(x0, r2), lo(x1, r1), lo(x2, r0), lo(x3, s4), lo(x4, s3));
    let d2h = add5(hi(x0, r2), hi(x1, r1), hi(x2, r0), hi(x3, s4), hi(x4, s3));
    let d3l = add5(lo(x0, r3), lo(x1, r2), lo(x2, r1), lo(x3, r0), lo(x4, s4));
    let d3h = add5(hi(x0, r3), hi(x1, r2), hi(x2, r1), hi(x3, r0), hi(x4, s4));
    let d4l = add5(lo(x0, r4), lo(x1, r3), lo(x2, r2), lo(x3, r1), lo(x4, r0));
    let d4h = add5(hi(x0, r4), hi(x1, r3), hi(x2, r2), hi(x3, r1), hi(x4, r0));
    d1l = i64x2.add(d1l, i64x2.shr_u(d0l, 26));
    d1h = i64x2.add(d1h, i64x2.shr_u(d0h, 26));
    d2l = i64x2.add(d2l, i64x2.shr_u(d1l, 26));
    d2h = i64x2.add(d2h, i64x2.shr_u(d1h, 26));
    d3l = i64x2.add(d3l, i64x2.shr_u(d2l, 26));
    d3h = i64x2.add(d3h, i64x2.shr_u(d2h, 26));
    d4l = i64x2.add(d4l, i64x2.shr_u(d3l, 26));
    d4h = i64x2.add(d4h, i64x2.shr_u(d3h, 26));
    let cl = i64x2.shr_u(d4l, 26), ch = i64x2.shr_u(d4h, 26);
    cl = i64x2.add(i64x2.add(cl, i64x2.shl(cl, 2)), v128.and(d0l, m64)); // below 2^35
    ch = i64x2.add(i64x2.add(ch, i64x2.shl(ch, 2)), v128.and(d0h, m64));
    h0 = v128.and(narrow(cl, ch), m);
    h1 = i32x4.add(
      v128.and(narrow(d1l, d1h), m),
      narrow(i64x2.shr_u(cl, 26), i64x2.shr_u(ch, 26)),
    );
    h2 = v128.and(narrow(d2l, d2h), m);
    h3 = v128.and(narrow(d3l, d3h), m);
    h4 = v128.and(narrow(d4l, d4h), m);
    if (p == last) break;
    p += 64;
  }
  // sum the lanes and carry once around
  let a0 = sum4(h0), a1 = sum4(h1), a2 = sum4(h2), a3 = sum4(h3), a4 = sum4(h4), c: u32;
  c = a0 >>> 26; a0 &= M26; a1 += c;
  c = a1 >>> 26; a1 &= M26; a2 += c;
  c = a2 >>> 26; a2 &= M26; a3 += c;
  c = a3 >>> 26; a3 &= M26; a4 += c;
  c = a4 >>> 26; a4 &= M26; a0 += c * 5;
  c = a0 >>> 26; a0 &= M26; a1 += c;
  store<u32>(HACC, a0, 0);
  store<u32>(HACC, a1, 4);
  store<u32>(HACC, a2, 8);
  store<u32>(HACC, a3, 12);
  store<u32>(HACC, a4, 16);
}
