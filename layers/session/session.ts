/**
 * {@linkcode Session}: an established connection, read and written as
 * `{ type, payload }` messages, over any byte pair.
 *
 * A session runs ONE composed stage per direction: the protocol's layer
 * transformers (and the caller's, at their positions) chained by `compose()`,
 * driven straight from the transport's reads and from the session's writes:
 *
 * ```
 * application  ⇅ Message
 *   [messages]  aliasing  [contents]  shaping  AEAD  [packets]  length  [wire]
 * transport    ⇅ Uint8Array
 * ```
 *
 * Inbound, each transport chunk goes through every layer in one synchronous
 * call; outbound, each message is encoded, sealed in place and committed to
 * the transport's next write (see `outbox.ts`). The inbound half — reads,
 * decoding, the read-ahead — is `inbound.ts`.
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";
import { Bip324Error, withoutStack } from "../errors.ts";
import type { ByteChannel, BytePair } from "../bytes.ts";
import { takeChannel } from "../channel.ts";
import type { Role } from "../handshake/handshake.ts";
import type { Network } from "../bitcoin/network.ts";
import { compose } from "./compose.ts";
import { Outbox, type OutboxListener } from "./outbox.ts";
import { closeTimedOut, IdleTimer, settleWithin } from "./idle_timer.ts";
import { IN_PROCESS } from "./fairness.ts";
import { Inbound, type InboundEvents } from "./inbound.ts";
import { asSessionError } from "./session_error.ts";
import { Writes, type WritesOwner } from "./writes.ts";
import {
  type HandshakeInfo,
  type SessionBaseOptions,
  type SessionInit,
  sessionLimits,
  type SessionStats,
} from "./session_init.ts";

export { asSessionError };
export type {
  HandshakeInfo,
  SessionBaseOptions,
  SessionInit,
  SessionStack,
  SessionStats,
} from "./session_init.ts";

type Hooks =
  & TransformStreamDefaultController<Uint8Array>
  & InboundEvents
  & OutboxListener
  & WritesOwner
  & UnderlyingSink<Message>;
let SessionHooks: new (session: Session) => Hooks;
let setPeer: (session: Session, facts: PeerFacts) => void;
/** What a session's opener learns about the peer. */
interface PeerFacts {
  /** Where the peer is, `HOST:PORT` (connect and the listeners). */
  remote?: string;
  /** The outcome of private authentication. */
  authenticated?: boolean;
}

/** Records facts about a session's peer (internal). */
export function markPeer(session: Session, facts: PeerFacts): void {
  setPeer(session, facts);
}

/**
 * An established session.
 *
 * Reading yields the peer's messages; writing sends ours. Closing either
 * stream, calling {@linkcode Session.close}, or the transport ending closes
 * the whole session: reads then resolve `done` (after any messages already
 * received), writes reject with `Bip324Error` `CLOSED`, and all keys are
 * wiped. A protocol failure (e.g. a bad tag) closes the session the same way;
 * messages received before it are still read, and then reads reject with the
 * `Bip324Error`. {@linkcode Session.closed} resolves (it never rejects) once
 * everything is shut; {@linkcode Session.closeReason} says why.
 *
 * Ownership: a written payload belongs to the session until the write
 * resolves (it is copied straight into the outgoing packet, never kept). A
 * received payload is a view into the transport chunk it arrived in; call
 * `payload.slice()` to keep a small one without keeping the chunk. An
 * application done with a large payload may hand its buffer back with
 * `recycle(payload)`, for the next large packet to be built in.
 *
 * Cancelling `readable` — which breaking out of `for await (… of
 * session.readable)` does — closes the whole session, as `close()` does:
 * our writes so far still go out, and what the peer sends meanwhile is
 * dropped. To stop reading but keep the session, iterate
 * `session.readable.values({ preventCancel: true })` or use a reader and
 * `releaseLock()` it.
 *
 * @example A session over an in-memory pair
 * ```ts
 * import { memoryPair, openSession } from "@bip324/bip324";
 *
 * const [x, y] = memoryPair();
 * const [alice, bob] = await Promise.all([
 *   openSession(x, { role: "initiator" }),
 *   openSession(y, { role: "responder" }),
 * ]);
 * await alice.send("ping", new Uint8Array(8));
 * const { value } = await bob.readable.getReader().read();
 * console.assert(value?.type === "ping");
 * await alice.close();
 * await bob.closed;
 * ```
 */
export class Session implements AsyncDisposable {
  /** The peer's messages. */
  readonly readable: ReadableStream<Message>;
  /**
   * 32-byte session id, equal on both ends (compare out of band to detect a
   * MitM). Empty for a v1 session.
   */
  readonly sessionId: Uint8Array;
  /** Whether we initiated or accepted the connection. */
  readonly role: Role;
  /** The network both ends agreed on. */
  readonly network: Network | Uint8Array;
  /** The transport protocol version: 2 for BIP324, 1 after a fallback to the legacy protocol. */
  readonly transportVersion: 1 | 2;
  /** The peer's version packet contents (empty today; reserved for upgrades). */
  readonly peerVersionContents: Uint8Array;
  /** Garbage and decoy figures from the handshake. */
  readonly handshake: HandshakeInfo;
  /** Running counts. */
  readonly stats: SessionStats = { decoysReceived: 0, decoysSent: 0, messagesDropped: 0 };
  /** Resolves once the session has fully shut down. Never rejects. */
  readonly closed: Promise<void>;

  static {
    // One small object is the outbound stage's controller, the inbound half's listener and the
    // writable's sink: its methods (on the prototype) reach the session's private state, so an
    // idle session holds no closures for them.
    SessionHooks = class
      implements
        TransformStreamDefaultController<Uint8Array>,
        InboundEvents,
        OutboxListener,
        WritesOwner,
        UnderlyingSink<Message> {
      readonly #session: Session;
      constructor(session: Session) {
        this.#session = session;
      }
      // The controller the outbound stage sees.
      get desiredSize(): null {
        return null;
      }
      enqueue(bytes: Uint8Array): void {
        this.#session.#outbox.push(bytes);
      }
      error(reason: unknown): void {
        this.#session.#fail(reason);
      }
      terminate(): void {}
      // What the inbound half reports.
      onEnd(error?: unknown): void {
        const session = this.#session;
        if (error !== undefined) session.#fail(error);
        else if (session.#state === "open") session.#shutdown();
      }
      cancelled(): Promise<void> {
        return this.#session.close();
      }
      // What the outbox reports.
      writeFailed(error: unknown): void {
        const session = this.#session;
        if (session.#state === "open") session.#shutdown(asSessionError(error));
      }
      // What the writes report.
      get controller(): this {
        return this;
      }
      failWrite(error: unknown): never {
        const session = this.#session;
        if (error instanceof TypeError || error instanceof RangeError) throw error;
        if (session.#state === "open") session.#shutdown(asSessionError(error));
        throw session.#closedError();
      }
      closedError(): Bip324Error {
        return this.#session.#closedError();
      }
      sendRefused(error: unknown): unknown {
        return this.#session.#state === "closed" ? this.#session.#closedError() : error;
      }
      // The writable's sink (and what queued sends write to).
      get builtWritable(): WritableStream<Message> | undefined {
        return this.#session.#writable;
      }
      start(controller: WritableStreamDefaultController): void {
        this.#session.#writeController = controller;
        // writer.abort() waits for the write in flight, which may wait on backpressure for
        // ever: its signal fires at once, and ends the session as abort() does (that write
        // then fails).
        controller.signal?.addEventListener("abort", () => this.abort(), { once: true });
      }
      write(message: Message): Promise<void> | void {
        return this.#session.#writes.write(message);
      }
      async close(): Promise<void> {
        this.#session.#writableClosedByUser = true;
        await this.#session.close();
      }
      abort(): void {
        this.#session.#abort();
      }
    };
    setPeer = (session, { remote, authenticated }) => {
      if (remote !== undefined) session.#remote = remote;
      if (authenticated !== undefined) session.#authenticated = authenticated;
    };
  }

  #authenticated: boolean | undefined;
  #remote: string | undefined;
  #destroyKeys: () => void;
  #channel: ByteChannel;
  #outbox: Outbox;
  #inbound: Inbound;
  #writes: Writes;
  #hooks: Hooks;
  #writable: WritableStream<Message> | undefined;
  #writeController: WritableStreamDefaultController | undefined;
  #resolveClosed!: () => void;
  /** A clean close's transport is still lingering (see `#shutdown`). */
  #lingering = false;
  #state: "open" | "closing" | "closed" = "open";
  #closeReason?: Bip324Error;
  #closeTimeout: number;
  #closing?: Promise<void>;
  #writableClosedByUser = false;
  #idle?: IdleTimer;

  /**
   * Builds the session's stages over `pair` (use `openSession` for v2,
   * `openV1Session` for v1).
   */
  constructor(pair: BytePair, init: SessionInit, options: SessionBaseOptions = {}) {
    this.transportVersion = init.transportVersion;
    this.role = init.role;
    this.network = init.network;
    this.sessionId = init.sessionId.slice();
    this.peerVersionContents = init.peerVersionContents;
    this.handshake = init.handshake;
    this.#destroyKeys = init.destroy;
    const { closeTimeout, readAhead } = sessionLimits(options);
    this.#closeTimeout = closeTimeout;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    if (options.idleTimeout !== undefined) {
      this.#idle = new IdleTimer(options.idleTimeout, (error) => {
        if (this.#state === "open") this.#shutdown(error);
      });
    }
    const socket = (pair as { [IN_PROCESS]?: boolean })[IN_PROCESS] !== true;
    this.#channel = takeChannel(pair);
    const hooks = this.#hooks = new SessionHooks(this);
    this.#outbox = new Outbox(this.#channel, hooks);
    const stack = init.stack({ stats: this.stats, alloc: this.#outbox.alloc });
    this.#outbox.ownBuffers = stack.ownBuffers === true;
    const inboundStage = compose<Uint8Array, Message>(...stack.inbound);
    const outbound = compose<Message, Uint8Array>(...stack.outbound);
    this.#writes = new Writes(outbound, this.#outbox, hooks);
    const leftover = init.leftover.length > 0 ? init.leftover : undefined;
    const inbound = this.#inbound = new Inbound(hooks, this.#channel, inboundStage, {
      readAhead,
      leftover,
      socket,
      idle: this.#idle,
    });
    const starting = [
      inboundStage.start?.(inbound),
      outbound.start?.(hooks),
    ].filter((p) => p !== undefined);
    if (starting.length > 0) {
      const started = Promise.all(starting).then(() => {});
      started.catch((error) => this.#fail(error));
      inbound.waitFor(started);
    }

    const size = (m: Message) => inbound.size(m);
    this.readable = new ReadableStream<Message>(inbound, { highWaterMark: readAhead, size });
  }

  /**
   * Our messages to the peer. Built the first time it is used:
   * {@linkcode Session.send} does not need it, so a session written only
   * through `send` holds no stream objects for its writes. It queues one
   * message: wait for `writer.ready` (or each write) before the next, so
   * the transport's backpressure reaches the writer and the runtime's
   * queue stays short (Node.js 22 and 20 dequeue pending writes in
   * time proportional to the queue). `writer.close()` waits, as streams do,
   * for a write the transport pushes back on, for as long as the peer does
   * not read; {@linkcode Session.close} is bounded by `closeTimeout`, and
   * `writer.abort()` ends the session at once, even while a `close()` is
   * still sending or lingering.
   */
  get writable(): WritableStream<Message> {
    if (this.#writable !== undefined) return this.#writable;
    // One message queued: a byte-counting strategy would let small writes run ahead, but its
    // size callback costs ~280 B per session in Deno and the idle footprint matters more.
    const writable = this.#writable = new WritableStream<Message>(this.#hooks, {
      highWaterMark: 1,
    });
    // Built after a failure: errored as it would have been (see #shutdown).
    if (this.#state === "closed" && this.#closeReason !== undefined) {
      this.#writeController!.error(withoutStack(() => this.#closedError()));
    }
    return writable;
  }

  /**
   * Why the session ended: `undefined` for a clean close, else the protocol
   * error (or `TIMEOUT`: a `close()` that gave up before the peer took our
   * last messages).
   */
  get closeReason(): Bip324Error | undefined {
    return this.#closeReason;
  }

  /**
   * With private authentication (`auth` option, experimental): whether the
   * peer proved a key we accept. `undefined` when authentication was not
   * enabled; always `false` on a v1 session.
   */
  get authenticated(): boolean | undefined {
    return this.#authenticated;
  }

  /**
   * Where the peer is, `HOST:PORT` (IPv6 hosts in brackets), for sessions
   * from `connect`, `connectWebSocket` and the listeners; `undefined` for a
   * session over a byte pair of the caller's own.
   */
  get remote(): string | undefined {
    return this.#remote;
  }

  /** Whether the session is still open. */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  /**
   * Sends one message and resolves once it is on its way, in order with
   * earlier calls. Until {@linkcode Session.writable} is first used, it
   * writes without any stream — with nothing waiting ahead of it, straight
   * into the outbound stage in the same call, the cheapest way to write —
   * after that it takes the writable's lock for the write, so it rejects
   * with `TypeError` while another writer holds it.
   */
  send(type: string, payload: Uint8Array = new Uint8Array(0)): Promise<void> {
    if (typeof type !== "string") throw new TypeError("type must be a string");
    if (!(payload instanceof Uint8Array)) throw new TypeError("payload must be a Uint8Array");
    // Once close() was called, nothing new is taken (what was sent before still goes out).
    if (this.#state !== "open") return Promise.reject(this.#closedError());
    return this.#writes.send({ type, payload }, this.#writable !== undefined);
  }

  /**
   * Sends every message already written, ends our side of the transport
   * (over TCP it reads on to the peer's end, dropping what arrives, so that
   * the close is not a reset) and wipes the keys, in at most `closeTimeout`
   * ms; messages still unsent then are dropped and `closeReason` is
   * `TIMEOUT`. It ends reading too: what the peer sent that was not read by
   * then is dropped, and that still counts as a clean close (to read all the
   * peer sends, read until its end before closing — if both ends call
   * `close()` at once, each may drop what the other sent last). Sends after
   * the call are refused with `CLOSED`. Safe to call more than once.
   */
  close(): Promise<void> {
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
        this.#shutdown(closeTimedOut(limit, true));
      } else this.#shutdown(undefined, left);
      return this.closed;
    });
    return this.#closing;
  }

  /** Closes the session (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** `writer.abort()`: ends at once, also a `close()` still sending or lingering. */
  #abort(): void {
    if (this.#state !== "closed") this.#shutdown(undefined, 0, true);
    else if (this.#lingering) this.#channel.abort().catch(() => {});
  }

  #fail(error: unknown): void {
    if (this.#state !== "closed") this.#shutdown(asSessionError(error));
  }

  #closedError(): Bip324Error {
    return new Bip324Error("CLOSED", "session is closed", {
      origin: "local",
      cause: this.#closeReason,
    });
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
    const closedError = withoutStack(() => this.#closedError());
    this.#inbound.end(error);
    // After a clean end, the writable is left for its sink to refuse later writes with CLOSED,
    // so that `readable.pipeTo(writable)` (an echo) finishes cleanly instead of rejecting.
    if (error && !this.#writableClosedByUser) this.#writeController?.error(closedError);
    const lingering = linger > 0 && this.#channel.linger !== undefined
      ? this.#channel.linger(linger).catch(() => {})
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
      lingering.then(() => {
        this.#lingering = false;
        this.#resolveClosed();
      });
    }
  }
}
