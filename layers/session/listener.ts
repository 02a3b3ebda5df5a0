/**
 * Turns a stream of incoming byte pairs (from any transport's listener) into
 * a stream of established responder sessions. Handshakes run concurrently; a
 * failed one closes only its own connection; the number of handshakes in
 * flight is capped (as btcd's handshake admission does), and connections over
 * the cap are refused at once.
 *
 * @module
 */

import { Bip324Error } from "../errors.ts";
import { randomBytes } from "../bytes.ts";
import type { IncomingPair } from "../../transports/types.ts";
import { asSessionError, markPeer, type Session } from "./session.ts";
import { openSession, type SessionOptions } from "./open.ts";
import { openV1Session } from "./v1_session.ts";
import { checkAcceptOptions } from "./check_options.ts";
import { WaveWatcher } from "./release_memory.ts";

/** Default cap on handshakes in flight per listener. */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 128;

/** Default cap on sessions open at once from one listener (established and in handshake). */
export const DEFAULT_MAX_SESSIONS = 1024;

/**
 * Default idle timeout of a listener's sessions: no inbound byte for 20 minutes closes one
 * (Bitcoin Core's inactivity timeout). `idleTimeout: 0` keeps idle sessions open forever.
 */
export const DEFAULT_LISTENER_IDLE_TIMEOUT = 20 * 60_000;

/** Default cap on established sessions waiting to be taken from a listener. */
const DEFAULT_MAX_QUEUED_SESSIONS = 64;

/**
 * Bytes a listener sends to a connection it refuses for load before closing
 * it: random, like a key (no ECDH is spent). A peer that got bytes back
 * cannot mistake the refusal for a v1-only peer (which would make an
 * initiator fall back to unencrypted v1); it sees `UNEXPECTED_EOF` instead.
 */
const BUSY_REPLY_LEN = 64;

/** Milliseconds a refused connection is read (and discarded) before closing, so it ends with a FIN. */
const BUSY_LINGER_MS = 250;

/** Refused connections lingering at once; past this, refused ones are closed at once. */
const BUSY_MAX_LINGERING = 128;

/** Bytes read from a refused connection at most before closing it anyway. */
const BUSY_DRAIN_BYTES = 64 * 1024;

/** An incoming connection as a transport hands it over. */
export type IncomingConnection = IncomingPair;

/** Options for {@linkcode acceptSessions}. */
export interface AcceptOptions extends SessionOptions {
  /** Handshakes allowed in flight at once; more connections are refused. Default 128. */
  maxPendingHandshakes?: number;
  /**
   * Sessions open at once from this listener — established (taken or not)
   * plus handshakes in flight; a connection past it is refused with `BUSY`.
   * Default 1,024.
   */
  maxSessions?: number;
  /**
   * Closes a session after this many ms without inbound bytes
   * (`IDLE_TIMEOUT`). Default 20 minutes (Bitcoin Core's inactivity
   * timeout) for a listener's sessions; 0 disables it.
   */
  idleTimeout?: number;
  /**
   * Established sessions waiting to be taken by the iterator before the
   * listener stops accepting new connections (they wait in the transport's
   * backlog until the application takes one). Default 64.
   */
  maxQueuedSessions?: number;
  /**
   * Once a wave of sessions has ebbed (open sessions down to a quarter of
   * their peak, at least 32 fewer), ask the C allocator to hand the pages
   * they freed back to the kernel (glibc `malloc_trim`), where FFI is
   * already permitted (Deno on Linux with `--allow-ffi`; queried, never
   * prompted); elsewhere it does nothing. Process-wide, only memory that is
   * already free, about 10 ms per 100 MiB released. Default `true`.
   */
  releaseMemory?: boolean;
  /** Called when a connection fails its handshake or is refused. */
  onError?: (error: Bip324Error, remote: string | undefined) => void;
  /**
   * What to do with a peer that speaks the legacy v1 protocol (its first
   * bytes are a v1 `version` message): `"accept"` (default, as Bitcoin Core
   * does) hands every byte already read to a v1 session
   * (`transportVersion === 1`); `"reject"` (v2 only) closes the connection,
   * reports `V1_PROTOCOL` to `onError` and counts it in `stats.v1Refused`.
   */
  v1?: "accept" | "reject";
  /**
   * Overrides `v1`: called when a peer speaks v1 (`V1_PROTOCOL`). Return a
   * session to accept it, or `undefined` to close it.
   */
  onV1?: (
    error: Bip324Error,
    connection: IncomingConnection,
  ) => Promise<Session | undefined> | Session | undefined;
  /**
   * Stops the listener when aborted, like {@linkcode SessionListener.close}:
   * no new connections, handshakes in flight are abandoned; established
   * sessions stay open. (It also aborts each handshake, as for `openSession`.)
   */
  signal?: AbortSignal;
}

/** Running counts for a listener. */
export interface ListenerStats {
  /** Sessions established and handed to the iterator (v2 and v1). */
  accepted: number;
  /** Connections refused for load: `maxPendingHandshakes` or `maxSessions` reached (BUSY). */
  busy: number;
  /** Sessions from this listener open now (established, taken or not). */
  open: number;
  /** v1 peers refused (`v1: "reject"`, or `onV1` returned nothing). */
  v1Refused: number;
  /** Connections that failed their handshake (timeouts, protocol errors, transport errors). */
  failed: number;
}

/**
 * A stream of established sessions from one listening transport. Breaking
 * out of `for await` over it closes the listener (sessions already taken stay
 * open); so does `await using` at the end of its scope, and the `signal`
 * option.
 */
export interface SessionListener extends AsyncIterable<Session>, AsyncDisposable {
  /** The local address, as the transport reports it. */
  readonly addr: { hostname: string; port: number };
  /**
   * Stops accepting; established sessions already taken stay open (ones not
   * yet taken, and handshakes finishing later, are closed).
   */
  close(): Promise<void>;
  /** Handshakes now in flight. */
  readonly pendingHandshakes: number;
  /** Running counts (a live object). */
  readonly stats: Readonly<ListenerStats>;
  /**
   * Resolves once the listener is bound (at once in Deno; in Node.js and Bun
   * binding finishes a moment later, and `addr.port` is filled in then), or
   * rejects with a `Bip324Error` (`ADDR_IN_USE`, `TRANSPORT`) if it cannot bind.
   */
  readonly ready: Promise<void>;
}

/** Records where a session's peer is (`HOST:PORT`). Internal. */
export function setSessionRemote(session: Session, remote: string | undefined): void {
  if (remote !== undefined) markPeer(session, { remote });
}

/** Where a session's peer is (same as `session.remote`). */
export function sessionRemote(session: Session): string | undefined {
  return session.remote;
}

/**
 * Accepts sessions from `incoming`. Options are checked at the call
 * (`TypeError`/`RangeError`); an already-aborted `signal` throws its reason.
 *
 * @example
 * ```ts ignore
 * import { acceptSessions } from "@bip324/bip324";
 * declare const incoming: AsyncIterable<import("./listener.ts").IncomingConnection>;
 * await using sessions = acceptSessions(incoming, { hostname: "127.0.0.1", port: 0 }, () => {}, {});
 * for await (const session of sessions) session.close();
 * ```
 */
export function acceptSessions(
  incoming: AsyncIterable<IncomingConnection>,
  addr: { hostname: string; port: number },
  stop: () => void | Promise<void>,
  options: AcceptOptions = {},
  bound: Promise<void> = Promise.resolve(),
): SessionListener {
  checkAcceptOptions(options);
  const signal = options.signal;
  signal?.throwIfAborted();
  const maxPending = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES;
  const maxQueued = options.maxQueuedSessions ?? DEFAULT_MAX_QUEUED_SESSIONS;
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  const idle = options.idleTimeout ?? DEFAULT_LISTENER_IDLE_TIMEOUT;
  const sessionOptions = { ...options, idleTimeout: idle > 0 ? idle : undefined };
  const stats: ListenerStats = { accepted: 0, busy: 0, open: 0, v1Refused: 0, failed: 0 };
  const wave = options.releaseMemory === false ? undefined : new WaveWatcher();
  const ready: Session[] = [];
  const waiters: ((r: IteratorResult<Session>) => void)[] = [];
  let pending = 0;
  let lingering = 0;
  let done = false;
  const onV1 = options.onV1 ??
    (options.v1 === "reject"
      ? undefined
      : (error: Bip324Error, conn: IncomingConnection) =>
        openV1Session(conn.pair, { ...sessionOptions, role: "responder", replay: error.v1Bytes }));

  // An established session is never dropped: while `maxQueued` of them wait to be taken, the
  // accept loop pauses instead (peers wait in the transport's backlog), so at most
  // maxQueued + maxPending sessions can ever wait here.
  let space: (() => void) | undefined;
  const deliver = (session: Session, remote: string | undefined) => {
    if (done) {
      session.close(); // finished after the listener closed: nobody will take it
      return;
    }
    setSessionRemote(session, remote);
    stats.accepted++;
    stats.open++;
    wave?.opened(stats.open);
    session.closed.then(() => wave?.closed(--stats.open));
    const waiter = waiters.shift();
    if (waiter) waiter({ value: session, done: false });
    else ready.push(session);
  };
  const taken = () => {
    if (ready.length < maxQueued) {
      space?.();
      space = undefined;
    }
  };
  const finish = () => {
    done = true;
    for (const w of waiters.splice(0)) w({ value: undefined, done: true });
    space?.();
  };
  const report = (error: unknown, remote?: string) => {
    if (signal?.aborted && error === signal.reason) return; // we stopped: not the peer's doing
    const e = asSessionError(error);
    try {
      options.onError?.(e, remote);
    } catch { /* a throwing callback must not stop the listener */ }
  };

  /** Refuses a connection for load without looking like a v1-only peer (see BUSY_REPLY_LEN). */
  const refuseBusy = (conn: IncomingConnection) => {
    let writer: WritableStreamDefaultWriter<Uint8Array>;
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      writer = conn.pair.writable.getWriter();
      reader = conn.pair.readable.getReader();
    } catch {
      return conn.close();
    }
    const wrote = writer.write(randomBytes(BUSY_REPLY_LEN)).catch(() => {});
    if (lingering >= BUSY_MAX_LINGERING) {
      // Under a flood, do not hold sockets: close once the bytes are handed to the transport.
      wrote.finally(() => conn.close());
      return;
    }
    lingering++;
    // Read (and discard) what the peer already sent, so that closing sends a FIN rather than
    // a reset that could discard our bytes before the peer reads them.
    const drained = (async () => {
      for (let n = 0; n < BUSY_DRAIN_BYTES;) {
        const next = await reader.read();
        if (next.done) return;
        n += next.value.length;
      }
    })().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const linger = new Promise<void>((resolve) => (timer = setTimeout(resolve, BUSY_LINGER_MS)));
    // Never close before the bytes are written: a late event loop must not turn a refusal
    // into a silent close (which an initiator reads as "v1-only peer").
    Promise.all([wrote, Promise.race([drained, linger])]).finally(() => {
      clearTimeout(timer);
      lingering--;
      reader.cancel().catch(() => {});
      writer.close().catch(() => {});
      conn.close();
    });
  };

  const handle = async (conn: IncomingConnection) => {
    pending++;
    try {
      const session = await openSession(conn.pair, { ...sessionOptions, role: "responder" });
      deliver(session, conn.remote);
    } catch (error) {
      if (error instanceof Bip324Error && error.code === "V1_PROTOCOL") {
        let v1: Session | undefined;
        try {
          v1 = onV1 && !done ? await onV1(error, conn) : undefined;
        } catch (e) {
          stats.failed++;
          report(e, conn.remote);
          conn.close();
          return;
        }
        if (v1) return deliver(v1, conn.remote);
        stats.v1Refused++;
        report(
          new Bip324Error("V1_PROTOCOL", "refused a peer speaking v1 (v2 only)", {
            cause: error,
          }),
          conn.remote,
        );
      } else {
        stats.failed++;
        report(error, conn.remote);
      }
      conn.close();
    } finally {
      pending--;
    }
  };

  (async () => {
    try {
      const connections = incoming[Symbol.asyncIterator]();
      const room = async () => {
        while (ready.length >= maxQueued && !done) {
          await new Promise<void>((resolve) => (space = resolve));
        }
      };
      for (;;) {
        await room();
        if (done) break;
        const next = await connections.next();
        if (next.done) break;
        const conn = next.value;
        await room(); // the queue may have filled while we waited in accept: hold this one
        if (done) {
          conn.close();
          break;
        }
        const full = pending >= maxPending
          ? `${pending} handshakes already in flight`
          : pending + stats.open >= maxSessions
          ? `${stats.open} sessions open and ${pending} in handshake (maxSessions ${maxSessions})`
          : undefined;
        if (full !== undefined) {
          stats.busy++;
          refuseBusy(conn);
          report(new Bip324Error("BUSY", `refused: ${full}`, { origin: "local" }), conn.remote);
          continue;
        }
        handle(conn);
      }
    } catch (error) {
      report(error);
    } finally {
      finish();
    }
  })();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      signal?.removeEventListener("abort", onAbort);
      finish();
      await stop();
      for (const s of ready.splice(0)) s.close();
    })();
    return closing;
  };
  const onAbort = () => void close();
  signal?.addEventListener("abort", onAbort, { once: true });

  return {
    addr,
    stats,
    ready: bound,
    get pendingHandshakes() {
      return pending;
    },
    close,
    [Symbol.asyncDispose]: close,
    [Symbol.asyncIterator](): AsyncIterator<Session> {
      return {
        next: () => {
          const s = ready.shift();
          if (s) {
            taken();
            return Promise.resolve({ value: s, done: false });
          }
          if (done) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => waiters.push(resolve));
        },
        return: async () => {
          await close();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
