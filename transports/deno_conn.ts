/**
 * A Deno connection (anything shaped like `Deno.Conn`) as a byte pair that a
 * session drives directly, as a `ByteChannel` (see `layers/bytes.ts`); its
 * streams are built the first time they are used. Internal: `connectTcp` and
 * `listenTcp` hand these out.
 *
 * @module
 */

import type { ByteChannel, BytePair } from "../layers/bytes.ts";
import type { DenoConnLike } from "./runtime.ts";
import { type ChannelOwner, ChannelPair, RESOLVED } from "./channel_streams.ts";

/** Smallest and largest read buffer: an idle connection holds the small one. */
const MIN_READ = 512;
const MAX_READ = 64 * 1024;

/**
 * A Deno connection driven directly: reads into a buffer that grows while
 * reads fill it (bulk transfer) and shrinks back when they do not, so
 * thousands of idle connections cost a 512-byte buffer each, not 64 KiB; each
 * chunk handed on is a copy of its own. Writes run one after another.
 */
class ConnChannel implements ByteChannel {
  readonly #conn: DenoConnLike;
  readonly #pair: ChannelOwner;
  #buffer = new Uint8Array(MIN_READ);
  /** A write resolves once the kernel has the bytes: the chunk is free again. */
  readonly releasesWrites = true;
  /** The last write of the chain (settles when every write so far is done). */
  #tail: Promise<void> = RESOLVED;
  #writes = 0;
  #failure: { error: unknown } | undefined;

  constructor(conn: DenoConnLike, pair: ChannelOwner) {
    this.#conn = conn;
    this.#pair = pair;
  }

  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    return this.#conn.read(this.#buffer).then(this.#onRead, this.#onReadError);
  }
  readonly #onRead = (n: number | null): ReadableStreamReadResult<Uint8Array> => {
    if (n === null) return { value: undefined, done: true };
    const buffer = this.#buffer;
    const value = buffer.slice(0, n);
    if (n === buffer.length && buffer.length < MAX_READ) {
      this.#buffer = new Uint8Array(buffer.length * 2);
    } else if (n < buffer.length && buffer.length > MIN_READ) {
      // A read that did not fill the buffer: the burst is over; an idle connection keeps only
      // the small one.
      this.#buffer = new Uint8Array(MIN_READ);
    }
    return { value, done: false };
  };
  readonly #onReadError = (error: unknown): ReadableStreamReadResult<Uint8Array> => {
    if (this.#pair.isClosed) return { value: undefined, done: true };
    this.#pair.close();
    throw error;
  };
  readInto(target: Uint8Array): Promise<number | null> {
    return this.#conn.read(target).catch((error) => {
      this.#onReadError(error); // throws unless we closed the connection ourselves: then EOF
      return null;
    });
  }
  cancel(): Promise<void> {
    this.#pair.close();
    return RESOLVED;
  }
  write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (this.#pair.isClosed) return Promise.reject(new TypeError("the connection is closed"));
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
  async close(): Promise<void> {
    await this.#tail;
    if (this.#failure) throw this.#failure.error;
    this.#pair.close();
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
 * pair. The connection is closed when the readable is cancelled or the
 * writable is closed or aborted. A session drives it directly, as a
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
  return new ChannelPair((owner) => new ConnChannel(conn, owner), () => conn.close());
}
