/**
 * The inside of a `Session`: its stages, its state (open → closing →
 * closed), `close()` and the shutdown. One object is at once the outbound
 * stage's controller, the inbound half's listener, the writes' owner and
 * the writable's sink: its methods live on the prototype, so an idle
 * session holds no closures for them. `Session` (`session.ts`) is the
 * public face over it. Internal.
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";
import { Bip324Error, withoutStack } from "../errors.ts";
import type { ByteChannel, BytePair } from "../bytes.ts";
import { takeChannel } from "../channel.ts";
import { compose } from "./compose.ts";
import { Outbox, type OutboxListener } from "./outbox.ts";
import { closeTimedOut, IdleTimer, settleWithin } from "./idle_timer.ts";
import { IN_PROCESS } from "./fairness.ts";
import { Inbound, type InboundEvents } from "./inbound.ts";
import { asSessionError } from "./session_error.ts";
import { Writes, type WritesOwner } from "./writes.ts";
import {
  type SessionBaseOptions,
  type SessionInit,
  sessionLimits,
  type SessionStats,
} from "./session_init.ts";

/** A session's stages and state (see the module doc). */
export class SessionCore
  implements
    TransformStreamDefaultController<Uint8Array>,
    InboundEvents,
    OutboxListener,
    WritesOwner,
    UnderlyingSink<Message> {
  /** The session's readable: the inbound half is its source. */
  readonly readable: ReadableStream<Message>;
  /** Resolves once everything is shut (see `#shutdown`). Never rejects. */
  readonly closed: Promise<void>;
  readonly #destroyKeys: () => void;
  readonly #channel: ByteChannel;
  readonly #outbox: Outbox;
  readonly #inbound: Inbound;
  readonly #writes: Writes;
  readonly #closeTimeout: number;
  readonly #idle: IdleTimer | undefined;
  #writable: WritableStream<Message> | undefined;
  #writeController: WritableStreamDefaultController | undefined;
  #resolveClosed!: () => void;
  /** A clean close's transport is still lingering (see `#shutdown`). */
  #lingering = false;
  #state: "open" | "closing" | "closed" = "open";
  #closeReason: Bip324Error | undefined;
  #closing: Promise<void> | undefined;
  #writableClosedByUser = false;

  /** Builds the stages over `pair`; `stats` are the session's running counts. */
  constructor(pair: BytePair, init: SessionInit, options: SessionBaseOptions, stats: SessionStats) {
    this.#destroyKeys = init.destroy;
    const { closeTimeout, readAhead } = sessionLimits(options);
    this.#closeTimeout = closeTimeout;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#idle = options.idleTimeout === undefined
      ? undefined
      : new IdleTimer(options.idleTimeout, (error) => {
        if (this.#state === "open") this.#shutdown(error);
      });
    const socket = (pair as { [IN_PROCESS]?: boolean })[IN_PROCESS] !== true;
    this.#channel = takeChannel(pair);
    this.#outbox = new Outbox(this.#channel, this);
    const stack = init.stack({ stats, alloc: this.#outbox.alloc });
    this.#outbox.ownBuffers = stack.ownBuffers === true;
    const inboundStage = compose<Uint8Array, Message>(...stack.inbound);
    const outbound = compose<Message, Uint8Array>(...stack.outbound);
    this.#writes = new Writes(outbound, this.#outbox, this);
    const leftover = init.leftover.length > 0 ? init.leftover : undefined;
    const inbound = this.#inbound = new Inbound(this, this.#channel, inboundStage, {
      readAhead,
      leftover,
      socket,
      idle: this.#idle,
    });
    const starting = [
      inboundStage.start?.(inbound),
      outbound.start?.(this),
    ].filter((p) => p !== undefined);
    if (starting.length > 0) {
      const started = Promise.all(starting).then(() => {});
      started.catch((error) => this.#fail(error));
      inbound.waitFor(started);
    }
    const size = (m: Message) => inbound.size(m);
    this.readable = new ReadableStream<Message>(inbound, { highWaterMark: readAhead, size });
  }

  /** The writable, built on first use (see `Session.writable`). */
  get writable(): WritableStream<Message> {
    if (this.#writable !== undefined) return this.#writable;
    // One message queued: a byte-counting strategy would let small writes run ahead, but its
    // size callback costs ~280 B per session in Deno and the idle footprint matters more.
    const writable = this.#writable = new WritableStream<Message>(this, { highWaterMark: 1 });
    // Built after a failure: errored as it would have been (see #shutdown).
    if (this.#state === "closed" && this.#closeReason !== undefined) {
      this.#writeController!.error(withoutStack(() => this.closedError()));
    }
    return writable;
  }

  /** `undefined` for a clean close, else why the session ended. */
  get closeReason(): Bip324Error | undefined {
    return this.#closeReason;
  }

  /** Whether the session is still open. */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  /** `Session.send` once its arguments are checked. */
  send(message: Message): Promise<void> {
    // Once close() was called, nothing new is taken (what was sent before still goes out).
    if (this.#state !== "open") return Promise.reject(this.closedError());
    return this.#writes.send(message, this.#writable !== undefined);
  }

  /** `Session.close` (see its doc). */
  closeSession(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#state !== "open") return this.closed;
    this.#state = "closing";
    const started = performance.now(), limit = this.#closeTimeout;
    let failed: { error: unknown } | undefined;
    const flushed = this.#writes.drain().then(() => this.#outbox.close()).catch((error) => {
      failed = { error };
    });
    this.#closing = settleWithin(flushed, limit).then(() => {
      // (A failed write has usually ended the session with its error already.)
      const left = limit - (performance.now() - started);
      if (failed !== undefined) this.#shutdown(asSessionError(failed.error));
      else if (!this.#outbox.finished) this.#shutdown(closeTimedOut(limit));
      // A socket closed without its linger may answer the peer's unread bytes with a reset.
      else if (left <= 0 && this.#channel.linger !== undefined) {
        this.#shutdown(closeTimedOut(limit, "no linger"));
      } else this.#shutdown(undefined, left);
      return this.closed;
    });
    return this.#closing;
  }

  // The controller the outbound stage sees.
  /** Always `null`: the outbox, not the stage, holds back. */
  get desiredSize(): null {
    return null;
  }
  /** Sealed bytes from the outbound stage go to the outbox. */
  enqueue(bytes: Uint8Array): void {
    this.#outbox.push(bytes);
  }
  /** A stage failed: the session ends with its error. */
  error(reason: unknown): void {
    this.#fail(reason);
  }
  /** An outbound stage ending early changes nothing. */
  terminate(): void {}

  // What the inbound half reports.
  /** The peer ended (`error` undefined) or reading failed. */
  onEnd(error?: unknown): void {
    if (error !== undefined) this.#fail(error);
    else if (this.#state === "open") this.#shutdown();
  }
  /** The application cancelled the readable: closes as `close()` does. */
  cancelled(): Promise<void> {
    return this.closeSession();
  }

  // What the outbox reports.
  /** The first transport write failure. */
  writeFailed(error: unknown): void {
    if (this.#state === "open") this.#shutdown(asSessionError(error));
  }

  // What the writes need.
  /** The outbound stage's controller: this object. */
  get controller(): this {
    return this;
  }
  /** Ends the session with a write's failure (caller mistakes pass through); throws. */
  failWrite(error: unknown): never {
    if (error instanceof TypeError || error instanceof RangeError) throw error;
    if (this.#state === "open") this.#shutdown(asSessionError(error));
    throw this.closedError();
  }
  /** `CLOSED`, caused by the close reason. */
  closedError(): Bip324Error {
    return new Bip324Error("CLOSED", "session is closed", {
      origin: "local",
      cause: this.#closeReason,
    });
  }
  /** `CLOSED` once the session has ended, else `error`. */
  sendRefused(error: unknown): unknown {
    return this.#state === "closed" ? this.closedError() : error;
  }
  /** The writable, if the application has built it. */
  get builtWritable(): WritableStream<Message> | undefined {
    return this.#writable;
  }

  // The writable's sink (and what queued sends write to).
  /** Keeps the writable's controller; its abort signal ends the session. */
  start(controller: WritableStreamDefaultController): void {
    this.#writeController = controller;
    // writer.abort() waits for the write in flight, which may wait on backpressure for
    // ever: its signal fires at once, and ends the session as abort() does (that write
    // then fails).
    controller.signal?.addEventListener("abort", () => this.abort(), { once: true });
  }
  /** One message into the outbound stage. */
  write(message: Message): Promise<void> | void {
    return this.#writes.write(message);
  }
  /** `writer.close()`: closes the session. */
  async close(): Promise<void> {
    this.#writableClosedByUser = true;
    await this.closeSession();
  }
  /** `writer.abort()`: ends at once, also a `close()` still sending or lingering. */
  abort(): void {
    if (this.#state !== "closed") this.#shutdown(undefined, 0, true);
    else if (this.#lingering) this.#channel.abort().catch(() => {});
  }

  #fail(error: unknown): void {
    if (this.#state !== "closed") this.#shutdown(asSessionError(error));
  }

  /**
   * Ends everything at once: streams, transport, timers, keys. After a clean
   * `close()`, a socket lingers for up to `linger` ms (see `ByteChannel.linger`),
   * and `closed` waits for it.
   */
  #shutdown(error?: Bip324Error, linger = 0, aborted = false): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#closeReason = error;
    this.#idle?.stop();
    // For whatever is still pending; a trace of the shutdown itself would say nothing.
    const closedError = withoutStack(() => this.closedError());
    this.#inbound.end(error);
    // After a clean end, the writable is left for its sink to refuse later writes with CLOSED,
    // so that `readable.pipeTo(writable)` (an echo) finishes cleanly instead of rejecting.
    if (error && !this.#writableClosedByUser) this.#writeController?.error(closedError);
    const lingering = linger > 0 && this.#channel.linger !== undefined
      ? this.#channel.linger(linger).catch(() => false)
      : undefined;
    if (lingering === undefined) {
      if (error === undefined && !aborted) {
        this.#channel.cancel(closedError).catch(() => {});
        this.#outbox.end(closedError);
      } else {
        // The abort first, so that a transport that can tell the peer (a WebSocket's close
        // code) says so rather than closing normally for the cancel (also for writer.abort()).
        this.#outbox.abort(closedError);
        this.#channel.cancel(closedError).catch(() => {});
      }
    }
    this.#destroyKeys();
    if (lingering === undefined) this.#resolveClosed();
    else {
      this.#lingering = true;
      lingering.then((stillSending) => {
        this.#lingering = false;
        // Ran out while the peer kept sending: that close may have been a reset.
        if (stillSending === true) {
          this.#closeReason = closeTimedOut(this.#closeTimeout, "peer sending");
        }
        this.#resolveClosed();
      });
    }
  }
}
