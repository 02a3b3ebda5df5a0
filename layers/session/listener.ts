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
import type { IncomingPair } from "../../transports/types.ts";
import type { Session } from "./session.ts";
import { openSession, type SessionOptions } from "./open.ts";
import { openV1Session } from "./v1_session.ts";

/** Default cap on handshakes in flight per listener. */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 128;

/** An incoming connection as a transport hands it over. */
export type IncomingConnection = IncomingPair;

/** Options for {@linkcode acceptSessions}. */
export interface AcceptOptions extends SessionOptions {
  /** Handshakes allowed in flight at once; more connections are refused. Default 128. */
  maxPendingHandshakes?: number;
  /**
   * Established sessions waiting to be taken by the iterator before the
   * listener stops accepting new connections (they wait in the transport's
   * backlog until the application takes one). Default 64.
   */
  maxQueuedSessions?: number;
  /** Called when a connection fails its handshake or is refused. */
  onError?: (error: Bip324Error, remote: string | undefined) => void;
  /**
   * What to do with a peer that speaks the legacy v1 protocol (its first
   * bytes are a v1 `version` message): `"accept"` (default, as Bitcoin Core
   * does) hands every byte already read to a v1 session
   * (`transportVersion === 1`); `"reject"` closes the connection.
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
}

/** A stream of established sessions from one listening transport. */
export interface SessionListener extends AsyncIterable<Session> {
  /** The local address, as the transport reports it. */
  readonly addr: { hostname: string; port: number };
  /** Stops accepting; established sessions stay open. */
  close(): Promise<void>;
  /** Handshakes now in flight. */
  readonly pendingHandshakes: number;
}

/**
 * Accepts sessions from `incoming`.
 *
 * @example
 * ```ts ignore
 * import { acceptSessions } from "./listener.ts";
 * declare const incoming: AsyncIterable<import("./listener.ts").IncomingConnection>;
 * const sessions = acceptSessions(incoming, { hostname: "127.0.0.1", port: 0 }, () => {}, {});
 * for await (const session of sessions) session.close();
 * ```
 */
export function acceptSessions(
  incoming: AsyncIterable<IncomingConnection>,
  addr: { hostname: string; port: number },
  stop: () => void | Promise<void>,
  options: AcceptOptions = {},
): SessionListener {
  const maxPending = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES;
  const maxQueued = options.maxQueuedSessions ?? 64;
  const ready: Session[] = [];
  const waiters: ((r: IteratorResult<Session>) => void)[] = [];
  let pending = 0;
  let done = false;
  const onV1 = options.onV1 ??
    (options.v1 === "reject"
      ? undefined
      : (error: Bip324Error, conn: IncomingConnection) =>
        openV1Session(conn.pair, { ...options, role: "responder", replay: error.v1Bytes }));

  // An established session is never dropped: while `maxQueued` of them wait to be taken, the
  // accept loop pauses instead (peers wait in the transport's backlog), so at most
  // maxQueued + maxPending sessions can ever wait here.
  let space: (() => void) | undefined;
  const deliver = (session: Session) => {
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
    const e = error instanceof Bip324Error
      ? error
      : new Bip324Error("TRANSPORT", String(error), { cause: error });
    try {
      options.onError?.(e, remote);
    } catch { /* a throwing callback must not stop the listener */ }
  };

  const handle = async (conn: IncomingConnection) => {
    pending++;
    try {
      const session = await openSession(conn.pair, { ...options, role: "responder" });
      deliver(session);
    } catch (error) {
      if (error instanceof Bip324Error && error.code === "V1_PROTOCOL" && onV1) {
        try {
          const v1 = await onV1(error, conn);
          if (v1) return deliver(v1);
        } catch (e) {
          report(e, conn.remote);
        }
      } else {
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
        if (pending >= maxPending) {
          conn.close();
          report(
            new Bip324Error("BUSY", `refused: ${pending} handshakes already in flight`, {
              origin: "local",
            }),
            conn.remote,
          );
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

  return {
    addr,
    get pendingHandshakes() {
      return pending;
    },
    async close() {
      if (done) return;
      finish();
      await stop();
      for (const s of ready.splice(0)) s.close();
    },
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
          finish();
          await stop();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
