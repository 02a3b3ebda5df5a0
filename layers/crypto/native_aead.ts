/**
 * The native ChaCha20-Poly1305 backend: on Linux, the system's OpenSSL
 * `libcrypto` through FFI where the runtime offers it (Bun's `bun:ffi`; Deno's
 * `Deno.dlopen` when the FFI permission is granted — see `openssl_ffi.ts`),
 * else `node:crypto`'s `chacha20-poly1305` cipher (Node.js, Deno). Bun's
 * `node:crypto` lacks it.
 *
 * `node:crypto` is never imported statically, so bundles for browsers stay
 * free of it. It is looked up once, on first use, with
 * `globalThis.process.getBuiltinModule("node:crypto")` (Node.js ≥ 20.16,
 * Deno 2, Bun), and accepted only after a self-test against the pure
 * backend.
 *
 * @module
 */

import {
  AEAD_TAG_LEN,
  type AeadBackend,
  openLength,
  sealLength,
  sealPartsLength,
} from "./aead_types.ts";
import { agreesWithPure } from "./pure_aead.ts";
import {
  BUN_FFI_SOURCE,
  DENO_FFI_SOURCE,
  findOpenSslFfi,
  NO_FFI,
  type OpenSslAead,
} from "./openssl_ffi.ts";

const ALGORITHM = "chacha20-poly1305";
const EMPTY = new Uint8Array(0);
const OPTIONS = { authTagLength: AEAD_TAG_LEN } as const;
/** Bytes per `update` call: large messages go through in steps of this size (see `seal`). */
const STEP = 64 * 1024;

/** Runs `input` through `cipher` in steps, writing the output to `out` from `at`; returns the end. */
function updateInto(cipher: NodeCipher, input: Uint8Array, out: Uint8Array, at: number): number {
  for (let from = 0; from < input.length; from += STEP) {
    const piece = cipher.update(input.subarray(from, Math.min(input.length, from + STEP)));
    out.set(piece, at);
    at += piece.length;
  }
  return at;
}

/** The slice of a `node:crypto` Cipher/Decipher object this backend uses. */
export interface NodeCipher {
  /** Sets the additional authenticated data. */
  setAAD(aad: Uint8Array): unknown;
  /** Sets the expected tag (decipher only). */
  setAuthTag(tag: Uint8Array): unknown;
  /** Processes data; returns the output produced so far. */
  update(data: Uint8Array): Uint8Array;
  /** Finishes; a decipher throws here when the tag does not verify. */
  final(): Uint8Array;
  /** The computed tag (cipher only, after `final`). */
  getAuthTag(): Uint8Array;
}

/** The slice of `node:crypto` this backend uses. */
export interface NodeCrypto {
  /** `crypto.createCipheriv`. */
  createCipheriv(alg: string, key: Uint8Array, iv: Uint8Array, options: object): NodeCipher;
  /** `crypto.createDecipheriv`. */
  createDecipheriv(alg: string, key: Uint8Array, iv: Uint8Array, options: object): NodeCipher;
}

export { BUN_FFI_SOURCE, DENO_FFI_SOURCE };

let detected: NodeCrypto | null | undefined;
/** libcrypto through the runtime's FFI, where that works (preferred to `node:crypto`). */
let viaFfi: OpenSslAead | undefined;
/** Why the last {@linkcode findNativeCrypto} call found nothing (for error messages). */
let missing = "";

/** This runtime's name and version, for error messages. */
function runtimeLabel(scope: object): string {
  const g = scope as {
    Deno?: { version?: { deno?: string } };
    Bun?: { version?: string };
    process?: { versions?: { node?: string } };
  };
  if (g.Deno?.version?.deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun?.version) return `Bun ${g.Bun.version}`;
  if (g.process?.versions?.node) return `Node.js ${g.process.versions.node}`;
  return "this runtime";
}

/**
 * Looks up `node:crypto` through `scope.process.getBuiltinModule` (no static
 * import, so bundlers never see it) and returns it if its
 * `chacha20-poly1305` passes a self-test against the pure backend; otherwise
 * null. Never throws. Uncached: {@linkcode nativeAeadAvailable} caches the
 * answer for `globalThis`.
 *
 * @example
 * ```ts
 * import { findNativeCrypto } from "./native_aead.ts";
 * console.assert(findNativeCrypto({}) === null); // e.g. a browser: no process
 * ```
 */
export function findNativeCrypto(scope: object = globalThis): NodeCrypto | null {
  try {
    const where = runtimeLabel(scope);
    const proc = (scope as { process?: { getBuiltinModule?: unknown } }).process;
    const get = proc?.getBuiltinModule;
    if (typeof get !== "function") {
      missing = `${where} has no process.getBuiltinModule (no node:crypto)`;
      return null;
    }
    const mod = get.call(proc, "node:crypto") as Partial<NodeCrypto> | undefined;
    if (typeof mod?.createCipheriv !== "function" || typeof mod.createDecipheriv !== "function") {
      missing = `${where} has no node:crypto createCipheriv`;
      return null;
    }
    missing = `${where}'s node:crypto failed the ${ALGORITHM} self-test`;
    return selfTest(mod as NodeCrypto) ? mod as NodeCrypto : null;
  } catch (error) {
    // No such cipher (Bun: "Unknown cipher"), a sandboxed module, …: not from node:crypto.
    missing = `${runtimeLabel(scope)}'s node:crypto has no ${ALGORITHM} (${
      (error as Error)?.message ?? error
    })`;
    return null;
  }
}

/** Seals and opens one message natively and checks it against the pure backend. */
function selfTest(crypto: NodeCrypto): boolean {
  return agreesWithPure(new NativeAead(crypto));
}

/**
 * Whether the native backend works in this runtime: `node:crypto` is
 * reachable without a static import, has `chacha20-poly1305`, and passes a
 * self-test. Decided once and cached; never throws.
 *
 * @example
 * ```ts
 * import { nativeAeadAvailable } from "@bip324/bip324/cipher";
 * console.assert(typeof nativeAeadAvailable() === "boolean");
 * ```
 */
export function nativeAeadAvailable(): boolean {
  if (detected === undefined) {
    const ffi = findOpenSslFfi(globalThis);
    if (typeof ffi !== "string") {
      viaFfi = ffi;
      detected = null;
    } else {
      detected = findNativeCrypto(globalThis);
      if (detected === null && ffi !== NO_FFI) missing += `; ${ffi}`;
    }
  }
  return detected !== null || viaFfi !== undefined;
}

/**
 * Why the native backend is unavailable here (e.g. `"Bun 1.4.4's node:crypto
 * has no chacha20-poly1305 (Unknown cipher); no usable libcrypto through
 * bun:ffi (…)"`), or `undefined` when it is available.
 *
 * @example
 * ```ts
 * import { nativeAeadAvailable, nativeAeadMissing } from "./native_aead.ts";
 * console.assert(nativeAeadAvailable() === (nativeAeadMissing() === undefined));
 * ```
 */
export function nativeAeadMissing(): string | undefined {
  return nativeAeadAvailable() ? undefined : missing;
}

/**
 * ChaCha20-Poly1305 through `node:crypto`. Each call creates one native
 * cipher object (node:crypto cannot re-key one), so small messages pay a
 * fixed setup cost; large ones run at OpenSSL speed.
 *
 * @example
 * ```ts
 * import { NativeAead, nativeAeadAvailable } from "./native_aead.ts";
 * if (nativeAeadAvailable()) {
 *   const aead = new NativeAead(), key = new Uint8Array(32), nonce = new Uint8Array(12);
 *   const box = new Uint8Array(1 + 16);
 *   aead.seal(key, nonce, new Uint8Array(0), Uint8Array.of(42), box);
 *   const out = new Uint8Array(1);
 *   console.assert(aead.open(key, nonce, new Uint8Array(0), box, out) && out[0] === 42);
 * }
 * ```
 */
export class NativeAead implements AeadBackend {
  /** Always `"native"`. */
  readonly name: string = "native";
  #crypto: NodeCrypto;
  #ffi: OpenSslAead | undefined;

  /**
   * Uses libcrypto through FFI where found, else the detected `node:crypto`;
   * throws an `Error` when {@linkcode nativeAeadAvailable} is false. `crypto`
   * (for tests) picks `node:crypto` explicitly.
   */
  constructor(crypto?: NodeCrypto) {
    if (crypto === undefined) {
      if (!nativeAeadAvailable()) {
        throw new Error(`backend "native" is unavailable: ${nativeAeadMissing()}`);
      }
      this.#ffi = viaFfi;
      crypto = detected as NodeCrypto;
    }
    this.#crypto = crypto;
  }

  /**
   * Where the cipher comes from: `"node:crypto"`, or libcrypto through FFI
   * ({@linkcode BUN_FFI_SOURCE}, {@linkcode DENO_FFI_SOURCE}).
   */
  get source(): string {
    return this.#ffi?.source ?? "node:crypto";
  }

  /** See {@linkcode AeadBackend.seal}. */
  seal(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
  ): void {
    if (this.#ffi !== undefined) return this.#ffi.seal(key, nonce, aad, plaintext, out);
    const length = sealLength(key, nonce, aad, plaintext, out);
    this.#seal(key, nonce, aad, plaintext, EMPTY, out, length);
  }

  /** See {@linkcode AeadBackend.sealParts}. */
  sealParts(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    head: Uint8Array,
    tail: Uint8Array,
    out: Uint8Array,
  ): void {
    if (this.#ffi !== undefined) return this.#ffi.sealParts(key, nonce, aad, head, tail, out);
    const length = sealPartsLength(key, nonce, aad, head, tail, out);
    this.#seal(key, nonce, aad, head, tail, out, length);
  }

  #seal(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    head: Uint8Array,
    tail: Uint8Array,
    out: Uint8Array,
    length: number,
  ): void {
    const cipher = this.#crypto.createCipheriv(ALGORITHM, key, nonce, OPTIONS);
    if (aad.length > 0) cipher.setAAD(aad);
    // In steps: each output is a small fresh buffer (warm heap memory) rather than one fresh
    // buffer as large as the message. Every step reads its input before its output is written
    // over it, so in-place use is safe.
    const at = updateInto(cipher, tail, out, updateInto(cipher, head, out, 0));
    const final = cipher.final();
    if (final.length > 0) out.set(final, at);
    out.set(cipher.getAuthTag(), length);
  }

  /** See {@linkcode AeadBackend.open}. */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    out: Uint8Array,
  ): boolean {
    if (this.#ffi !== undefined) return this.#ffi.open(key, nonce, aad, ciphertext, out);
    const length = openLength(key, nonce, aad, ciphertext, out);
    if (length < 0) return false;
    const decipher = this.#crypto.createDecipheriv(ALGORITHM, key, nonce, OPTIONS);
    decipher.setAuthTag(ciphertext.subarray(length));
    if (aad.length > 0) decipher.setAAD(aad);
    // In steps, as in seal; the pieces are held until the tag has verified, so `out` stays
    // untouched on failure.
    const first = decipher.update(ciphertext.subarray(0, Math.min(length, STEP)));
    const rest: Uint8Array[] = [];
    for (let from = STEP; from < length; from += STEP) {
      rest.push(decipher.update(ciphertext.subarray(from, Math.min(length, from + STEP))));
    }
    let tail: Uint8Array;
    try {
      tail = decipher.final(); // OpenSSL compares the tag in constant time
    } catch {
      first.fill(0); // unauthenticated plaintext
      for (const piece of rest) piece.fill(0);
      return false;
    }
    // Authenticated plaintext is handed to the application anyway: no need to wipe the pieces.
    out.set(first, 0);
    let at = first.length;
    for (const piece of rest) {
      out.set(piece, at);
      at += piece.length;
    }
    if (tail.length > 0) out.set(tail, at);
    return true;
  }
}
