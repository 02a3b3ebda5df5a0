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
 * {@linkcode xOnlyMultiply} splits k with the GLV endomorphism
 * λ·(x, y) = (β·x, y) into k ≡ k₁ + k₂·λ (mod n) with |k₁|, |k₂| < 2¹²⁹, both
 * made odd by adding a lattice vector, and recodes each into 26 odd signed
 * base-32 digits (±1, ±3, …, ±31). Every scalar then runs the same sequence:
 * 125 doublings and 51 additions of entries of two 16-point tables (odd
 * multiples of P, and the same with x·β). Why no addition can be
 * exceptional, except in the last step for scalars of the forms 2a + bλ,
 * bλ and 2bλ (a, b odd, |a|, |b| ≤ 31: the tests try all 1,088), is spelled
 * out at {@linkcode xOnlyMultiplyGlv}. One of them, k ≡ −22λ, does meet
 * equal x coordinates; the addition detects it and the product is
 * recomputed by {@linkcode xOnlyMultiplyPlain} (the earlier, slower method,
 * which provably has no exceptional case): a timing difference, but only
 * for that one public value of the key.
 *
 * Not constant time: `bigint` arithmetic's cost follows the operands'
 * magnitudes (and allocates), the table lookups are indexed by secret
 * digits, and the digit signs pick a coordinate with a conditional. The
 * sequence of field operations does not depend on the scalar, except for
 * the fallback above and the final inversion (Euclidean, so its steps
 * depend on the secret-derived value it inverts).
 *
 * @module
 */

import { inv, mod, P } from "./secp256k1_field.ts";
import { type CachedPoint, Jacobian } from "./secp256k1_jacobian.ts";

/** The secp256k1 group order. */
export const N: bigint = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** A cube root of unity mod n: λ·(x, y) = (β·x, y) for every point. */
export const LAMBDA: bigint = 0xac9c52b33fa3cf1f5ad9e3fd77ed9ba4a880b9fc8ec739c2e0cfc810b51283cen;
/** The cube root of unity mod p that goes with {@linkcode LAMBDA}. */
export const BETA: bigint = 0x851695d49a83f8ef919bb86153cbcb16630fb68aed0a766a3ec693d68e6afa40n;

/**
 * A reduced basis (a₁, b₁), (a₂, b₂) of the lattice {(x, y) : x + y·λ ≡ 0
 * (mod n)}, from the extended Euclidean algorithm on (n, λ); its
 * determinant a₁b₂ − a₂b₁ is n, and its shortest vectors have max-norm
 * about 2¹²⁷·⁸.
 */
export const GLV_BASIS: readonly [bigint, bigint, bigint, bigint] = [
  0xe4437ed6010e88286f547fa90abfe4c3n,
  -0x3086d221a7d46bcde86c90e49284eb15n,
  0x3086d221a7d46bcde86c90e49284eb15n,
  0x114ca50f7a8e2f3f657c1108d9d44cfd8n,
];
const [A1, B1, A2, B2] = GLV_BASIS;
const HALF_N = N >> 1n;

/**
 * Splits 0 ≤ k < n into odd k₁, k₂ with k ≡ k₁ + k₂·λ (mod n) and
 * |k₁|, |k₂| < 2¹²⁹: Babai rounding against {@linkcode GLV_BASIS}, then a
 * lattice vector chosen arithmetically (no branch) by the halves' parities:
 * (a₁, b₁) flips both parities (a₁, b₁ odd), (a₂, b₂) flips only k₁'s
 * (a₂ odd, b₂ even).
 *
 * @example
 * ```ts
 * import { glvSplit, LAMBDA, N } from "./secp256k1_xonly.ts";
 * const k = 12345678901234567890n;
 * const [k1, k2] = glvSplit(k);
 * console.assert((((k1 + k2 * LAMBDA - k) % N) + N) % N === 0n);
 * ```
 */
export function glvSplit(k: bigint): [bigint, bigint] {
  const c1 = (k * B2 + HALF_N) / N, c2 = (-k * B1 + HALF_N) / N;
  let k1 = k - c1 * A1 - c2 * A2, k2 = -c1 * B1 - c2 * B2;
  const f1 = 1n - (k1 & 1n), f2 = 1n - (k2 & 1n);
  const use1 = f2, use2 = f1 ^ f2;
  k1 += use1 * A1 + use2 * A2;
  k2 += use1 * B1 + use2 * B2;
  return [k1, k2];
}

/**
 * Odd signed base-2ʷ digits of odd `k` (negative allowed), least
 * significant first, `out.length` of them; the last takes what remains,
 * which the callers' bounds keep within ±(2ʷ − 1). Written into `out`.
 *
 * @example
 * ```ts
 * import { recodeOdd } from "./secp256k1_xonly.ts";
 * const digits = recodeOdd(77n, 5, new Int8Array(2)); // 77 = -19 + 3·32
 * console.assert(digits[0] === -19 && digits[0] + 32 * digits[1] === 77);
 * ```
 */
export function recodeOdd(k: bigint, w: number, out: Int8Array): Int8Array {
  const shift = BigInt(w), mask = (2n << shift) - 1n, half = 1 << w, count = out.length;
  for (let i = 0; i < count - 1; i++) {
    const d = Number(k & mask) - half;
    out[i] = d;
    k = (k - BigInt(d)) >> shift;
  }
  out[count - 1] = Number(k);
  return out;
}

/** Table index of an odd digit: |d| = 2i + 1. */
function slot(d: number): number {
  return ((d < 0 ? -d : d) - 1) >> 1;
}

const acc = new Jacobian();

/** Starts the accumulator at P' = (xn·h, h², xd) and returns h (both inputs reduced). */
function lift(xn: bigint, xd: bigint): bigint {
  const h = liftFactor(xn, xd);
  acc.set((xn * h) % P, (h * h) % P, xd);
  return h;
}

/**
 * h = xn³ + 7·xd³ (mod p): the point (xn·h, h², xd) lies on the curve
 * Y² = X³ + 7·(h/xd)³ (see the module doc), both inputs reduced.
 *
 * @example
 * ```ts
 * import { liftFactor } from "./secp256k1_xonly.ts";
 * console.assert(liftFactor(1n, 1n) === 8n);
 * ```
 */
export function liftFactor(xn: bigint, xd: bigint): bigint {
  const xd3 = (((xd * xd) % P) * xd) % P;
  return ((((xn * xn) % P) * xn) % P + 7n * xd3) % P;
}

/**
 * The affine x, in 0..p-1, of the Jacobian (x, ·, z) on the lifted curve of
 * {@linkcode liftFactor}: X / (Z² · h/xd).
 *
 * @example
 * ```ts
 * import { liftFactor, unliftX } from "./secp256k1_xonly.ts";
 * import { P } from "./secp256k1_field.ts";
 * const h = liftFactor(5n, 1n); // (5h, h², 1) is x = 5 on the lifted curve
 * console.assert(unliftX((5n * h) % P, 1n, 1n, h) === 5n);
 * ```
 */
export function unliftX(x: bigint, z: bigint, xd: bigint, h: bigint): bigint {
  return mod(x * xd * inv((((z * z) % P) * h) % P));
}

/** Odd multiples 1·A, 3·A, …, (2·size − 1)·A of the accumulator A, cached. */
function oddMultiples(size: number): CachedPoint[] {
  const table: CachedPoint[] = new Array(size);
  table[0] = acc.cache();
  acc.double();
  const twice = acc.cache();
  acc.setCached(table[0], false);
  for (let i = 1; i < size; i++) {
    acc.add(twice, false);
    table[i] = acc.cache();
  }
  return table;
}

/** x of the accumulator mapped back from the isomorphic curve: X / (Z² · h/xd). */
function finish(xd: bigint, h: bigint): bigint {
  return unliftX(acc.x, acc.z, xd, h);
}

/**
 * The checks every x-only multiplication makes: 1 ≤ k < n and xd ≢ 0
 * (`RangeError` otherwise); returns xn and xd reduced.
 *
 * @example
 * ```ts
 * import { checkInputs } from "./secp256k1_xonly.ts";
 * console.assert(checkInputs(-1n, 3n, 5n)[0] > 0n);
 * ```
 */
export function checkInputs(xn: bigint, xd: bigint, k: bigint): [bigint, bigint] {
  if (k <= 0n || k >= N) throw new RangeError("scalar must be in 1..n-1");
  xd = mod(xd);
  if (xd === 0n) throw new RangeError("xd must be non-zero mod p");
  return [mod(xn), xd];
}

const GLV_DIGITS = 26;
const GLV_TABLE = 16;
const digits1 = new Int8Array(GLV_DIGITS), digits2 = new Int8Array(GLV_DIGITS);
/** The GLV tables: affine x, y of the odd multiples, and β·x; overwritten per call, zeroed after. */
const tableX: bigint[] = new Array(GLV_TABLE).fill(0n);
const tableY: bigint[] = new Array(GLV_TABLE).fill(0n);
const tableBX: bigint[] = new Array(GLV_TABLE).fill(0n);

/**
 * Fills the tables with the odd multiples 1·A, 3·A, …, 31·A of the
 * accumulator A as affine points of one more isomorphic curve, without an
 * inversion, and returns the factor by which that curve's Z coordinates
 * must be multiplied to come back to A's curve.
 *
 * How (libsecp256k1's "effective affine" trick): D = 2A = (Xd, Yd, Zd) is
 * affine on the curve scaled by Zd, where A is (X·Zd², Y·Zd³, Z); there the
 * odd multiples follow by mixed additions of D, each reporting its Z ratio.
 * Rescaling each multiple by the product of the later ratios gives them all
 * the last one's Z, Zc, so they are affine on the curve scaled by Zc too.
 * The returned factor is Zc·Zd.
 */
function buildGlvTable(): bigint {
  const x1 = acc.x, y1 = acc.y, z1 = acc.z;
  acc.double();
  const dx = acc.x, dy = acc.y, zd = acc.z;
  const zd2 = (zd * zd) % P;
  acc.set((x1 * zd2) % P, (((y1 * zd2) % P) * zd) % P, z1);
  const ratios: bigint[] = new Array(GLV_TABLE);
  tableX[0] = acc.x, tableY[0] = acc.y;
  for (let i = 1; i < GLV_TABLE; i++) {
    acc.addAffine(dx, dy);
    tableX[i] = acc.x, tableY[i] = acc.y, ratios[i] = acc.zRatio;
  }
  const zc = acc.z;
  tableX[GLV_TABLE - 1] = mod(tableX[GLV_TABLE - 1]);
  tableY[GLV_TABLE - 1] = mod(tableY[GLV_TABLE - 1]);
  let rho = 1n;
  for (let i = GLV_TABLE - 2; i >= 0; i--) {
    rho = (rho * ratios[i + 1]) % P;
    const rho2 = (rho * rho) % P;
    tableX[i] = mod(tableX[i] * rho2);
    tableY[i] = mod(((tableY[i] * rho2) % P) * rho);
  }
  for (let i = 0; i < GLV_TABLE; i++) tableBX[i] = (tableX[i] * BETA) % P;
  ratios.fill(0n);
  return (zc * zd) % P;
}

/** Adds the table entry for odd digit `d` (negated for d < 0), from the β table if `beta`. */
function addDigit(d: number, beta: boolean): void {
  const i = slot(d);
  acc.addAffine(beta ? tableBX[i] : tableX[i], d < 0 ? P - tableY[i] : tableY[i]);
}

/**
 * x(k·P) by the GLV method (see the module doc), or `null` if an addition
 * met equal x coordinates, in which case nothing useful was computed.
 *
 * Why that cannot happen except in the last step: let Kᵢ be the value of
 * the digits i.. of a half (odd, |Kᵢ| ≤ |k₁|/32ⁱ + 1 < 2¹²⁴ for i ≥ 1).
 * Adding digit dᵢ of k₁ to the accumulator (Kᵢ − dᵢ)·P + (K'ᵢ − d'ᵢ)·λP is
 * exceptional only if (Kᵢ − dᵢ ∓ dᵢ) + (K'ᵢ − d'ᵢ)·λ ≡ 0, a lattice vector
 * of max-norm < 2¹²⁵, hence zero, which it is not (K'ᵢ − d'ᵢ = 32·K'ᵢ₊₁ ≠ 0);
 * likewise for the digit of k₂ and for the first addition (two digits). In
 * the last step the halves are whole and the bad scalars are those
 * ≡ 2d₀ + d'₀λ, d'₀λ or 2d'₀λ; of these only −22λ (mod n) returns `null`.
 *
 * @example
 * ```ts
 * import { xOnlyMultiplyGlv } from "./secp256k1_xonly.ts";
 * const gx = 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n;
 * const x2g = 0xc6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5n;
 * console.assert(xOnlyMultiplyGlv(gx, 1n, 2n) === x2g);
 * ```
 */
export function xOnlyMultiplyGlv(xn: bigint, xd: bigint, k: bigint): bigint | null {
  [xn, xd] = checkInputs(xn, xd, k);
  const [k1, k2] = glvSplit(k);
  const d1 = recodeOdd(k1, 5, digits1), d2 = recodeOdd(k2, 5, digits2);
  try {
    const h = lift(xn, xd);
    const zScale = buildGlvTable();
    const d = d1[GLV_DIGITS - 1], i = slot(d);
    acc.set(tableX[i], d < 0 ? P - tableY[i] : tableY[i], 1n);
    addDigit(d2[GLV_DIGITS - 1], true);
    for (let j = GLV_DIGITS - 2; j >= 0; j--) {
      acc.double();
      acc.double();
      acc.double();
      acc.double();
      acc.double();
      addDigit(d1[j], false);
      addDigit(d2[j], true);
    }
    if (acc.degenerate) return null;
    acc.z = (acc.z * zScale) % P;
    return finish(xd, h);
  } finally {
    acc.clear();
    d1.fill(0);
    d2.fill(0);
    tableX.fill(0n);
    tableY.fill(0n);
    tableBX.fill(0n);
  }
}

const PLAIN_DIGITS = 64;
const plainDigits = new Int8Array(PLAIN_DIGITS);

/**
 * x(k·P) without the endomorphism: k (made odd by x(−Q) = x(Q), without a
 * branch) recoded
 * into 64 odd signed base-16 digits, 252 doublings and 63 additions with a
 * table of 8 odd multiples. No addition is exceptional: before adding digit
 * dᵢ the accumulator is 16·kᵢ₊₁·P with 16 ≤ 16·kᵢ₊₁ < n − 15 for i ≥ 1
 * (kᵢ = remaining scalar), and for i = 0 the two bad residues k ≡ 2d₀ and
 * k ≡ 0 are ruled out by parity and by d₀ = (k mod 32) − 16 (checked for
 * all 8 odd |d₀|). The fallback of {@linkcode xOnlyMultiply}.
 *
 * @example
 * ```ts
 * import { xOnlyMultiplyPlain } from "./secp256k1_xonly.ts";
 * const gx = 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n;
 * const x2g = 0xc6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5n;
 * console.assert(xOnlyMultiplyPlain(gx, 1n, 2n) === x2g);
 * ```
 */
export function xOnlyMultiplyPlain(xn: bigint, xd: bigint, k: bigint): bigint {
  [xn, xd] = checkInputs(xn, xd, k);
  // k or n - k, whichever is odd, by arithmetic
  const digits = recodeOdd(k + (1n - (k & 1n)) * (N - (k << 1n)), 4, plainDigits);
  try {
    const h = lift(xn, xd);
    const table = oddMultiples(8);
    const top = digits[PLAIN_DIGITS - 1];
    acc.setCached(table[slot(top)], false);
    for (let i = PLAIN_DIGITS - 2; i >= 0; i--) {
      acc.double();
      acc.double();
      acc.double();
      acc.double();
      const d = digits[i];
      acc.add(table[slot(d)], d < 0);
    }
    return finish(xd, h);
  } finally {
    acc.clear();
    digits.fill(0);
  }
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
  return xOnlyMultiplyGlv(xn, xd, k) ?? xOnlyMultiplyPlain(xn, xd, k);
}
