/**
 * The inbound half of a {@linkcode Session}: it reads the transport, runs
 * each chunk through the composed inbound stage in one synchronous call, and
 * queues the decoded messages in the session's `readable`, whose underlying
 * source it is. Internal.
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";
import type { Bip324Error } from "../errors.ts";
import type { ByteChannel } from "../bytes.ts";
import type { IdleTimer } from "./idle_timer.ts";
import {
  FAIR_SHARE,
  othersWaiting,
  sliceOver,
  startWaiting,
  stopWaiting,
  yieldTurn,
} from "./fairness.ts";

/** What the inbound half tells its session. */
export interface InboundEvents {
  /** The peer ended cleanly, or a stage terminated: `error` undefined; else what failed. */
  onEnd(error?: unknown): void;
  /** The application cancelled the readable: the session closes. */
  cancelled(): Promise<void>;
}

/** How the inbound half reads. */
export interface InboundOptions {
  /** Payload bytes (as {@linkcode Inbound.size} counts them) read ahead of the application. */
  readAhead: number;
  /** Bytes the handshake read past its end: the first input. */
  leftover: Uint8Array | undefined;
  /** Whether the transport is a socket (its reads take fair turns, see `fairness.ts`). */
  socket: boolean;
  /** Touched on every chunk from the peer. */
  idle: IdleTimer | undefined;
}

/**
 * The session's readable source and the controller its inbound stage
 * enqueues into: one object, its methods on the prototype.
 */
export class Inbound
  implements UnderlyingDefaultSource<Message>, TransformStreamDefaultController<Message> {
  readonly #events: InboundEvents;
  readonly #channel: ByteChannel;
  readonly #stage: Transformer<Uint8Array, Message>;
  readonly #readAhead: number;
  readonly #socket: boolean;
  readonly #idle: IdleTimer | undefined;
  /** The next chunk to decode: the handshake's leftover, then each chunk read. */
  #chunk: Uint8Array | undefined;
  #started: Promise<void> | undefined;
  #controller!: ReadableStreamDefaultController<Message>;
  #ended = false;
  #cancelled = false;
  #deferredError: Bip324Error | undefined;
  #enqueued = 0;
  #workSinceTurn = 0;
  /** When this session last gave the event loop a turn (see `fairness.ts`). */
  #sliceStart = 0;
  #lastCounted: ArrayBufferLike | undefined;

  constructor(
    events: InboundEvents,
    channel: ByteChannel,
    stage: Transformer<Uint8Array, Message>,
    options: InboundOptions,
  ) {
    this.#events = events;
    this.#channel = channel;
    this.#stage = stage;
    this.#readAhead = options.readAhead;
    this.#chunk = options.leftover;
    this.#socket = options.socket;
    this.#idle = options.idle;
  }

  /** Reading waits for this first (the stages' `start`). */
  waitFor(started: Promise<void>): void {
    this.#started = started;
  }

  // The controller the inbound stage sees.
  get desiredSize(): null {
    return null;
  }
  enqueue(message: Message): void {
    // Cancelled (the application stopped reading, and the session is closing): what still
    // arrives while our writes drain is dropped, not an error.
    if (this.#cancelled) return;
    this.#enqueued++;
    this.#controller.enqueue(message);
  }
  error(reason: unknown): void {
    this.#events.onEnd(reason ?? new Error("inbound stage failed"));
  }
  terminate(): void {
    this.#events.onEnd();
  }

  // The readable's underlying source.
  start(controller: ReadableStreamDefaultController<Message>): void {
    this.#controller = controller;
  }
  cancel(): Promise<void> {
    this.#cancelled = true;
    return this.#events.cancelled();
  }

  /**
   * Reads and decodes until at least one message is queued (or the session
   * ends). Written with callbacks rather than `async`: an idle session then
   * holds only its pending read's callback, not a suspended frame.
   */
  pull(controller: ReadableStreamDefaultController<Message>): Promise<void> | undefined {
    if (this.#deferredError) {
      // Failed while messages were queued: they are read first, then the error.
      if (controller.desiredSize === this.#readAhead) controller.error(this.#deferredError);
      return;
    }
    if (this.#ended) return;
    const before = this.#enqueued;
    const started = this.#started;
    if (started !== undefined) {
      return started.then(() => {
        this.#started = undefined;
        return this.#turn(before);
      }, this.#failed);
    }
    return this.#turn(before);
  }

  /**
   * Decodes the chunk at hand or reads one, until something is enqueued (a
   * pull that enqueues nothing is not called again). Each transport read is a
   * turn of its own: bounded work per connection per turn.
   */
  #turn(before: number): Promise<void> | undefined {
    try {
      while (this.#enqueued === before && !this.#ended) {
        const chunk = this.#chunk;
        if (chunk === undefined) {
          if (this.#socket && this.#workSinceTurn >= FAIR_SHARE) {
            this.#workSinceTurn = 0;
            if (othersWaiting() && sliceOver(this.#sliceStart)) {
              // (Ended meanwhile: no read, the transport may be lingering — see ByteChannel.linger.)
              return yieldTurn().then(() => {
                this.#sliceStart = performance.now();
                return this.#ended ? undefined : this.#read(before);
              });
            }
          }
          return this.#read(before);
        }
        this.#chunk = undefined;
        const pending = this.#stage.transform!(chunk, this);
        if (pending) return Promise.resolve(pending).then(() => this.#turn(before), this.#failed);
      }
    } catch (error) {
      this.#failed(error);
    }
    return undefined;
  }

  /**
   * The transport's next chunk: read straight into the body being gathered
   * when the stage has one and the transport can (`readInto`), else a chunk of
   * the transport's own.
   */
  #next(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const channel = this.#channel;
    if (channel.readInto !== undefined) {
      const region = (this.#stage as { landing?(): Uint8Array | undefined }).landing?.();
      if (region !== undefined && region.length > 0) {
        return channel.readInto(region).then((n) =>
          n === null
            ? { value: undefined, done: true }
            : { value: region.subarray(0, n), done: false }
        );
      }
    }
    return channel.read();
  }

  #read(before: number): Promise<void> {
    // Two branches, not one with `if (socket)` inside the callbacks: the in-process one shares
    // #failed instead of holding a second closure while its read waits (an idle session).
    if (!this.#socket) {
      return this.#next().then((next) => this.#received(next, before), this.#failed);
    }
    startWaiting();
    return this.#next().then((next) => {
      stopWaiting();
      return this.#received(next, before);
    }, (error) => {
      stopWaiting();
      this.#failed(error);
    });
  }

  #received(next: ReadableStreamReadResult<Uint8Array>, before: number): Promise<void> | undefined {
    if (this.#ended) return;
    try {
      if (next.done) {
        const flushed = this.#stage.flush?.(this);
        if (flushed) return Promise.resolve(flushed).then(() => this.#events.onEnd(), this.#failed);
        this.#events.onEnd();
        return;
      }
    } catch (error) {
      this.#failed(error);
      return;
    }
    this.#workSinceTurn += next.value.length;
    this.#idle?.touch();
    this.#chunk = next.value;
    return this.#turn(before);
  }

  /** A read, a stage or the stages' start failed: the session ends with it. */
  readonly #failed = (error: unknown): void => {
    this.#events.onEnd(error);
  };

  /**
   * What a queued message holds: a payload is a view into the transport chunk it arrived in,
   * so the first message of each chunk counts the whole chunk (a peer cannot make small
   * messages pin large chunks beyond the read-ahead), the others only their overhead.
   */
  size(message: Message): number {
    const buffer = message.payload.buffer;
    if (buffer === this.#lastCounted) return 64;
    this.#lastCounted = buffer;
    return Math.max(buffer.byteLength, message.payload.length) + 64;
  }

  /**
   * Ends the readable: at once after a clean end; after a failure, once the
   * messages already received (and authenticated) have been read.
   */
  end(error: Bip324Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      if (!error) this.#controller.close();
      else if (this.#controller.desiredSize !== this.#readAhead) this.#deferredError = error;
      else this.#controller.error(error);
    } catch { /* already closed by the consumer */ }
  }
}
