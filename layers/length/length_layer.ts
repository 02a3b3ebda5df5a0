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
import type { Layer } from "../layer.ts";
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
  // A length field split across chunks.
  const field = new Uint8Array(LENGTH_FIELD_LEN);
  let fieldHave = 0;
  // A body split across chunks: assembled here, or streamed (then only counted).
  let assembly: Uint8Array | undefined;
  let assemblyHave = 0;
  let assemblyTotal = 0;
  let streamRemaining = 0;
  let streamStarted = false;

  const readLength = (bytes: Uint8Array, offset: number): number => {
    const length = cipher.decryptLength(bytes, offset);
    if (length > max) {
      throw new Bip324Error(
        "OVERSIZED",
        `peer announced ${length} bytes of contents (limit ${max})`,
      );
    }
    return length + BODY_OVERHEAD;
  };

  /** Starts a body of `total` bytes split across chunks; `piece` is its start. */
  const beginSplit = (
    total: number,
    piece: Uint8Array,
    controller: TransformStreamDefaultController<Uint8Array>,
  ) => {
    if (total >= streamFrom) {
      streamRemaining = total;
      streamStarted = false;
      streamPiece(piece, controller);
    } else {
      assemblyTotal = total;
      assembly = new Uint8Array(Math.min(total, INITIAL_ASSEMBLY));
      assemblyHave = 0;
      addToAssembly(piece);
    }
  };

  const streamPiece = (
    piece: Uint8Array,
    controller: TransformStreamDefaultController<Uint8Array>,
  ) => {
    if (piece.length === 0) return;
    if (!streamStarted) {
      streamStarted = true;
      FRAGMENT_STARTS.set(piece, streamRemaining);
    }
    streamRemaining -= piece.length;
    controller.enqueue(piece);
  };

  const addToAssembly = (piece: Uint8Array) => {
    const need = assemblyHave + piece.length;
    assembly = growBuffer(assembly, assemblyHave, need, assemblyTotal);
    assembly.set(piece, assemblyHave);
    assemblyHave = need;
  };

  return {
    transform(chunk, controller) {
      const n = chunk.length;
      let offset = 0;
      // Continue what an earlier chunk began.
      if (streamRemaining > 0) {
        const take = Math.min(n, streamRemaining);
        streamPiece(take === n ? chunk : chunk.subarray(0, take), controller);
        if (streamRemaining > 0) return;
        offset = take;
      } else if (assembly !== undefined) {
        const take = Math.min(n, assemblyTotal - assemblyHave);
        addToAssembly(chunk.subarray(0, take));
        if (assemblyHave < assemblyTotal) return;
        const body = assembly;
        assembly = undefined;
        offset = take;
        controller.enqueue(body);
      } else if (fieldHave > 0) {
        while (fieldHave < LENGTH_FIELD_LEN && offset < n) field[fieldHave++] = chunk[offset++];
        if (fieldHave < LENGTH_FIELD_LEN) return;
        fieldHave = 0;
        const total = readLength(field, 0);
        if (offset + total <= n) {
          controller.enqueue(chunk.subarray(offset, offset + total));
          offset += total;
        } else {
          beginSplit(total, chunk.subarray(offset), controller);
          return;
        }
      }
      // Whole packets inside this chunk: views, no copies.
      while (offset < n) {
        if (n - offset < LENGTH_FIELD_LEN) {
          while (offset < n) field[fieldHave++] = chunk[offset++];
          return;
        }
        const total = readLength(chunk, offset);
        offset += LENGTH_FIELD_LEN;
        const end = offset + total;
        if (end > n) {
          beginSplit(total, chunk.subarray(offset), controller);
          return;
        }
        controller.enqueue(chunk.subarray(offset, end));
        offset = end;
      }
    },
    flush() {
      if (fieldHave > 0 || assembly !== undefined || streamRemaining > 0) {
        throw new Bip324Error("UNEXPECTED_EOF", "peer closed the connection inside a packet");
      }
    },
  };
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
  const alloc = options.alloc ?? newBuffer;
  return {
    transform(body, controller) {
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
        packet = alloc(body.length + LENGTH_FIELD_LEN);
        packet.set(body, LENGTH_FIELD_LEN);
      }
      cipher.encryptLength(body.length - BODY_OVERHEAD, packet, 0);
      controller.enqueue(packet);
    },
  };
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
