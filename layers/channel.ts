/**
 * {@linkcode takeChannel}: the one way sessions and the handshake driver
 * reach a transport. A pair that offers a {@linkcode ByteChannel} of its own
 * (see `layers/bytes.ts`) is driven directly; any other pair through a reader
 * and a writer of its streams. Internal.
 *
 * @module
 */

import type { ByteChannel, BytePair } from "./bytes.ts";

/** The property under which a transport offers its channel (see {@linkcode ByteChannel}). */
export const BYTE_CHANNEL: unique symbol = Symbol.for("bip324.byteChannel") as never;

/** A pair's streams, locked by a reader and a writer, as a channel. */
class StreamChannel implements ByteChannel {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  /** See {@linkcode ByteChannel.linger}: only for a pair that says when it has fully closed. */
  readonly linger?: (ms: number) => Promise<void>;
  constructor(pair: BytePair) {
    this.#reader = pair.readable.getReader();
    this.#writer = pair.writable.getWriter();
    this.#writer.closed.catch(() => {});
    const closed = (pair as { closed?: unknown }).closed;
    if (closed instanceof Promise) this.linger = (ms) => this.#lingerUntil(closed, ms);
  }
  /**
   * After our side closed: waits for the connection's own close (a WebSocket's closing
   * handshake) at most `ms`, then stops reading, which drops the connection if it has not
   * closed by then.
   */
  async #lingerUntil(closed: Promise<unknown>, ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      closed.catch(() => {}),
      new Promise<void>((r) => {
        timer = setTimeout(r, ms);
        this.#stopLinger = r;
      }),
    ]);
    clearTimeout(timer);
    this.#stopLinger = undefined;
    this.#reader.cancel().catch(() => {});
  }
  /** Ends a linger in progress at once (an abort). */
  #stopLinger: (() => void) | undefined;
  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    return this.#reader.read();
  }
  cancel(reason?: unknown): Promise<void> {
    return this.#reader.cancel(reason);
  }
  write(chunk: Uint8Array): Promise<void> {
    return this.#writer.write(chunk);
  }
  get ready(): Promise<void> {
    return this.#writer.ready;
  }
  get desiredSize(): number | null {
    return this.#writer.desiredSize;
  }
  close(): Promise<void> {
    return this.#writer.close();
  }
  abort(reason?: unknown): Promise<void> {
    this.#stopLinger?.();
    return this.#writer.abort(reason);
  }
  release(): void {
    this.#reader.releaseLock();
    this.#writer.releaseLock();
  }
}

/**
 * The pair's own channel if it offers one (the same object every time, until
 * its streams are used), else a reader and a writer of its streams (which
 * throws `TypeError` if either is locked).
 */
export function takeChannel(pair: BytePair): ByteChannel {
  const offer = (pair as { [BYTE_CHANNEL]?: () => ByteChannel | undefined })[BYTE_CHANNEL];
  return (typeof offer === "function" ? offer.call(pair) : undefined) ?? new StreamChannel(pair);
}
