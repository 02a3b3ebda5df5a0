/**
 * The WebAssembly ChaCha20-Poly1305 backend: this library's own ChaCha20 and
 * Poly1305 (26-bit limbs, 64-bit products), written in AssemblyScript under
 * `layers/crypto/wasm/src/` and shipped as a 6 KB module inside
 * `wasm/aead_wasm.ts`, so no runtime needs file access or a toolchain.
 *
 * The module has no imports and a fixed 128 KiB memory that never grows:
 * 512 bytes of secret scratch (key, nonce, cipher state, four keystream
 * blocks, tag) and a message region. It needs WebAssembly 128-bit SIMD
 * (ChaCha20 runs four blocks at a time): Chrome/Edge 91+, Firefox 89+,
 * Safari 16.4+, Node.js 16.4+, Deno, Bun; elsewhere
 * {@linkcode wasmAeadAvailable} is false. A message whose padded AAD, text and tag fit the
 * region is sealed or opened in one call; a larger one goes through in
 * 64 KiB pieces, so memory stays bounded whatever the message size.
 *
 * One module instance is shared by every {@linkcode WasmAead} in a realm:
 * calls are synchronous and clear their secret state before returning, so
 * nothing carries over from one call (or one cipher) to the next, and an
 * idle cipher costs no memory of its own.
 *
 * @module
 */

import { base64Bytes } from "../bytes.ts";
import { AEAD_TAG_LEN, type AeadBackend, openLength, sealLength } from "./aead_types.ts";
import { AEAD_WASM_BASE64 } from "./wasm/aead_wasm.ts";
import { agreesWithPure } from "./pure_aead.ts";

/** What the module exports (see `wasm/src/aead.ts`). */
interface Exports {
  memory: WebAssembly.Memory;
  KEY: WebAssembly.Global;
  NONCE: WebAssembly.Global;
  TAG: WebAssembly.Global;
  DATA: WebAssembly.Global;
  MEMORY_BYTES: WebAssembly.Global;
  begin(short: number): void;
  absorb(p: number, len: number): void;
  crypt(p: number, len: number): void;
  rewind(): void;
  finish(aadLength: number, textLength: number, out: number): void;
  tune(rows: number): void;
  verify(expected: number): number;
  clear(): void;
  wipe(): void;
  seal(aad: number, aadLen: number, p: number, len: number): void;
  open(aad: number, aadLen: number, p: number, len: number): number;
}

/** Bytes per piece for a message too large for one call (a multiple of 64). */
const PIECE = 65536;
/**
 * Copies of at most this many bytes that would need a `subarray` are done with a loop instead
 * (a whole source array is copied with `set` whatever its size: cheaper from ~12 bytes up).
 */
const SMALL_COPY = 96;

/** One instantiated module: its exports, a view of its memory and its layout. */
interface Core {
  x: Exports;
  mem: Uint8Array;
  key: number;
  nonce: number;
  /** Where `finish` writes the computed tag for `verify`. */
  tag: number;
  data: number;
  end: number;
}

let moduleBytes: Uint8Array | undefined;
let compiled: WebAssembly.Module | undefined;
let core: Core | undefined;
let available: boolean | undefined;

function bytes(): Uint8Array {
  return moduleBytes ??= base64Bytes(AEAD_WASM_BASE64);
}

/**
 * Whether the engine runs the row-wise ChaCha20 layout faster (see `tune` in
 * `wasm/src/aead.ts`): JavaScriptCore, i.e. Bun (measured on x86-64: about
 * 1.4x the column layout there, while V8 runs the column layout about 1.25x
 * faster). Results never depend on it.
 */
function prefersRows(): boolean {
  return typeof (globalThis as { Bun?: unknown }).Bun === "object";
}

function makeCore(instance: WebAssembly.Instance): Core {
  const x = instance.exports as unknown as Exports;
  const end = x.MEMORY_BYTES.value as number;
  if (x.memory.buffer.byteLength !== end) throw new Error("unexpected wasm memory size");
  x.tune(prefersRows() ? 1 : 0);
  return {
    x,
    mem: new Uint8Array(x.memory.buffer), // the memory never grows: this view stays valid
    key: x.KEY.value as number,
    nonce: x.NONCE.value as number,
    tag: x.TAG.value as number,
    data: x.DATA.value as number,
    end,
  };
}

/** The shared instance, compiled and instantiated synchronously on first use. */
function sharedCore(): Core {
  if (core === undefined) {
    compiled ??= new WebAssembly.Module(bytes() as Uint8Array<ArrayBuffer>);
    core = makeCore(new WebAssembly.Instance(compiled, {}));
  }
  return core;
}

/** Seals and opens one message with `aead` and checks it against the pure backend. */
const selfTest = (aead: AeadBackend): boolean => agreesWithPure(aead);

/**
 * Whether the WebAssembly backend works here: `WebAssembly` exists, the
 * module compiles (synchronously, or earlier through
 * {@linkcode initWasmAead}) and passes a self-test against the pure backend.
 * Decided once and cached (a later successful {@linkcode initWasmAead}
 * decides again); never throws. False where WebAssembly is missing or code
 * generation is forbidden (e.g. a page whose CSP lacks `wasm-unsafe-eval`).
 *
 * @example
 * ```ts
 * import { wasmAeadAvailable } from "@bip324/bip324/cipher";
 * console.assert(typeof wasmAeadAvailable() === "boolean");
 * ```
 */
export function wasmAeadAvailable(): boolean {
  if (available === undefined) {
    try {
      available = typeof WebAssembly === "object" && selfTest(new WasmAead());
    } catch {
      available = false;
    }
  }
  return available;
}

/**
 * Compiles and instantiates the module asynchronously, for a realm that
 * forbids synchronous compilation on its main thread; afterwards
 * `new WasmAead()` needs no compile. Resolves to
 * {@linkcode wasmAeadAvailable}'s answer; never rejects.
 *
 * `module`: the module already compiled by the host, for runtimes that
 * refuse to compile WebAssembly from bytes at all but accept a module
 * shipped with the code (Cloudflare Workers: a `.wasm` import made from
 * `AEAD_WASM_BASE64`). It is accepted only if it passes the self-test.
 *
 * @example
 * ```ts
 * import { initWasmAead, WasmAead } from "./wasm_aead.ts";
 * if (await initWasmAead()) console.assert(new WasmAead().name === "wasm");
 * ```
 */
export async function initWasmAead(module?: WebAssembly.Module): Promise<boolean> {
  if (core === undefined) {
    try {
      const candidate = module ?? compiled ??
        await WebAssembly.compile(bytes() as Uint8Array<ArrayBuffer>);
      core ??= makeCore(await WebAssembly.instantiate(candidate, {}));
      available = undefined;
      if (!wasmAeadAvailable()) {
        core = undefined; // never keep an instance that failed the self-test
        return false;
      }
      compiled ??= candidate;
    } catch {
      core = undefined;
      return false;
    }
  }
  return wasmAeadAvailable();
}

/**
 * A view of the shared module's whole memory (instantiating it if needed),
 * for tests and audits: between calls it holds no key material, only the
 * last AAD and ciphertext (see {@linkcode WasmAead}). Writing to it can only
 * break the next call's inputs, which every call rewrites anyway.
 *
 * @example
 * ```ts
 * import { wasmAeadAvailable, wasmAeadMemory } from "./wasm_aead.ts";
 * if (wasmAeadAvailable()) console.assert(wasmAeadMemory().subarray(0, 512).every((b) => b === 0));
 * ```
 */
export function wasmAeadMemory(): Uint8Array {
  return sharedCore().mem;
}

/** Copies `n` bytes of `src` from 0 into `mem` at `at`. */
function copyIn(mem: Uint8Array, src: Uint8Array, at: number, n: number): void {
  if (src.length === n) mem.set(src, at);
  else if (n <= SMALL_COPY) {
    for (let i = 0; i < n; i++) mem[at + i] = src[i];
  } else {
    mem.set(src.subarray(0, n), at);
  }
}

/** Copies `n` bytes of `mem` from `from` into `dst` at `at`. */
function copyOut(mem: Uint8Array, from: number, dst: Uint8Array, at: number, n: number): void {
  if (n <= SMALL_COPY) {
    for (let i = 0; i < n; i++) dst[at + i] = mem[from + i];
  } else {
    dst.set(mem.subarray(from, from + n), at);
  }
}

/** Zeroes `n` bytes of `mem` from `at`. */
function zero(mem: Uint8Array, at: number, n: number): void {
  mem.fill(0, at, at + n);
}

/**
 * ChaCha20-Poly1305 in WebAssembly. Same contract as every
 * {@linkcode AeadBackend}: in-place use allowed, tags compared in constant
 * time (inside the module), and `open` writes nothing to `out` unless the
 * tag verifies.
 *
 * Secrets: every call zeroes the key, nonce, ChaCha20 state, one-time
 * Poly1305 key, accumulator, buffered keystream and computed tag in the
 * module before it returns (512 bytes and a few globals: about 20 ns), so a
 * key never outlives the call that used it, even if the process is later
 * inspected or the shared instance is handed to other code; `open`
 * also zeroes the plaintext it left in the message region. What stays in
 * module memory between calls is public: the last AAD and ciphertext.
 * {@linkcode WasmAead.wipe} zeroes all of it.
 *
 * @example
 * ```ts
 * import { WasmAead, wasmAeadAvailable } from "./wasm_aead.ts";
 * if (wasmAeadAvailable()) {
 *   const aead = new WasmAead(), key = new Uint8Array(32), nonce = new Uint8Array(12);
 *   const box = new Uint8Array(3 + 16);
 *   box.set([1, 2, 3]);
 *   aead.seal(key, nonce, new Uint8Array(0), box.subarray(0, 3), box); // in place
 *   console.assert(aead.open(key, nonce, new Uint8Array(0), box, box) && box[2] === 3);
 * }
 * ```
 */
export class WasmAead implements AeadBackend {
  /** Always `"wasm"`. */
  readonly name: string = "wasm";
  #core: Core;

  /**
   * Uses the realm's shared module instance, compiling it synchronously if
   * {@linkcode initWasmAead} has not. Throws an `Error` when WebAssembly is
   * unavailable or synchronous compilation is refused.
   */
  constructor() {
    try {
      this.#core = sharedCore();
    } catch (e) {
      throw new Error(
        `backend "wasm" is unavailable here (${(e as Error)?.message ?? e}); ` +
          "where only synchronous compilation is refused, await initWasmAead() first",
      );
    }
  }

  /** See {@linkcode AeadBackend.seal}. */
  seal(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
  ): void {
    const length = sealLength(key, nonce, aad, plaintext, out);
    const c = this.#core, mem = c.mem, x = c.x, aadLen = aad.length;
    copyIn(mem, key, c.key, 32);
    copyIn(mem, nonce, c.nonce, 12);
    const p = c.data + ((aadLen + 15) & ~15);
    if (p + length + AEAD_TAG_LEN <= c.end) {
      if (aadLen !== 0) copyIn(mem, aad, c.data, aadLen);
      copyIn(mem, plaintext, p, length);
      x.seal(c.data, aadLen, p, length);
      copyOut(mem, p, out, 0, length + AEAD_TAG_LEN);
      return;
    }
    x.begin(0);
    this.#absorb(aad);
    const data = c.data;
    for (let i = 0; i < length; i += PIECE) {
      const n = Math.min(PIECE, length - i);
      mem.set(plaintext.subarray(i, i + n), data);
      x.crypt(data, n);
      x.absorb(data, n);
      out.set(mem.subarray(data, data + n), i); // after reading: in place is safe
    }
    x.finish(aadLen, length, data);
    copyOut(mem, data, out, length, AEAD_TAG_LEN);
    x.clear();
  }

  /** See {@linkcode AeadBackend.open}. */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    out: Uint8Array,
  ): boolean {
    const length = openLength(key, nonce, aad, ciphertext, out);
    if (length < 0) return false;
    const c = this.#core, mem = c.mem, x = c.x, aadLen = aad.length;
    copyIn(mem, key, c.key, 32);
    copyIn(mem, nonce, c.nonce, 12);
    const p = c.data + ((aadLen + 15) & ~15);
    if (p + length + AEAD_TAG_LEN <= c.end) {
      if (aadLen !== 0) copyIn(mem, aad, c.data, aadLen);
      copyIn(mem, ciphertext, p, length + AEAD_TAG_LEN);
      if (x.open(c.data, aadLen, p, length) === 0) return false;
      copyOut(mem, p, out, 0, length);
      zero(mem, p, length);
      return true;
    }
    // Too large for one call: authenticate every piece first, then decrypt them again.
    x.begin(0);
    this.#absorb(aad);
    const data = c.data;
    for (let i = 0; i < length; i += PIECE) {
      const n = Math.min(PIECE, length - i);
      mem.set(ciphertext.subarray(i, i + n), data);
      x.absorb(data, n);
    }
    x.finish(aadLen, length, c.tag);
    mem.set(ciphertext.subarray(length, length + AEAD_TAG_LEN), data);
    if (x.verify(data) === 0) {
      x.clear();
      return false;
    }
    x.rewind();
    for (let i = 0; i < length; i += PIECE) {
      const n = Math.min(PIECE, length - i);
      mem.set(ciphertext.subarray(i, i + n), data);
      x.crypt(data, n);
      out.set(mem.subarray(data, data + n), i); // after reading: in place is safe
    }
    x.clear();
    mem.fill(0, data, data + PIECE);
    return true;
  }

  /**
   * Zeroes all of the module's memory (message region included) and its
   * Poly1305 state. Calls already leave no key material behind; this also
   * removes the last AAD and ciphertext.
   */
  wipe(): void {
    this.#core.x.wipe();
  }

  /** Absorbs the AAD, padded, in pieces through the message region. */
  #absorb(aad: Uint8Array): void {
    const { mem, x, data } = this.#core;
    for (let i = 0; i < aad.length; i += PIECE) {
      const n = Math.min(PIECE, aad.length - i);
      mem.set(aad.subarray(i, i + n), data);
      x.absorb(data, n);
    }
  }
}
