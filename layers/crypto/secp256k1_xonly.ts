/**
 * x-only scalar multiplication on secp256k1 for ECDH: given the x coordinate
 * of a point as a fraction `xn / xd`, returns x(k·P) without ever computing
 * a y coordinate (no square root) and with a single inversion at the end.
 *
 * The trick (as in libsecp256k1's `ecmult_const_xonly`): with
 * h = xn³ + 7·xd³, the Jacobian point (xn·h, h², xd) lies on the isomorphic
 * curve Y² = X³ + 7·(h/xd)³, whose affine x is (h/xd)·x. The doubling and
 * addition formulas for a = 0 never use the curve constant, so k·P can be
 * computed on that curve and mapped back by dividing x by h/xd.
 *
 * The scalar is recoded into 64 odd signed 4-bit digits (±1, ±3, …, ±15),
 * so every scalar runs the same sequence of 252 doublings and 63 additions
 * with a table of 8 odd multiples. Exceptional cases of the incomplete
 * Jacobian addition cannot occur: before adding digit dᵢ, the accumulator
 * is 16·kᵢ₊₁·P with 16 ≤ 16·kᵢ₊₁ < n − 15 for i ≥ 1 (kᵢ = remaining scalar),
 * and for i = 0 the two bad residues k ≡ 2d₀ and k ≡ 0 are ruled out by
 * parity and by d₀ = (k mod 32) − 16 (checked for all 8 odd |d₀|).
 * `bigint` arithmetic and the secret-indexed table lookup are not constant
 * time; the operation sequence is.
 *
 * @module
 */

import { inv, mod, P } from "./secp256k1_field.ts";

/** The secp256k1 group order. */
export const N: bigint = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const DIGITS = 64;

/** A Jacobian point with Z², Z³ cached (for table entries). Coordinates are lazily reduced. */
interface CachedPoint {
  x: bigint;
  y: bigint;
  negY: bigint;
  z: bigint;
  zz: bigint;
  zzz: bigint;
}

/** Jacobian accumulator; coordinates may lie outside 0..p-1 (even negative). */
let X = 0n, Y = 0n, Z = 0n;

/**
 * (X, Y, Z) ← 2·(X, Y, Z); dbl-2009-l for a = 0, with D = 2((X + B)² - A - C)
 * written as 4·X·B (a multiplication costs a `bigint` squaring, and this saves
 * three operations). Linear terms are folded into a product before its one
 * `% P`; results lie in (-p, p).
 */
function double(): void {
  const a = (X * X) % P;
  const b = (Y * Y) % P;
  const c = (b * b) % P;
  const d = ((X * b) << 2n) % P;
  const e = 3n * a;
  const x3 = (e * e - (d << 1n)) % P;
  Z = ((Y * Z) << 1n) % P;
  Y = (e * (d - x3) - (c << 3n)) % P;
  X = x3;
}

/** (X, Y, Z) ← (X, Y, Z) + (q.x, ±q.y, q.z); add-2007-bl with q's Z², Z³ cached. */
function add(q: CachedPoint, negate: boolean): void {
  const z1z1 = (Z * Z) % P;
  const u1 = (X * q.zz) % P;
  const u2 = (q.x * z1z1) % P;
  const s1 = (Y * q.zzz) % P;
  const s2 = ((((negate ? q.negY : q.y) * Z) % P) * z1z1) % P;
  const h = u2 - u1;
  const i = ((h * h) << 2n) % P;
  const j = (h * i) % P;
  const r = (s2 - s1) << 1n;
  const v = (u1 * i) % P;
  const x3 = (r * r - j - (v << 1n)) % P;
  Y = (r * (v - x3) - ((s1 * j) << 1n)) % P;
  Z = ((((Z * q.z) % P) * h) << 1n) % P;
  X = x3;
}

function cache(): CachedPoint {
  const x = mod(X), y = mod(Y), z = mod(Z);
  const zz = (z * z) % P;
  return { x, y, negY: P - y, z, zz, zzz: (zz * z) % P };
}

/** Odd signed base-16 digits of odd `k` (0 < k < 2²⁵⁶), least significant first. */
function recode(k: bigint): Int8Array {
  const digits = new Int8Array(DIGITS);
  for (let i = 0; i < DIGITS - 1; i++) {
    const d = Number(k & 31n) - 16;
    digits[i] = d;
    k = (k - BigInt(d)) >> 4n;
  }
  digits[DIGITS - 1] = Number(k); // 1..15, odd
  return digits;
}

/**
 * x(k·P) for the point P with x coordinate `xn / xd` (which must be a valid
 * x coordinate, `xd` non-zero), 1 ≤ k < n. Returns x in 0..p-1.
 *
 * @example x(2·G)
 * ```ts
 * import { xOnlyMultiply } from "./secp256k1_xonly.ts";
 * const gx = 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n;
 * const x2g = 0xc6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5n;
 * console.assert(xOnlyMultiply(gx, 1n, 2n) === x2g);
 * ```
 */
export function xOnlyMultiply(xn: bigint, xd: bigint, k: bigint): bigint {
  if (k <= 0n || k >= N) throw new RangeError("scalar must be in 1..n-1");
  xn = mod(xn);
  xd = mod(xd);
  if (xd === 0n) throw new RangeError("xd must be non-zero mod p");
  // x(-Q) = x(Q): make the scalar odd
  const digits = recode((k & 1n) === 1n ? k : N - k);
  const xd3 = (((xd * xd) % P) * xd) % P;
  const h = ((((xn * xn) % P) * xn) % P + 7n * xd3) % P;
  // P' = (xn·h, h², xd) on the isomorphic curve; table of 1P', 3P', …, 15P'
  const table: CachedPoint[] = new Array(8);
  X = (xn * h) % P, Y = (h * h) % P, Z = xd;
  table[0] = cache();
  double();
  const twice = cache();
  X = table[0].x, Y = table[0].y, Z = table[0].z;
  for (let i = 1; i < 8; i++) {
    add(twice, false);
    table[i] = cache();
  }
  const top = digits[DIGITS - 1];
  X = table[(top - 1) >> 1].x, Y = table[(top - 1) >> 1].y, Z = table[(top - 1) >> 1].z;
  for (let i = DIGITS - 2; i >= 0; i--) {
    double();
    double();
    double();
    double();
    const d = digits[i];
    add(table[((d < 0 ? -d : d) - 1) >> 1], d < 0);
  }
  // x = X / (Z² · h/xd)
  const z2 = (Z * Z) % P;
  const x = mod(X * xd * inv((z2 * h) % P));
  X = Y = Z = 0n;
  digits.fill(0);
  return x;
}
