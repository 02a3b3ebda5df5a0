/**
 * Jacobian point arithmetic for the curves y² = x³ + b over the secp256k1
 * field, shared by the x-only variable-point multiplication
 * (`secp256k1_xonly.ts`) and the fixed-base multiplication
 * (`secp256k1_base.ts`). The formulas are those for a = 0 and never read b,
 * so they serve secp256k1 itself and every curve isomorphic to it (which the
 * x-only trick relies on).
 *
 * The additions are incomplete: adding a point to itself or to its negation
 * gives garbage. Callers either prove that cannot happen or watch
 * {@linkcode Jacobian.degenerate}, which an addition sets when its inputs had
 * equal x (the only way to hit either case) and which stays set.
 *
 * `bigint` arithmetic is not constant time: its cost follows the operands'
 * magnitudes, and V8 allocates every intermediate. The formulas themselves
 * have no data-dependent branches.
 *
 * @module
 */

import { mod, P } from "./secp256k1_field.ts";

/** A point with Z², Z³ and −Y cached, for repeated additions (table entries). */
export interface CachedPoint {
  /** X, reduced to 0..p-1. */
  x: bigint;
  /** Y, reduced to 0..p-1. */
  y: bigint;
  /** p − Y. */
  negY: bigint;
  /** Z, reduced to 0..p-1. */
  z: bigint;
  /** Z² mod p. */
  zz: bigint;
  /** Z³ mod p. */
  zzz: bigint;
}

/**
 * A mutable Jacobian accumulator (X, Y, Z) ↦ (X/Z², Y/Z³). Coordinates are
 * lazily reduced: they may lie anywhere in (−p, p) (even negative).
 */
export class Jacobian {
  /** X coordinate. */
  x = 0n;
  /** Y coordinate. */
  y = 0n;
  /** Z coordinate. */
  z = 0n;
  /** Set once an addition met equal x coordinates (result meaningless from then on). */
  degenerate = false;
  /** After {@linkcode Jacobian.addAffine}: the new Z divided by the old one. */
  zRatio = 0n;

  /** Loads a point. */
  set(x: bigint, y: bigint, z: bigint): this {
    this.x = x, this.y = y, this.z = z;
    return this;
  }

  /** Loads a cached point, negated when `negate`. */
  setCached(q: CachedPoint, negate: boolean): this {
    this.x = q.x, this.y = negate ? q.negY : q.y, this.z = q.z;
    return this;
  }

  /**
   * This ← 2·this: dbl-2009-l for a = 0, with D = 2((X + B)² − A − C)
   * written as 4·X·B (a multiplication costs what a `bigint` squaring does,
   * and this saves three operations). Linear terms are folded into a
   * product before its one `% P`.
   */
  double(): void {
    const { x, y } = this;
    const a = (x * x) % P;
    const b = (y * y) % P;
    const c = b * b; // left unreduced: 8c joins a product of the same size below
    const d = ((x * b) << 2n) % P;
    const e = 3n * a;
    const x3 = (e * e - (d << 1n)) % P;
    this.z = ((y * this.z) << 1n) % P;
    this.y = (e * (d - x3) - (c << 3n)) % P;
    this.x = x3;
  }

  /** This ← this + (q.x, ±q.y, q.z): add-2007-bl with q's Z², Z³ cached. */
  add(q: CachedPoint, negate: boolean): void {
    const { x, y, z } = this;
    const z1z1 = (z * z) % P;
    const u1 = (x * q.zz) % P;
    const u2 = (q.x * z1z1) % P;
    const s1 = (y * q.zzz) % P;
    const s2 = ((((negate ? q.negY : q.y) * z) % P) * z1z1) % P;
    const h = u2 - u1; // in (-p, 2p)
    if (h === 0n || h === P) this.degenerate = true;
    const i = ((h * h) << 2n) % P;
    const j = (h * i) % P;
    const r = (s2 - s1) << 1n;
    const v = (u1 * i) % P;
    const x3 = (r * r - j - (v << 1n)) % P;
    this.y = (r * (v - x3) - ((s1 * j) << 1n)) % P;
    this.z = ((((z * q.z) % P) * h) << 1n) % P;
    this.x = x3;
  }

  /**
   * This ← this + (qx, qy, 1) for an affine q (`qy` already negated by the
   * caller as needed): 8M + 3S in the form of Hankerson, Menezes and
   * Vanstone (Guide to ECC, alg. 3.22), which needs fewer small operations
   * than madd-2007-bl's 7M + 4S and so runs faster on `bigint`s. Sets
   * {@linkcode Jacobian.zRatio} to the new Z over the old.
   */
  addAffine(qx: bigint, qy: bigint): void {
    const { x, y, z } = this;
    const zz = (z * z) % P;
    const c = (qx * zz) % P - x; // in (-p, 2p)
    if (c === 0n || c === P) this.degenerate = true;
    const d = (((qy * zz) % P) * z) % P - y;
    const cc = (c * c) % P;
    const ccc = (cc * c) % P;
    const xcc = (x * cc) % P;
    const x3 = (d * d - ccc - (xcc << 1n)) % P;
    this.y = (d * (xcc - x3) - y * ccc) % P;
    this.z = (z * c) % P;
    this.x = x3;
    this.zRatio = c;
  }

  /** The current point with its cache, reduced. */
  cache(): CachedPoint {
    const x = mod(this.x), y = mod(this.y), z = mod(this.z);
    const zz = (z * z) % P;
    return { x, y, negY: P - y, z, zz, zzz: (zz * z) % P };
  }

  /** Zeroes the coordinates (they derive from a secret scalar). */
  clear(): void {
    this.x =
      this.y =
      this.z =
      this.zRatio =
        0n;
    this.degenerate = false;
  }
}
