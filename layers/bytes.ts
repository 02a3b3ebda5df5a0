/**
 * Small byte helpers shared by the layers: argument checks that name the
 * argument, hex conversion, comparison and wiping.
 *
 * @module
 */

/**
 * Throws a `TypeError` unless `value` is a `Uint8Array`, and a `RangeError`
 * if `length` is given and differs.
 *
 * @example
 * ```ts
 * import { checkBytes } from "./bytes.ts";
 * checkBytes("key", new Uint8Array(32), 32);
 * ```
 */
export function checkBytes(name: string, value: unknown, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Lower-case hex encoding.
 *
 * @example
 * ```ts
 * import { toHex } from "@bip324/bip324";
 * console.assert(toHex(new Uint8Array([1, 255])) === "01ff");
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

/**
 * Decodes hex (either case); throws `TypeError` on odd length or a non-hex digit.
 *
 * @example
 * ```ts
 * import { fromHex } from "@bip324/bip324";
 * console.assert(fromHex("01ff")[1] === 255);
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError("hex must be a string of an even number of hex digits");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/**
 * Decodes standard base64 (with padding) to bytes; for the module artifacts,
 * whose text is trusted.
 *
 * @example
 * ```ts
 * import { base64Bytes } from "./bytes.ts";
 * console.assert(base64Bytes("AQL/")[2] === 255);
 * ```
 */
export function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text), out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * Constant-time equality of two byte arrays of the same length.
 *
 * @example
 * ```ts
 * import { bytesEqual } from "./bytes.ts";
 * console.assert(bytesEqual(new Uint8Array([1]), new Uint8Array([1])));
 * ```
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Concatenates byte arrays into a new one.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * console.assert(concatBytes(new Uint8Array([1]), new Uint8Array([2])).length === 2);
 * ```
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Overwrites secrets with zeros.
 *
 * @example
 * ```ts
 * import { wipe } from "./bytes.ts";
 * const key = new Uint8Array([1, 2]);
 * wipe(key);
 * console.assert(key[0] === 0);
 * ```
 */
export function wipe(...arrays: (Uint8Array | Uint32Array | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}

/**
 * Cryptographically secure random bytes from the runtime's Web Crypto.
 *
 * @example
 * ```ts
 * import { randomBytes } from "./bytes.ts";
 * console.assert(randomBytes(4).length === 4);
 * ```
 */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  }
  return out;
}

/**
 * A byte stream pair, as every transport provides: what the peer sends comes
 * out of `readable`, what is written to `writable` goes to the peer.
 */
export type BytePair = ReadableWritablePair<Uint8Array, Uint8Array>;

/** `ArrayBuffer.prototype.transfer` (ES2024), where the runtime has it (not Node.js 20). */
const transfer = (ArrayBuffer.prototype as { transfer?: (length?: number) => ArrayBuffer })
  .transfer;

/**
 * Frees an ArrayBuffer that nothing else references, at once where the runtime
 * can (`transfer(0)` detaches it and releases its memory, with no garbage
 * collection needed); elsewhere it is left to the garbage collector. For the
 * library's own buffers only: any view of `buffer` becomes empty.
 *
 * @example
 * ```ts ignore
 * const scratch = new Uint8Array(65536);
 * freeBuffer(scratch.buffer); // scratch.length is 0 now (where transfer exists)
 * ```
 */
export function freeBuffer(buffer: ArrayBufferLike | undefined): void {
  if (transfer !== undefined && buffer instanceof ArrayBuffer && buffer.byteLength > 0) {
    transfer.call(buffer, 0);
  }
}

/**
 * Room for `needed` bytes in a buffer whose first `used` bytes are kept:
 * `buffer` itself if it is big enough, else a new one of twice `needed`
 * (at least 256, at most `limit`) holding those bytes. For storage that grows
 * with the bytes that actually arrive.
 *
 * @example
 * ```ts ignore
 * let buf = new Uint8Array(0);
 * buf = growBuffer(buf, 0, 10, 1000); // 256 bytes
 * ```
 */
export function growBuffer(
  buffer: Uint8Array | undefined,
  used: number,
  needed: number,
  limit: number,
): Uint8Array {
  if (buffer !== undefined && buffer.length >= needed) return buffer;
  const grown = new Uint8Array(Math.min(limit, Math.max(256, 2 * needed)));
  if (buffer !== undefined) grown.set(buffer.subarray(0, used));
  return grown;
}

/**
 * Both ends of a byte pair in one object, as a session uses them: the
 * methods of a `ReadableStreamDefaultReader` (`read`, `cancel`) for what the
 * peer sends and of a `WritableStreamDefaultWriter` (`write`, `ready`,
 * `desiredSize`, `close`, `abort`) for what goes to it. A transport may offer
 * one under the symbol `Symbol.for("bip324.byteChannel")` (a method returning
 * the channel, or `undefined` once its streams are in use), so a session
 * drives it directly, without the stream objects; `memoryPair()` does.
 * Internal: sessions take one with `takeChannel` (`layers/channel.ts`).
 */
export interface ByteChannel {
  /** The next chunk from the peer, or `done` at its end. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  /**
   * Optional: reads the peer's next bytes straight into `target` (some of
   * it), resolving how many, or `null` at the end. A session uses it to land
   * a large packet's body where it will be decrypted, without a copy.
   */
  readInto?(target: Uint8Array): Promise<number | null>;
  /** Stops reading: the peer's writes fail from now on. */
  cancel(reason?: unknown): Promise<void>;
  /**
   * Sends a chunk; resolves once the transport can take more. `handedOver`:
   * the writer will never read or change the chunk again, so a transport
   * that would copy it to keep the two ends apart (`memoryPair`) need not.
   */
  write(chunk: Uint8Array, handedOver?: boolean): Promise<void>;
  /** Resolves when the transport can take more. */
  readonly ready: Promise<void>;
  /**
   * Optional: `true` when a written chunk is no longer referenced once its
   * write resolves (the transport copied it: a socket, a structured clone), so
   * the writer may reuse the buffer. Default: it may be kept.
   */
  readonly releasesWrites?: boolean;
  /** Room before writes wait (≤ 0: the transport pushes back); `null` once failed. */
  readonly desiredSize: number | null;
  /** Ends our side after what was written (the peer reads `done`). */
  close(): Promise<void>;
  /**
   * Optional, for sockets: after {@linkcode ByteChannel.close}, the reading
   * side is no longer wanted, but closing a socket with unread bytes resets
   * the connection, and a reset can make the peer lose what we sent last.
   * So it keeps reading, dropping what the peer still sends, until the peer's
   * end or `ms` have passed, then closes the connection. Resolves then:
   * `true` when `ms` ran out while the peer was still sending (bytes came
   * in during the linger and its end did not), so closing may have been a
   * reset; else `false` (or nothing).
   */
  linger?(ms: number): Promise<boolean | void>;
  /** Ends our side at once, dropping what is queued (the peer's reads fail). */
  abort(reason?: unknown): Promise<void>;
  /** Hands the pair back (the streams' locks are released where there are streams). */
  release(): void;
}
