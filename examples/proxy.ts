/**
 * A local v1 → v2 upgrade proxy. Programs on this machine that only speak the
 * legacy (unencrypted) v1 protocol connect to the proxy; the proxy connects to
 * the real node with BIP324 (falling back to v1 only if the node cannot speak
 * v2) and forwards every message both ways, unchanged.
 *
 * ```
 * v1 program ──v1 (loopback)──▶ proxy ──BIP324 v2 (internet)──▶ node
 * ```
 *
 * The program's first message must be `version`, as the protocol requires
 * (it is forwarded too, so nothing is lost). The node to connect to is either
 * fixed (`to`) or, as other BIP324 proxies do, taken from that message's
 * `addr_recv` field. A program that fills `addr_recv` with the address it
 * connected to (the proxy's own, as Bitcoin Core does) needs a fixed `to`.
 *
 * The proxy refuses to connect to itself, in two ways (see
 * `examples/proxy_address.ts`): the target is resolved and normalised (every
 * IPv4 spelling, IPv4-mapped IPv6, names through the system resolver) and
 * compared with the address the proxy listens on (with `0.0.0.0`/`::`, every
 * address of this host), and the proxy connects to the resolved address it
 * checked; and, as Bitcoin Core does, a client whose `version` nonce is one the
 * proxy forwarded and has not yet seen answered is a loop back to the proxy
 * (say, through a port forward) and is refused (`SELF_CONNECTION`).
 *
 * A connection with no message in either direction for `idleTimeout` (default
 * 5 minutes, more than twice the 2-minute ping interval of Bitcoin Core and
 * btcd, so a live peer connection is never that quiet) is closed, so idle
 * clients cannot hold the `maxConnections` slots forever.
 *
 * ```sh
 * deno run -A cli.ts proxy --listen 127.0.0.1:8333 --to seed.bitcoin.sipa.be:8333
 * deno run -A examples/proxy.ts --listen 127.0.0.1:8333   # targets from addr_recv
 * ```
 *
 * Listen on loopback only: without `to` the proxy connects wherever its
 * clients ask.
 *
 * @module
 */

import { Bip324Error } from "../layers/errors.ts";
import { type Network, NETWORK_MAGIC } from "../layers/bitcoin/network.ts";
import type { Session } from "../layers/session/session.ts";
import { listenTcp } from "../transports/tcp.ts";
import { formatHostPort, type HostPort } from "./probe.ts";
import { resolveAddresses, SelfAddress } from "./proxy_address.ts";
import { errorInfo, PendingNonces, serveClient, type ServeContext } from "./proxy_serve.ts";

/** Default time allowed for the client's first message and for the remote handshake, in ms. */
export const DEFAULT_PROXY_TIMEOUT = 20_000;

/** Default cap on connections served at once. */
export const DEFAULT_MAX_CONNECTIONS = 128;

/** Default time a connection may go without a message in either direction, in ms (5 minutes). */
export const DEFAULT_PROXY_IDLE_TIMEOUT = 300_000;

/** Largest finite timeout a timer can hold, in ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** Options for {@linkcode startProxy}. */
export interface ProxyOptions {
  /** Where to accept v1 clients. `hostname` defaults to `127.0.0.1`; port 0 picks a free one. */
  listen: { hostname?: string; port: number };
  /** The node to connect every client to. Default: the client's `version.addr_recv`. */
  to?: HostPort;
  /** The network both sides speak. Default `"mainnet"`. */
  network?: Network;
  /**
   * Toward the remote node: `"v1"` (default) falls back to v1 when the node
   * cannot speak v2; `"none"` refuses such nodes (the client is disconnected).
   */
  fallback?: "v1" | "none";
  /** Ms to wait for the client's first message and for the remote handshake. Default 20,000. */
  timeout?: number;
  /**
   * Ms a connection may go without a message in either direction before the
   * proxy closes it (an `IDLE_TIMEOUT` error event, then `closed`). Default
   * {@linkcode DEFAULT_PROXY_IDLE_TIMEOUT} (5 minutes); `Infinity` turns it off.
   */
  idleTimeout?: number;
  /** Connections served at once; more are refused. Default {@linkcode DEFAULT_MAX_CONNECTIONS}. */
  maxConnections?: number;
  /**
   * Resolves a host name (of `to`) to IP addresses, tried in order. Default:
   * the system resolver (`node:dns` `lookup`, as the connection itself would
   * use). Whatever it returns is normalised and checked against the proxy's
   * own address before anything is connected.
   */
  resolve?: (host: string) => Promise<string[]>;
  /** Receives one event per connection, close and error (see {@linkcode ProxyEvent}). */
  onEvent?: (event: ProxyEvent) => void;
}

/** A client is connected to its remote node. */
export interface ProxyConnectionEvent {
  /** Discriminant. */
  event: "connection";
  /** Connection number, counting from 1 for each proxy. */
  id: number;
  /** The client's address. */
  from: string;
  /** The remote node's address. */
  to: string;
  /** The transport spoken to the remote node. */
  transport: "v2" | "v1";
  /** The BIP324 session id (hex), only for `transport: "v2"`. */
  session_id?: string;
}

/** Message and payload byte counts, per direction. */
export interface ProxyCounts {
  /** From the client to the remote node. */
  to_remote: number;
  /** From the remote node to the client. */
  to_client: number;
}

/** A client connection has ended (every accepted connection ends with exactly one). */
export interface ProxyClosedEvent {
  /** Discriminant. */
  event: "closed";
  /** Connection number. */
  id: number;
  /** The client's address. */
  from: string;
  /** The remote node's address, if it was known. */
  to?: string;
  /** The transport spoken to the remote node, if connected. */
  transport?: "v2" | "v1";
  /** The BIP324 session id (hex), for v2. */
  session_id?: string;
  /** Messages forwarded. */
  messages: ProxyCounts;
  /** Payload bytes forwarded (message headers and encryption not counted). */
  bytes: ProxyCounts;
  /** How long the connection lasted, in ms. */
  duration_ms: number;
}

/** Why a connection (or the proxy) had a problem. */
export type ProxyErrorCode =
  | Bip324Error["code"]
  /**
   * The client's first message was not a usable `version`, or the node it
   * names (or the fixed `to`, once resolved) is this proxy.
   */
  | "NO_TARGET"
  /** The client's `version` nonce is one this proxy forwarded: it connected to itself. */
  | "SELF_CONNECTION"
  /** Anything unexpected. */
  | "INTERNAL";

/** Something failed: setting up a connection, or a session's protocol. */
export interface ProxyErrorEvent {
  /** Discriminant. */
  event: "error";
  /** Connection number, if the error belongs to a connection. */
  id?: number;
  /** The client's address, if known. */
  from?: string;
  /** The remote node's address, if known. */
  to?: string;
  /** Which side failed: the local client or the remote node. */
  side?: "client" | "remote";
  /** Machine-readable reason. */
  code: ProxyErrorCode;
  /** Human-readable reason. */
  message: string;
}

/** Every event {@linkcode startProxy} reports. */
export type ProxyEvent = ProxyConnectionEvent | ProxyClosedEvent | ProxyErrorEvent;

/** A running proxy. */
export interface Proxy {
  /** The address it listens on (with the real port when 0 was asked). */
  readonly addr: { hostname: string; port: number };
  /** Connections being served. */
  readonly connections: number;
  /** Stops accepting, closes every connection (both sides) and waits for them. */
  close(): Promise<void>;
}

/**
 * Starts the proxy and returns at once; it serves clients until
 * {@linkcode Proxy.close}. Throws if it cannot listen (e.g. the port is in
 * use) or the options are invalid.
 *
 * @example
 * ```ts ignore
 * import { startProxy } from "./proxy.ts";
 * const proxy = startProxy({
 *   listen: { hostname: "127.0.0.1", port: 8333 },
 *   to: { host: "seed.bitcoin.sipa.be", port: 8333 },
 *   onEvent: (e) => console.log(JSON.stringify(e)),
 * });
 * // … later
 * await proxy.close();
 * ```
 */
export function startProxy(options: ProxyOptions): Proxy {
  const network = options.network ?? "mainnet";
  if (!Object.hasOwn(NETWORK_MAGIC, network)) {
    throw new TypeError(`network must be one of ${Object.keys(NETWORK_MAGIC).join(", ")}`);
  }
  const fallback = options.fallback ?? "v1";
  if (fallback !== "v1" && fallback !== "none") {
    throw new TypeError(`fallback must be "v1" or "none", got ${fallback}`);
  }
  const timeout = options.timeout ?? DEFAULT_PROXY_TIMEOUT;
  if (!(timeout > 0) || !Number.isFinite(timeout)) {
    throw new RangeError(`timeout must be a positive number of ms, got ${timeout}`);
  }
  const idleTimeout = options.idleTimeout ?? DEFAULT_PROXY_IDLE_TIMEOUT;
  if (!(idleTimeout > 0) || (Number.isFinite(idleTimeout) && idleTimeout > MAX_TIMER_MS)) {
    throw new RangeError(
      `idleTimeout must be a positive number of ms up to ${MAX_TIMER_MS}, or Infinity, got ${idleTimeout}`,
    );
  }
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new RangeError(`maxConnections must be a positive integer, got ${maxConnections}`);
  }
  if (options.resolve !== undefined && typeof options.resolve !== "function") {
    throw new TypeError("resolve must be a function");
  }
  const fixed = options.to;
  if (fixed !== undefined) {
    if (typeof fixed.host !== "string" || fixed.host === "") {
      throw new TypeError("to.host must be a non-empty string");
    }
    if (!Number.isInteger(fixed.port) || fixed.port < 1 || fixed.port > 65535) {
      throw new RangeError(`to.port must be an integer 1..65535, got ${fixed.port}`);
    }
  }

  const tcp = listenTcp({ port: options.listen.port, hostname: options.listen.hostname });
  const addr = tcp.addr;
  const emit = (event: ProxyEvent) => {
    // Fields that are not known (e.g. `to` before a target is chosen) are left out, not undefined.
    const known = Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined));
    try {
      options.onEvent?.(known as unknown as ProxyEvent);
    } catch { /* a throwing callback must not stop the proxy */ }
  };
  const self = new SelfAddress(addr);
  // A literal `to` (any spelling) or localhost is refused now; a name once resolved, per connection.
  if (fixed && self.reachesLiteral(fixed.host, fixed.port)) {
    tcp.stop();
    throw new RangeError(`to (${formatHostPort(fixed.host, fixed.port)}) is the proxy itself`);
  }

  const stopping = new AbortController();
  const sessions = new Set<Session>();
  const served = new Set<Promise<void>>();
  let nextId = 1;
  const ctx: ServeContext = {
    network,
    fallback,
    timeout,
    idleTimeout,
    fixed,
    self,
    resolve: options.resolve ?? resolveAddresses,
    nonces: new PendingNonces(),
    stopping: stopping.signal,
    emit,
    track: (session: Session) => {
      sessions.add(session);
      session.closed.then(() => sessions.delete(session));
      if (stopping.signal.aborted) session.close();
    },
  };

  const accepting = (async () => {
    try {
      for await (const conn of tcp.incoming) {
        if (stopping.signal.aborted) {
          conn.close();
          break;
        }
        const id = nextId++;
        if (served.size >= maxConnections) {
          conn.close();
          emit({
            event: "error",
            id,
            from: conn.remote,
            code: "BUSY",
            message: `refused: ${served.size} connections already served`,
          });
          continue;
        }
        const task: Promise<void> = serveClient(conn, id, ctx)
          .catch((error) => emit({ event: "error", id, ...errorInfo(error) }))
          .finally(() => served.delete(task));
        served.add(task);
      }
    } catch (error) {
      if (!stopping.signal.aborted) emit({ event: "error", ...errorInfo(error) });
    }
  })();

  let closing: Promise<void> | undefined;
  return {
    addr,
    get connections() {
      return served.size;
    },
    close() {
      closing ??= (async () => {
        stopping.abort(
          new Bip324Error("CLOSED", "the proxy is shutting down", { origin: "local" }),
        );
        tcp.stop();
        await accepting;
        await Promise.all([...sessions].map((s) => s.close()));
        await Promise.all([...served]);
      })();
      return closing;
    },
  };
}

if (import.meta.main) {
  // Same command line as `cli.ts proxy` (--listen HOST:PORT [--to HOST:PORT] [--network NET]).
  const { main } = await import("../cli.ts");
  Deno.exit(await main(["proxy", ...Deno.args]));
}
