// Shared test helpers: deterministic ciphers, raw peers, chunkers, deadlines.
import { Bip324Cipher } from "../layers/packet_cipher.ts";
import { ellswiftCreate } from "../layers/handshake/ellswift.ts";
import { Bip324Error, type Bip324ErrorCode } from "../layers/errors.ts";
import { concatBytes } from "../layers/bytes.ts";
import type { Session } from "../layers/session/session.ts";
import { openSession, type OpenSessionOptions } from "../layers/session/open.ts";
import { memoryPair } from "../transports/memory.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";

/** A cipher with a fixed key pair, so transcripts are reproducible. */
export function fixedCipher(seed: number, rekeyInterval?: number): Bip324Cipher {
  const priv = new Uint8Array(32).fill(seed);
  return new Bip324Cipher(priv, ellswiftCreate(priv, new Uint8Array(32).fill(seed)), rekeyInterval);
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits bytes into chunks: "single" (1-byte), "whole", or random sizes from a seed. */
export function chunk(bytes: Uint8Array, how: "single" | "whole" | number): Uint8Array[] {
  if (how === "whole") return [bytes];
  const out: Uint8Array[] = [];
  const rand = typeof how === "number" ? prng(how) : undefined;
  for (let i = 0; i < bytes.length;) {
    const n = rand ? 1 + Math.floor(rand() * 300) : 1;
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Asserts that `fn` (or a promise) fails with a Bip324Error of `code`. */
export function isCode(code: Bip324ErrorCode): (e: unknown) => boolean {
  return (e: unknown) => {
    if (e instanceof Bip324Error && e.code === code) return true;
    throw new Error(`expected Bip324Error ${code}, got ${e instanceof Bip324Error ? e.code : e}`);
  };
}

/** Rejects if `p` does not settle within `ms` (so a hang fails the test). */
export function within<T>(p: Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

/** Reads everything from a stream. */
export async function readAll<T>(readable: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of readable) out.push(x);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  return concatBytes(...parts);
}

/**
 * Reads a byte stream (a subprocess's stdout) as JSON lines, calling `onLine`
 * for each (a line that is not JSON arrives as `{ raw }`). Resolves at the end
 * of the stream with any unterminated last line.
 */
export async function readJsonLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: Record<string, unknown>) => void,
): Promise<string> {
  let buffer = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const raw = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(raw);
      } catch {
        line = { raw };
      }
      onLine(line);
    }
  }
  return buffer;
}

/** An established initiator/responder session pair over an in-memory transport (regtest). */
export async function sessionPair(
  a: Partial<OpenSessionOptions> = {},
  b: Partial<OpenSessionOptions> = {},
): Promise<[Session, Session]> {
  const [x, y] = memoryPair();
  return await Promise.all([
    openSession(x, { role: "initiator", network: "regtest", ...a }),
    openSession(y, { role: "responder", network: "regtest", ...b }),
  ]);
}

/** A message of `type` whose payload is `bytes`. */
export const msg = (type: string, ...bytes: number[]): Message => ({
  type,
  payload: new Uint8Array(bytes),
});

/** Seals with an AEAD backend into a new buffer (plaintext + 16-byte tag). */
export function sealWith(
  b: {
    seal(
      key: Uint8Array,
      nonce: Uint8Array,
      aad: Uint8Array,
      pt: Uint8Array,
      out: Uint8Array,
    ): void;
  },
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  pt: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(pt.length + 16);
  b.seal(key, nonce, aad, pt, out);
  return out;
}

/** Whether this machine has an OpenSSL libcrypto that FFI (Bun's, or Deno's) can load. */
export function systemLibcrypto(): boolean {
  for (const name of ["libcrypto.so.3", "libcrypto.so.1.1"]) {
    try {
      Deno.dlopen(name, {}).close();
      return true;
    } catch {
      // try the next one
    }
  }
  return false;
}

/**
 * Runs `code` (a module's source) in a worker of its own, posts it `message`
 * if given, and returns the first thing it posts back (or rejects with its
 * error); the worker is terminated either way.
 */
export async function runInWorker(code: string, message?: unknown): Promise<unknown> {
  const blob = URL.createObjectURL(new Blob([code], { type: "application/javascript" }));
  const worker = new Worker(blob, { type: "module" });
  try {
    return await new Promise((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(e.message));
      if (message !== undefined) worker.postMessage(message);
    });
  } finally {
    worker.terminate();
    URL.revokeObjectURL(blob);
  }
}
