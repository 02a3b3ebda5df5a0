/**
 * The length layer: frames packets on the wire with the FSChaCha20-encrypted
 * 3-byte length, as two Web Streams `Transformer`s over {@linkcode FSChaCha20}.
 *
 * - {@linkcode lengthDecoder} (inbound): raw bytes in any chunking → packet
 *   bodies (header + ciphertext + tag). A body that lies inside one chunk is
 *   handed on as a view of that chunk (no copy; the layer above decrypts it in
 *   place, so the chunk is overwritten). A body split across chunks is
 *   assembled in one buffer of its exact length — or, with `streamFrom`,
 *   handed on in pieces as they arrive. A length over `maxMessageSize` fails
 *   with `OVERSIZED` before any of that packet is buffered; a stream that
 *   ends inside a packet fails with `UNEXPECTED_EOF`.
 * - {@linkcode lengthEncoder} (outbound): packet bodies → length field + body,
 *   written in place in front of bodies the layer above allocated with room
 *   for it.
 *
 * @module
 */

import { Bip324Error } from "../errors.ts";
import { growBuffer } from "../bytes.ts";
import { type FSChaCha20, LENGTH_FIELD_LEN } from "./length_cipher.ts";
import { TAG_LEN } from "../aead/aead.ts";
import { HEADER_LEN } from "../packet_cipher.ts";
import type { LandingController, Layer } from "../layer.ts";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../handshake/handshake.ts";
import { type Allocator, FRAGMENT_STARTS, newBuffer, OWNED } from "../chunk_marks.ts";

const BODY_OVERHEAD = HEADER_LEN + TAG_LEN;
/** Assembly storage for a split body grows from this size as its bytes arrive. */
const INITIAL_ASSEMBLY = 64 * 1024;

/** Options for {@linkcode lengthDecoder}. */
export interface LengthDecoderOptions {
  /** Largest contents length accepted. Default 4,000,013 (Bitcoin Core's limit). */
  maxMessageSize?: number;
  /**
   * Bodies of at least this many bytes that arrive split across chunks are
   * handed on in pieces as they arrive instead of assembled (for an AEAD
   * layer that can check decoys without holding them). Default: never.
   */
  streamFrom?: number;
}

/**
 * Splits an encrypted byte stream into packet bodies.
 *
 * @example
 * ```ts
 * import { lengthDecoder, lengthEncoder } from "@bip324/bip324/layers";
 * import { FSChaCha20 } from "@bip324/bip324/cipher";
 *
 * const key = new Uint8Array(32);
 * const wire = ReadableStream.from([new Uint8Array(1 + 5 + 16)])
 *   .pipeThrough(new TransformStream(lengthEncoder(new FSChaCha20(key))))
 *   .pipeThrough(new TransformStream(lengthDecoder(new FSChaCha20(key))));
 * const { value } = await wire.getReader().read();
 * console.assert(value?.length === 22);
 * ```
 */
export function lengthDecoder(
  cipher: FSChaCha20,
  options: LengthDecoderOptions = {},
): Transformer<Uint8Array, Uint8Array> {
  const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (!Number.isInteger(max) || max < 0 || max > 0xffffff) {
    throw new RangeError(`maxMessageSize must be an integer 0..16777215, got ${max}`);
  }
  const streamFrom = options.streamFrom ?? Infinity;
  if (!(streamFrom >= 0)) throw new RangeError(`streamFrom must be ≥ 0, got ${streamFrom}`);
  return new LengthDecoder(cipher, max, streamFrom);
}

/** The decoder's state; one object, its methods on the prototype. */
class LengthDecoder implements Transformer<Uint8Array, Uint8Array> {
  readonly #cipher: FSChaCha20;
  readonly #max: number;
  readonly #streamFrom: number;
  /** A length field split across chunks (allocated the first time one is). */
  #field: Uint8Array | undefined;
  #fieldHave = 0;
  /** A body split across chunks: assembled here, or streamed (then only counted). */
  #assembly: Uint8Array | undefined;
  #assemblyHave = 0;
  #assemblyTotal = 0;
  #streamRemaining = 0;
  #streamStarted = false;

  constructor(cipher: FSChaCha20, max: number, streamFrom: number) {
    this.#cipher = cipher;
    this.#max = max;
    this.#streamFrom = streamFrom;
  }

  transform(chunk: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): void {
    const n = chunk.length;
    let offset = 0;
    // Continue what an earlier chunk began.
    if (this.#streamRemaining > 0) {
      const take = Math.min(n, this.#streamRemaining);
      this.#streamPiece(take === n ? chunk : chunk.subarray(0, take), controller);
      if (this.#streamRemaining > 0) return;
      offset = take;
    } else if (this.#assembly !== undefined) {
      const take = Math.min(n, this.#assemblyTotal - this.#assemblyHave);
      this.#addToAssembly(chunk.subarray(0, take));
      if (this.#assemblyHave < this.#assemblyTotal) return;
      const body = this.#assembly;
      this.#assembly = undefined;
      offset = take;
      controller.enqueue(body);
    } else if (this.#fieldHave > 0) {
      const field = this.#field!;
      while (this.#fieldHave < LENGTH_FIELD_LEN && offset < n) {
        field[this.#fieldHave++] = chunk[offset++];
      }
      if (this.#fieldHave < LENGTH_FIELD_LEN) return;
      this.#fieldHave = 0;
      const total = this.#readLength(field, 0);
      if (offset + total <= n) {
        controller.enqueue(chunk.subarray(offset, offset + total));
        offset += total;
      } else {
        this.#beginSplit(total, chunk.subarray(offset), controller);
        return;
      }
    }
    // Whole packets inside this chunk: views, no copies.
    while (offset < n) {
      if (n - offset < LENGTH_FIELD_LEN) {
        const field = this.#field ??= new Uint8Array(LENGTH_FIELD_LEN);
        while (offset < n) field[this.#fieldHave++] = chunk[offset++];
        return;
      }
      const total = this.#readLength(chunk, offset);
      offset += LENGTH_FIELD_LEN;
      const end = offset + total;
      if (end > n) {
        this.#beginSplit(total, chunk.subarray(offset), controller);
        return;
      }
      controller.enqueue(chunk.subarray(offset, end));
      offset = end;
    }
  }

  /**
   * While a body is streamed on, its next bytes may land straight where the
   * stage after this one gathers them (see `LandingTransformer`).
   */
  landing(controller: TransformStreamDefaultController<Uint8Array>): Uint8Array | undefined {
    if (this.#streamRemaining === 0 || !this.#streamStarted) return undefined;
    const region = (controller as Partial<LandingController>).landing?.();
    if (region === undefined) return undefined;
    return region.length > this.#streamRemaining
      ? region.subarray(0, this.#streamRemaining)
      : region;
  }

  flush(): void {
    if (this.#fieldHave > 0 || this.#assembly !== undefined || this.#streamRemaining > 0) {
      throw new Bip324Error("UNEXPECTED_EOF", "peer closed the connection inside a packet");
    }
  }

  #readLength(bytes: Uint8Array, offset: number): number {
    const length = this.#cipher.decryptLength(bytes, offset);
    if (length > this.#max) {
      throw new Bip324Error(
        "OVERSIZED",
        `peer announced ${length} bytes of contents (limit ${this.#max})`,
      );
    }
    return length + BODY_OVERHEAD;
  }

  /** Starts a body of `total` bytes split across chunks; `piece` is its start. */
  #beginSplit(
    total: number,
    piece: Uint8Array,
    controller: TransformStreamDefaultController<Uint8Array>,
  ): void {
    if (total >= this.#streamFrom) {
      this.#streamRemaining = total;
      this.#streamStarted = false;
      this.#streamPiece(piece, controller);
    } else {
      this.#assemblyTotal = total;
      this.#assembly = new Uint8Array(Math.min(total, INITIAL_ASSEMBLY));
      this.#assemblyHave = 0;
      this.#addToAssembly(piece);
    }
  }

  #streamPiece(piece: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): void {
    if (piece.length === 0) return;
    if (!this.#streamStarted) {
      this.#streamStarted = true;
      FRAGMENT_STARTS.set(piece, this.#streamRemaining);
    }
    this.#streamRemaining -= piece.length;
    controller.enqueue(piece);
  }

  #addToAssembly(piece: Uint8Array): void {
    const need = this.#assemblyHave + piece.length;
    this.#assembly = growBuffer(this.#assembly, this.#assemblyHave, need, this.#assemblyTotal);
    this.#assembly.set(piece, this.#assemblyHave);
    this.#assemblyHave = need;
  }
}

/** Options for {@linkcode lengthEncoder}. */
export interface LengthEncoderOptions {
  /** Where packets that must be copied are allocated. Default: new arrays. */
  alloc?: Allocator;
}

/**
 * Prefixes packet bodies with their encrypted length.
 *
 * @example
 * ```ts
 * import { lengthEncoder } from "@bip324/bip324/layers";
 * import { FSChaCha20 } from "@bip324/bip324/cipher";
 *
 * const out = ReadableStream.from([new Uint8Array(17)])
 *   .pipeThrough(new TransformStream(lengthEncoder(new FSChaCha20(new Uint8Array(32)))));
 * console.assert((await out.getReader().read()).value?.length === 20);
 * ```
 */
export function lengthEncoder(
  cipher: FSChaCha20,
  options: LengthEncoderOptions = {},
): Transformer<Uint8Array, Uint8Array> {
  return new LengthEncoder(cipher, options.alloc ?? newBuffer);
}

/** The encoder: one object, its method on the prototype. */
class LengthEncoder implements Transformer<Uint8Array, Uint8Array> {
  readonly #cipher: FSChaCha20;
  readonly #alloc: Allocator;
  constructor(cipher: FSChaCha20, alloc: Allocator) {
    this.#cipher = cipher;
    this.#alloc = alloc;
  }
  transform(body: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): void {
    if (!(body instanceof Uint8Array)) throw new TypeError("packet body must be a Uint8Array");
    if (body.length < BODY_OVERHEAD) {
      throw new RangeError(`packet body must be at least ${BODY_OVERHEAD} bytes`);
    }
    let packet: Uint8Array;
    if (OWNED.delete(body)) {
      packet = new Uint8Array(
        body.buffer,
        body.byteOffset - LENGTH_FIELD_LEN,
        body.length + LENGTH_FIELD_LEN,
      );
    } else {
      packet = this.#alloc(body.length + LENGTH_FIELD_LEN);
      packet.set(body, LENGTH_FIELD_LEN);
    }
    this.#cipher.encryptLength(body.length - BODY_OVERHEAD, packet, 0);
    controller.enqueue(packet);
  }
}

/** Ciphers and options for {@linkcode lengthLayer}. */
export interface LengthLayerOptions extends LengthDecoderOptions, LengthEncoderOptions {
  /** Our length cipher. */
  send: FSChaCha20;
  /** The peer's length cipher. */
  recv: FSChaCha20;
}

/**
 * The length layer as a duplex: bytes below, packet bodies above.
 *
 * @example
 * ```ts
 * import { lengthLayer } from "@bip324/bip324/layers";
 * import { FSChaCha20 } from "@bip324/bip324/cipher";
 *
 * const k = new Uint8Array(32);
 * const layer = lengthLayer({ send: new FSChaCha20(k), recv: new FSChaCha20(k) });
 * const inbound = new TransformStream(layer.inbound);
 * console.assert(inbound.readable instanceof ReadableStream);
 * ```
 */
export function lengthLayer(options: LengthLayerOptions): Layer<Uint8Array, Uint8Array> {
  return {
    inbound: lengthDecoder(options.recv, options),
    outbound: lengthEncoder(options.send, options),
  };
}
