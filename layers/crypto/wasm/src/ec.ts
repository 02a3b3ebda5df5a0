// secp256k1 point multiplication for ECDH and public keys (AssemblyScript; not Deno TypeScript).
//
// The JavaScript side (`layers/crypto/secp256k1_wasm.ts`) does the scalar
// recoding, the x-only lift and the final inversion with bigints; this
// module runs the doublings and additions, which are where the time goes.
// The formulas are those of `secp256k1_jacobian.ts` (a = 0, never reading b),
// in the same order, so results agree with the bigint path exactly.
import {
  feAdd, feCopy, feFromWords, feMul, feMulSmall, feNeg, feNormalize, feSqr, feSub, feToWords,
} from "./ec_field";
import {
  AX, AY, AZ, BASE, DIGITS1, DIGITS2, DIGITS_BASE, DX, DY, GBX, GX, GY, IN_X, IN_Y, IN_Z,
  MEMORY_BYTES, OUT_X, OUT_Z, RATIO, SCRATCH_END, T, ZSCALE,
} from "./ec_layout";

export { IN_X, IN_Y, IN_Z, DIGITS1, DIGITS2, DIGITS_BASE, MEMORY_BYTES, OUT_X, OUT_Z };

const T0 = T, T1 = T + 40, T2 = T + 80, T3 = T + 120, T4 = T + 160, T5 = T + 200;
const T6 = T + 240, T7 = T + 280, T8 = T + 320, T9 = T + 360, T10 = T + 400, T11 = T + 440;

/** Sets the slot r to the small value v. */
function feSet(r: usize, v: u32): void {
  memory.fill(r, 0, 40);
  store<u32>(r, v);
}

/** The slot holding β (a cube root of unity mod p), written before each GLV multiplication. */
function setBeta(r: usize): void {
  store<u32>(r, 0x26afa40, 0);
  store<u32>(r, 0x1a4f5a3, 4);
  store<u32>(r, 0x366a3ec, 8);
  store<u32>(r, 0x22bb429, 12);
  store<u32>(r, 0x2630fb6, 16);
  store<u32>(r, 0x0f2f2c5, 20);
  store<u32>(r, 0x1bb8615, 24);
  store<u32>(r, 0x3e3be46, 28);
  store<u32>(r, 0x1d49a83, 32);
  store<u32>(r, 0x02145a5, 36);
}

/** A ← 2·A (dbl-2009-l for a = 0, D written as 4·X·B). */
function double(): void {
  feSqr(T0, AX); // a = X²
  feSqr(T1, AY); // b = Y²
  feSqr(T2, T1); // c = b²
  feMul(T3, AX, T1);
  feMulSmall(T3, T3, 4); // d = 4·X·b
  feMulSmall(T4, T0, 3); // e = 3a
  feSqr(T5, T4);
  feAdd(T6, T3, T3);
  feSub(T5, T5, T6); // X₃ = e² - 2d
  feMul(AZ, AY, AZ);
  feAdd(AZ, AZ, AZ); // Z₃ = 2·Y·Z
  feSub(T6, T3, T5);
  feMul(T6, T4, T6);
  feMulSmall(T2, T2, 8);
  feSub(AY, T6, T2); // Y₃ = e·(d - X₃) - 8c
  feCopy(AX, T5);
}

/**
 * A ← A + (qx, qy, 1) (Hankerson-Menezes-Vanstone alg. 3.22) and the ratio
 * of the new Z to the old written at `ratio`. Incomplete: equal x gives
 * Z = 0, which every later step keeps, and the caller sees at the end.
 */
function addAffine(qx: usize, qy: usize, ratio: usize): void {
  feSqr(T0, AZ); // zz
  feMul(T1, qx, T0);
  feSub(T1, T1, AX); // c = qx·zz - X
  feMul(T2, qy, T0);
  feMul(T2, T2, AZ);
  feSub(T2, T2, AY); // d = qy·zz·Z - Y
  feSqr(T3, T1); // cc
  feMul(T4, T3, T1); // ccc
  feMul(T5, AX, T3); // xcc
  feSqr(T6, T2);
  feSub(T6, T6, T4);
  feAdd(T7, T5, T5);
  feSub(T6, T6, T7); // X₃ = d² - ccc - 2·xcc
  feSub(T7, T5, T6);
  feMul(T7, T2, T7);
  feMul(T8, AY, T4);
  feSub(AY, T7, T8); // Y₃ = d·(xcc - X₃) - Y·ccc
  feMul(AZ, AZ, T1); // Z₃ = Z·c
  feCopy(AX, T6);
  feCopy(ratio, T1);
}

/** Adds the entry for odd digit d of a table (x at xs, y at ys, 40 bytes per entry), negated for d < 0. */
function addDigit(xs: usize, ys: usize, d: i32): void {
  const i = <usize>(((d < 0 ? -d : d) - 1) >> 1) * 40;
  if (d < 0) {
    feNeg(T9, ys + i);
    addAffine(xs + i, T9, T10);
  } else {
    addAffine(xs + i, ys + i, T10);
  }
}

/** Writes A's X and Z, normalized, at OUT_X and OUT_Z. */
function output(): void {
  feNormalize(T0, AX);
  feToWords(OUT_X, T0);
  feNormalize(T0, AZ);
  feToWords(OUT_Z, T0);
}

/**
 * The GLV table for the point A (see `buildGlvTable` in
 * `secp256k1_xonly.ts`): the odd multiples 1·A … 31·A as affine points of
 * one scaled curve, their β·x, and the Z factor back to A's curve.
 */
function buildTable(): void {
  feCopy(T9, AX);
  feCopy(T10, AY);
  feCopy(T11, AZ);
  double();
  feCopy(DX, AX);
  feCopy(DY, AY);
  feSqr(T8, AZ); // zd²
  feMul(AX, T9, T8);
  feMul(T8, T8, AZ);
  feMul(T8, T10, T8); // y₁·zd³
  feCopy(T10, AZ); // zd
  feCopy(AY, T8);
  feCopy(AZ, T11);
  feCopy(GX, AX);
  feCopy(GY, AY);
  for (let i: usize = 1; i < 16; i++) {
    addAffine(DX, DY, RATIO + i * 40);
    feCopy(GX + i * 40, AX);
    feCopy(GY + i * 40, AY);
  }
  feMul(ZSCALE, AZ, T10); // zc·zd
  feSet(T11, 1); // ρ
  for (let i: isize = 14; i >= 0; i--) {
    const at = <usize>i * 40;
    feMul(T11, T11, RATIO + at + 40);
    feSqr(T8, T11);
    feMul(GX + at, GX + at, T8);
    feMul(T8, T8, T11);
    feMul(GY + at, GY + at, T8);
  }
  setBeta(T8);
  for (let i: usize = 0; i < 16; i++) feMul(GBX + i * 40, GX + i * 40, T8);
}

/**
 * x-only GLV multiplication: A = (IN_X, IN_Y, IN_Z) (the lifted point),
 * digits at DIGITS1 / DIGITS2 (most significant last). Writes the result's X
 * and Z (already scaled back to A's curve) at OUT_X, OUT_Z; Z = 0 means an
 * addition met equal x coordinates.
 */
export function mulGlv(): void {
  feFromWords(AX, IN_X);
  feFromWords(AY, IN_Y);
  feFromWords(AZ, IN_Z);
  buildTable();
  const top = <i32>load<i8>(DIGITS1 + 25), at = <usize>(((top < 0 ? -top : top) - 1) >> 1) * 40;
  feCopy(AX, GX + at);
  if (top < 0) feNeg(AY, GY + at);
  else feCopy(AY, GY + at);
  feSet(AZ, 1);
  addDigit(GBX, GY, <i32>load<i8>(DIGITS2 + 25));
  for (let j: isize = 24; j >= 0; j--) {
    double();
    double();
    double();
    double();
    double();
    addDigit(GX, GY, <i32>load<i8>(DIGITS1 + j));
    addDigit(GBX, GY, <i32>load<i8>(DIGITS2 + j));
  }
  feMul(AZ, AZ, ZSCALE);
  output();
}

/** Stores the words at IN_X, IN_Y as fixed-base table entry `index` (0..4095). */
export function setBaseEntry(index: u32): void {
  const at = BASE + <usize>index * 80;
  feFromWords(at, IN_X);
  feFromWords(at + 40, IN_Y);
}

/**
 * Fixed-base multiplication: the sum of table entries for the 32 digits at
 * DIGITS_BASE (window w's digit selects from entries w·128 …). Writes X and
 * Z at OUT_X, OUT_Z; Z = 0 means the last addition met equal x coordinates.
 */
export function mulBase(): void {
  const d0 = <i32>load<i16>(DIGITS_BASE), at = BASE + <usize>(((d0 < 0 ? -d0 : d0) - 1) >> 1) * 80;
  feCopy(AX, at);
  if (d0 < 0) feNeg(AY, at + 40);
  else feCopy(AY, at + 40);
  feSet(AZ, 1);
  for (let w: usize = 1; w < 32; w++) {
    const d = <i32>load<i16>(DIGITS_BASE + (w << 1));
    const e = BASE + (w * 128 + <usize>(((d < 0 ? -d : d) - 1) >> 1)) * 80;
    if (d < 0) {
      feNeg(T9, e + 40);
      addAffine(e, T9, T10);
    } else {
      addAffine(e, e + 40, T10);
    }
  }
  output();
}

/** Zeroes the secret scratch (inputs, digits, accumulator, temporaries, the GLV table). */
export function clear(): void {
  memory.fill(0, 0, SCRATCH_END);
}

/** r = a^(2^n), r and a distinct slots (or the same). */
function sqrN(r: usize, a: usize, n: i32): void {
  feSqr(r, a);
  for (let i = 1; i < n; i++) feSqr(r, r);
}

/**
 * OUT_X = IN_X^((p-3)/4), by the addition chain of `powP34` in
 * `secp256k1_field.ts` (255 squarings, 13 multiplications); the square
 * roots of the SwiftEC map are built on it.
 */
export function powP34(): void {
  const a = GX, x2 = GX + 40, x3 = GX + 80, x6 = GX + 120, x9 = GX + 160, x11 = GX + 200;
  const x22 = GX + 240, x44 = GX + 280, x88 = GX + 320, x176 = GX + 360, x220 = GX + 400;
  const x223 = GX + 440, t = GX + 480;
  feFromWords(a, IN_X);
  feSqr(x2, a);
  feMul(x2, x2, a);
  feSqr(x3, x2);
  feMul(x3, x3, a);
  sqrN(x6, x3, 3);
  feMul(x6, x6, x3);
  sqrN(x9, x6, 3);
  feMul(x9, x9, x3);
  sqrN(x11, x9, 2);
  feMul(x11, x11, x2);
  sqrN(x22, x11, 11);
  feMul(x22, x22, x11);
  sqrN(x44, x22, 22);
  feMul(x44, x44, x22);
  sqrN(x88, x44, 44);
  feMul(x88, x88, x44);
  sqrN(x176, x88, 88);
  feMul(x176, x176, x88);
  sqrN(x220, x176, 44);
  feMul(x220, x220, x44);
  sqrN(x223, x220, 3);
  feMul(x223, x223, x3);
  sqrN(t, x223, 23);
  feMul(t, t, x22);
  sqrN(t, t, 5);
  feMul(t, t, a);
  sqrN(t, t, 3);
  feMul(t, t, x2);
  feNormalize(t, t);
  feToWords(OUT_X, t);
}

/**
 * The Jacobi symbol (a/p) of a = IN_X (below p, as words): 1 for a non-zero
 * square, -1 for a non-square, 0 for zero. The binary algorithm of
 * `isSquare` in `secp256k1_field.ts` on four 64-bit limbs: strip factors of
 * two (each flips the sign when n ≡ 3, 5 mod 8), make a ≥ n by swapping
 * (flipping when both are 3 mod 4, by reciprocity), subtract. Branches on
 * the values (the bigint version does too).
 */
export function jacobi(): i32 {
  let a0 = load<u64>(IN_X), a1 = load<u64>(IN_X, 8), a2 = load<u64>(IN_X, 16);
  let a3 = load<u64>(IN_X, 24);
  let n0: u64 = 0xfffffffefffffc2f, n1: u64 = 0xffffffffffffffff;
  let n2: u64 = 0xffffffffffffffff, n3: u64 = 0xffffffffffffffff;
  let sign: i32 = 1;
  while ((a0 | a1 | a2 | a3) != 0) {
    if (a0 == 0) {
      // 64 factors of two: (2/n)^64 = 1
      a0 = a1;
      a1 = a2;
      a2 = a3;
      a3 = 0;
      continue;
    }
    const z = ctz(a0);
    if (z != 0) {
      a0 = (a0 >> z) | (a1 << (64 - z));
      a1 = (a1 >> z) | (a2 << (64 - z));
      a2 = (a2 >> z) | (a3 << (64 - z));
      a3 >>= z;
      const r = n0 & 7;
      if ((z & 1) != 0 && (r == 3 || r == 5)) sign = -sign;
    }
    // a < n: swap (both odd now), with the reciprocity sign
    const less = a3 != n3 ? a3 < n3 : a2 != n2 ? a2 < n2 : a1 != n1 ? a1 < n1 : a0 < n0;
    if (less) {
      if ((a0 & 3) == 3 && (n0 & 3) == 3) sign = -sign;
      let t = a0;
      a0 = n0;
      n0 = t;
      t = a1;
      a1 = n1;
      n1 = t;
      t = a2;
      a2 = n2;
      n2 = t;
      t = a3;
      a3 = n3;
      n3 = t;
    }
    // a -= n (a ≥ n, both odd: the difference is even)
    const b0: u64 = a0 < n0 ? 1 : 0;
    a0 -= n0;
    const s1 = a1 - n1, b1: u64 = (a1 < n1 ? 1 : 0) | (s1 < b0 ? 1 : 0);
    a1 = s1 - b0;
    const s2 = a2 - n2, b2: u64 = (a2 < n2 ? 1 : 0) | (s2 < b1 ? 1 : 0);
    a2 = s2 - b1;
    a3 = a3 - n3 - b2;
  }
  return (n0 == 1 && (n1 | n2 | n3) == 0) ? sign : 0;
}
