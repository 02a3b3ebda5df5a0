/**
 * The secp256k1 WebAssembly module's operations on one instance (a
 * {@linkcode Core}): its memory layout, moving `bigint`s in and out, the GLV
 * and fixed-base multiplications, the exponentiation, the Jacobi symbol and
 * the self-test against the `bigint` path. Which instance serves, and when
 * it is compiled, is `secp256k1_wasm.ts`. Internal.
 *
 * @module
 */

import { inv, isSquare, mod, P, powP34 } from "./secp256k1_field.ts";
import { glvSplit, liftFactor, recodeOdd, unliftX, xOnlyMultiply } from "./secp256k1_xonly.ts";
import {
  BASE_DIGITS,
  baseDigits,
  baseMultiplyXComb,
  baseTable,
  G_X,
  releaseBaseTable,
} from "./secp256k1_base.ts";

/** What the module exports (see `wasm/src/ec.ts`). */
interface Exports {
  memory: WebAssembly.Memory;
  OUT_X: WebAssembly.Global;
  OUT_Z: WebAssembly.Global;
  IN_X: WebAssembly.Global;
  IN_Y: WebAssembly.Global;
  IN_Z: WebAssembly.Global;
  DIGITS1: WebAssembly.Global;
  DIGITS2: WebAssembly.Global;
  DIGITS_BASE: WebAssembly.Global;
  MEMORY_BYTES: WebAssembly.Global;
  mulGlv(): void;
  mulBase(): void;
  powP34(): void;
  jacobi(): number;
  setBaseEntry(index: number): void;
  clear(): void;
}

/** One instantiated module: its exports, views of its memory, where things are. */
export interface Core {
  x: Exports;
  words: Uint32Array;
  bytes: Int8Array;
  halves: Int16Array;
  outX: number;
  outZ: number;
  inX: number;
  inY: number;
  inZ: number;
  digits1: number;
  digits2: number;
  digitsBase: number;
  /**
   * The fixed-base table: not yet copied in, copied in and checked, or
   * copied in wrong (then the `bigint` table serves).
   */
  table: "absent" | "loaded" | "failed";
}

export function makeCore(instance: WebAssembly.Instance): Core {
  const x = instance.exports as unknown as Exports;
  const buffer = x.memory.buffer; // fixed size: the views stay valid
  if (buffer.byteLength !== x.MEMORY_BYTES.value) throw new Error("unexpected wasm memory size");
  const at = (g: WebAssembly.Global) => g.value as number;
  return {
    x,
    words: new Uint32Array(buffer),
    bytes: new Int8Array(buffer),
    halves: new Int16Array(buffer),
    outX: at(x.OUT_X) >> 2,
    outZ: at(x.OUT_Z) >> 2,
    inX: at(x.IN_X) >> 2,
    inY: at(x.IN_Y) >> 2,
    inZ: at(x.IN_Z) >> 2,
    digits1: at(x.DIGITS1),
    digits2: at(x.DIGITS2),
    digitsBase: at(x.DIGITS_BASE) >> 1,
    table: "absent",
  };
}

/** Writes 0 ≤ v < 2²⁵⁶ as eight little-endian 32-bit words from word index `at`. */
function put(words: Uint32Array, at: number, v: bigint): void {
  for (let i = 0; i < 8; i++) {
    words[at + i] = Number(BigInt.asUintN(32, v));
    v >>= 32n;
  }
}

/** Reads eight little-endian 32-bit words from word index `at`. */
function get(words: Uint32Array, at: number): bigint {
  return (BigInt(words[at + 7]) << 224n) | (BigInt(words[at + 6]) << 192n) |
    (BigInt(words[at + 5]) << 160n) | (BigInt(words[at + 4]) << 128n) |
    (BigInt(words[at + 3]) << 96n) | (BigInt(words[at + 2]) << 64n) |
    (BigInt(words[at + 1]) << 32n) | BigInt(words[at]);
}

const GLV_DIGITS = 26;
const digits1 = new Int8Array(GLV_DIGITS), digits2 = new Int8Array(GLV_DIGITS);
const digitsBase = new Int16Array(BASE_DIGITS);

/** x(k·P) by the module, or `null` where the `bigint` GLV path would return `null` too. */
export function glv(c: Core, xn: bigint, xd: bigint, k: bigint): bigint | null {
  const [k1, k2] = glvSplit(k);
  try {
    c.bytes.set(recodeOdd(k1, 5, digits1), c.digits1);
    c.bytes.set(recodeOdd(k2, 5, digits2), c.digits2);
    // the lift of secp256k1_xonly.ts: (xn·h, h², xd) on the curve scaled by h/xd
    const h = liftFactor(xn, xd);
    put(c.words, c.inX, (xn * h) % P);
    put(c.words, c.inY, (h * h) % P);
    put(c.words, c.inZ, xd);
    c.x.mulGlv();
    const z = get(c.words, c.outZ);
    if (z === 0n) return null;
    return unliftX(get(c.words, c.outX), z, xd, h);
  } finally {
    c.x.clear();
    digits1.fill(0);
    digits2.fill(0);
  }
}

/**
 * Copies the fixed-base table into the module (once) and checks one product
 * against the `bigint` table; then lets the `bigint` copy go. On a mismatch
 * the module's table is never used.
 */
function loadTable(c: Core): "loaded" | "failed" {
  const [xs, ys] = baseTable();
  try {
    for (let i = 0; i < xs.length; i++) {
      put(c.words, c.inX, xs[i]);
      put(c.words, c.inY, ys[i]);
      c.x.setBaseEntry(i);
    }
  } finally {
    c.x.clear();
  }
  const k = 0x3c5e7092b4d6f8a1c3e5b7d5f3a9c1e7d2b4a6081f0e3c5b7d9a2e4c6b8d0f1an;
  if (mulBase(c, k) !== baseMultiplyXComb(k)) return "failed";
  releaseBaseTable();
  return "loaded";
}

/** x(k·G) by the module, or `null` where the `bigint` table path would return `null` too. */
export function base(c: Core, k: bigint): bigint | null {
  if (c.table === "absent") c.table = loadTable(c);
  return c.table === "loaded" ? mulBase(c, k) : baseMultiplyXComb(k);
}

function mulBase(c: Core, k: bigint): bigint | null {
  try {
    c.halves.set(baseDigits(k, digitsBase), c.digitsBase);
    c.x.mulBase();
    const z = get(c.words, c.outZ);
    if (z === 0n) return null;
    const zInv = inv(z);
    return mod(get(c.words, c.outX) * ((zInv * zInv) % P));
  } finally {
    c.x.clear();
    digitsBase.fill(0);
  }
}

/** x(2·G), the self-test's expected value. */
const X_2G = 0xc6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5n;

/** Whether `a` is a square (zero counts), by the module's Jacobi symbol. */
export function square(c: Core, a: bigint): boolean {
  try {
    put(c.words, c.inX, mod(a));
    return c.x.jacobi() >= 0;
  } finally {
    c.x.clear();
  }
}

/** Whether `c` computes what the `bigint` path does, on a few fixed inputs. */
export function selfTest(c: Core): boolean {
  const k = 0x5f3a9c1e7d2b4a6081f0e3c5b7d9a2e4c6b8d0f1a3c5e7092b4d6f8a1c3e5b7dn;
  return glv(c, G_X, 1n, 2n) === X_2G && glv(c, G_X, 3n, k) === xOnlyMultiply(G_X, 3n, k) &&
    pow(c, k) === powP34(k) && [k, 7n, 9n].every((a) => square(c, a) === isSquare(a));
}

/** a^((p-3)/4) mod p by the module. */
export function pow(c: Core, a: bigint): bigint {
  try {
    put(c.words, c.inX, mod(a));
    c.x.powP34();
    return get(c.words, c.outX);
  } finally {
    c.x.clear();
  }
}
