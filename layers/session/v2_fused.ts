/**
 * The v2 hot path: the length, AEAD and aliasing layers fused into one
 * synchronous encoder and one synchronous decoder, used by a session when the
 * caller inserts no layers of their own. It calls the same cores as the
 * separate stream layers (`FSChaCha20`, `FSChaCha20Poly1305`,
 * `MessageTypeTable`) and produces the same bytes; it only saves the
 * intermediate arrays and the per-stage stream overhead:
 *
 * - encoding writes type, payload, header, tag and length into one buffer
 *   per packet (the only allocation is the returned packet);
 * - decoding takes a transport chunk holding any number of packets and
 *   returns all the messages in it at once, decrypting in place.
 *
 * @module
 */

import { TAG_LEN } from "../aead/aead.ts";
import {
  DEFAULT_MESSAGE_TYPES,
  type Message,
  type MessageTypeTable,
} from "../aliasing/aliasing.ts";
import { ByteQueue } from "../byte_queue.ts";
import { checkBytes } from "../bytes.ts";
import { Bip324Error } from "../errors.ts";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../handshake/handshake.ts";
import { LENGTH_FIELD_LEN } from "../length/length_cipher.ts";
import {
  type DirectionalCiphers,
  HEADER_LEN,
  IGNORE_BIT,
  MAX_CONTENTS_LENGTH,
} from "../packet_cipher.ts";
import type { ShapingPolicy } from "../shaping.ts";

const EMPTY = new Uint8Array(0);
const BODY_OVERHEAD = HEADER_LEN + TAG_LEN;
const PACKET_OVERHEAD = LENGTH_FIELD_LEN + BODY_OVERHEAD;

/** Options for {@linkcode V2Encoder}. */
export interface V2EncoderOptions {
  /** Short-ID table. Default: BIP324's. */
  table?: MessageTypeTable;
  /** Decoy policy. Default: none. */
  shaping?: ShapingPolicy;
  /** Called with each decoy's contents length. */
  onDecoy?: (contentsLength: number) => void;
}

/**
 * Messages → wire bytes, in one pass per packet.
 *
 * @example
 * ```ts
 * import { V2Decoder, V2Encoder } from "./v2_fused.ts";
 * import { Bip324Cipher } from "../packet_cipher.ts";
 * const a = Bip324Cipher.create(), b = Bip324Cipher.create();
 * a.initialize(b.ourEllswift, true);
 * b.initialize(a.ourEllswift, false);
 * const packets = new V2Encoder(a.ciphers).encode({ type: "ping", payload: new Uint8Array(8) });
 * const [message] = new V2Decoder(b.ciphers).push(packets[0]);
 * console.assert(message.type === "ping");
 * ```
 */
export class V2Encoder {
  #ciphers: DirectionalCiphers;
  #table: MessageTypeTable;
  #shaping?: ShapingPolicy;
  #onDecoy?: (contentsLength: number) => void;

  /** Creates an encoder over our outbound ciphers. */
  constructor(ciphers: DirectionalCiphers, options: V2EncoderOptions = {}) {
    this.#ciphers = ciphers;
    this.#table = options.table ?? DEFAULT_MESSAGE_TYPES;
    this.#shaping = options.shaping;
    this.#onDecoy = options.onDecoy;
  }

  /** Encodes one message (preceded by any decoys the shaping policy asks for). */
  encode(message: Message): Uint8Array[] {
    if (message === null || typeof message !== "object") {
      throw new TypeError("message must be an object { type, payload }");
    }
    const payload = checkBytes("message.payload", message.payload);
    const typeLength = this.#table.typeLength(message.type);
    const contentsLength = typeLength + payload.length;
    if (contentsLength > MAX_CONTENTS_LENGTH) {
      throw new RangeError(`message must be at most ${MAX_CONTENTS_LENGTH - typeLength} bytes`);
    }
    const decoys = this.#shaping?.(contentsLength);
    const out: Uint8Array[] = [];
    if (decoys) {
      for (const length of decoys) {
        out.push(this.#seal(new Uint8Array(PACKET_OVERHEAD + length), length, true));
        this.#onDecoy?.(length);
      }
    }
    const packet = new Uint8Array(PACKET_OVERHEAD + contentsLength);
    const contentsStart = LENGTH_FIELD_LEN + HEADER_LEN;
    this.#table.writeType(message.type, packet, contentsStart);
    packet.set(payload, contentsStart + typeLength);
    out.push(this.#seal(packet, contentsLength, false));
    return out;
  }

  /** Encrypts a packet whose contents are already in place. */
  #seal(packet: Uint8Array, contentsLength: number, ignore: boolean): Uint8Array {
    const body = packet.subarray(LENGTH_FIELD_LEN);
    body[0] = ignore ? IGNORE_BIT : 0;
    this.#ciphers.sendPacket.encrypt(EMPTY, body.subarray(0, HEADER_LEN + contentsLength), body);
    this.#ciphers.sendLength.encryptLength(contentsLength, packet, 0);
    return packet;
  }
}

/** Options for {@linkcode V2Decoder}. */
export interface V2DecoderOptions {
  /** Short-ID table. Default: BIP324's. */
  table?: MessageTypeTable;
  /** Largest contents length accepted. Default 4,000,013. */
  maxMessageSize?: number;
  /** Malformed or unknown message types: `"drop"` (default, as Core) or `"error"`. */
  onInvalid?: "drop" | "error";
  /** Called for each message dropped for its type. */
  onDropped?: (error: Bip324Error) => void;
  /** Called with each decoy's contents length. */
  onDecoy?: (contentsLength: number) => void;
}

/**
 * Wire bytes in any chunking → messages, in one pass per chunk.
 *
 * @example
 * ```ts
 * import { V2Decoder } from "./v2_fused.ts";
 * import { Bip324Cipher } from "../packet_cipher.ts";
 * const a = Bip324Cipher.create(), b = Bip324Cipher.create();
 * a.initialize(b.ourEllswift, true);
 * b.initialize(a.ourEllswift, false);
 * const packet = a.encrypt(new Uint8Array([18, 1, 2, 3, 4, 5, 6, 7, 8]));
 * const decoder = new V2Decoder(b.ciphers);
 * console.assert(decoder.push(packet.subarray(0, 5)).length === 0); // need more data
 * console.assert(decoder.push(packet.subarray(5))[0].type === "ping");
 * ```
 */
export class V2Decoder {
  #ciphers: DirectionalCiphers;
  #table: MessageTypeTable;
  #max: number;
  #strict: boolean;
  #onDropped?: (error: Bip324Error) => void;
  #onDecoy?: (contentsLength: number) => void;
  #queue = new ByteQueue();
  #pending = -1;
  #error?: unknown;

  /** Creates a decoder over the peer's ciphers (our inbound). */
  constructor(ciphers: DirectionalCiphers, options: V2DecoderOptions = {}) {
    this.#ciphers = ciphers;
    this.#table = options.table ?? DEFAULT_MESSAGE_TYPES;
    this.#max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#strict = options.onInvalid === "error";
    this.#onDropped = options.onDropped;
    this.#onDecoy = options.onDecoy;
  }

  /** Bytes held for an incomplete packet. */
  get buffered(): number {
    return this.#queue.length;
  }

  /**
   * Consumes a chunk and returns every message completed by it. Packets that
   * lie wholly inside `chunk` are decrypted in place (the chunk is modified).
   * Throws {@linkcode Bip324Error} on `OVERSIZED`, `DECRYPTION` or (with
   * `onInvalid: "error"`) `INVALID_MESSAGE_TYPE`. Messages that precede the
   * failure in the same chunk are returned first; the error is then thrown by
   * every later call (pass an empty chunk to check).
   */
  push(chunk: Uint8Array): Message[] {
    if (this.#error !== undefined) throw this.#error;
    const out: Message[] = [];
    try {
      this.#decode(chunk, out);
    } catch (error) {
      this.#error = error;
      if (out.length === 0) throw error;
    }
    return out;
  }

  #decode(chunk: Uint8Array, out: Message[]): void {
    let offset = 0;
    // Finish a packet begun in an earlier chunk.
    if (this.#queue.length > 0 || this.#pending >= 0) {
      offset = this.#fill(chunk, out);
      if (offset < 0) return;
    }
    // Whole packets inside this chunk: no copies.
    while (offset + LENGTH_FIELD_LEN <= chunk.length) {
      const length = this.#readLength(chunk, offset);
      const end = offset + LENGTH_FIELD_LEN + length + BODY_OVERHEAD;
      if (end > chunk.length) {
        this.#pending = length;
        offset += LENGTH_FIELD_LEN;
        break;
      }
      const body = chunk.subarray(offset + LENGTH_FIELD_LEN, end);
      this.#open(body, body.length * 4 < chunk.length, out);
      offset = end;
    }
    if (offset < chunk.length) this.#queue.push(chunk.subarray(offset));
  }

  /** Throws `UNEXPECTED_EOF` if the stream ended inside a packet. */
  finish(): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#queue.length > 0 || this.#pending >= 0) {
      throw new Bip324Error("UNEXPECTED_EOF", "peer closed the connection inside a packet");
    }
  }

  /** Continues a packet from the queue; returns the chunk offset consumed, or -1 if incomplete. */
  #fill(chunk: Uint8Array, out: Message[]): number {
    const q = this.#queue;
    let offset = 0;
    if (this.#pending < 0) {
      const need = LENGTH_FIELD_LEN - q.length;
      if (chunk.length < need) {
        q.push(chunk);
        return -1;
      }
      q.push(chunk.subarray(0, need));
      offset = need;
      this.#pending = this.#readLength(q.peek(LENGTH_FIELD_LEN), 0);
      q.skip(LENGTH_FIELD_LEN);
    }
    const size = this.#pending + BODY_OVERHEAD;
    const need = size - q.length;
    if (chunk.length - offset < need) {
      q.push(chunk.subarray(offset));
      return -1;
    }
    q.push(chunk.subarray(offset, offset + need));
    this.#pending = -1;
    this.#open(q.take(size), false, out);
    return offset + need;
  }

  #readLength(bytes: Uint8Array, offset: number): number {
    const length = this.#ciphers.recvLength.decryptLength(bytes, offset);
    if (length > this.#max) {
      throw new Bip324Error(
        "OVERSIZED",
        `peer announced ${length} bytes of contents (limit ${this.#max})`,
      );
    }
    return length;
  }

  /** Authenticates and decrypts one body in place; appends its message, if any. */
  #open(body: Uint8Array, copyPayload: boolean, out: Message[]): void {
    const plaintext = this.#ciphers.recvPacket.decrypt(EMPTY, body, body);
    if (plaintext[0] & IGNORE_BIT) {
      this.#onDecoy?.(plaintext.length - HEADER_LEN);
      return;
    }
    let message: Message;
    try {
      message = this.#table.decode(plaintext.subarray(HEADER_LEN));
    } catch (error) {
      if (this.#strict || !(error instanceof Bip324Error)) throw error;
      this.#onDropped?.(error);
      return;
    }
    // A small message would otherwise keep a whole transport chunk alive.
    if (copyPayload) message.payload = message.payload.slice();
    out.push(message);
  }
}
