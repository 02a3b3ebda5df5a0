/**
 * Arithmetic modulo the secp256k1 field prime p = 2²⁵⁶ − 2³² − 977 on
 * `bigint`s, tuned for the handshake: square roots and quadratic-residue
 * tests share one addition chain (253 squarings + 13 multiplications,
 * against ≈ 480 for plain square-and-multiply), and {@linkcode sqrtRatio}
 * takes a square root of a quotient without an inversion.
 *
 * `bigint` arithmetic is not constant time; these helpers serve the
 * handshake's public data (ElligatorSwift encodings) and the scalar
 * multiplication in `secp256k1_xonly.ts`.
 *
 * @module
 */

/** The field prime p. */
export const P: bigint = 2n ** 256n - 2n ** 32n - 977n;

/**
 * `a mod p` in `0..p-1` (also for negative `a`).
 *
 * @example
 * ```ts
 * import { mod, P } from "./secp256k1_field.ts";
 * console.assert(mod(-1n) === P - 1n);
 * ```
 */
export function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

/** Remainders at or above this run Lehmer rounds in {@linkcode inv}. */
const LEHMER_LIMIT = 1n << 50n;

/**
 * Modular inverse by the extended Euclidean algorithm with Lehmer's
 * speed-up (Knuth, TAOCP vol. 2, §4.5.2, algorithm L): while the remainders
 * are large, the quotients are found from their leading 50 bits in
 * floating point (exact: every value stays below 2⁵²), and the resulting
 * 2×2 matrix is applied to the `bigint`s once per round of ~30 bits, so
 * about 8 rounds replace ~150 `bigint` division steps (1.5× as fast here).
 * When the bounds disagree on the first quotient, one plain step is taken.
 * Below 2⁵⁰ the rest runs on numbers. `a` must be non-zero mod p (zero
 * throws a `RangeError`). Variable time.
 *
 * @example
 * ```ts
 * import { inv, mod } from "./secp256k1_field.ts";
 * console.assert(mod(inv(3n) * 3n) === 1n);
 * ```
 */
export function inv(a: bigint): bigint {
  // invariant: r0 ≡ t0·a and r1 ≡ t1·a (mod p)
  let r0 = P, r1 = mod(a), t0 = 0n, t1 = 1n;
  if (r1 === 0n) throw new RangeError("inverse of zero mod p");
  while (r1 >= LEHMER_LIMIT) {
    // the same shift for both; log2 of the rounded value may be one bit off, which is harmless
    const shift = BigInt(Math.floor(Math.log2(Number(r0))) - 49);
    let x = Number(r0 >> shift), y = Number(r1 >> shift);
    let A = 1, B = 0, C = 0, D = 1;
    while (y + C !== 0 && y + D !== 0) {
      const q = Math.floor((x + A) / (y + C));
      if (q !== Math.floor((x + B) / (y + D))) break;
      let t = A - q * C;
      A = C, C = t;
      t = B - q * D;
      B = D, D = t;
      t = x - q * y;
      x = y, y = t;
    }
    if (B === 0) {
      const q = r0 / r1, r = r0 - q * r1, t = t0 - q * t1;
      r0 = r1, r1 = r, t0 = t1, t1 = t;
    } else {
      const a = BigInt(A), b = BigInt(B), c = BigInt(C), d = BigInt(D);
      const r = c * r0 + d * r1, t = c * t0 + d * t1;
      r0 = a * r0 + b * r1, t0 = a * t0 + b * t1;
      r1 = r, t1 = t;
    }
  }
  // r1 < 2⁵⁰ (and non-zero: p is prime); one step brings r0 there too
  const q = r0 / r1, r = r0 - q * r1, t = t0 - q * t1;
  r0 = r1, r1 = r, t0 = t1, t1 = t;
  let x = Number(r0), y = Number(r1), A = 1, B = 0, C = 0, D = 1;
  while (y !== 0) {
    const q = Math.floor(x / y);
    let t = A - q * C;
    A = C, C = t;
    t = B - q * D;
    B = D, D = t;
    t = x - q * y;
    x = y, y = t;
  }
  // x = gcd = 1 = A·r0 + B·r1
  return mod(BigInt(A) * t0 + BigInt(B) * t1);
}

/** `a^(2^n)`, i.e. n squarings. */
function sqrN(a: bigint, n: number): bigint {
  for (let i = 0; i < n; i++) a = (a * a) % P;
  return a;
}

/**
 * `a^((p-3)/4) mod p` by an addition chain over the exponent's bit pattern
 * 1²²³ 0 1²² 0000 1 0 11.
 *
 * @example
 * ```ts
 * import { P, powP34 } from "./secp256k1_field.ts";
 * // (p - 3)/4 is odd, so (-1)^((p-3)/4) = -1
 * console.assert(powP34(1n) === 1n && powP34(P - 1n) === P - 1n);
 * ```
 */
export function powP34(a: bigint): bigint {
  a = mod(a);
  const x2 = (sqrN(a, 1) * a) % P;
  const x3 = (sqrN(x2, 1) * a) % P;
  const x6 = (sqrN(x3, 3) * x3) % P;
  const x9 = (sqrN(x6, 3) * x3) % P;
  const x11 = (sqrN(x9, 2) * x2) % P;
  const x22 = (sqrN(x11, 11) * x11) % P;
  const x44 = (sqrN(x22, 22) * x22) % P;
  const x88 = (sqrN(x44, 44) * x44) % P;
  const x176 = (sqrN(x88, 88) * x88) % P;
  const x220 = (sqrN(x176, 44) * x44) % P;
  const x223 = (sqrN(x220, 3) * x3) % P;
  let t = (sqrN(x223, 23) * x22) % P;
  t = (sqrN(t, 5) * a) % P;
  return (sqrN(t, 3) * x2) % P;
}

/**
 * The square root of `a` that is itself a square, `a^((p+1)/4)`, or `null`
 * when `a` is not a square mod p. `pow` computes `a^((p-3)/4)` (default
 * {@linkcode powP34}; `secp256k1_wasm.ts` passes its own).
 *
 * @example
 * ```ts
 * import { P, sqrt } from "./secp256k1_field.ts";
 * const r = sqrt(4n) as bigint;
 * console.assert((r * r) % P === 4n);
 * console.assert(sqrt(7n) === null); // 7 is not a square mod p
 * ```
 */
export function sqrt(a: bigint, pow: (a: bigint) => bigint = powP34): bigint | null {
  a = mod(a);
  const r = (pow(a) * a) % P;
  return (r * r) % P === a ? r : null;
}

/** `BigInt(i)` for shift counts 0..32, made once. */
const SHIFTS: readonly bigint[] = Array.from({ length: 33 }, (_, i) => BigInt(i));

/**
 * Whether `a` is a square mod p (zero counts as a square), by the Jacobi
 * symbol: the binary–Euclidean algorithm (strip twos, reciprocity, reduce),
 * about three times as fast as exponentiation here. Each round costs about
 * three `bigint` operations: the low 32 bits are read once per round and
 * the next round's divisor's low bits are the ones just read.
 *
 * @example
 * ```ts
 * import { isSquare } from "./secp256k1_field.ts";
 * console.assert(isSquare(0n) && isSquare(9n) && !isSquare(7n));
 * ```
 */
export function isSquare(a: bigint): boolean {
  let x = mod(a), n = P, nLow = Number(P & 0xffn), flip = 0;
  while (x !== 0n) {
    let low = Number(BigInt.asUintN(32, x));
    if (low === 0) {
      x >>= 32n; // (2/n)^32 = 1
      continue;
    }
    const zeros = 31 - Math.clz32(low & -low);
    if (zeros > 0) {
      x >>= SHIFTS[zeros];
      low = zeros > 29 ? Number(BigInt.asUintN(32, x)) : low >>> zeros;
      // (2/n) = -1 for n ≡ 3, 5 (mod 8), i.e. when bit 2 of n + 2 is set
      if ((zeros & 1) === 1) flip ^= ((nLow + 2) >>> 2) & 1;
    }
    // reciprocity: swap, flipping the sign when both are 3 mod 4 (both odd: bit 1 of both)
    flip ^= ((low & nLow) >>> 1) & 1;
    const t = n % x;
    n = x;
    nLow = low;
    x = t;
  }
  return n !== 1n || flip === 0;
}

/**
 * `sqrt(n / d)` (the root that is itself a square) without inverting `d`,
 * or `null` when `n / d` is not a square. `d` must be non-zero mod p.
 *
 * Uses (n/d)^((p+1)/4) = n·d·(n·d³)^((p-3)/4), the last power by `pow`
 * (default {@linkcode powP34}).
 *
 * @example
 * ```ts
 * import { inv, mod, sqrt, sqrtRatio } from "./secp256k1_field.ts";
 * console.assert(sqrtRatio(2n, 9n) === sqrt(mod(2n * inv(9n))));
 * ```
 */
export function sqrtRatio(
  n: bigint,
  d: bigint,
  pow: (a: bigint) => bigint = powP34,
): bigint | null {
  n = mod(n);
  d = mod(d);
  const nd = (n * d) % P;
  const r = (nd * pow((((nd * d) % P) * d) % P)) % P;
  return ((r * r) % P * d) % P === n ? r : null;
}

/**
 * Whether `x` is the x coordinate of a secp256k1 point (x³ + 7 is a square,
 * by `square`, default {@linkcode isSquare}).
 *
 * @example
 * ```ts
 * import { isValidX } from "./secp256k1_field.ts";
 * console.assert(isValidX(1n)); // 1 + 7 = 8 is a square mod p
 * ```
 */
export function isValidX(x: bigint, square: (a: bigint) => boolean = isSquare): boolean {
  return square((((x * x) % P) * x) % P + 7n);
}

/**
 * Whether the fraction `n / d` (d non-zero) is a valid x coordinate:
 * (n/d)³ + 7 is a square iff (n³ + 7d³)·d is (by `square`, default
 * {@linkcode isSquare}).
 *
 * @example
 * ```ts
 * import { isValidXFraction } from "./secp256k1_field.ts";
 * console.assert(isValidXFraction(2n, 2n)); // x = 1
 * ```
 */
export function isValidXFraction(
  n: bigint,
  d: bigint,
  square: (a: bigint) => boolean = isSquare,
): boolean {
  const d3 = (((d * d) % P) * d) % P;
  return square(((((n * n) % P) * n + 7n * d3) % P) * d);
}
