/**
 * Sessions over the built-in transports: {@linkcode connect} / {@linkcode listen}
 * over TCP and {@linkcode connectWebSocket} / {@linkcode listenWebSocket} over
 * WebSocket. The transports themselves (`transports/`) only move bytes; this
 * module runs the BIP324 handshake (or the v1 fallback) over them and turns
 * every transport failure into a {@linkcode Bip324Error}.
 *
 * @module
 */

import { Bip324Error } from "../errors.ts";
import { connectTcp, listenTcp, type TcpAddress } from "../../transports/tcp.ts";
import {
  openWebSocket,
  webSocketPair,
  type WebSocketPairOptions,
} from "../../transports/websocket.ts";
import { serveWebSocket } from "../../transports/websocket_server.ts";
import type { PairListener } from "../../transports/types.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT } from "../handshake/driver.ts";
import {
  type AcceptOptions,
  acceptSessions,
  type SessionListener,
  setSessionRemote,
} from "./listener.ts";
import { checkAcceptOptions, checkSessionOptions } from "./check_options.ts";
import type { Session } from "./session.ts";
import { openSession, type SessionOptions } from "./open.ts";
import { openV1Session } from "./v1_session.ts";

export type { TcpAddress };

/** Options for {@linkcode connect}. */
export interface ConnectOptions extends SessionOptions, TcpAddress {
  /**
   * What to do when the peer only speaks the legacy v1 protocol:
   * `"v1"` (default, as Bitcoin Core does): if the peer closes the connection
   * without sending a byte after our key, reconnect and speak v1;
   * `"none"` (v2 only): fail with `V1_ONLY_PEER`; `"v1-only"`: never try v2.
   * The session's `transportVersion` says which one was used. There is no
   * fallback after an abort.
   */
  fallback?: "v1" | "none" | "v1-only";
}

/** `HOST:PORT`, with an IPv6 host in brackets. */
function hostPort(host: string, port: number | string): string {
  return `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
}

/** Is `cause` (a runtime error) about this side rather than the remote end? */
function isLocalFailure(cause: unknown): boolean {
  const errors = (globalThis as { Deno?: typeof Deno }).Deno?.errors;
  if (!errors) return false;
  return [errors.NotCapable, errors.PermissionDenied, errors.AddrNotAvailable, errors.AddrInUse]
    .some((type) => type !== undefined && cause instanceof type);
}

/**
 * Turns a failure to open a connection into a {@linkcode Bip324Error}: the
 * signal's reason is passed through, caller mistakes too; the rest is
 * `TRANSPORT` (origin `"peer"` when the remote end refused, reset or could not
 * be reached; `"local"` when we were not allowed to, or had no address).
 */
function openFailed(cause: unknown, what: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  if (cause instanceof Bip324Error || cause instanceof TypeError || cause instanceof RangeError) {
    return cause;
  }
  return new Bip324Error("TRANSPORT", `cannot connect to ${what}: ${cause}`, {
    cause,
    origin: isLocalFailure(cause) ? "local" : "peer",
  });
}

function openTimedOut(what: string, ms: number, cause?: unknown): Bip324Error {
  return new Bip324Error("HANDSHAKE_TIMEOUT", `cannot connect to ${what} within ${ms} ms`, {
    cause,
    origin: "local",
  });
}

/** Milliseconds left of `total` since `started` (at least 1). */
function remaining(total: number, started: number): number {
  return Math.max(1, Math.ceil(total - (performance.now() - started)));
}

/**
 * One TCP attempt: connect within `timeout` ms (from `started`), as the
 * handshake's deadline covers opening the connection too.
 */
async function tcpPair(options: ConnectOptions, timeout: number, started: number) {
  const where = hostPort(options.hostname ?? "127.0.0.1", options.port);
  const timer = new AbortController();
  const id = setTimeout(
    () => timer.abort(openTimedOut(where, timeout)),
    remaining(timeout, started),
  );
  const signal = options.signal ? AbortSignal.any([options.signal, timer.signal]) : timer.signal;
  try {
    return await connectTcp({ hostname: options.hostname, port: options.port, signal });
  } catch (cause) {
    if (!options.signal?.aborted && timer.signal.aborted) throw timer.signal.reason;
    throw openFailed(cause, where, options.signal);
  } finally {
    clearTimeout(id);
  }
}

function checkConnectOptions(options: ConnectOptions): void {
  checkSessionOptions(options);
  const fallback = options.fallback ?? "v1";
  if (fallback !== "v1" && fallback !== "none" && fallback !== "v1-only") {
    throw new TypeError(`fallback must be "v1", "none" or "v1-only", got ${fallback}`);
  }
  if (options.hostname !== undefined && typeof options.hostname !== "string") {
    throw new TypeError("hostname must be a string");
  }
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new RangeError(`port must be an integer 1..65535, got ${options.port}`);
  }
}

/**
 * Opens a TCP connection and performs the BIP324 handshake as initiator,
 * falling back to v1 as `options.fallback` says. `handshakeTimeout` (default
 * 20 s) bounds each attempt, connecting included (`HANDSHAKE_TIMEOUT`). An
 * aborted `signal` rejects with its reason, whatever the phase. Caller
 * mistakes (an unknown network, a bad option) reject with `TypeError` or
 * `RangeError` before anything is sent.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@bip324/bip324";
 * const session = await connect({ hostname: "127.0.0.1", port: 18444, network: "regtest" });
 * console.log(session.sessionId);
 * ```
 */
export async function connect(options: ConnectOptions): Promise<Session> {
  checkConnectOptions(options);
  const signal = options.signal;
  signal?.throwIfAborted();
  const fallback = options.fallback ?? "v1";
  const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  if (fallback !== "v1-only") {
    const started = performance.now();
    const conn = await tcpPair(options, timeout, started);
    try {
      const session = await openSession(conn, {
        ...options,
        role: "initiator",
        handshakeTimeout: remaining(timeout, started),
      });
      setSessionRemote(session, conn.remote);
      return session;
    } catch (error) {
      conn.close();
      if (signal?.aborted) throw signal.reason; // no fallback after an abort
      if (!(error instanceof Bip324Error && error.code === "V1_ONLY_PEER" && fallback === "v1")) {
        throw error;
      }
    }
  }
  const conn = await tcpPair(options, timeout, performance.now());
  const session = openV1Session(conn, { ...options, role: "initiator" });
  setSessionRemote(session, conn.remote);
  return session;
}

/** Options for {@linkcode listen}. */
export interface ListenOptions extends AcceptOptions {
  /** Port to listen on (0 picks a free one; see `listener.addr.port`). */
  port: number;
  /** Address to bind. Default `"127.0.0.1"`. */
  hostname?: string;
}

function checkBindOptions(options: { port: number; hostname?: string }): void {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new RangeError(`port must be an integer 0..65535, got ${options.port}`);
  }
  if (options.hostname !== undefined && typeof options.hostname !== "string") {
    throw new TypeError("hostname must be a string");
  }
}

/** Binds with `open`, turning a failure into `ADDR_IN_USE` or `TRANSPORT` (origin local). */
function bind(options: { port: number; hostname?: string }, open: () => PairListener) {
  try {
    return open();
  } catch (cause) {
    throw bindError(cause, options);
  }
}

/** A bind failure as `ADDR_IN_USE` / `TRANSPORT` (caller mistakes pass through). */
function bindError(cause: unknown, options: { port: number; hostname?: string }): unknown {
  if (cause instanceof TypeError || cause instanceof RangeError) return cause;
  if (cause instanceof Bip324Error) return cause;
  const where = hostPort(options.hostname ?? "127.0.0.1", options.port);
  // Deno: errors.AddrInUse; Node.js and Bun: code EADDRINUSE.
  const e = cause as { name?: string; code?: string };
  const inUse = e?.name === "AddrInUse" || e?.code === "EADDRINUSE";
  return new Bip324Error(
    inUse ? "ADDR_IN_USE" : "TRANSPORT",
    inUse
      ? `cannot listen on ${where}: address already in use`
      : `cannot listen on ${where}: ${cause}`,
    { cause, origin: "local" },
  );
}

/** Options checks, an aborted signal, then bind and accept. */
function listenOn(
  options: AcceptOptions & { port: number; hostname?: string },
  open: () => PairListener,
): SessionListener {
  checkBindOptions(options);
  checkAcceptOptions(options);
  options.signal?.throwIfAborted();
  const transport = bind(options, open);
  try {
    const ready = (transport.ready ?? Promise.resolve()).catch((cause) => {
      throw bindError(cause, options);
    });
    ready.catch(() => {});
    return acceptSessions(transport.incoming, transport.addr, transport.stop, options, ready);
  } catch (error) {
    transport.stop();
    throw error;
  }
}

/**
 * Listens for TCP connections and yields established BIP324 sessions (we
 * are the responder). A peer that fails its handshake is closed and reported
 * to `onError`; it never affects other peers or the listener. Throws
 * `Bip324Error` `ADDR_IN_USE` (or `TRANSPORT`) if it cannot bind, and
 * `TypeError`/`RangeError` for a bad option. Stop it with `close()`, the
 * `signal` option, or `await using`.
 *
 * @example
 * ```ts ignore
 * import { listen } from "@bip324/bip324";
 * await using listener = listen({ port: 0, network: "regtest" });
 * for await (const session of listener) {
 *   console.log("session", session.sessionId);
 * }
 * ```
 */
export function listen(options: ListenOptions): SessionListener {
  return listenOn(options, () => listenTcp(options));
}

/** Options for {@linkcode connectWebSocket}. */
export interface ConnectWebSocketOptions extends SessionOptions, WebSocketPairOptions {
  /** `ws://` or `wss://` URL of a BIP324 WebSocket endpoint (or a relay to a node). */
  url: string | URL;
}

/**
 * Opens a WebSocket and performs the BIP324 handshake as initiator.
 * `handshakeTimeout` (default 20 s) covers the WebSocket opening and the
 * handshake together (`HANDSHAKE_TIMEOUT`); an aborted `signal` rejects with
 * its reason, whatever the phase. A refused or failed opening is `TRANSPORT`
 * (origin `"peer"`), as for TCP.
 *
 * @example
 * ```ts ignore
 * import { connectWebSocket } from "@bip324/bip324";
 * const session = await connectWebSocket({ url: "ws://127.0.0.1:8080", network: "regtest" });
 * ```
 */
export async function connectWebSocket(options: ConnectWebSocketOptions): Promise<Session> {
  checkSessionOptions(options);
  const signal = options.signal;
  signal?.throwIfAborted();
  const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  const started = performance.now();
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (cause) {
    throw new TypeError(`invalid WebSocket url: ${options.url}`, { cause });
  }
  const ws = openWebSocket(url); // names what is missing in a runtime without WebSocket
  const defaultPort = url.protocol === "wss:" ? 443 : 80;
  const remote = hostPort(url.hostname, url.port || defaultPort);
  let pair: Awaited<ReturnType<typeof webSocketPair>>;
  try {
    pair = await webSocketPair(ws, {
      ...options,
      signal,
      openTimeout: Math.min(options.openTimeout ?? timeout, timeout),
    });
  } catch (cause) {
    if (signal?.aborted) throw signal.reason;
    if (cause instanceof DOMException && cause.name === "TimeoutError") {
      throw openTimedOut(url.href, timeout, cause);
    }
    throw openFailed(cause, url.href, signal);
  }
  try {
    const session = await openSession(pair, {
      ...options,
      role: "initiator",
      handshakeTimeout: remaining(timeout, started),
    });
    setSessionRemote(session, remote);
    return session;
  } catch (error) {
    pair.close();
    throw error;
  }
}

/** Options for {@linkcode listenWebSocket}. */
export interface ListenWebSocketOptions extends AcceptOptions, WebSocketPairOptions {
  /** Port to serve on (0 picks a free one). */
  port: number;
  /** Address to bind. Default `"127.0.0.1"`. */
  hostname?: string;
  /** Only upgrade requests for this path. Default: any path. */
  path?: string;
}

/**
 * Serves WebSocket upgrades and yields established BIP324 sessions (we are
 * the responder). Plain HTTP requests get 426. Binding and option failures
 * as for {@linkcode listen}.
 *
 * @example
 * ```ts ignore
 * import { listenWebSocket } from "@bip324/bip324";
 * await using listener = listenWebSocket({ port: 8080, network: "regtest" });
 * for await (const session of listener) console.log(session.sessionId);
 * ```
 */
export function listenWebSocket(options: ListenWebSocketOptions): SessionListener {
  return listenOn(
    options,
    () => serveWebSocket({ ...options, maxWaiting: options.maxPendingHandshakes }),
  );
}
