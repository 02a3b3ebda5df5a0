/**
 * The legacy (v1) transport framing as a layer: raw bytes ↔ messages, over
 * the pure {@linkcode V1Decoder} and `encodeV1Message`.
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";
import { type Network, networkMagic } from "../bitcoin/network.ts";
import type { Layer } from "../layer.ts";
import { encodeV1Message, MAX_PROTOCOL_MESSAGE_LENGTH, V1Decoder } from "./v1_framing.ts";

/** Options for {@linkcode v1Layer}. */
export interface V1LayerOptions {
  /** Network magic (or name). Default mainnet. */
  network?: Network | Uint8Array;
  /** Largest payload accepted. Default 4,000,000 (Bitcoin Core). */
  maxMessageSize?: number;
}

/**
 * Parses v1 messages (24-byte header + payload) from raw bytes in any chunking.
 *
 * @example
 * ```ts
 * import { v1Decoder, v1Encoder } from "@bip324/bip324/layers";
 *
 * const out = ReadableStream.from([{ type: "verack", payload: new Uint8Array(0) }])
 *   .pipeThrough(new TransformStream(v1Encoder()))
 *   .pipeThrough(new TransformStream(v1Decoder()));
 * console.assert((await out.getReader().read()).value?.type === "verack");
 * ```
 */
export function v1Decoder(options: V1LayerOptions = {}): Transformer<Uint8Array, Message> {
  const decoder = new V1Decoder({
    magic: networkMagic(options.network),
    maxMessageSize: options.maxMessageSize ?? MAX_PROTOCOL_MESSAGE_LENGTH,
  });
  return {
    transform(chunk, controller) {
      for (const message of decoder.push(chunk)) controller.enqueue(message);
    },
    flush() {
      decoder.finish();
    },
  };
}

/**
 * Frames messages as v1 wire bytes.
 *
 * @example
 * ```ts
 * import { v1Encoder } from "@bip324/bip324/layers";
 *
 * const out = ReadableStream.from([{ type: "verack", payload: new Uint8Array(0) }])
 *   .pipeThrough(new TransformStream(v1Encoder({ network: "mainnet" })));
 * console.assert((await out.getReader().read()).value?.length === 24);
 * ```
 */
export function v1Encoder(options: V1LayerOptions = {}): Transformer<Message, Uint8Array> {
  const magic = networkMagic(options.network);
  return {
    transform(message, controller) {
      if (message === null || typeof message !== "object") {
        throw new TypeError("message must be an object { type, payload }");
      }
      controller.enqueue(encodeV1Message(magic, message.type, message.payload));
    },
  };
}

/**
 * The v1 layer as a duplex: bytes below, messages above.
 *
 * @example
 * ```ts
 * import { v1Layer } from "@bip324/bip324/layers";
 *
 * const layer = v1Layer({ network: "regtest" });
 * console.assert(typeof layer.inbound.transform === "function");
 * ```
 */
export function v1Layer(options: V1LayerOptions = {}): Layer<Uint8Array, Message> {
  return { inbound: v1Decoder(options), outbound: v1Encoder(options) };
}
