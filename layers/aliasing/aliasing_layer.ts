/**
 * The aliasing layer as streams: packet contents ↔ `{ type, payload }`
 * messages, using a pluggable {@linkcode MessageTypeTable}.
 *
 * Like Bitcoin Core, a message whose type field is malformed or unknown is
 * dropped by default (Core ignores it without disconnecting); with
 * `onInvalid: "error"` the stream fails with `INVALID_MESSAGE_TYPE` instead.
 *
 * @module
 */

import { DEFAULT_MESSAGE_TYPES, type Message, type MessageTypeTable } from "./aliasing.ts";
import { Bip324Error } from "../errors.ts";
import type { Layer } from "../session/pipeline.ts";

/** Options for the aliasing streams. */
export interface AliasingOptions {
  /** The short-ID table. Default: BIP324's IDs 1..28. */
  table?: MessageTypeTable;
  /** What to do with a malformed or unknown type: `"drop"` (default, as Core) or `"error"`. */
  onInvalid?: "drop" | "error";
  /** Called with each dropped message's error. */
  onDropped?: (error: Bip324Error) => void;
}

/**
 * Decodes packet contents into messages.
 *
 * @example
 * ```ts
 * import { AliasDecoderStream } from "./aliasing_layer.ts";
 * const out = ReadableStream.from([new Uint8Array([18, 1, 2])]).pipeThrough(new AliasDecoderStream());
 * console.assert((await out.getReader().read()).value?.type === "ping");
 * ```
 */
export class AliasDecoderStream extends TransformStream<Uint8Array, Message> {
  /** Creates a decoder. */
  constructor(options: AliasingOptions = {}) {
    const table = options.table ?? DEFAULT_MESSAGE_TYPES;
    const strict = options.onInvalid === "error";
    super({
      transform(contents, controller) {
        try {
          controller.enqueue(table.decode(contents));
        } catch (error) {
          if (strict || !(error instanceof Bip324Error)) throw error;
          options.onDropped?.(error);
        }
      },
    });
  }
}

/**
 * Encodes messages into packet contents.
 *
 * @example
 * ```ts
 * import { AliasEncoderStream } from "./aliasing_layer.ts";
 * const out = ReadableStream.from([{ type: "pong", payload: new Uint8Array(8) }])
 *   .pipeThrough(new AliasEncoderStream());
 * console.assert((await out.getReader().read()).value?.[0] === 19);
 * ```
 */
export class AliasEncoderStream extends TransformStream<Message, Uint8Array> {
  /** Creates an encoder. */
  constructor(options: AliasingOptions = {}) {
    const table = options.table ?? DEFAULT_MESSAGE_TYPES;
    super({
      transform(message, controller) {
        controller.enqueue(table.encode(message));
      },
    });
  }
}

/**
 * The aliasing layer as a duplex: contents below, messages above.
 *
 * @example
 * ```ts
 * import { aliasingLayer } from "./aliasing_layer.ts";
 * const layer = aliasingLayer({ onInvalid: "error" });
 * console.assert(layer.inbound instanceof TransformStream);
 * ```
 */
export function aliasingLayer(options: AliasingOptions = {}): Layer<Uint8Array, Message> {
  return { inbound: new AliasDecoderStream(options), outbound: new AliasEncoderStream(options) };
}
