/**
 * The native backend through the system's OpenSSL `libcrypto`
 * (`libcrypto.so.3`, else `libcrypto.so.1.1`) called by FFI, on Linux:
 * - in Bun, whose `node:crypto` has no `chacha20-poly1305` (its BoringSSL
 *   does not expose it), through `bun:ffi`;
 * - in Deno, where it is two to three times faster than `node:crypto` at
 *   every size (no fresh output buffer per call), through `Deno.dlopen` —
 *   only when the FFI permission is already granted (`--allow-ffi` or `-A`):
 *   it is queried, never prompted for.
 *
 * Found at run time only (`bun:ffi` comes through `process.getBuiltinModule`,
 * never a static import), accepted only after a self-test against the pure
 * backend; anywhere else (not Linux, no libcrypto, no FFI) it is simply
 * absent. Internal: it is what `NativeAead` runs on such a runtime.
 *
 * Each call initialises an OpenSSL cipher context with the key and nonce and
 * resets it afterwards, which cleanses the key schedule, so no key outlives
 * the call in native memory.
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

const EMPTY = new Uint8Array(0);

/** OpenSSL's `EVP_CTRL_AEAD_GET_TAG` and `EVP_CTRL_AEAD_SET_TAG`. */
const GET_TAG = 0x10;
const SET_TAG = 0x11;
/**
 * Where a long `EVP_EncryptUpdate` should start, in bytes from the start of the plaintext.
 * libcrypto's Poly1305 and ChaCha20 work on 16- and 64-byte blocks, and its wide (AVX-512)
 * paths on 128 bytes; an update that starts inside such a stride is slower over its whole
 * length (OpenSSL 3.0 on x86-64: +7 % for a 1 MiB tail behind a 2-byte head).
 */
const ALIGN = 128;
/** Tails from this size get the short update that brings the long one to ALIGN. */
const BRIDGE_FROM = 4096;
/** Library names tried in order (OpenSSL 3, then 1.1: both have every function used). */
const LIBRARIES = ["libcrypto.so.3", "libcrypto.so.1.1"];

type Ptr = unknown;
type Buf = Uint8Array | Int32Array | null;
/** The libcrypto functions this backend calls (all return 1 on success). */
interface LibCrypto {
  EVP_CIPHER_CTX_new(): Ptr;
  EVP_CIPHER_CTX_reset(ctx: Ptr): number;
  EVP_chacha20_poly1305(): Ptr;
  EVP_EncryptInit_ex(ctx: Ptr, cipher: Ptr, engine: null, key: Buf, iv: Buf): number;
  EVP_EncryptUpdate(ctx: Ptr, out: Buf, outLength: Buf, input: Buf, inputLength: number): number;
  EVP_EncryptFinal_ex(ctx: Ptr, out: Buf, outLength: Buf): number;
  EVP_DecryptInit_ex(ctx: Ptr, cipher: Ptr, engine: null, key: Buf, iv: Buf): number;
  EVP_DecryptUpdate(ctx: Ptr, out: Buf, outLength: Buf, input: Buf, inputLength: number): number;
  EVP_DecryptFinal_ex(ctx: Ptr, out: Buf, outLength: Buf): number;
  EVP_CIPHER_CTX_ctrl(ctx: Ptr, type: number, arg: number, data: Buf): number;
}

const P = "ptr", I = "i32";
/** Signatures in `bun:ffi`'s notation. */
const SIGNATURES = {
  EVP_CIPHER_CTX_new: { args: [], returns: P },
  EVP_CIPHER_CTX_reset: { args: [P], returns: I },
  EVP_chacha20_poly1305: { args: [], returns: P },
  EVP_EncryptInit_ex: { args: [P, P, P, P, P], returns: I },
  EVP_EncryptUpdate: { args: [P, P, P, P, I], returns: I },
  EVP_EncryptFinal_ex: { args: [P, P, P], returns: I },
  EVP_DecryptInit_ex: { args: [P, P, P, P, P], returns: I },
  EVP_DecryptUpdate: { args: [P, P, P, P, I], returns: I },
  EVP_DecryptFinal_ex: { args: [P, P, P], returns: I },
  EVP_CIPHER_CTX_ctrl: { args: [P, I, I, P], returns: I },
} as const;

/** The slice of `bun:ffi` used here. */
interface BunFfi {
  dlopen(name: string, symbols: typeof SIGNATURES): { symbols: LibCrypto };
}

/** The slice of the `Deno` namespace used here. */
interface DenoFfi {
  dlopen(name: string, symbols: Record<string, DenoSignature>): { symbols: unknown };
  permissions?: { querySync?(descriptor: { name: "ffi" }): { state: string } };
  build?: { os?: string };
}
/** One function's signature for `Deno.dlopen`. */
export interface DenoSignature {
  parameters: ("pointer" | "buffer" | "i32")[];
  result: "pointer" | "i32";
}

/** SIGNATURES in `Deno.dlopen`'s notation: handles (context, cipher, engine) are pointers,
 * byte arrays and the length out-parameter are buffers. */
export function denoSignatures(): Record<string, DenoSignature> {
  const out: Record<string, DenoSignature> = {};
  for (const [name, sig] of Object.entries(SIGNATURES)) {
    const handles = name.endsWith("Init_ex") ? 3 : 1;
    out[name] = {
      parameters: sig.args.map((a, i) => a === I ? "i32" : i < handles ? "pointer" : "buffer"),
      result: sig.returns === I ? "i32" : "pointer",
    };
  }
  return out;
}

/** What {@linkcode findOpenSslFfi} says where no FFI applies (not Bun, not Deno with FFI). */
export const NO_FFI = "no FFI here";
/** {@linkcode OpenSslAead.source} through `bun:ffi` and through `Deno.dlopen`. */
export const BUN_FFI_SOURCE = "libcrypto (bun:ffi)";
export const DENO_FFI_SOURCE = "libcrypto (Deno FFI)";

/** The runtime's dlopen, adapted to SIGNATURES, or why there is none. */
function ffiOf(scope: object): { open: (name: string) => LibCrypto; source: string } | string {
  const g = scope as {
    Bun?: unknown;
    Deno?: DenoFfi;
    process?: { platform?: string; getBuiltinModule?: (name: string) => unknown };
  };
  if (typeof g.Bun === "object" && g.Bun !== null) {
    if (g.process?.platform !== "linux") return "bun:ffi libcrypto is used on Linux only";
    let ffi: BunFfi;
    try {
      ffi = g.process.getBuiltinModule?.("bun:ffi") as BunFfi;
      if (typeof ffi?.dlopen !== "function") return "no bun:ffi";
    } catch {
      return "no bun:ffi";
    }
    return { open: (name) => ffi.dlopen(name, SIGNATURES).symbols, source: BUN_FFI_SOURCE };
  }
  const deno = g.Deno;
  if (typeof deno?.dlopen !== "function" || deno.build?.os !== "linux") return NO_FFI;
  try {
    if (deno.permissions?.querySync?.({ name: "ffi" }).state !== "granted") return NO_FFI;
  } catch {
    return NO_FFI;
  }
  const signatures = denoSignatures();
  return {
    open: (name) => deno.dlopen(name, signatures).symbols as LibCrypto,
    source: DENO_FFI_SOURCE,
  };
}

/**
 * Loads libcrypto through the runtime's FFI (see the module doc) when its
 * ChaCha20-Poly1305 agrees with the pure backend; otherwise returns why it
 * is not available ({@linkcode NO_FFI} where no FFI applies). Never throws.
 */
export function findOpenSslFfi(scope: object = globalThis): OpenSslAead | string {
  const ffi = ffiOf(scope);
  if (typeof ffi === "string") return ffi;
  const reasons: string[] = [];
  for (const name of LIBRARIES) {
    try {
      const aead = new OpenSslAead(ffi.open(name), ffi.source);
      if (agreesWithPure(aead)) return aead;
      reasons.push(`${name} failed the self-test`);
    } catch (error) {
      reasons.push(`${name}: ${(error as Error)?.message ?? error}`);
    }
  }
  const via = ffi.source === BUN_FFI_SOURCE ? "bun:ffi" : "Deno FFI";
  return `no usable libcrypto through ${via} (${reasons.join("; ")})`;
}

/** ChaCha20-Poly1305 through libcrypto's EVP interface (see the module doc). */
export class OpenSslAead implements AeadBackend {
  /** Always `"native"`. */
  readonly name: string = "native";
  /** How libcrypto is reached: {@linkcode BUN_FFI_SOURCE} or {@linkcode DENO_FFI_SOURCE}. */
  readonly source: string;
  #c: LibCrypto;
  #ctx: Ptr;
  #cipher: Ptr;
  #outLength = new Int32Array(1);
  #tail = new Uint8Array(AEAD_TAG_LEN);

  /** Wraps loaded libcrypto symbols, reached through `source`. */
  constructor(symbols: LibCrypto, source: string = BUN_FFI_SOURCE) {
    this.source = source;
    this.#c = symbols;
    this.#ctx = symbols.EVP_CIPHER_CTX_new();
    this.#cipher = symbols.EVP_chacha20_poly1305();
    if (!this.#ctx || !this.#cipher) throw new Error("libcrypto has no chacha20-poly1305");
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
    this.#seal(key, nonce, aad, plaintext, EMPTY, out, length);
  }

  /** See {@linkcode AeadBackend.sealParts}: `EVP_EncryptUpdate` on each part where it is. */
  sealParts(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    head: Uint8Array,
    tail: Uint8Array,
    out: Uint8Array,
  ): void {
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
    const c = this.#c, ctx = this.#ctx, n = this.#outLength;
    try {
      let ok = c.EVP_EncryptInit_ex(ctx, this.#cipher, null, key, nonce) === 1;
      if (ok && aad.length > 0) ok = c.EVP_EncryptUpdate(ctx, null, n, aad, aad.length) === 1;
      if (ok && head.length > 0) ok = c.EVP_EncryptUpdate(ctx, out, n, head, head.length) === 1;
      if (ok && tail.length > 0) {
        // The cipher keeps its place within a keystream block between updates. A large tail
        // first gets a short update up to the next ALIGN boundary, so that the long one starts
        // there, as it would in one update of the whole.
        const bridge = tail.length >= BRIDGE_FROM ? (ALIGN - head.length % ALIGN) % ALIGN : 0;
        if (bridge > 0) {
          const to = out.subarray(head.length, head.length + bridge);
          ok = c.EVP_EncryptUpdate(ctx, to, n, tail.subarray(0, bridge), bridge) === 1;
        }
        const from = head.length + bridge;
        const rest = from === 0 ? out : out.subarray(from);
        const input = bridge === 0 ? tail : tail.subarray(bridge);
        ok = ok && c.EVP_EncryptUpdate(ctx, rest, n, input, input.length) === 1;
      }
      ok = ok && c.EVP_EncryptFinal_ex(ctx, this.#tail, n) === 1 &&
        c.EVP_CIPHER_CTX_ctrl(ctx, GET_TAG, AEAD_TAG_LEN, this.#tail) === 1;
      if (!ok) throw new Error("libcrypto chacha20-poly1305 seal failed");
      out.set(this.#tail, length);
    } finally {
      c.EVP_CIPHER_CTX_reset(ctx);
    }
  }

  /**
   * See {@linkcode AeadBackend.open}. In place (`out` starts at
   * `ciphertext`), a bad tag is answered by applying the keystream again,
   * which restores the ciphertext; otherwise the plaintext goes to a scratch
   * buffer first and reaches `out` only once the tag has verified.
   */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    out: Uint8Array,
  ): boolean {
    const length = openLength(key, nonce, aad, ciphertext, out);
    if (length < 0) return false;
    const inPlace = out.buffer === ciphertext.buffer && out.byteOffset === ciphertext.byteOffset;
    const target = inPlace ? out : new Uint8Array(length);
    const c = this.#c, ctx = this.#ctx, n = this.#outLength;
    let verified = false;
    try {
      this.#tail.set(ciphertext.subarray(length));
      let ok = c.EVP_DecryptInit_ex(ctx, this.#cipher, null, key, nonce) === 1 &&
        c.EVP_CIPHER_CTX_ctrl(ctx, SET_TAG, AEAD_TAG_LEN, this.#tail) === 1;
      if (ok && aad.length > 0) ok = c.EVP_DecryptUpdate(ctx, null, n, aad, aad.length) === 1;
      if (!ok) throw new Error("libcrypto chacha20-poly1305 open failed");
      if (length > 0 && c.EVP_DecryptUpdate(ctx, target, n, ciphertext, length) !== 1) {
        throw new Error("libcrypto chacha20-poly1305 open failed");
      }
      // OpenSSL compares the tag in constant time here.
      verified = c.EVP_DecryptFinal_ex(ctx, this.#tail, n) === 1;
      if (!verified && inPlace && length > 0) this.#restore(key, nonce, target, length);
    } finally {
      c.EVP_CIPHER_CTX_reset(ctx);
      if (!verified && !inPlace) target.fill(0); // unauthenticated plaintext
    }
    if (verified && !inPlace) out.set(target);
    return verified;
  }

  /** XORs the same keystream over `bytes` again: plaintext back to ciphertext. */
  #restore(key: Uint8Array, nonce: Uint8Array, bytes: Uint8Array, length: number): void {
    const c = this.#c, ctx = this.#ctx;
    c.EVP_CIPHER_CTX_reset(ctx);
    const ok = c.EVP_DecryptInit_ex(ctx, this.#cipher, null, key, nonce) === 1 &&
      c.EVP_DecryptUpdate(ctx, bytes, this.#outLength, bytes, length) === 1;
    if (!ok) {
      bytes.fill(0, 0, length); // never leave unauthenticated plaintext behind
      throw new Error("libcrypto chacha20-poly1305 open failed");
    }
  }

  /** Nothing to wipe: the cipher context is reset (cleansed) after every call. */
  wipe(): void {}
}
