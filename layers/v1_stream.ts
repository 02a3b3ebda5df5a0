/**
 * The legacy (v1) transport as a layer, and {@linkcode openV1Session}, which
 * gives a v1 connection the same {@linkcode Session} interface as BIP324
 * (`session.transportVersion === 1`, empty session id).
 *
 * Used for fallback: a responder that sees a v1 `version` message replays the
 * bytes it already read (`Bip324Error.v1Bytes`) into a v1 session; an
 * initiator whose v2 attempt is met by a silent disconnect reconnects with v1.
 *
 * @module
 */

import type { Message } from "./aliasing.ts";
import type { BytePair } from "./handshake/driver.ts";
import type { Role } from "./handshake/handshake.ts";
import { type Network, networkMagic } from "./network.ts";
import type { Layer } from "./pipeline.ts";
import { Session, type SessionOptions } from "./session.ts";
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
 * import { V1DecoderStream, V1EncoderStream } from "./v1_stream.ts";
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
 * import { V1EncoderStream } from "./v1_stream.ts";
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
 * import { v1Layer } from "./v1_stream.ts";
 * const layer = v1Layer({ network: "regtest" });
 * console.assert(layer.inbound instanceof TransformStream);
 * ```
 */
export function v1Layer(options: V1LayerOptions = {}): Layer<Uint8Array, Message> {
  return { inbound: new V1DecoderStream(options), outbound: new V1EncoderStream(options) };
}

/** Options for {@linkcode openV1Session}. */
export interface OpenV1SessionOptions extends SessionOptions {
  /** Initiator or responder (informational for v1). */
  role: Role;
  /** Bytes already read from the peer (e.g. `Bip324Error.v1Bytes`), parsed first. */
  replay?: Uint8Array;
}

/**
 * Wraps a byte pair as a v1 session. There is no handshake at the transport
 * level in v1, so this resolves at once; `version`/`verack` are ordinary
 * messages (see `peerHandshake`).
 *
 * @example
 * ```ts
 * import { openV1Session } from "./v1_stream.ts";
 * const ab = new TransformStream<Uint8Array, Uint8Array>();
 * const ba = new TransformStream<Uint8Array, Uint8Array>();
 * const a = openV1Session({ readable: ba.readable, writable: ab.writable }, { role: "initiator" });
 * const b = openV1Session({ readable: ab.readable, writable: ba.writable }, { role: "responder" });
 * await a.writable.getWriter().write({ type: "verack", payload: new Uint8Array(0) });
 * console.assert((await b.readable.getReader().read()).value?.type === "verack");
 * console.assert(a.transportVersion === 1);
 * ```
 */
export function openV1Session(pair: BytePair, options: OpenV1SessionOptions): Session {
  const network = options.network ?? "mainnet";
  return new Session(pair, {
    transportVersion: 1,
    role: options.role,
    network,
    sessionId: new Uint8Array(0),
    peerVersionContents: new Uint8Array(0),
    handshake: { garbageSent: 0, garbageReceived: 0, decoysSent: [], decoysReceived: 0 },
    leftover: options.replay ?? new Uint8Array(0),
    destroy: () => {},
    layers: () => [v1Layer({ network })],
  }, options);
}
