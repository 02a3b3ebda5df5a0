/**
 * Fixed-base multiplication k·G on secp256k1 with a precomputed table, for
 * public keys (`ellswiftCreate`).
 *
 * The scalar (made odd by x(−Q) = x(Q), without a branch) is recoded into
 * 32 odd signed base-256 digits d₀…d₃₁ (±1, ±3, …, ±255), so
 * k = Σ dᵢ·256ⁱ and k·G is the sum of 32 table entries dᵢ·256ⁱ·G: no
 * doublings, 31 mixed (Jacobian + affine) additions. The table holds the
 * affine odd multiples 1, 3, …, 255 of 256ⁱ·G for every window i: 4,096
 * points, built on first use (4,096 affine additions sharing 128
 * inversions: 5–15 ms) and kept for the life of the process (about 0.5 MB
 * of `bigint`s).
 *
 * No addition is exceptional except perhaps the last: before adding dᵢ·256ⁱ
 * (i ≤ 30) the accumulator is Sᵢ·G with 0 < |Sᵢ| < 256ⁱ, so Sᵢ ∓ dᵢ·256ⁱ is
 * non-zero and smaller than 256ⁱ⁺¹ ≤ 2²⁴⁸ < n. The last addition could only
 * double for k = d·2²⁴⁹ − n (d odd, 129 ≤ d ≤ 255, or the negation): the
 * tests try them all, and it does for d = 255. For those two scalars the
 * addition detects the equal x coordinates and the product is recomputed
 * by the variable-point path (slower: a timing difference, but only for
 * two public values of the key).
 *
 * Not constant time: `bigint` arithmetic's cost follows the operands'
 * magnitudes, and the table lookups are indexed by secret digits (a cache
 * side channel). The sequence of field operations does not depend on k,
 * except for the fallback above and the final inversion (Euclidean, so its
 * steps depend on the value it inverts).
 *
 * @module
 */

import { inv, mod, P } from "./secp256k1_field.ts";
import { Jacobian } from "./secp256k1_jacobian.ts";
import { N, xOnlyMultiply } from "./secp256k1_xonly.ts";

/** x of the base point G. */
export const G_X: bigint = 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n;
/** y of the base point G. */
export const G_Y: bigint = 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n;

const W = 8;
const WINDOWS = 32;
const PER_WINDOW = 1 << (W - 1);
const SHIFT = BigInt(W), MASK = (2n << SHIFT) - 1n, HALF = 1 << W;

let tableX: bigint[] | undefined;
let tableY: bigint[] | undefined;

/** Replaces every element of `values` (non-zero mod p) by its inverse: one inversion (Montgomery's trick). */
function invertAll(values: bigint[]): void {
  const count = values.length, prefix: bigint[] = new Array(count);
  let run = 1n;
  for (let n = 0; n < count; n++) prefix[n] = run = (run * values[n]) % P;
  let invRun = inv(run);
  for (let n = count - 1; n > 0; n--) {
    const v = values[n];
    values[n] = (invRun * prefix[n - 1]) % P;
    invRun = (invRun * v) % P;
  }
  values[0] = invRun;
}

/**
 * Builds the table. The window bases Bᵢ = 256ⁱ·G come from doublings in
 * Jacobian coordinates, made affine together; then the odd multiples of
 * all 32 windows grow side by side, (2j + 1)·Bᵢ = (2j − 1)·Bᵢ + 2·Bᵢ, by
 * affine additions whose 32 slope denominators share one inversion per
 * step. None is exceptional: (2j − 1)·Bᵢ = ±2·Bᵢ would need 2j − 1 ≡ ±2 (mod n).
 */
function build(): void {
  const xs: bigint[] = new Array(WINDOWS * PER_WINDOW), ys: bigint[] = new Array(xs.length);
  const bx: bigint[] = new Array(WINDOWS), by: bigint[] = new Array(WINDOWS);
  const bz: bigint[] = new Array(WINDOWS);
  const acc = new Jacobian().set(G_X, G_Y, 1n);
  for (let w = 0; w < WINDOWS; w++) {
    bx[w] = acc.x, by[w] = acc.y, bz[w] = acc.z;
    for (let i = 0; i < W; i++) acc.double();
  }
  invertAll(bz);
  const slope: bigint[] = new Array(WINDOWS), dx: bigint[] = new Array(WINDOWS);
  const dy: bigint[] = new Array(WINDOWS);
  for (let w = 0; w < WINDOWS; w++) {
    const zInv2 = (bz[w] * bz[w]) % P;
    const x = mod(bx[w] * zInv2), y = mod(((by[w] * zInv2) % P) * bz[w]);
    xs[w * PER_WINDOW] = x, ys[w * PER_WINDOW] = y;
    slope[w] = (y << 1n) % P; // doubling: slope 3x²/(2y)
  }
  invertAll(slope);
  for (let w = 0; w < WINDOWS; w++) {
    const x = xs[w * PER_WINDOW], y = ys[w * PER_WINDOW];
    const l = (((3n * x * x) % P) * slope[w]) % P;
    dx[w] = mod(l * l - (x << 1n));
    dy[w] = mod(l * (x - dx[w]) - y);
  }
  for (let j = 1; j < PER_WINDOW; j++) {
    for (let w = 0; w < WINDOWS; w++) slope[w] = dx[w] - xs[w * PER_WINDOW + j - 1];
    invertAll(slope);
    for (let w = 0; w < WINDOWS; w++) {
      const prev = w * PER_WINDOW + j - 1, x1 = xs[prev], y1 = ys[prev];
      const l = ((dy[w] - y1) * slope[w]) % P;
      const x3 = mod(l * l - x1 - dx[w]);
      xs[prev + 1] = x3;
      ys[prev + 1] = mod(l * (x1 - x3) - y1);
    }
  }
  tableX = xs;
  tableY = ys;
}

/** The digits of a scalar (see the module doc): 32 odd values in ±1..±255. */
export const BASE_DIGITS: number = WINDOWS;

/**
 * Writes the digits of `k` (1 ≤ k < n, made odd by negation) into `out`
 * (32 entries), least significant first: k or n − k is Σ dᵢ·256ⁱ.
 *
 * @example
 * ```ts
 * import { baseDigits } from "./secp256k1_base.ts";
 * const d = baseDigits(3n, new Int16Array(32));
 * console.assert(d.reduce((s, v, i) => s + BigInt(v) * 256n ** BigInt(i), 0n) === 3n);
 * ```
 */
export function baseDigits(k: bigint, out: Int16Array): Int16Array {
  // k or n - k, whichever is odd, by arithmetic
  let s = k + (1n - (k & 1n)) * (N - (k << 1n));
  for (let i = 0; i < WINDOWS - 1; i++) {
    const d = Number(s & MASK) - HALF;
    out[i] = d;
    s = (s - BigInt(d)) >> SHIFT;
  }
  out[WINDOWS - 1] = Number(s); // odd, 1..255
  s = 0n;
  return out;
}

/**
 * The table (built on first use): affine x and y of entry w·128 + j, which
 * is (2j + 1)·256ʷ·G, for w < 32, j < 128.
 *
 * @example
 * ```ts
 * import { baseTable, G_X } from "./secp256k1_base.ts";
 * console.assert(baseTable()[0][0] === G_X);
 * ```
 */
export function baseTable(): [readonly bigint[], readonly bigint[]] {
  if (tableX === undefined || tableY === undefined) build();
  return [tableX!, tableY!];
}

/**
 * Lets the table go (about 0.5 MB), for a caller that copied it elsewhere;
 * the next use builds it again.
 */
export function releaseBaseTable(): void {
  tableX = tableY = undefined;
}

const digits = new Int16Array(WINDOWS);
const acc = new Jacobian();

/**
 * The affine x coordinate of k·G by the table, 1 ≤ k < n, or `null` if the
 * last addition met equal x coordinates (which happens for k = 255·2²⁴⁹ − n
 * and its negation: the tests pin it).
 *
 * @example
 * ```ts
 * import { baseMultiplyXComb, G_X } from "./secp256k1_base.ts";
 * console.assert(baseMultiplyXComb(1n) === G_X);
 * ```
 */
export function baseMultiplyXComb(k: bigint): bigint | null {
  if (k <= 0n || k >= N) throw new RangeError("scalar must be in 1..n-1");
  const [xs, ys] = baseTable();
  try {
    baseDigits(k, digits);
    let d = digits[0], at = ((d < 0 ? -d : d) - 1) >> 1;
    acc.set(xs[at], d < 0 ? P - ys[at] : ys[at], 1n);
    for (let i = 1; i < WINDOWS; i++) {
      d = digits[i];
      at = i * PER_WINDOW + (((d < 0 ? -d : d) - 1) >> 1);
      acc.addAffine(xs[at], d < 0 ? P - ys[at] : ys[at]);
    }
    if (acc.degenerate) return null;
    const zInv = inv(acc.z);
    return mod(acc.x * ((zInv * zInv) % P));
  } finally {
    acc.clear();
    digits.fill(0);
  }
}

/**
 * The affine x coordinate of k·G, 1 ≤ k < n, in 0..p-1: by the table, or
 * for the two scalars where that degenerates, by the variable-point path.
 *
 * @example
 * ```ts
 * import { baseMultiplyX, G_X } from "./secp256k1_base.ts";
 * console.assert(baseMultiplyX(1n) === G_X);
 * ```
 */
export function baseMultiplyX(k: bigint): bigint {
  return baseMultiplyXComb(k) ?? xOnlyMultiply(G_X, 1n, k);
}
