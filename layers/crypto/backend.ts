/**
 * The pluggable AEAD backend behind `FSChaCha20Poly1305`: one RFC 8439
 * ChaCha20-Poly1305 message at a time, with the key and 12-byte nonce given
 * per call and the result written into a caller buffer.
 *
 * Backends:
 *
 * - `"pure"`: {@linkcode PureAead}, this library's allocation-free
 *   TypeScript. Works everywhere; the only choice in browsers.
 * - `"native"`: {@linkcode NativeAead}: on Linux, the system's OpenSSL
 *   `libcrypto` through FFI where the runtime offers it (Deno with the FFI
 *   permission already granted; Bun, whose `node:crypto` lacks the cipher),
 *   else `node:crypto`'s `chacha20-poly1305` (Node.js, Deno).
 * - `"wasm"`: {@linkcode WasmAead}, this library's ChaCha20-Poly1305 compiled
 *   to WebAssembly (SIMD) from `wasm/src/`: about 2–3× the pure backend,
 *   fastest for small packets. Where WebAssembly cannot be compiled from bytes
 *   (Cloudflare Workers, a strict CSP) it is unavailable.
 * - `"auto"` (the default): per message, by size. With WebAssembly: wasm below
 *   {@linkcode AUTO_WASM_MAX} bytes, native from there (libcrypto through
 *   FFI from 1,024 bytes in Deno, 512 in Bun; wasm at every size where there
 *   is no native backend, as in browsers). Without it: pure below
 *   {@linkcode AUTO_NATIVE_MIN} bytes, native from there. Native calls cost a
 *   fixed few microseconds of setup, so small packets are faster in-process.
 *
 * @module
 */

import {
  BUN_FFI_SOURCE,
  DENO_FFI_SOURCE,
  findNativeCrypto,
  NativeAead,
  nativeAeadAvailable,
  nativeAeadMissing,
} from "./native_aead.ts";
import { PureAead } from "./pure_aead.ts";
import { WasmAead, wasmAeadAvailable } from "./wasm_aead.ts";
import { AEAD_TAG_LEN, type AeadBackend, sealPartsWith } from "./aead_types.ts";

export {
  AEAD_TAG_LEN,
  type AeadBackend,
  findNativeCrypto,
  NativeAead,
  nativeAeadAvailable,
  PureAead,
  WasmAead,
  wasmAeadAvailable,
};

/** The backend names {@linkcode createAeadBackend} accepts. */
export type AeadBackendKind = "pure" | "native" | "wasm" | "auto";

/**
 * With the wasm backend available, `"auto"` uses it below this many plaintext
 * bytes and native from there (measured crossover between 4 and 8 KiB with
 * `bench/wasm_bench.ts` under Deno 2.9).
 */
export const AUTO_WASM_MAX = 8192;

/**
 * Message size (plaintext bytes) from which `"auto"` hands a message to the
 * native backend. Below it the pure backend is faster (measured with
 * `bench/cipher_bench.ts` under Deno 2.9).
 */
export const AUTO_NATIVE_MIN = 1536;

/**
 * Where the native backend is libcrypto called through `bun:ffi` (Bun, whose
 * WebAssembly runs at about a third of V8's speed and whose native calls
 * cost little setup), `"auto"` hands messages to it from this many plaintext
 * bytes (measured crossover with Bun 1.4: between 256 and 512).
 */
const AUTO_BUN_FFI_MIN = 512;
/**
 * The same through Deno's FFI: the measured crossover with the WebAssembly
 * backend in Deno 2.9 (both about 250 MB/s seal + open at 1 KiB; FFI 1.5× at
 * 2 KiB, wasm 1.7× at 512 B).
 */
const AUTO_DENO_FFI_MIN = 1024;
/** The FFI thresholds by the native backend's source. */
const FFI_MIN: Readonly<Record<string, number>> = {
  [BUN_FFI_SOURCE]: AUTO_BUN_FFI_MIN,
  [DENO_FFI_SOURCE]: AUTO_DENO_FFI_MIN,
};

/**
 * Picks a backend per message by size: the in-process one (wasm, else pure)
 * for small messages, native for large ones where available.
 *
 * @example
 * ```ts
 * import { AutoAead } from "./backend.ts";
 * const aead = new AutoAead();
 * const out = new Uint8Array(3 + 16);
 * aead.seal(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(3), out);
 * console.assert(aead.name === "auto");
 * ```
 */
export class AutoAead implements AeadBackend {
  /** Always `"auto"`. */
  readonly name: string = "auto";
  /** The in-process backend for small messages: wasm where available, else pure. */
  #small: PureAead | WasmAead;
  #native: NativeAead | undefined;
  #threshold: number;

  /**
   * `threshold`: plaintext bytes from which native is used (default
   * {@linkcode AUTO_WASM_MAX} with wasm, {@linkcode AUTO_NATIVE_MIN} without;
   * 512 where native is libcrypto through `bun:ffi`, 1,024 through Deno's FFI).
   */
  constructor(threshold?: number) {
    if (threshold !== undefined && !(threshold >= 0)) {
      throw new RangeError(`threshold must be ≥ 0, got ${threshold}`);
    }
    const wasm = wasmAeadAvailable();
    this.#small = wasm ? new WasmAead() : new PureAead();
    const native = this.#native = nativeAeadAvailable() ? new NativeAead() : undefined;
    this.#threshold = threshold ?? FFI_MIN[native?.source ?? ""] ??
      (wasm ? AUTO_WASM_MAX : AUTO_NATIVE_MIN);
  }

  /** Zeroes the in-process backend's scratch (see {@linkcode PureAead.wipe}). */
  wipe(): void {
    this.#small.wipe();
  }

  /** The backend used below the threshold: `"wasm"` or `"pure"`. */
  get small(): string {
    return this.#small.name;
  }

  /** Plaintext bytes from which messages go to the native backend (when there is one). */
  get threshold(): number {
    return this.#threshold;
  }

  /** Whether large messages go to the native backend in this runtime. */
  get usesNative(): boolean {
    return this.#native !== undefined;
  }

  /** The backend for a message of `length` plaintext bytes. */
  #for(length: number): AeadBackend {
    return this.#native !== undefined && length >= this.#threshold ? this.#native : this.#small;
  }

  /** See {@linkcode AeadBackend.seal}. */
  seal(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
  ): void {
    this.#for(plaintext.length).seal(key, nonce, aad, plaintext, out);
  }

  /** See {@linkcode AeadBackend.sealParts} (native's where it takes the message). */
  sealParts(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    head: Uint8Array,
    tail: Uint8Array,
    out: Uint8Array,
  ): void {
    sealPartsWith(this.#for(head.length + tail.length), key, nonce, aad, head, tail, out);
  }

  /** See {@linkcode AeadBackend.open}. */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    out: Uint8Array,
  ): boolean {
    return this.#for(ciphertext.length - AEAD_TAG_LEN).open(key, nonce, aad, ciphertext, out);
  }
}

/**
 * Creates a backend by name. `"native"` throws an `Error` when the runtime
 * has no usable native ChaCha20-Poly1305 (e.g. in a browser).
 *
 * @example
 * ```ts
 * import { createAeadBackend } from "@bip324/bip324/cipher";
 * console.assert(createAeadBackend("pure").name === "pure");
 * ```
 */
export function createAeadBackend(kind: AeadBackendKind = "auto"): AeadBackend {
  // Backends keep only scratch state that lives within one synchronous seal/open call
  // (and is wiped after it), so one instance of each kind serves every cipher: an idle
  // session then costs no backend memory of its own.
  switch (kind) {
    case "pure":
      return shared.pure ??= new PureAead();
    case "native":
      if (!nativeAeadAvailable()) {
        throw new Error(
          `backend "native" is unavailable: ${nativeAeadMissing()}; use "pure" or "auto"`,
        );
      }
      return shared.native ??= new NativeAead();
    case "wasm":
      if (!wasmAeadAvailable()) {
        throw new Error(
          'backend "wasm" is unavailable: this runtime cannot compile the WebAssembly module ' +
            'from bytes (Cloudflare Workers, a strict CSP) or has no WebAssembly SIMD; use "pure" ' +
            'or "auto", or compile it yourself and call initWasmAead(module)',
        );
      }
      return shared.wasm ??= new WasmAead();
    case "auto":
      return shared.auto ??= new AutoAead();
    default:
      throw new TypeError(
        `backend must be "pure", "native", "wasm" or "auto", got ${String(kind)}`,
      );
  }
}

const shared: { pure?: PureAead; native?: NativeAead; wasm?: WasmAead; auto?: AutoAead } = {};
