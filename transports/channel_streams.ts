/**
 * Streams over a `ByteChannel` (see `layers/bytes.ts`), for transports that
 * drive their connection directly and build the standard `readable` /
 * `writable` only when someone uses them. Internal.
 *
 * @module
 */

import type { ByteChannel, BytePair } from "../layers/bytes.ts";

/** Where a pair offers its channel (see `layers/channel.ts`). */
export const BYTE_CHANNEL: unique symbol = Symbol.for("bip324.byteChannel") as never;

/** A resolved promise to hand out where nothing waits. */
export const RESOLVED: Promise<void> = Promise.resolve();
/** What `linger()` resolves to when it was not cut short while the peer sent. */
export const NOT_CUT: Promise<boolean> = Promise.resolve(false);

/** A pull-based readable over the channel's reads (nothing read ahead). */
export function readableOver(
  channel: Pick<ByteChannel, "read" | "cancel">,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const next = await channel.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: (reason) => channel.cancel(reason),
  }, { highWaterMark: 0 });
}

/** A writable over the channel's writes. */
export function writableOver(
  channel: Pick<ByteChannel, "write" | "close" | "abort">,
): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: (chunk) => channel.write(chunk),
    close: () => channel.close(),
    abort: (reason) => channel.abort(reason),
  });
}

/** A pair's readable once a session has taken the pair as a channel: locked. */
export function lockedReadable(): ReadableStream<Uint8Array> {
  const stream = new ReadableStream<Uint8Array>();
  stream.getReader();
  return stream;
}
/** A pair's writable once a session has taken the pair as a channel: locked. */
export function lockedWritable(): WritableStream<Uint8Array> {
  const stream = new WritableStream<Uint8Array>();
  stream.getWriter();
  return stream;
}

/** What a {@linkcode ChannelPair}'s channel is told of the pair it belongs to. */
export interface ChannelOwner {
  /** Whether the connection was closed (by either side of us). */
  readonly isClosed: boolean;
  /** Closes the connection (idempotent). */
  close(): void;
  /** Gives the channel back: the streams may be used then. */
  release(): void;
}

/**
 * A connection as a byte pair: a session takes its channel (until it gives
 * it back), or someone uses its `readable`/`writable`, built on first use
 * over the same channel; whichever comes first, the other then shows locked.
 */
export class ChannelPair implements BytePair, ChannelOwner {
  readonly #makeChannel: (owner: ChannelOwner) => ByteChannel;
  readonly #closeTransport: () => void;
  #closed = false;
  #taken: "channel" | "streams" | undefined;
  #channel: ByteChannel | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  /**
   * `makeChannel` is called once: on first use, or at once with `eager` (for
   * a transport whose channel must listen from the start); `closeTransport`
   * at most once.
   */
  constructor(
    makeChannel: (owner: ChannelOwner) => ByteChannel,
    closeTransport: () => void,
    eager = false,
  ) {
    this.#makeChannel = makeChannel;
    this.#closeTransport = closeTransport;
    if (eager) this.#channel = makeChannel(this);
  }

  get isClosed(): boolean {
    return this.#closed;
  }
  /** What the peer sends. */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= this.#takeStreams()
      ? readableOver(this.#channelOf())
      : lockedReadable();
  }
  /** What goes to the peer. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= this.#takeStreams()
      ? writableOver(this.#channelOf())
      : lockedWritable();
  }
  /** Closes the connection (idempotent). */
  close = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#closeTransport();
    } catch { /* already closed */ }
  };
  /** The connection as a channel (until released), unless its streams are in use. */
  [BYTE_CHANNEL](): ByteChannel | undefined {
    if (this.#taken === "streams") return undefined;
    this.#taken = "channel";
    return this.#channelOf();
  }
  /** Gives the channel back (a handshake driver does): the streams may be used then. */
  release(): void {
    if (this.#taken === "channel") this.#taken = undefined;
  }
  #channelOf(): ByteChannel {
    return this.#channel ??= this.#makeChannel(this);
  }
  #takeStreams(): boolean {
    if (this.#taken === "channel") return false;
    this.#taken = "streams";
    return true;
  }
}
