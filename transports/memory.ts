/**
 * In-memory transport: two linked byte pairs, for tests, simulations and
 * benchmarks. What one end writes, the other reads.
 *
 * Each direction is one small queue. A session drives it directly (each end
 * offers itself as a `ByteChannel`, see `layers/bytes.ts`); the `readable` and
 * `writable` streams are built over the same queues the first time they are
 * used, so an idle session over a memory pair holds no stream objects of the
 * transport.
 *
 * @module
 */

import type { ByteChannel } from "../layers/bytes.ts";
import {
  BYTE_CHANNEL,
  lockedReadable,
  lockedWritable,
  readableOver,
  RESOLVED,
  writableOver,
} from "./channel_streams.ts";

type BytePair = ReadableWritablePair<Uint8Array, Uint8Array>;

/** Options for {@linkcode memoryPair}. */
export interface MemoryPairOptions {
  /**
   * Copy each chunk on its way across (default `true`), so neither end can
   * see the other modify a buffer it has handed over, as with a real socket.
   * A chunk written through the channel as handed over (the writer never
   * touches it again, as a session's outbox promises for its own buffers)
   * crosses without a copy either way.
   */
  copy?: boolean;
  /** Chunks buffered in each direction before writes wait. Default 16. */
  highWaterMark?: number;
}

/** Longest a write waits for our reader to read the other end's end (see `#refuseAfterEnd`). */
const REFUSE_AFTER_MS = 3_000;
const EMPTY = new Uint8Array(0);

/** Set on in-process byte pairs (see `layers/session/fairness.ts`). */
const IN_PROCESS = Symbol.for("bip324.inProcess");

/** One direction: a queue of chunks with a writer's and a reader's end. */
class Direction {
  readonly #copy: boolean;
  readonly #hwm: number;
  #queue: Uint8Array[] = [];
  /** Writer closed: the reader gets `done` after the queue. */
  #ended = false;
  /** Writer aborted: the reader's reads fail. */
  #aborted: { reason: unknown } | undefined;
  /** Reader cancelled: the writer's writes fail. */
  #cancelled: { reason: unknown } | undefined;
  #reading:
    | { resolve: (r: ReadableStreamReadResult<Uint8Array>) => void; reject: (e: unknown) => void }
    | undefined;
  /** Writes (and `ready`) waiting for the reader to drain the queue. */
  #waiting: { resolve: () => void; reject: (e: unknown) => void }[] | undefined;
  /** The reader read the end (`done`); and who waits for that. */
  #endRead = false;
  #onEndRead: (() => void)[] | undefined;

  constructor(copy: boolean, hwm: number) {
    this.#copy = copy;
    this.#hwm = hwm;
  }

  // The writer's end.
  write(chunk: Uint8Array, handedOver = false): Promise<void> {
    if (this.#cancelled) return Promise.reject(this.#cancelled.reason);
    if (this.#ended || this.#aborted) {
      return Promise.reject(new TypeError("the writable is closed"));
    }
    const value = this.#copy && !handedOver ? chunk.slice() : chunk;
    const reading = this.#reading;
    if (reading !== undefined) {
      this.#reading = undefined;
      reading.resolve({ value, done: false });
      return RESOLVED;
    }
    this.#queue.push(value);
    return this.ready;
  }
  get ready(): Promise<void> {
    if (this.#cancelled) return Promise.reject(this.#cancelled.reason);
    if (this.#queue.length < this.#hwm) return RESOLVED;
    return new Promise((resolve, reject) => (this.#waiting ??= []).push({ resolve, reject }));
  }
  get desiredSize(): number | null {
    return this.#cancelled || this.#aborted ? null : this.#hwm - this.#queue.length;
  }
  /** Whether the reader cancelled (writes fail). */
  get cancelled(): boolean {
    return this.#cancelled !== undefined;
  }
  close(): Promise<void> {
    if (this.#cancelled) return Promise.reject(this.#cancelled.reason);
    if (this.#ended || this.#aborted) {
      return Promise.reject(new TypeError("the writable is closed"));
    }
    this.#ended = true;
    if (this.#queue.length === 0) this.#finishRead();
    return RESOLVED;
  }
  abort(reason: unknown): Promise<void> {
    if (this.#ended || this.#aborted || this.#cancelled) return RESOLVED;
    this.#aborted = { reason };
    this.#queue = [];
    const reading = this.#reading;
    this.#reading = undefined;
    reading?.reject(reason);
    this.#refuseWaiting(reason); // writes waiting for room will never get it
    return RESOLVED;
  }

  /** Whether the writer ended and the reader has not read that end yet (nor cancelled). */
  get endPending(): boolean {
    return this.#ended && !this.#endRead && !this.#cancelled && !this.#aborted;
  }
  /** Resolves once the reader has read the end (see {@linkcode Direction.endPending}). */
  endRead(): Promise<void> {
    if (!this.endPending) return RESOLVED;
    return new Promise((resolve) => (this.#onEndRead ??= []).push(resolve));
  }

  // The reader's end.
  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (this.#queue.length > 0) {
      const value = this.#queue.shift()!;
      if (this.#queue.length < this.#hwm) this.#wake();
      return Promise.resolve({ value, done: false });
    }
    if (this.#aborted) return Promise.reject(this.#aborted.reason);
    if (this.#ended || this.#cancelled) {
      this.#sawEnd();
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#reading !== undefined) return Promise.reject(new TypeError("a read is pending"));
    return new Promise((resolve, reject) => (this.#reading = { resolve, reject }));
  }
  cancel(reason: unknown): Promise<void> {
    if (this.#cancelled || this.#aborted) return RESOLVED;
    this.#cancelled = { reason: reason ?? new Error("the other end stopped reading") };
    this.#queue = [];
    this.#finishRead();
    this.#refuseWaiting(this.#cancelled.reason);
    return RESOLVED;
  }

  #refuseWaiting(reason: unknown): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    for (const w of waiting ?? []) w.reject(reason);
  }

  #finishRead(): void {
    const reading = this.#reading;
    this.#reading = undefined;
    reading?.resolve({ value: undefined, done: true });
    if (reading !== undefined || this.#cancelled) this.#sawEnd();
  }
  #sawEnd(): void {
    this.#endRead = true;
    const waiting = this.#onEndRead;
    this.#onEndRead = undefined;
    for (const w of waiting ?? []) w();
  }
  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    for (const w of waiting ?? []) w.resolve();
  }
}

/**
 * One end: it reads `inbound` and writes `outbound`; its streams are made on first use. It is
 * its own channel (not a `ChannelPair` around one, as the socket transports are): one object
 * per end and no closures, which is what an idle in-memory session costs.
 */
class MemoryEnd implements BytePair, ByteChannel {
  readonly #in: Direction;
  readonly #out: Direction;
  /** Who took the ends: nobody yet, a session (as a channel), or the streams. */
  #taken: "channel" | "streams" | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  constructor(inbound: Direction, outbound: Direction) {
    this.#in = inbound;
    this.#out = outbound;
  }

  /** What the other end writes. */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= this.#takeStreams() ? readableOver(this.#in) : lockedReadable();
  }
  /** What the other end reads. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= this.#takeStreams() ? writableOver(this) : lockedWritable();
  }
  /** Not a socket: sessions over it need not yield for fairness (`layers/session/fairness.ts`). */
  get [IN_PROCESS](): boolean {
    return true;
  }
  /** This end as a channel (until released), unless its streams are in use. */
  [BYTE_CHANNEL](): ByteChannel | undefined {
    if (this.#taken === "streams") return undefined;
    this.#taken = "channel";
    return this;
  }
  #takeStreams(): boolean {
    if (this.#taken === "channel") return false;
    this.#taken = "streams";
    return true;
  }

  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    return this.#in.read();
  }
  cancel(reason?: unknown): Promise<void> {
    return this.#in.cancel(reason);
  }
  write(chunk: Uint8Array, handedOver?: boolean): Promise<void> {
    if (this.#out.cancelled && this.#in.endPending) return this.#refuseAfterEnd();
    return this.#out.write(chunk, handedOver);
  }
  get ready(): Promise<void> {
    if (this.#out.cancelled && this.#in.endPending) return this.#refuseAfterEnd();
    return this.#out.ready;
  }
  /**
   * The other end stopped reading, and its end (after everything it sent) waits for our
   * reader: a write is refused only once our reader has read that end (a macrotask later, so
   * that its continuation has run), or after `REFUSE_AFTER_MS`, so that a session still
   * sending reads all the other end sent and ends as closed by it, not by a failed write.
   */
  #refuseAfterEnd(): Promise<void> {
    const refused = () => this.#out.write(EMPTY);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, REFUSE_AFTER_MS);
      this.#in.endRead().then(() => {
        clearTimeout(timer);
        setTimeout(resolve, 0);
      });
    }).then(refused);
  }
  get desiredSize(): number | null {
    return this.#out.desiredSize;
  }
  close(): Promise<void> {
    return this.#out.close();
  }
  abort(reason?: unknown): Promise<void> {
    return this.#out.abort(reason);
  }
  /** Gives the end back (a handshake driver does): its streams may be used again. */
  release(): void {
    if (this.#taken === "channel") this.#taken = undefined;
  }
}

/**
 * Two connected byte pairs: `[a, b]` where `a.writable` feeds `b.readable`
 * and `b.writable` feeds `a.readable`. Closing a writable ends the other
 * side's readable; aborting it errors that readable; cancelling a readable
 * makes the other side's writes fail.
 *
 * @example
 * ```ts
 * import { memoryPair } from "@bip324/bip324";
 * const [a, b] = memoryPair();
 * const w = a.writable.getWriter();
 * w.write(new Uint8Array([1, 2]));
 * const { value } = await b.readable.getReader().read();
 * console.assert(value?.[1] === 2);
 * ```
 */
export function memoryPair(
  options: MemoryPairOptions = {},
): [ReadableWritablePair<Uint8Array, Uint8Array>, ReadableWritablePair<Uint8Array, Uint8Array>] {
  const copy = options.copy ?? true;
  const hwm = options.highWaterMark ?? 16;
  if (!Number.isInteger(hwm) || hwm < 1) {
    throw new RangeError(`highWaterMark must be an integer ≥ 1, got ${hwm}`);
  }
  const ab = new Direction(copy, hwm);
  const ba = new Direction(copy, hwm);
  return [new MemoryEnd(ba, ab), new MemoryEnd(ab, ba)];
}
