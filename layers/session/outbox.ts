/**
 * The bottom of a session's outbound stage: packets go to the transport in as
 * few writes as possible, with no timer on the path.
 *
 * The layers above allocate each packet from {@linkcode Outbox.alloc}, a
 * region of the current 64 KiB batch buffer, and seal it there in place; when
 * the finished packet arrives at {@linkcode Outbox.push} right where the
 * previous one ended, committing it costs nothing. The committed bytes are
 * handed to the transport as one chunk once the writer goes idle — three
 * consecutive microtask hops with no new packet (a writer that awaits each
 * `write` is back before the third, so it is batched like one that does not
 * wait) — or as soon as 64 KiB have accumulated. Packets that arrive out of order (decoys, a caller's wire
 * layer) are written as chunks of their own, in order; large packets get a
 * buffer of their own. With no caller layer below the messages, those
 * buffers are handed over to the transport (a copying transport need not
 * copy them) or, where the transport releases written chunks, the next large
 * packet reuses the last one's buffer while the writer is busy.
 *
 * @module
 */

import { type ByteChannel, freeBuffer } from "../bytes.ts";
import { takeBuffer } from "../buffer_pool.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/** Largest batch buffer; committed bytes are flushed at once when they fill it. */
export const BATCH_SIZE = 64 * 1024;
/** First batch buffer: it doubles (up to BATCH_SIZE) each time a batch runs out of room. */
const FIRST_BATCH = 4 * 1024;
/** Packets at least this large get a buffer of their own. */
const OWN_BUFFER_FROM = BATCH_SIZE / 4;
/** A kept buffer serves a large packet of at least 1/SPARE_SLACK of its size. */
const SPARE_SLACK = 4;
/** Consecutive microtask hops without a new packet before the batch is flushed. */
const QUIET_HOPS = 3;
/** An idle outbox lets go of its batch buffer after this long. */
const RELEASE_AFTER_MS = 1_000;

/** The writing half of a `ByteChannel` (or a stream writer). */
export type ByteSink =
  & Pick<ByteChannel, "write" | "ready" | "desiredSize" | "close" | "abort">
  & Pick<Partial<ByteChannel>, "releasesWrites">;

/** Who hears that a transport write failed (once, the first failure). */
export interface OutboxListener {
  /** The first transport write failure. */
  writeFailed(error: unknown): void;
}

/** One hop of an outbox's quiet count; `false` once it has flushed (set by Outbox). */
let tick: (outbox: Outbox) => boolean;
/** The outboxes counting quiet hops (and the list the hop in progress walks), and whether the
 * next hop is queued. The two lists swap each hop: no allocation per hop. */
let ticking: Outbox[] = [];
let walking: Outbox[] = [];
let hopQueued = false;

/**
 * Queues `hop` as a microtask: `queueMicrotask` where it is the cheaper way (Deno, Bun), a
 * resolved promise's `then` in Node.js, whose `queueMicrotask` wraps every callback for
 * async hooks (about three times the cost per hop, measured in Node.js 22).
 */
const queueHop: () => void = (() => {
  const g = globalThis as { Deno?: unknown; Bun?: unknown; process?: { versions?: object } };
  const node = g.Deno === undefined && g.Bun === undefined &&
    (g.process?.versions as { node?: string } | undefined)?.node !== undefined;
  const resolved = Promise.resolve();
  return node ? () => void resolved.then(hop) : () => queueMicrotask(hop);
})();

function schedule(outbox: Outbox): void {
  ticking.push(outbox);
  if (!hopQueued) {
    hopQueued = true;
    queueHop();
  }
}

function hop(): void {
  const now = ticking;
  ticking = walking;
  walking = now;
  for (const outbox of now) {
    let again = false;
    try {
      again = tick(outbox);
    } catch { /* a failed flush reaches its session through the write; the others go on */ }
    if (again) ticking.push(outbox);
  }
  now.length = 0;
  if (ticking.length > 0) queueHop();
  else hopQueued = false;
}

/** Batches packets into transport writes. */
export class Outbox {
  #writer: ByteSink;
  #listener: OutboxListener;
  #batch: Uint8Array | undefined;
  /** The last buffer of its own a packet got from alloc (handed over when it is written). */
  #own: ArrayBufferLike | undefined;
  /**
   * Whether a buffer from alloc is referenced by nothing else once pushed (no caller layer
   * below the messages), so it may be handed over or reused. Default `false`.
   */
  ownBuffers = false;
  /**
   * Where the transport releases written chunks: the buffer of the last large packet once its
   * write resolved, for the next one of about its size, and a batch let go of with no region
   * outstanding once its last write resolved, for a later batch of its size (both dropped
   * when the outbox goes idle).
   */
  #spare: Uint8Array | undefined;
  #spareBatch: Uint8Array | undefined;
  #batchSize = FIRST_BATCH;
  #start = 0; // first committed byte not yet flushed
  #filled = 0; // end of the committed bytes
  #reserved = 0; // end of the regions handed out by alloc
  #pushes = 0;
  #seen = 0;
  #quiet = 0;
  #scheduled = false;
  #releaseTimer: ReturnType<typeof setTimeout> | undefined;
  #lastFlush = 0;
  #error: unknown;
  #closed = false;
  #finished = false;
  /** The transport write in flight (settles, never rejects). */
  #lastWrite: Promise<void> = RESOLVED;

  /** Writes to `writer`; `listener` hears the first transport write failure. */
  constructor(writer: ByteSink, listener: OutboxListener) {
    this.#writer = writer;
    this.#listener = listener;
  }

  /** A region of `size` bytes for a packet that will be pushed next (see the module doc). */
  readonly alloc = (size: number): Uint8Array => {
    if (size >= OWN_BUFFER_FROM) {
      const spare = this.#spare;
      let own: Uint8Array, pooled: Uint8Array | undefined;
      if (spare !== undefined && spare.length >= size && spare.length <= SPARE_SLACK * size) {
        this.#spare = undefined;
        own = spare.length === size ? spare : spare.subarray(0, size);
      } else if ((pooled = takeBuffer(size)) !== undefined) {
        own = pooled;
      } else if (this.ownBuffers && this.#writer.releasesWrites === true) {
        // It may be reused: room for a somewhat larger packet next time.
        own = new Uint8Array(roomFor(size)).subarray(0, size);
      } else own = new Uint8Array(size);
      this.#own = own.buffer;
      return own;
    }
    if (this.#batch === undefined || this.#reserved + size > this.#batch.length) {
      // Out of room: a busy writer gets a bigger batch next (an idle one starts small again).
      if (this.#batch !== undefined) this.#batchSize = Math.min(BATCH_SIZE, this.#batchSize * 2);
      while (this.#batchSize < size) this.#batchSize *= 2;
      this.#newBatch();
    }
    const start = this.#reserved;
    this.#reserved += size;
    return this.#batch!.subarray(start, this.#reserved);
  };

  /** Whether the outbox takes no more packets (closed or aborted). */
  get closed(): boolean {
    return this.#closed;
  }
  /** Whether {@linkcode Outbox.close} finished: the transport took everything and ended. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Bytes committed and not yet handed to the transport. */
  get pending(): number {
    return this.#filled - this.#start;
  }

  /** Whether the transport pushes back (the caller should await {@linkcode Outbox.ready}). */
  get backpressure(): boolean {
    return (this.#writer.desiredSize ?? 1) <= 0;
  }

  /** Settles when the transport can take more (rejects once a write has failed). */
  async ready(): Promise<void> {
    await this.#writer.ready;
    if (this.#error !== undefined) throw this.#error;
  }

  /** Queues the bytes of one finished packet (or any wire bytes), in order. */
  push(bytes: Uint8Array): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#closed) throw new TypeError("outbox is closed");
    this.#pushes++;
    const batch = this.#batch;
    if (
      batch !== undefined && bytes.buffer === batch.buffer &&
      bytes.byteOffset === batch.byteOffset + this.#filled
    ) {
      this.#filled += bytes.length;
      if (this.#filled === batch.length) this.flush();
      else this.#schedule();
      return;
    }
    // Out of order, or not ours: send what is committed, then this as a chunk of its own;
    // the batch is retired (regions handed out from it will arrive as chunks of their own).
    this.flush();
    this.#retire();
    const own = this.ownBuffers && bytes.buffer === this.#own;
    this.#own = undefined;
    this.#write(bytes, own);
    if (own) this.#reuseLater(bytes.buffer, "packet");
  }

  /** Hands every committed byte to the transport now. */
  flush(): void {
    if (this.#filled === this.#start) return;
    const batch = this.#batch!;
    const chunk = batch.subarray(this.#start, this.#filled);
    this.#start = this.#filled;
    const full = this.#start === batch.length;
    if (full) {
      this.#batchSize = Math.min(BATCH_SIZE, this.#batchSize * 2); // it filled: a busy writer
      this.#retire();
    }
    this.#write(chunk, this.ownBuffers);
    if (full) this.#reuseLater(batch.buffer, "batch"); // a full batch has no region outstanding
  }

  /** Flushes, waits for the transport to take everything, and closes it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#release();
    await this.#lastWrite;
    if (this.#error !== undefined) throw this.#error;
    await this.#writer.close();
    this.#finished = true;
  }

  /**
   * After a clean end (the peer's): ends the transport as a close does when
   * nothing waits for room, so the peer reads an end rather than an abort;
   * else drops what waits and aborts it.
   */
  end(reason: unknown): void {
    if (this.#closed || this.backpressure) return this.abort(reason);
    this.close().catch(() => {});
  }

  /** Drops everything not yet written and aborts the transport. */
  abort(reason: unknown): void {
    this.#closed = true;
    this.#release();
    this.#writer.abort(reason).catch(() => {});
  }

  /**
   * Writes a chunk. `own`: a region of our own buffers, which (where the transport does not
   * release written chunks, so that they cannot be reused) is handed over: never touched again.
   */
  #write(chunk: Uint8Array, own: boolean): void {
    this.#lastFlush = performance.now();
    this.#armRelease();
    const handedOver = own && this.#writer.releasesWrites !== true;
    this.#lastWrite = this.#writer.write(chunk, handedOver).catch((error) => {
      if (this.#error === undefined) {
        this.#error = error;
        this.#listener.writeFailed(error);
      }
    });
  }

  /**
   * Keeps one of our own buffers, let go of with nothing of it outstanding, for the next large
   * packet or batch — once the writes so far are done, where the transport releases written
   * chunks (and the buffers are ours alone: `ownBuffers`).
   */
  #reuseLater(buffer: ArrayBufferLike, kind: "packet" | "batch"): void {
    if (!this.ownBuffers || this.#writer.releasesWrites !== true) return;
    this.#lastWrite.then(() => {
      // Written: ours alone again. Kept for the next packet or batch (the one it replaces is
      // freed at once), or freed if the outbox is done.
      if (this.#closed || this.#error !== undefined) return freeBuffer(buffer);
      const spare = new Uint8Array(buffer);
      if (kind === "packet") {
        freeBuffer(this.#spare?.buffer);
        this.#spare = spare;
      } else {
        freeBuffer(this.#spareBatch?.buffer);
        this.#spareBatch = spare;
      }
    });
  }

  /** Stops using the batch buffer (regions handed out from it stay valid). */
  #retire(): void {
    this.#batch = undefined;
    this.#start = this.#filled = this.#reserved = 0;
  }

  #newBatch(): void {
    const old = this.#batch;
    this.flush();
    // Replaced for want of room (not filled: flush let go of it then), with no region of it
    // outstanding: it may be a later batch.
    if (old !== undefined && this.#batch === old && this.#reserved === this.#filled) {
      this.#reuseLater(old.buffer, "batch");
    }
    const spare = this.#spareBatch;
    this.#spareBatch = undefined;
    if (spare !== undefined && spare.length === this.#batchSize) this.#batch = spare;
    else {
      freeBuffer(spare?.buffer);
      this.#batch = new Uint8Array(this.#batchSize);
    }
    this.#start = this.#filled = this.#reserved = 0;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#seen = this.#pushes;
    this.#quiet = 0;
    schedule(this);
  }

  static {
    // One microtask loop counts the quiet hops of every outbox with bytes waiting (instead of a
    // callback per outbox): each hop, an outbox that saw a new packet starts counting again,
    // one quiet for QUIET_HOPS hops is flushed and leaves the loop.
    tick = (outbox) => {
      if (outbox.#pushes !== outbox.#seen) {
        outbox.#seen = outbox.#pushes;
        outbox.#quiet = 0;
      } else if (++outbox.#quiet >= QUIET_HOPS) {
        outbox.#scheduled = false;
        outbox.flush();
        return false;
      }
      return true;
    };
  }

  /** An idle outbox lets go of its batch (a timer off the data path, re-armed lazily). */
  #armRelease(): void {
    if (this.#releaseTimer !== undefined) return;
    this.#releaseTimer = setTimeout(this.#onReleaseTimer, RELEASE_AFTER_MS);
  }

  readonly #onReleaseTimer = (): void => {
    this.#releaseTimer = undefined;
    if (this.#closed) return;
    const idle = performance.now() - this.#lastFlush;
    if (idle < RELEASE_AFTER_MS) {
      this.#releaseTimer = setTimeout(this.#onReleaseTimer, RELEASE_AFTER_MS - idle);
      return;
    }
    this.#freeSpares();
    if (this.#filled === this.#start && this.#reserved === this.#filled) {
      this.#retire();
      this.#batchSize = FIRST_BATCH;
    }
  };

  #release(): void {
    clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
    this.#freeSpares();
    this.#retire();
  }

  /** The kept buffers are ours alone (their writes are done): freed at once. */
  #freeSpares(): void {
    freeBuffer(this.#spare?.buffer);
    freeBuffer(this.#spareBatch?.buffer);
    this.#spare = this.#spareBatch = undefined;
  }
}

/** Packets up to this size get room to spare in a buffer that may be reused. */
const ROOM_UP_TO = 256 * 1024;

/** `size` rounded up to a quarter of its power of two (at most 25 % more) up to ROOM_UP_TO,
 * so that a kept buffer also fits the next packets of about its size. */
function roomFor(size: number): number {
  if (size > ROOM_UP_TO) return size;
  const step = 2 ** Math.floor(Math.log2(size)) / 4;
  return Math.ceil(size / step) * step;
}
