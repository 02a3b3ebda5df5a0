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
 * decoding, the read-ahead — is `inbound.ts`; the state, `close()` and the
 * shutdown are `session_core.ts`, under this public face.
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";
import type { Bip324Error } from "../errors.ts";
import type { BytePair } from "../bytes.ts";
import type { Role } from "../handshake/handshake.ts";
import type { Network } from "../bitcoin/network.ts";
import { asSessionError } from "./session_error.ts";
import { SessionCore } from "./session_core.ts";
import type {
  HandshakeInfo,
  SessionBaseOptions,
  SessionInit,
  SessionStats,
} from "./session_init.ts";

export { asSessionError };
export type {
  HandshakeInfo,
  SessionBaseOptions,
  SessionInit,
  SessionStack,
  SessionStats,
} from "./session_init.ts";

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
    setPeer = (session, { remote, authenticated }) => {
      if (remote !== undefined) session.#remote = remote;
      if (authenticated !== undefined) session.#authenticated = authenticated;
    };
  }

  #authenticated: boolean | undefined;
  #remote: string | undefined;
  readonly #core: SessionCore;

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
    const core = this.#core = new SessionCore(pair, init, options, this.stats);
    this.readable = core.readable;
    this.closed = core.closed;
  }

  /**
   * Our messages to the peer. Built the first time it is used:
   * {@linkcode Session.send} does not need it, so a session written only
   * through `send` holds no stream objects for its writes. It queues one
   * message: wait for `writer.ready` (or each write) before the next, so
   * the transport's backpressure reaches the writer and the runtime's
   * queue stays short (Node.js 22 and 20 dequeue pending writes in
   * time proportional to the queue; 24.22 and 26 do not). `writer.close()`
   * waits, as streams do, for a write the transport pushes back on, for as
   * long as the peer does not read; {@linkcode Session.close} is bounded by
   * `closeTimeout`, and `writer.abort()` ends the session at once, even
   * while a `close()` is still sending or lingering.
   */
  get writable(): WritableStream<Message> {
    return this.#core.writable;
  }

  /**
   * Why the session ended: `undefined` for a clean close, else the protocol
   * error (or `TIMEOUT`: a `close()` that gave up before the peer took our
   * last messages, or before a peer still sending ended).
   */
  get closeReason(): Bip324Error | undefined {
    return this.#core.closeReason;
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
    return this.#core.isOpen;
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
    return this.#core.send({ type, payload });
  }

  /**
   * Sends every message already written, ends our side of the transport
   * (over TCP it reads on to the peer's end, dropping what arrives, so that
   * the close is not a reset) and wipes the keys, in at most `closeTimeout`
   * ms; messages still unsent then are dropped and `closeReason` is
   * `TIMEOUT`, as it is when the time runs out while the peer still sends and
   * has not ended (closing may then reset the connection, and a reset can
   * make the peer lose our last messages). It ends reading too: what the peer sent that was not read by
   * then is dropped, and that still counts as a clean close (to read all the
   * peer sends, read until its end before closing — if both ends call
   * `close()` at once, each may drop what the other sent last). Sends after
   * the call are refused with `CLOSED`. Safe to call more than once.
   */
  close(): Promise<void> {
    return this.#core.closeSession();
  }

  /** Closes the session (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
