/**
 * A Deno connection (anything shaped like `Deno.Conn`) as a byte pair that a
 * session drives directly, as a `ByteChannel` (see `layers/bytes.ts`); its
 * streams are built the first time they are used. Internal: `connectTcp` and
 * `listenTcp` hand these out.
 *
 * @module
 */

import { type ByteChannel, type BytePair, freeBuffer } from "../layers/bytes.ts";
import type { DenoConnLike } from "./runtime.ts";
import { type ChannelOwner, ChannelPair, NOT_CUT, RESOLVED } from "./channel_streams.ts";

/** Smallest and largest read buffer: an idle connection holds the small one. */
const MIN_READ = 512;
const MAX_READ = 64 * 1024;
/** A grown read buffer not filled for this long is let go of. */
const KEEP_GROWN_MS = 1_000;
/** Where a lingering close reads what it drops (shared: nobody looks at its bytes). */
const DISCARD = new Uint8Array(MAX_READ);

/** Channels keeping a grown read buffer, and the one timer that lets go of unused ones. */
const keeping = new Set<ConnChannel>();
let sweeper: ReturnType<typeof setInterval> | undefined;

function sweep(): void {
  const now = performance.now();
  for (const channel of keeping) if (channel.letGo(now)) keeping.delete(channel);
  stopIfEmpty();
}

function stopIfEmpty(): void {
  if (keeping.size > 0 || sweeper === undefined) return;
  clearInterval(sweeper);
  sweeper = undefined;
}

/** How many connections keep a grown read buffer, and whether the sweep's timer runs (tests). */
export function keptReadBuffers(): { connections: number; sweeping: boolean } {
  return { connections: keeping.size, sweeping: sweeper !== undefined };
}

function keep(channel: ConnChannel): void {
  keeping.add(channel);
  sweeper ??= setInterval(sweep, KEEP_GROWN_MS);
}

/**
 * A Deno connection driven directly. Reads go to a small buffer; one that
 * fills it (a burst) sends the next reads to a larger one, which doubles
 * while reads fill it (up to 64 KiB). A read that does not fill its buffer
 * sends the next back to the small one. A buffer that grew to 64 KiB (bulk
 * transfer) is kept for the next burst and let go of after a second without
 * one, so that a busy connection does not allocate per read; smaller ones go
 * at the end of their burst, so a connection that went quiet after its
 * handshake, like thousands of idle ones, holds only the 512 bytes. Each
 * chunk handed on is a copy of its own. Writes run one after another.
 * Closing ends our side only (FIN); a session that is done reading then
 * lingers: it drops what the peer still sends until the peer's end, so that
 * unread bytes do not make the close a reset.
 */
class ConnChannel implements ByteChannel {
  readonly #conn: DenoConnLike;
  readonly #pair: ChannelOwner;
  readonly #small: Uint8Array<ArrayBuffer> = new Uint8Array(MIN_READ);
  #grown: Uint8Array<ArrayBuffer> | undefined;
  #inGrown = false;
  #grownUsedAt = 0;
  /** The buffer of the read in progress (one at a time). */
  #reading: Uint8Array = this.#small;
  /** A write resolves once the kernel has the bytes: the chunk is free again. */
  readonly releasesWrites = true;
  /** The last write of the chain (settles when every write so far is done). */
  #tail: Promise<void> = RESOLVED;
  #writes = 0;
  #failure: { error: unknown } | undefined;
  /** The read in progress, if any (a lingering close waits for it before reading on). */
  #pendingRead: Promise<number | null | void> = RESOLVED;
  /** The peer's end was read. */
  #readEnded = false;
  /** Our side was ended (FIN): the connection closes once the peer's end is read too. */
  #writeClosed = false;

  constructor(conn: DenoConnLike, pair: ChannelOwner) {
    this.#conn = conn;
    this.#pair = pair;
  }

  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    let buffer = this.#small;
    if (this.#inGrown) {
      buffer = this.#grown ??= new Uint8Array(2 * MIN_READ);
      this.#grownUsedAt = performance.now();
    }
    this.#reading = buffer;
    const reading = this.#pendingRead = this.#conn.read(buffer);
    return reading.then(this.#onRead, this.#onReadError);
  }
  readonly #onRead = (n: number | null): ReadableStreamReadResult<Uint8Array> => {
    if (n === null) {
      this.#ended();
      return { value: undefined, done: true };
    }
    const buffer = this.#reading;
    const value = buffer.slice(0, n);
    if (buffer === this.#small) {
      if (n === buffer.length) this.#inGrown = true;
    } else if (n === buffer.length) {
      if (buffer.length < MAX_READ) {
        this.#grown = new Uint8Array(buffer.length * 2);
        freeBuffer(buffer.buffer); // its bytes were copied out: nothing else refers to it
      }
    } else {
      // The burst is over.
      this.#inGrown = false;
      if (buffer.length < MAX_READ) this.#dropGrown();
      else if (!keeping.has(this)) keep(this);
    }
    return { value, done: false };
  };
  /** The sweep: lets go of the grown buffer unless a read used it in the last `KEEP_GROWN_MS`;
   * whether the sweep is done with this channel. */
  letGo(now: number): boolean {
    if (now - this.#grownUsedAt < KEEP_GROWN_MS) return false;
    // (A read still waiting in it holds it; the end of that burst lets go of it.)
    if (!this.#inGrown) this.#dropGrown();
    return true;
  }
  /** The connection closed: the grown buffer goes at once. */
  closed(): void {
    if (this.#inGrown) this.#grown = undefined; // a read may still be waiting in it
    else this.#dropGrown();
    this.#inGrown = false;
    if (keeping.delete(this)) stopIfEmpty();
  }
  /** With no read waiting in it, the grown buffer is ours alone: freed at once. */
  #dropGrown(): void {
    freeBuffer(this.#grown?.buffer);
    this.#grown = undefined;
  }
  readonly #onReadError = (error: unknown): ReadableStreamReadResult<Uint8Array> => {
    if (this.#pair.isClosed) return { value: undefined, done: true };
    this.#pair.close();
    throw error;
  };
  readInto(target: Uint8Array): Promise<number | null> {
    const reading = this.#pendingRead = this.#conn.read(target);
    return reading.then((n) => {
      if (n === null) this.#ended();
      return n;
    }, (error) => {
      this.#onReadError(error); // throws unless we closed the connection ourselves: then EOF
      return null;
    });
  }
  /** The peer's end was read: with our side ended too, the connection closes. */
  #ended(): void {
    this.#readEnded = true;
    if (this.#writeClosed) this.#pair.close();
  }
  cancel(): Promise<void> {
    this.#pair.close();
    return RESOLVED;
  }
  write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (this.#pair.isClosed || this.#writeClosed) {
      return Promise.reject(new TypeError("the connection is closed for writing"));
    }
    // The first write starts at once; later ones follow the one before.
    const done = this.#writes++ === 0
      ? this.#writeAll(chunk)
      : this.#tail.then(() => this.#writeAll(chunk));
    this.#tail = done.catch(() => {});
    return done;
  }
  async #writeAll(chunk: Uint8Array): Promise<void> {
    try {
      if (this.#failure) throw this.#failure.error;
      let offset = 0;
      while (offset < chunk.length) offset += await this.#conn.write(chunk.subarray(offset));
    } catch (error) {
      this.#failure ??= { error };
      this.#pair.close();
      throw error;
    } finally {
      this.#writes--;
    }
  }
  /** Resolves once the writes in flight are done (one at a time is the transport's pace). */
  get ready(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    return this.#writes > 0 ? this.#tail : RESOLVED;
  }
  get desiredSize(): number | null {
    return this.#failure || this.#pair.isClosed ? null : 1 - this.#writes;
  }
  /**
   * Ends our side once the writes are done: a FIN where the connection can
   * half-close (reading goes on until the peer's end, then it closes), else
   * it closes.
   */
  async close(): Promise<void> {
    await this.#tail;
    if (this.#failure) throw this.#failure.error;
    if (this.#conn.closeWrite === undefined || this.#readEnded) return this.#pair.close();
    if (this.#writeClosed || this.#pair.isClosed) return;
    this.#writeClosed = true;
    try {
      await this.#conn.closeWrite();
    } catch {
      this.#pair.close(); // the peer is gone (reset): nothing left to half-close
    }
  }
  linger(ms: number): Promise<boolean> {
    if (this.#pair.isClosed) return NOT_CUT;
    if (!this.#writeClosed || this.#readEnded || !(ms > 0)) {
      this.#pair.close();
      return NOT_CUT;
    }
    // Closing interrupts the read that waits: the timer bounds the whole drain.
    let cut = false, dropped = false;
    const timer = setTimeout(() => {
      cut = true;
      this.#pair.close();
    }, ms);
    const drain = async () => {
      try {
        let n = await this.#pendingRead;
        while (n !== null && !this.#pair.isClosed) {
          if (n) dropped = true;
          n = await this.#conn.read(DISCARD);
        }
      } catch { /* reset, or closed by the timer */ }
    };
    return drain().then(() => {
      clearTimeout(timer);
      this.#pair.close();
      return cut && dropped;
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
 * Wraps a Deno connection (anything shaped like `Deno.Conn`) as a byte
 * pair. Closing the writable ends our side (a FIN, where the connection
 * can half-close, as TCP can): the readable goes on to the peer's end, and
 * the connection closes once both sides have ended, or at once when the
 * readable is cancelled or the writable aborted. A session drives it directly, as a
 * `ByteChannel` (see `layers/bytes.ts`); its streams are built the first
 * time they are used. Internal: not exported by the package.
 *
 * @example
 * ```ts ignore
 * import { connPair } from "./deno_conn.ts";
 * const pair = connPair(await Deno.connect({ hostname: "127.0.0.1", port: 8333 }));
 * ```
 */
export function connPair(conn: DenoConnLike): BytePair & { close(): void } {
  let channel: ConnChannel | undefined;
  return new ChannelPair((owner) => (channel = new ConnChannel(conn, owner)), () => {
    channel?.closed();
    conn.close();
  });
}
