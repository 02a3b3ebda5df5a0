/**
 * The SwiftEC map of ElligatorSwift (BIP324's `XSwiftEC` and
 * `XSwiftECInv`) on secp256k1 field elements as `bigint`s; the byte-level
 * API and the encoder's sampling loop are in `layers/handshake/ellswift.ts`.
 *
 * Square roots by an addition chain, square tests by Jacobi symbols, and
 * fractions instead of inversions where the BIP divides
 * (`secp256k1_field.ts`). Not constant time: which branch is taken, and the
 * cost of every `bigint` operation, depends on the inputs. Decoding only
 * ever sees public data; the inverse is run by the encoder on the public
 * key's x and on hash-derived candidates for u.
 *
 * @module
 */

import {
  isValidX as isValidXWith,
  isValidXFraction as isValidXFractionWith,
  mod,
  P,
} from "./secp256k1_field.ts";
import {
  isSquareFast as isSquare,
  sqrtFast as sqrt,
  sqrtRatioFast as sqrtRatio,
} from "./secp256k1_wasm.ts";

const isValidX = (x: bigint) => isValidXWith(x, isSquare);
const isValidXFraction = (n: bigint, d: bigint) => isValidXFractionWith(n, d, isSquare);

/** A square root of -3 mod p that is itself a square. */
const C = 0xa2d2ba93507f1df233770c2a797962cc61f6d15da14ecd47d8d27ae1cd5f852n;
/** 1/2 mod p. */
const HALF = (P + 1n) / 2n;
/** (1 - c)/2 and (1 + c)/2 mod p, as XSwiftECInv's last step uses them. */
const C_MINUS = mod((1n - C) * HALF);
const C_PLUS = mod((1n + C) * HALF);

/**
 * The SwiftEC map (u, t) → x, with the BIP's remapping of the exceptional
 * inputs, returning x as a fraction [n, d] so callers choose whether to pay
 * for the inversion (ECDH does not need it).
 *
 * With g = u³ + 7 and s = t² (after the remaps), the BIP's
 * X = (g - s)/(2t), Y = (X + t)/(cu) and c² = -3 give
 *
 * - x₁ = u + 4Y² = (3su³ - (g + s)²) / (3su²)
 * - x₂ = (-X/Y - u)/2 = -u((g - s)c + (g + s)) / (2(g + s))
 * - x₃ = (X/Y - u)/2 = u((g - s)c - (g + s)) / (2(g + s))
 *
 * (s ≠ 0, u ≠ 0 and g + s ≠ 0 after the remaps, so no denominator is 0.)
 *
 * @example
 * ```ts
 * import { xswiftecFraction } from "./secp256k1_swiftec.ts";
 * import { isValidXFraction } from "./secp256k1_field.ts";
 * const [n, d] = xswiftecFraction(1n, 2n);
 * console.assert(d !== 0n && isValidXFraction(n, d));
 * ```
 */
export function xswiftecFraction(uIn: bigint, tIn: bigint): [bigint, bigint] {
  let u = mod(uIn), t = mod(tIn);
  if (u === 0n) u = 1n;
  if (t === 0n) t = 1n;
  const u2 = (u * u) % P;
  const g = (u2 * u + 7n) % P;
  let s = (t * t) % P;
  if ((g + s) % P === 0n) s = (4n * s) % P; // t = 2t
  const gs = (g + s) % P;
  const d1 = (((3n * s) % P) * u2) % P;
  const n1 = mod(d1 * u - gs * gs);
  if (isValidXFraction(n1, d1)) return [n1, d1];
  const d23 = (2n * gs) % P;
  const gsc = ((g - s) * C) % P;
  const n2 = mod(-u * (gsc + gs));
  if (isValidXFraction(n2, d23)) return [n2, d23];
  return [mod(u * (gsc - gs)), d23];
}

/**
 * XSwiftECInv(x, u, case) on field elements (x, u reduced, case 0–7): a t
 * with XSwiftEC(u, t) = x, or `null` when that case has none. Each square
 * root the BIP takes is preceded by a Jacobi test of its radicand (same
 * outcome, and the failing cases, about three in four, stop at the cheap
 * test); where the BIP divides, square roots of fractions are taken
 * without an inversion.
 *
 * @example
 * ```ts
 * import { xswiftecFraction, xswiftecInvBig } from "./secp256k1_swiftec.ts";
 * import { inv, P } from "./secp256k1_field.ts";
 * const [n, d] = xswiftecFraction(5n, 9n), x = (n * inv(d)) % P;
 * for (let c = 0; c < 8; c++) {
 *   const t = xswiftecInvBig(x, 7n, c);
 *   if (t !== null) {
 *     const [n2, d2] = xswiftecFraction(7n, t);
 *     console.assert((n2 * inv(d2)) % P === x);
 *   }
 * }
 * ```
 */
export function xswiftecInvBig(x: bigint, u: bigint, caseIndex: number): bigint | null {
  let v: bigint, w: bigint | null;
  const g = (((u * u) % P) * u + 7n) % P;
  if ((caseIndex & 2) === 0) {
    if (isValidX(mod(-x - u))) return null;
    v = x;
    // s = -g/(u² + uv + v²); w = sqrt(s) without inverting the denominator
    const m = (u * u + u * v + v * v) % P;
    if (m === 0n) return null; // only when x is not on the curve: no t maps to it
    // -g/m is a square iff -g·m is: a Jacobi symbol fails faster than the root
    if (!isSquare(P - g * m)) return null;
    w = sqrtRatio(P - g, m);
  } else {
    const s = mod(x - u);
    if (s === 0n) return null;
    // the BIP asks for sqrt(s) last; testing s first (a cheaper Jacobi symbol) fails early,
    // and so does testing the radicand of r before taking its root
    if (!isSquare(s)) return null;
    const radicand = mod(-s * (4n * g + ((3n * u * u) % P) * s));
    if (!isSquare(radicand)) return null;
    const r = sqrt(radicand) as bigint;
    if ((caseIndex & 1) === 1 && r === 0n) return null;
    // one exponentiation gives 1/sqrt(s), hence sqrt(s) = s/sqrt(s) and 1/s = (1/sqrt(s))²
    const rootInv = sqrtRatio(1n, s) as bigint; // s is a square
    w = (s * rootInv) % P;
    v = mod(((((r * rootInv) % P) * rootInv) % P - u) * HALF); // (r/s - u)/2
  }
  if (w === null) return null;
  switch (caseIndex & 5) {
    case 0:
      return mod(-w * ((u * C_MINUS) % P + v));
    case 1:
      return mod(w * ((u * C_PLUS) % P + v));
    case 4:
      return mod(w * ((u * C_MINUS) % P + v));
    default: // 5
      return mod(-w * ((u * C_PLUS) % P + v));
  }
}
