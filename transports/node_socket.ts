/**
 * A `node:net` socket (Node.js, Bun) as a byte pair that a session drives
 * directly, as a `ByteChannel` (see `layers/bytes.ts`); its streams are built
 * the first time they are used. Internal: `connectTcp` and `listenTcp` hand
 * these out where `Deno` is absent.
 *
 * @module
 */

import type { ByteChannel, BytePair } from "../layers/bytes.ts";
import type { NodeSocketLike } from "./runtime.ts";
import { type ChannelOwner, ChannelPair, NOT_CUT, RESOLVED } from "./channel_streams.ts";

/** Bytes a `node:net` socket may push ahead of the reader before it is paused. */
const NODE_READ_AHEAD = 64 * 1024;

/**
 * Reads: the socket's `data` events queue copies (at most
 * {@linkcode NODE_READ_AHEAD} bytes ahead of the reader, then the socket is
 * paused until the reader catches up). Writes wait for `drain` when the
 * socket's buffer is full. Closing ends the socket (FIN); cancelling or
 * aborting destroys it. A session that is done reading after closing
 * lingers: it drops what the peer still sends until the peer's end, so that
 * unread bytes do not make the close a reset.
 */
class NodeSocketChannel implements ByteChannel {
  readonly #socket: NodeSocketLike;
  readonly #pair: ChannelOwner;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  #ended = false;
  #failure: { error: Error } | undefined;
  #reading:
    | { resolve: (r: ReadableStreamReadResult<Uint8Array>) => void; reject: (e: unknown) => void }
    | undefined;
  /** The socket's buffer is full: writes wait for `drain`. */
  #needDrain = false;
  #drain: Promise<void> | undefined;
  #wakeDrain: (() => void) | undefined;
  /** Our side was ended (FIN). */
  #writeEnded = false;
  /** A lingering close drops what arrives, and ends at the peer's end. */
  #lingering: ((cut?: boolean) => void) | undefined;
  /** Bytes came in during the linger. */
  #lingerDropped = false;

  constructor(socket: NodeSocketLike, pair: ChannelOwner) {
    this.#socket = socket;
    this.#pair = pair;
    socket.on("data", (data: Uint8Array) => this.#data(data));
    socket.on("end", () => this.#end());
    socket.on("error", (error: Error) => {
      this.#failure ??= { error };
      this.#end();
    });
    socket.on("close", () => {
      this.#end();
      this.#woken();
    });
    socket.on("drain", () => this.#woken());
  }

  #data(data: Uint8Array): void {
    if (this.#lingering !== undefined) {
      this.#lingerDropped ||= data.length > 0; // dropped: only whether any came counts
      return;
    }
    if (this.#ended) return;
    // A copy that owns its memory (Buffers may be slices of a shared pool).
    const value = new Uint8Array(data);
    const reading = this.#reading;
    if (reading !== undefined) {
      this.#reading = undefined;
      reading.resolve({ value, done: false });
      return;
    }
    this.#queue.push(value);
    this.#queued += value.length;
    if (this.#queued >= NODE_READ_AHEAD && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  }
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#lingering?.();
    const reading = this.#reading;
    this.#reading = undefined;
    if (reading === undefined) return;
    if (this.#failure && !this.#pair.isClosed) reading.reject(this.#failure.error);
    else reading.resolve({ value: undefined, done: true });
  }
  #woken(): void {
    this.#needDrain = false;
    const wake = this.#wakeDrain;
    this.#drain = this.#wakeDrain = undefined;
    wake?.();
  }

  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const value = this.#queue.shift();
    if (value !== undefined) {
      this.#queued -= value.length;
      if (this.#paused && this.#queued < NODE_READ_AHEAD) {
        this.#paused = false;
        this.#socket.resume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended || this.#lingering !== undefined) {
      if (this.#failure && !this.#pair.isClosed) return Promise.reject(this.#failure.error);
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#reading !== undefined) return Promise.reject(new TypeError("a read is pending"));
    // Accepted sockets start paused (the server's pauseOnConnect): the first read lets data in.
    this.#paused = false;
    this.#socket.resume();
    return new Promise((resolve, reject) => (this.#reading = { resolve, reject }));
  }
  cancel(): Promise<void> {
    this.#pair.close();
    return RESOLVED;
  }
  write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (this.#pair.isClosed || this.#socket.destroyed) {
      return Promise.reject(new Error("socket is closed"));
    }
    if (this.#socket.write(chunk)) return RESOLVED;
    this.#needDrain = true;
    return this.ready;
  }
  /** Resolves once the socket has drained (or closed; a failure rejects). */
  get ready(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (!this.#needDrain || this.#socket.destroyed) return RESOLVED;
    return this.#drain ??= new Promise<void>((resolve) => (this.#wakeDrain = resolve)).then(() => {
      if (this.#failure) throw this.#failure.error;
    });
  }
  get desiredSize(): number | null {
    if (this.#failure || this.#pair.isClosed) return null;
    return this.#needDrain ? 0 : 1;
  }
  close(): Promise<void> {
    if (this.#pair.isClosed || this.#socket.destroyed) return RESOLVED;
    this.#writeEnded = true;
    return new Promise<void>((resolve) => {
      this.#socket.end(() => resolve());
      this.#socket.once("close", () => resolve());
    });
  }
  linger(ms: number): Promise<boolean> {
    if (this.#pair.isClosed || this.#socket.destroyed) return NOT_CUT;
    if (!this.#writeEnded || this.#ended || !(ms > 0)) {
      this.#pair.close();
      return NOT_CUT;
    }
    this.#queue = [];
    this.#queued = 0;
    const reading = this.#reading;
    this.#reading = undefined;
    reading?.resolve({ value: undefined, done: true });
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => this.#lingering?.(true), ms);
      this.#lingering = (cut = false) => {
        clearTimeout(timer);
        this.#pair.close();
        resolve(cut && this.#lingerDropped);
      };
      this.#paused = false;
      this.#socket.resume();
    });
  }
  abort(): Promise<void> {
    this.#pair.close();
    return RESOLVED;
  }
  release(): void {
    this.#pair.release();
  }
}

/**
 * Wraps a `node:net` socket as a byte pair: the socket is paused while the
 * reader is more than 64 KiB behind, and writes wait for `drain`. Closing the
 * writable ends the socket (FIN); cancelling or aborting destroys it.
 */
export function nodeSocketPair(socket: NodeSocketLike): BytePair & { close(): void } {
  // The channel is made at once: it listens from the start, so nothing the peer sends before
  // the first read is lost.
  const pair = new ChannelPair(
    (owner) => new NodeSocketChannel(socket, owner),
    () => socket.destroy(),
    true,
  );
  return pair;
}
