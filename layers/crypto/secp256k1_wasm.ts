/**
 * The scalar multiplications of the handshake in WebAssembly: this
 * library's own secp256k1 field and point arithmetic (ten 26-bit limbs,
 * 64-bit products), written in AssemblyScript under
 * `layers/crypto/wasm/src/ec*.ts` and shipped as a 7 KB module inside
 * `wasm/secp256k1_wasm.ts`. A handshake side takes about 0.4 of the time
 * of the `bigint` path in V8.
 *
 * The module runs the doublings and additions, the square roots'
 * exponentiation and the Jacobi symbol (the square test). The scalar recoding,
 * the x-only lift, the final inversion and every decision stay here, on
 * `bigint`s, and are those of `secp256k1_xonly.ts` and `secp256k1_base.ts`,
 * whose formulas the module follows step for step: results are identical,
 * and so are the exceptional scalars (the module reports them as Z = 0 and
 * the same fallbacks run). {@linkcode xOnlyMultiplyFast},
 * {@linkcode baseMultiplyXFast}, {@linkcode sqrtFast},
 * {@linkcode sqrtRatioFast} and {@linkcode isSquareFast} use the module where it works and the
 * `bigint` functions elsewhere (no WebAssembly, or code generation
 * forbidden, as on Cloudflare Workers).
 *
 * The module has no imports and a fixed 384 KiB memory: 4 KiB of secret
 * scratch (digits, accumulator, temporaries, the per-call table), zeroed
 * before every call returns, and the fixed-base table (public multiples of
 * G, copied in once from `secp256k1_base.ts`, whose own copy is then let
 * go). One instance serves a realm. Not constant time: table entries are
 * picked by secret digits and their signs by a branch, as in the `bigint`
 * path, and the Jacobi symbol branches on its values (as the `bigint` one
 * does); the field arithmetic itself has no data-dependent branch or
 * address.
 *
 * This file decides which instance serves and when it is compiled; the
 * module's operations on an instance are `secp256k1_wasm_core.ts`.
 *
 * @module
 */

import { isSquare, powP34, sqrt, sqrtRatio } from "./secp256k1_field.ts";
import { checkInputs, N, xOnlyMultiply, xOnlyMultiplyPlain } from "./secp256k1_xonly.ts";
import { baseMultiplyX, G_X } from "./secp256k1_base.ts";
import { base, type Core, glv, makeCore, pow, selfTest, square } from "./secp256k1_wasm_core.ts";
import { EC_WASM_BASE64 } from "./wasm/secp256k1_wasm.ts";
import { base64Bytes } from "../bytes.ts";

let core: Core | undefined;
let available: boolean | undefined;

function moduleBytes(): Uint8Array<ArrayBuffer> {
  return base64Bytes(EC_WASM_BASE64);
}

/**
 * Whether the WebAssembly secp256k1 module is in use here: it compiled and
 * instantiated (synchronously on first use, or earlier through
 * {@linkcode initEcWasm}) and passed a self-test against the `bigint`
 * path. Decided once and cached (a later successful
 * {@linkcode initEcWasm} decides again); never throws. False where
 * WebAssembly is missing or code generation is forbidden, and where
 * only synchronous compilation is refused (some browsers limit it on the
 * main thread; {@linkcode initEcWasm} compiles asynchronously, and the
 * handshake driver awaits it before its first key pair).
 *
 * @example
 * ```ts
 * import { ecWasmAvailable } from "@bip324/bip324/cipher";
 * console.assert(typeof ecWasmAvailable() === "boolean");
 * ```
 */
export function ecWasmAvailable(): boolean {
  if (available === undefined) {
    try {
      const c = makeCore(new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), {}));
      available = selfTest(c);
      if (available) core = c;
    } catch {
      available = false;
    }
  }
  return available;
}

/**
 * The module's bytes (a fresh copy), for hosts that take WebAssembly only as
 * a module shipped with the code: write them to `secp256k1.wasm`, import
 * that file (Cloudflare Workers: `import ec from "./secp256k1.wasm"` gives a
 * `WebAssembly.Module`) and pass it to {@linkcode initEcWasm}.
 *
 * @example
 * ```ts
 * import { ecWasmBytes } from "@bip324/bip324/cipher";
 * const bytes = ecWasmBytes();
 * console.assert(WebAssembly.validate(bytes));
 * ```
 */
export function ecWasmBytes(): Uint8Array<ArrayBuffer> {
  return moduleBytes();
}

/**
 * Compiles and instantiates the module asynchronously, for a realm that
 * refuses synchronous compilation (some browsers' main threads); afterwards the
 * handshake uses it. Resolves to {@linkcode ecWasmAvailable}'s answer;
 * never rejects.
 *
 * `module`: the module already compiled by the host, for runtimes that
 * refuse to compile WebAssembly from bytes at all but accept a module
 * shipped with the code (Cloudflare Workers: a `.wasm` import made from
 * `EC_WASM_BASE64`). It is used only if it passes the self-test.
 *
 * @example
 * ```ts
 * import { ecWasmAvailable, initEcWasm } from "@bip324/bip324/cipher";
 * console.assert((await initEcWasm()) === ecWasmAvailable());
 * ```
 */
export async function initEcWasm(module?: WebAssembly.Module): Promise<boolean> {
  if (core === undefined) {
    try {
      const candidate = module ?? await WebAssembly.compile(moduleBytes());
      const c = makeCore(await WebAssembly.instantiate(candidate, {}));
      if (!selfTest(c)) return available ?? false;
      core = c;
      available = true;
    } catch {
      // nothing to compile with here: decided, unless a host module is offered later
      if (module === undefined) available ??= false;
      return available ?? false;
    }
  }
  return ecWasmAvailable();
}

/**
 * Whether {@linkcode ecWasmAvailable} has decided yet. The handshake driver,
 * which is asynchronous anyway, awaits {@linkcode initEcWasm} while it has
 * not, so that realms refusing synchronous compilation use the module too.
 */
export function ecWasmDecided(): boolean {
  return available !== undefined;
}

/**
 * x(k·P) for the point P with x coordinate `xn / xd`, 1 ≤ k < n, as
 * {@linkcode xOnlyMultiply} computes it (same result, same checks), by the
 * module where it works.
 *
 * @example x(2·G)
 * ```ts
 * import { xOnlyMultiplyFast } from "./secp256k1_wasm.ts";
 * const gx = 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n;
 * const x2g = 0xc6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5n;
 * console.assert(xOnlyMultiplyFast(gx, 1n, 2n) === x2g);
 * ```
 */
export function xOnlyMultiplyFast(xn: bigint, xd: bigint, k: bigint): bigint {
  if (!ecWasmAvailable()) return xOnlyMultiply(xn, xd, k);
  [xn, xd] = checkInputs(xn, xd, k);
  return glv(core!, xn, xd, k) ?? xOnlyMultiplyPlain(xn, xd, k);
}

/**
 * x(k·G), 1 ≤ k < n, as {@linkcode baseMultiplyX} computes it (same result,
 * same checks), by the module where it works.
 *
 * @example
 * ```ts
 * import { baseMultiplyXFast } from "./secp256k1_wasm.ts";
 * import { G_X } from "./secp256k1_base.ts";
 * console.assert(baseMultiplyXFast(1n) === G_X);
 * ```
 */
export function baseMultiplyXFast(k: bigint): bigint {
  if (!ecWasmAvailable()) return baseMultiplyX(k);
  if (k <= 0n || k >= N) throw new RangeError("scalar must be in 1..n-1");
  return base(core!, k) ?? xOnlyMultiply(G_X, 1n, k);
}

/**
 * `a^((p-3)/4) mod p`, as {@linkcode powP34} computes it, by the module
 * where it works.
 *
 * @example
 * ```ts
 * import { powP34Fast } from "./secp256k1_wasm.ts";
 * import { P } from "./secp256k1_field.ts";
 * console.assert(powP34Fast(1n) === 1n && powP34Fast(P - 1n) === P - 1n);
 * ```
 */
export function powP34Fast(a: bigint): bigint {
  return ecWasmAvailable() ? pow(core!, a) : powP34(a);
}

/**
 * Whether `a` is a square mod p (zero counts), as {@linkcode isSquare}
 * decides it, by the module's Jacobi symbol where it works.
 *
 * @example
 * ```ts
 * import { isSquareFast } from "./secp256k1_wasm.ts";
 * console.assert(isSquareFast(0n) && isSquareFast(9n) && !isSquareFast(7n));
 * ```
 */
export function isSquareFast(a: bigint): boolean {
  return ecWasmAvailable() ? square(core!, a) : isSquare(a);
}

/**
 * The square root of `a` that is itself a square, or `null`: `sqrt` of
 * `secp256k1_field.ts` on {@linkcode powP34Fast}.
 *
 * @example
 * ```ts
 * import { sqrtFast } from "./secp256k1_wasm.ts";
 * import { P } from "./secp256k1_field.ts";
 * const r = sqrtFast(4n) as bigint;
 * console.assert((r * r) % P === 4n && sqrtFast(7n) === null);
 * ```
 */
export function sqrtFast(a: bigint): bigint | null {
  return sqrt(a, powP34Fast);
}

/**
 * `sqrt(n / d)` without inverting `d`, or `null`: `sqrtRatio` of
 * `secp256k1_field.ts` on {@linkcode powP34Fast}.
 *
 * @example
 * ```ts
 * import { sqrtFast, sqrtRatioFast } from "./secp256k1_wasm.ts";
 * import { inv, mod } from "./secp256k1_field.ts";
 * console.assert(sqrtRatioFast(2n, 9n) === sqrtFast(mod(2n * inv(9n))));
 * ```
 */
export function sqrtRatioFast(n: bigint, d: bigint): bigint | null {
  return sqrtRatio(n, d, powP34Fast);
}

/**
 * The module's secret scratch (its first 4 KiB), for tests that check it
 * is zero between calls; `undefined` where the module is not in use.
 */
export function ecWasmScratchForTests(): Uint8Array | undefined {
  return core === undefined ? undefined : new Uint8Array(core.x.memory.buffer, 0, 4096);
}
