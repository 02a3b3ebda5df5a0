/**
 * The legacy (v1) transport framing, pure and sans-I/O: a 24-byte header —
 * 4-byte network magic, 12-byte NUL-padded ASCII command, uint32 LE payload
 * length, and the first 4 bytes of double-SHA256(payload) — then the payload.
 *
 * {@linkcode V1Decoder} takes bytes as they arrive, split anywhere, and
 * returns whole messages; incomplete input simply waits for more. Each input
 * byte is copied once, so the work is linear in the input, and a header
 * announcing more than the limit is rejected before any of its payload is
 * buffered.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import type { Message } from "../aliasing/aliasing.ts";
import { bytesEqual, checkBytes, toHex } from "../bytes.ts";
import { Bip324Error } from "../errors.ts";

export type { Message } from "../aliasing/aliasing.ts";

/** Bytes in a v1 message header. */
export const V1_HEADER_LEN = 24;
/** Bytes of the command (message type) field of a v1 header. */
export const V1_COMMAND_LEN = 12;
/** Bytes of the checksum field of a v1 header. */
export const V1_CHECKSUM_LEN = 4;
/**
 * Bitcoin Core's `MAX_PROTOCOL_MESSAGE_LENGTH`: the largest payload (not
 * counting the header) a v1 peer accepts, 4,000,000 bytes.
 */
export const MAX_PROTOCOL_MESSAGE_LENGTH = 4_000_000;

/** Payload storage allocated when a header arrives; more is allocated as bytes arrive. */
const INITIAL_PAYLOAD_CAPACITY = 64 * 1024;

const MAGIC_LEN = 4;
const LENGTH_OFFSET = MAGIC_LEN + V1_COMMAND_LEN;
const CHECKSUM_OFFSET = LENGTH_OFFSET + 4;

function isCommandChar(c: number): boolean {
  // Bitcoin Core's CMessageHeader::IsMessageTypeValid: ' '..'~'.
  return c >= 0x20 && c <= 0x7e;
}

function framingError(message: string): Bip324Error {
  return new Bip324Error("V1_FRAMING", message, { origin: "peer" });
}

/**
 * The v1 checksum: the first 4 bytes of SHA256(SHA256(payload)).
 *
 * @example
 * ```ts
 * import { v1Checksum } from "@bip324/bip324/layers";
 * import { toHex } from "@bip324/bip324";
 * console.assert(toHex(v1Checksum(new Uint8Array(0))) === "5df6e0e2");
 * ```
 */
export function v1Checksum(payload: Uint8Array): Uint8Array {
  checkBytes("payload", payload);
  return sha256(sha256(payload)).subarray(0, V1_CHECKSUM_LEN);
}

/**
 * Frames one v1 message: header (magic, NUL-padded command, length,
 * checksum) followed by the payload. `type` must be 1..12 characters of
 * printable ASCII (0x20..0x7e, what v1 receivers accept).
 *
 * @example The `verack` of mainnet
 * ```ts
 * import { encodeV1Message } from "@bip324/bip324/layers";
 * import { NETWORK_MAGIC } from "@bip324/bip324/bitcoin";
 * import { toHex } from "@bip324/bip324";
 * const wire = encodeV1Message(NETWORK_MAGIC.mainnet, "verack", new Uint8Array(0));
 * console.assert(toHex(wire) === "f9beb4d976657261636b000000000000000000005df6e0e2");
 * ```
 */
export function encodeV1Message(magic: Uint8Array, type: string, payload: Uint8Array): Uint8Array {
  checkBytes("magic", magic, MAGIC_LEN);
  if (typeof type !== "string") throw new TypeError(`type must be a string, got ${typeof type}`);
  if (type.length === 0 || type.length > V1_COMMAND_LEN) {
    throw new TypeError(
      `type must be 1..${V1_COMMAND_LEN} characters, got ${JSON.stringify(type)}`,
    );
  }
  for (let i = 0; i < type.length; i++) {
    if (!isCommandChar(type.charCodeAt(i))) {
      throw new TypeError(`type must be printable ASCII (0x20..0x7e), got ${JSON.stringify(type)}`);
    }
  }
  checkBytes("payload", payload);
  if (payload.length > 0xffff_ffff) {
    throw new RangeError(`payload must be at most ${0xffff_ffff} bytes, got ${payload.length}`);
  }
  const out = new Uint8Array(V1_HEADER_LEN + payload.length);
  out.set(magic, 0);
  for (let i = 0; i < type.length; i++) out[MAGIC_LEN + i] = type.charCodeAt(i);
  new DataView(out.buffer).setUint32(LENGTH_OFFSET, payload.length, true);
  out.set(v1Checksum(payload), CHECKSUM_OFFSET);
  out.set(payload, V1_HEADER_LEN);
  return out;
}

/** Options for {@linkcode V1Decoder}. */
export interface V1DecoderOptions {
  /** The 4-byte network magic every message must start with. */
  magic: Uint8Array;
  /**
   * The largest payload accepted, in bytes (the header is not counted);
   * defaults to {@linkcode MAX_PROTOCOL_MESSAGE_LENGTH}. The decoder never
   * holds more than this plus one header.
   */
  maxMessageSize?: number;
}

/**
 * A sans-I/O v1 message decoder. Feed it bytes with
 * {@linkcode V1Decoder.push} in chunks of any size; it returns each message
 * as soon as its last byte arrives.
 *
 * A wrong magic, a bad command, an oversized length or a bad checksum throw
 * {@linkcode Bip324Error} (`V1_FRAMING`, or `OVERSIZED` for the length). The
 * decoder is then dead: every later call throws the same error. If a chunk
 * completes some messages before the error, `push` returns them and the
 * error is thrown by the next call, so a stream yields the same messages
 * however it is split.
 *
 * Bitcoin Core checks the magic and length the same way but only drops (does
 * not disconnect for) a message with a bad checksum or command; this decoder
 * is stricter and fails.
 *
 * @example
 * ```ts
 * import { encodeV1Message, V1Decoder } from "@bip324/bip324/layers";
 * import { NETWORK_MAGIC } from "@bip324/bip324/bitcoin";
 * const wire = encodeV1Message(NETWORK_MAGIC.regtest, "ping", new Uint8Array(8));
 * const decoder = new V1Decoder({ magic: NETWORK_MAGIC.regtest });
 * console.assert(decoder.push(wire.subarray(0, 10)).length === 0);
 * const [msg] = decoder.push(wire.subarray(10));
 * console.assert(msg.type === "ping" && msg.payload.length === 8);
 * ```
 */
export class V1Decoder {
  #magic: Uint8Array;
  #max: number;
  #header = new Uint8Array(V1_HEADER_LEN);
  #headerFill = 0;
  #type = "";
  #payload: Uint8Array | undefined;
  #payloadLength = 0;
  #payloadFill = 0;
  #error: Bip324Error | undefined;

  /** Creates a decoder for one connection. */
  constructor(options: V1DecoderOptions) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("options must be an object { magic, maxMessageSize? }");
    }
    this.#magic = checkBytes("options.magic", options.magic, MAGIC_LEN).slice();
    const max = options.maxMessageSize ?? MAX_PROTOCOL_MESSAGE_LENGTH;
    if (typeof max !== "number" || !Number.isInteger(max)) {
      throw new TypeError(`options.maxMessageSize must be an integer, got ${String(max)}`);
    }
    if (max < 0 || max > 0xffff_ffff) {
      throw new RangeError(`options.maxMessageSize must be in 0..${0xffff_ffff}, got ${max}`);
    }
    this.#max = max;
  }

  /** The largest payload this decoder accepts. */
  get maxMessageSize(): number {
    return this.#max;
  }

  /** Bytes of an incomplete message held (0 between messages). */
  get buffered(): number {
    return this.#headerFill + this.#payloadFill;
  }

  /** Bytes of payload storage currently allocated (grows with the bytes received). */
  get reserved(): number {
    return this.#payload?.length ?? 0;
  }

  /** The least number of bytes that must arrive before the next message can complete. */
  get bytesNeeded(): number {
    if (this.#payload === undefined) return V1_HEADER_LEN - this.#headerFill;
    return this.#payloadLength - this.#payloadFill;
  }

  /**
   * Consumes `chunk` (which is not retained) and returns every message it
   * completed, in order; payloads are fresh copies.
   */
  push(chunk: Uint8Array): Message[] {
    if (this.#error) throw this.#error;
    checkBytes("chunk", chunk);
    const out: Message[] = [];
    try {
      let pos = 0;
      while (pos < chunk.length) {
        if (this.#payload === undefined) {
          const before = this.#headerFill;
          const n = Math.min(V1_HEADER_LEN - before, chunk.length - pos);
          this.#header.set(chunk.subarray(pos, pos + n), before);
          this.#headerFill += n;
          pos += n;
          if (before < MAGIC_LEN && this.#headerFill >= MAGIC_LEN) this.#checkMagic();
          if (this.#headerFill < V1_HEADER_LEN) break;
          this.#startPayload();
        } else {
          const n = Math.min(this.#payloadLength - this.#payloadFill, chunk.length - pos);
          this.#reserve(this.#payloadFill + n);
          this.#payload!.set(chunk.subarray(pos, pos + n), this.#payloadFill);
          this.#payloadFill += n;
          pos += n;
        }
        if (this.#payload !== undefined && this.#payloadFill === this.#payloadLength) {
          out.push(this.#finishMessage());
        }
      }
    } catch (e) {
      if (!(e instanceof Bip324Error)) throw e;
      this.#error = e;
      if (out.length > 0) return out;
      throw e;
    }
    return out;
  }

  /**
   * Call at end of input: throws the pending error of an earlier
   * {@linkcode V1Decoder.push}, or `UNEXPECTED_EOF` if a message is
   * incomplete.
   */
  finish(): void {
    if (this.#error) throw this.#error;
    if (this.buffered > 0) {
      throw new Bip324Error(
        "UNEXPECTED_EOF",
        `v1 stream ended inside a message (${this.buffered} bytes buffered)`,
        { origin: "peer" },
      );
    }
  }

  #checkMagic(): void {
    const got = this.#header.subarray(0, MAGIC_LEN);
    if (!bytesEqual(got, this.#magic)) {
      throw framingError(
        `v1 header.magic: expected ${toHex(this.#magic)}, got ${toHex(got)}`,
      );
    }
  }

  #startPayload(): void {
    const h = this.#header;
    const length = new DataView(h.buffer).getUint32(LENGTH_OFFSET, true);
    if (length > this.#max) {
      throw new Bip324Error(
        "OVERSIZED",
        `v1 header.length: ${length} bytes exceeds the maximum of ${this.#max}`,
        { origin: "peer" },
      );
    }
    let end = 0;
    while (end < V1_COMMAND_LEN && h[MAGIC_LEN + end] !== 0) {
      if (!isCommandChar(h[MAGIC_LEN + end])) {
        throw framingError(`v1 header.command: byte ${end} is not printable ASCII`);
      }
      end++;
    }
    if (end === 0) throw framingError("v1 header.command: empty");
    for (let i = end; i < V1_COMMAND_LEN; i++) {
      if (h[MAGIC_LEN + i] !== 0) throw framingError("v1 header.command: padding is not all NUL");
    }
    this.#type = String.fromCharCode(...h.subarray(MAGIC_LEN, MAGIC_LEN + end));
    // Storage grows with the bytes that actually arrive: a 24-byte header announcing
    // 4 MB must not make us reserve 4 MB.
    this.#payload = new Uint8Array(Math.min(length, INITIAL_PAYLOAD_CAPACITY));
    this.#payloadLength = length;
    this.#payloadFill = 0;
  }

  /** Grows the payload buffer (doubling, capped at the announced length) to hold `size` bytes. */
  #reserve(size: number): void {
    const current = this.#payload!;
    if (size <= current.length) return;
    let capacity = Math.max(current.length * 2, 1);
    while (capacity < size) capacity *= 2;
    const next = new Uint8Array(Math.min(capacity, this.#payloadLength));
    next.set(current.subarray(0, this.#payloadFill));
    this.#payload = next;
  }

  #finishMessage(): Message {
    const payload = this.#payload as Uint8Array;
    const expected = this.#header.subarray(CHECKSUM_OFFSET, V1_HEADER_LEN);
    const actual = v1Checksum(payload);
    if (!bytesEqual(actual, expected)) {
      throw framingError(
        `v1 header.checksum: "${this.#type}" expected ${toHex(expected)}, payload hashes to ${
          toHex(actual)
        }`,
      );
    }
    const message = { type: this.#type, payload };
    this.#payload = undefined;
    this.#payloadLength = 0;
    this.#payloadFill = 0;
    this.#headerFill = 0;
    return message;
  }
}
