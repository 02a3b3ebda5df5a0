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
  serveWebSocket,
  webSocketPair,
  type WebSocketPairOptions,
} from "../../transports/websocket.ts";
import { type AcceptOptions, acceptSessions, type SessionListener } from "./listener.ts";
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
   * `"none"`: fail with `V1_ONLY_PEER`; `"v1-only"`: never try v2.
   * The session's `transportVersion` says which one was used.
   */
  fallback?: "v1" | "none" | "v1-only";
}

/** Turns a failure to open a transport into `TRANSPORT` (the signal's reason is passed through). */
function openFailed(
  cause: unknown,
  what: string,
  signal: AbortSignal | undefined,
): unknown {
  if (signal?.aborted) return signal.reason;
  if (cause instanceof Bip324Error || cause instanceof TypeError || cause instanceof RangeError) {
    return cause;
  }
  return new Bip324Error("TRANSPORT", `cannot connect to ${what}: ${cause}`, {
    cause,
    origin: "peer",
  });
}

async function tcpPair(options: ConnectOptions) {
  const host = options.hostname ?? "127.0.0.1";
  try {
    return await connectTcp(options);
  } catch (cause) {
    const where = `${host.includes(":") ? `[${host}]` : host}:${options.port}`;
    throw openFailed(cause, where, options.signal);
  }
}

/**
 * Opens a TCP connection and performs the BIP324 handshake as initiator,
 * falling back to v1 as `options.fallback` says.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@bip324/bip324";
 * const session = await connect({ hostname: "127.0.0.1", port: 18444, network: "regtest" });
 * console.log(session.sessionId);
 * ```
 */
export async function connect(options: ConnectOptions): Promise<Session> {
  const fallback = options.fallback ?? "v1";
  if (fallback !== "v1" && fallback !== "none" && fallback !== "v1-only") {
    throw new TypeError(`fallback must be "v1", "none" or "v1-only", got ${fallback}`);
  }
  if (fallback !== "v1-only") {
    const conn = await tcpPair(options);
    try {
      return await openSession(conn, { ...options, role: "initiator" });
    } catch (error) {
      conn.close();
      if (!(error instanceof Bip324Error && error.code === "V1_ONLY_PEER" && fallback === "v1")) {
        throw error;
      }
    }
  }
  return openV1Session(await tcpPair(options), { ...options, role: "initiator" });
}

/** Options for {@linkcode listen}. */
export interface ListenOptions extends AcceptOptions {
  /** Port to listen on (0 picks a free one; see `listener.addr.port`). */
  port: number;
  /** Address to bind. Default `"127.0.0.1"`. */
  hostname?: string;
}

/**
 * Listens for TCP connections and yields established BIP324 sessions (we
 * are the responder). A peer that fails its handshake is closed and reported
 * to `onError`; it never affects other peers or the listener.
 *
 * @example
 * ```ts ignore
 * import { listen } from "@bip324/bip324";
 * const listener = listen({ port: 0, network: "regtest" });
 * for await (const session of listener) {
 *   console.log("session", session.sessionId);
 * }
 * ```
 */
export function listen(options: ListenOptions): SessionListener {
  const tcp = listenTcp(options);
  return acceptSessions(tcp.incoming, tcp.addr, tcp.stop, options);
}

/** Options for {@linkcode connectWebSocket}. */
export interface ConnectWebSocketOptions extends SessionOptions, WebSocketPairOptions {
  /** `ws://` or `wss://` URL of a BIP324 WebSocket endpoint (or a relay to a node). */
  url: string | URL;
}

/**
 * Opens a WebSocket and performs the BIP324 handshake as initiator.
 *
 * @example
 * ```ts ignore
 * import { connectWebSocket } from "@bip324/bip324";
 * const session = await connectWebSocket({ url: "ws://127.0.0.1:8080", network: "regtest" });
 * ```
 */
export async function connectWebSocket(options: ConnectWebSocketOptions): Promise<Session> {
  let ws: WebSocket;
  try {
    ws = new WebSocket(options.url);
  } catch (cause) {
    throw new TypeError(`invalid WebSocket url: ${options.url}`, { cause });
  }
  let pair: Awaited<ReturnType<typeof webSocketPair>>;
  try {
    pair = await webSocketPair(ws, options);
  } catch (cause) {
    throw openFailed(cause, String(options.url), options.signal);
  }
  try {
    return await openSession(pair, { ...options, role: "initiator" });
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
 * the responder). Plain HTTP requests get 426.
 *
 * @example
 * ```ts ignore
 * import { listenWebSocket } from "@bip324/bip324";
 * const listener = listenWebSocket({ port: 8080, network: "regtest" });
 * for await (const session of listener) console.log(session.sessionId);
 * ```
 */
export function listenWebSocket(options: ListenWebSocketOptions): SessionListener {
  const server = serveWebSocket({ ...options, maxWaiting: options.maxPendingHandshakes });
  return acceptSessions(server.incoming, server.addr, server.stop, options);
}
