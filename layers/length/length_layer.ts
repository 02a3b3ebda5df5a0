/**
 * The length layer as streams: frames packets on the wire with the
 * FSChaCha20-encrypted 3-byte length.
 *
 * - inbound: raw bytes in any chunking → packet bodies (header + ciphertext +
 *   tag), each a fresh array the layer above may decrypt in place. A length
 *   over `maxMessageSize` fails with `OVERSIZED` before any of that packet is
 *   buffered; a stream that ends inside a packet fails with `UNEXPECTED_EOF`.
 * - outbound: packet bodies → length field + body.
 *
 * @module
 */

import { ByteQueue } from "../byte_queue.ts";
import { Bip324Error } from "../errors.ts";
import { type FSChaCha20, LENGTH_FIELD_LEN } from "./length_cipher.ts";
import { TAG_LEN } from "../aead/aead.ts";
import { HEADER_LEN } from "../packet_cipher.ts";
import type { Layer } from "../session/pipeline.ts";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../handshake/handshake.ts";

const BODY_OVERHEAD = HEADER_LEN + TAG_LEN;

/**
 * Bodies created with {@linkcode LENGTH_FIELD_LEN} spare bytes in front of
 * them (by the AEAD layer), so the length can be written without a copy.
 */
export const WITH_LENGTH_HEADROOM: WeakSet<Uint8Array> = new WeakSet();

/** Options for {@linkcode LengthDecoderStream}. */
export interface LengthDecoderOptions {
  /** Largest contents length accepted. Default 4,000,013 (Bitcoin Core's limit). */
  maxMessageSize?: number;
}

/**
 * Splits an encrypted byte stream into packet bodies.
 *
 * @example
 * ```ts
 * import { LengthDecoderStream, LengthEncoderStream } from "./length_layer.ts";
 * import { FSChaCha20 } from "./length_cipher.ts";
 * const key = new Uint8Array(32);
 * const body = new Uint8Array(1 + 5 + 16);
 * const wire = ReadableStream.from([body])
 *   .pipeThrough(new LengthEncoderStream(new FSChaCha20(key)))
 *   .pipeThrough(new LengthDecoderStream(new FSChaCha20(key)));
 * const { value } = await wire.getReader().read();
 * console.assert(value?.length === 22);
 * ```
 */
export class LengthDecoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Creates a decoder reading lengths with `cipher` (the peer's length cipher). */
  constructor(cipher: FSChaCha20, options: LengthDecoderOptions = {}) {
    const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    const queue = new ByteQueue();
    let pending = -1;
    super({
      transform(chunk, controller) {
        queue.push(chunk);
        for (;;) {
          if (pending < 0) {
            if (queue.length < LENGTH_FIELD_LEN) return;
            pending = cipher.decryptLength(queue.peek(LENGTH_FIELD_LEN));
            queue.skip(LENGTH_FIELD_LEN);
            if (pending > max) {
              throw new Bip324Error(
                "OVERSIZED",
                `peer announced ${pending} bytes of contents (limit ${max})`,
              );
            }
          }
          const size = pending + BODY_OVERHEAD;
          if (queue.length < size) return;
          controller.enqueue(queue.take(size));
          pending = -1;
        }
      },
      flush() {
        if (queue.length > 0 || pending >= 0) {
          throw new Bip324Error("UNEXPECTED_EOF", "peer closed the connection inside a packet");
        }
      },
    });
  }
}

/**
 * Prefixes packet bodies with their encrypted length.
 *
 * @example
 * ```ts
 * import { LengthEncoderStream } from "./length_layer.ts";
 * import { FSChaCha20 } from "./length_cipher.ts";
 * const out = ReadableStream.from([new Uint8Array(17)])
 *   .pipeThrough(new LengthEncoderStream(new FSChaCha20(new Uint8Array(32))));
 * console.assert((await out.getReader().read()).value?.length === 20);
 * ```
 */
export class LengthEncoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Creates an encoder writing lengths with `cipher` (our length cipher). */
  constructor(cipher: FSChaCha20) {
    super({
      transform(body, controller) {
        if (body.length < BODY_OVERHEAD) {
          throw new RangeError(`packet body must be at least ${BODY_OVERHEAD} bytes`);
        }
        const contentsLength = body.length - BODY_OVERHEAD;
        let packet: Uint8Array;
        if (WITH_LENGTH_HEADROOM.has(body)) {
          packet = new Uint8Array(
            body.buffer,
            body.byteOffset - LENGTH_FIELD_LEN,
            body.length + LENGTH_FIELD_LEN,
          );
        } else {
          packet = new Uint8Array(body.length + LENGTH_FIELD_LEN);
          packet.set(body, LENGTH_FIELD_LEN);
        }
        cipher.encryptLength(contentsLength, packet, 0);
        controller.enqueue(packet);
      },
    });
  }
}

/** Ciphers for {@linkcode lengthLayer}. */
export interface LengthLayerOptions extends LengthDecoderOptions {
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
 * import { lengthLayer } from "./length_layer.ts";
 * import { FSChaCha20 } from "./length_cipher.ts";
 * const k = new Uint8Array(32);
 * const layer = lengthLayer({ send: new FSChaCha20(k), recv: new FSChaCha20(k) });
 * console.assert(layer.inbound instanceof TransformStream);
 * ```
 */
export function lengthLayer(options: LengthLayerOptions): Layer<Uint8Array, Uint8Array> {
  return {
    inbound: new LengthDecoderStream(options.recv, options),
    outbound: new LengthEncoderStream(options.send),
  };
}
