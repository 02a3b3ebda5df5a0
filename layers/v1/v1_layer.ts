/**
 * The legacy (v1) transport framing as a layer: raw bytes ↔ messages, over
 * the pure {@linkcode V1Decoder} and `encodeV1Message`.
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";
import { type Network, networkMagic } from "../bitcoin/network.ts";
import type { Layer } from "../session/pipeline.ts";
import { encodeV1Message, MAX_PROTOCOL_MESSAGE_LENGTH, V1Decoder } from "./v1_framing.ts";

/** Options for {@linkcode v1Layer}. */
export interface V1LayerOptions {
  /** Network magic (or name). Default mainnet. */
  network?: Network | Uint8Array;
  /** Largest payload accepted. Default 4,000,000 (Bitcoin Core). */
  maxMessageSize?: number;
}

/**
 * Parses v1 messages (24-byte header + payload) from raw bytes.
 *
 * @example
 * ```ts
 * import { V1DecoderStream, V1EncoderStream } from "./v1_layer.ts";
 * const out = ReadableStream.from([{ type: "verack", payload: new Uint8Array(0) }])
 *   .pipeThrough(new V1EncoderStream())
 *   .pipeThrough(new V1DecoderStream());
 * console.assert((await out.getReader().read()).value?.type === "verack");
 * ```
 */
export class V1DecoderStream extends TransformStream<Uint8Array, Message> {
  /** Creates a decoder for one network. */
  constructor(options: V1LayerOptions = {}) {
    const decoder = new V1Decoder({
      magic: networkMagic(options.network),
      maxMessageSize: options.maxMessageSize ?? MAX_PROTOCOL_MESSAGE_LENGTH,
    });
    super({
      transform(chunk, controller) {
        for (const message of decoder.push(chunk)) controller.enqueue(message);
      },
      flush() {
        decoder.finish();
      },
    });
  }
}

/**
 * Frames messages as v1 wire bytes.
 *
 * @example
 * ```ts
 * import { V1EncoderStream } from "./v1_layer.ts";
 * const out = ReadableStream.from([{ type: "verack", payload: new Uint8Array(0) }])
 *   .pipeThrough(new V1EncoderStream({ network: "mainnet" }));
 * console.assert((await out.getReader().read()).value?.length === 24);
 * ```
 */
export class V1EncoderStream extends TransformStream<Message, Uint8Array> {
  /** Creates an encoder for one network. */
  constructor(options: V1LayerOptions = {}) {
    const magic = networkMagic(options.network);
    super({
      transform(message, controller) {
        controller.enqueue(encodeV1Message(magic, message.type, message.payload));
      },
    });
  }
}

/**
 * The v1 layer as a duplex: bytes below, messages above.
 *
 * @example
 * ```ts
 * import { v1Layer } from "./v1_layer.ts";
 * const layer = v1Layer({ network: "regtest" });
 * console.assert(layer.inbound instanceof TransformStream);
 * ```
 */
export function v1Layer(options: V1LayerOptions = {}): Layer<Uint8Array, Message> {
  return { inbound: new V1DecoderStream(options), outbound: new V1EncoderStream(options) };
}
