/**
 * The aliasing layer: packet contents ↔ `{ type, payload }` messages, as two
 * Web Streams `Transformer`s over a pluggable {@linkcode MessageTypeTable}.
 *
 * Like Bitcoin Core, a message whose type field is malformed or unknown is
 * dropped by default (Core ignores it without disconnecting); with
 * `onInvalid: "error"` the layer fails with `INVALID_MESSAGE_TYPE` instead.
 * Decoded payloads are views into the contents (no copy). The encoder writes
 * each message into a buffer with room for the layers below it (header, tag,
 * length field), so they seal it in place.
 *
 * @module
 */

import { DEFAULT_MESSAGE_TYPES, type Message, type MessageTypeTable } from "./aliasing.ts";
import { Bip324Error } from "../errors.ts";
import type { Layer } from "../layer.ts";
import { checkBytes } from "../bytes.ts";
import { LENGTH_FIELD_LEN } from "../length/length_cipher.ts";
import { HEADER_LEN, MAX_CONTENTS_LENGTH } from "../packet_cipher.ts";
import { TAG_LEN } from "../aead/aead.ts";
import { type Allocator, newBuffer, OWNED, TAILS } from "../chunk_marks.ts";

/** Bytes in front of the contents (length field + header). */
const HEAD = LENGTH_FIELD_LEN + HEADER_LEN;

/** Options for the aliasing transformers. */
export interface AliasingOptions {
  /** The short-ID table. Default {@linkcode DEFAULT_MESSAGE_TYPES} (Bitcoin Core's). */
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
 * import { aliasDecoder } from "@bip324/bip324/layers";
 *
 * const out = ReadableStream.from([new Uint8Array([18, 1, 2])])
 *   .pipeThrough(new TransformStream(aliasDecoder()));
 * console.assert((await out.getReader().read()).value?.type === "ping");
 * ```
 */
export function aliasDecoder(options: AliasingOptions = {}): Transformer<Uint8Array, Message> {
  return new AliasDecoder(
    options.table ?? DEFAULT_MESSAGE_TYPES,
    options.onInvalid === "error",
    options.onDropped,
  );
}

/** The decoder: one object, its method on the prototype. */
class AliasDecoder implements Transformer<Uint8Array, Message> {
  readonly #table: MessageTypeTable;
  readonly #strict: boolean;
  readonly #onDropped: ((error: Bip324Error) => void) | undefined;
  constructor(
    table: MessageTypeTable,
    strict: boolean,
    onDropped: ((error: Bip324Error) => void) | undefined,
  ) {
    this.#table = table;
    this.#strict = strict;
    this.#onDropped = onDropped;
  }
  transform(contents: Uint8Array, controller: TransformStreamDefaultController<Message>): void {
    let message: Message;
    try {
      message = this.#table.decode(contents);
    } catch (error) {
      if (this.#strict || !(error instanceof Bip324Error)) throw error;
      this.#onDropped?.(error);
      return;
    }
    controller.enqueue(message);
  }
}

/** Options for {@linkcode aliasEncoder}. */
export interface AliasEncoderOptions {
  /** The short-ID table. Default {@linkcode DEFAULT_MESSAGE_TYPES}. */
  table?: MessageTypeTable;
  /** Where packet buffers are allocated. Default: new arrays. */
  alloc?: Allocator;
}

/**
 * Encodes messages into packet contents.
 *
 * @example
 * ```ts
 * import { aliasEncoder } from "@bip324/bip324/layers";
 *
 * const out = ReadableStream.from([{ type: "pong", payload: new Uint8Array(8) }])
 *   .pipeThrough(new TransformStream(aliasEncoder()));
 * console.assert((await out.getReader().read()).value?.[0] === 19);
 * ```
 */
export function aliasEncoder(options: AliasEncoderOptions = {}): Transformer<Message, Uint8Array> {
  return new AliasEncoder(
    options.table ?? DEFAULT_MESSAGE_TYPES,
    options.alloc ?? newBuffer,
    Infinity,
  );
}

/** Payloads at least this large are left where they are by {@linkcode aliasEncoderAboveAead}. */
export const TAILS_FROM = 16 * 1024;

/**
 * Internal: the encoder a session puts directly above its AEAD encryptor
 * (nothing but the shaping layer in between), which leaves payloads of at
 * least {@linkcode TAILS_FROM} bytes where they are and marks the contents
 * with them (`TAILS` in `chunk_marks.ts`). Its output is only complete
 * together with those marks: it must feed `aeadEncryptor`.
 */
export function aliasEncoderAboveAead(
  options: AliasEncoderOptions = {},
): Transformer<Message, Uint8Array> {
  return new AliasEncoder(
    options.table ?? DEFAULT_MESSAGE_TYPES,
    options.alloc ?? newBuffer,
    TAILS_FROM,
  );
}

/** The encoder: one object, its method on the prototype. */
class AliasEncoder implements Transformer<Message, Uint8Array> {
  readonly #table: MessageTypeTable;
  readonly #alloc: Allocator;
  readonly #tailsFrom: number;
  constructor(table: MessageTypeTable, alloc: Allocator, tailsFrom: number) {
    this.#table = table;
    this.#alloc = alloc;
    this.#tailsFrom = tailsFrom;
  }
  transform(message: Message, controller: TransformStreamDefaultController<Uint8Array>): void {
    if (message === null || typeof message !== "object") {
      throw new TypeError("message must be an object { type, payload }");
    }
    const table = this.#table;
    const payload = checkBytes("message.payload", message.payload);
    const typeLength = table.typeLength(message.type);
    const length = typeLength + payload.length;
    if (length > MAX_CONTENTS_LENGTH) {
      throw new RangeError(
        `message.payload must be at most ${MAX_CONTENTS_LENGTH - typeLength} bytes`,
      );
    }
    const packet = this.#alloc(HEAD + length + TAG_LEN);
    table.writeType(message.type, packet, HEAD);
    const contents = packet.subarray(HEAD, HEAD + length);
    // Right above the AEAD layer, a large payload stays where it is: the AEAD layer encrypts
    // it from there (one pass over it instead of a copy and a pass).
    if (this.#tailsFrom <= payload.length) TAILS.set(contents, payload);
    else packet.set(payload, HEAD + typeLength);
    OWNED.add(contents);
    controller.enqueue(contents);
  }
}

/**
 * The aliasing layer as a duplex: contents below, messages above.
 *
 * @example
 * ```ts
 * import { aliasingLayer } from "@bip324/bip324/layers";
 *
 * const layer = aliasingLayer({ onInvalid: "error" });
 * const inbound = new TransformStream(layer.inbound);
 * console.assert(inbound.writable instanceof WritableStream);
 * ```
 */
export function aliasingLayer(
  options: AliasingOptions & AliasEncoderOptions = {},
): Layer<Uint8Array, Message> {
  return { inbound: aliasDecoder(options), outbound: aliasEncoder(options) };
}
