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
 * The node to connect to is either fixed (`to`) or, as other BIP324 proxies
 * do, taken from the `addr_recv` field of the program's first message, which
 * must be `version` (that message is then forwarded too, so nothing is lost).
 * A program that fills `addr_recv` with the address it connected to (the
 * proxy's own, as Bitcoin Core does) needs a fixed `to`; the proxy refuses to
 * connect to itself.
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

import type { Message } from "../layers/aliasing/aliasing.ts";
import { toHex } from "../layers/bytes.ts";
import { Bip324Error } from "../layers/errors.ts";
import type { IncomingConnection } from "../layers/session/listener.ts";
import { decodeVersion, ipToString } from "../layers/bitcoin/mod.ts";
import { type Network, NETWORK_MAGIC } from "../layers/bitcoin/network.ts";
import type { Session } from "../layers/session/session.ts";
import { openV1Session } from "../layers/session/v1_session.ts";
import { listenTcp } from "../transports/tcp.ts";
import { connect } from "../layers/session/connect.ts";
import { formatHostPort, type HostPort } from "./probe.ts";

/** Default time allowed for the client's first message and for the remote handshake, in ms. */
export const DEFAULT_PROXY_TIMEOUT = 20_000;

/** Default cap on connections served at once. */
export const DEFAULT_MAX_CONNECTIONS = 128;

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
  /** Ms to wait for the client's first message (without `to`) and for the remote handshake. */
  timeout?: number;
  /** Connections served at once; more are refused. Default {@linkcode DEFAULT_MAX_CONNECTIONS}. */
  maxConnections?: number;
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
  /** The client's first message was not a usable `version` (or it named this proxy). */
  | "NO_TARGET"
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

/** Thrown (and reported as an event) when a connection cannot be served. */
class ProxyRefusal extends Error {
  readonly code: ProxyErrorCode;
  constructor(code: ProxyErrorCode, message: string) {
    super(message);
    this.name = "ProxyRefusal";
    this.code = code;
  }
}

function errorInfo(error: unknown): { code: ProxyErrorCode; message: string } {
  if (error instanceof Bip324Error || error instanceof ProxyRefusal) {
    return { code: error.code, message: error.message };
  }
  return { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) };
}

function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === "::1" || host.toLowerCase() === "localhost";
}

function isUnspecified(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

/** A pass-through stream that counts messages and payload bytes. */
function counter(counts: { messages: number; bytes: number }): TransformStream<Message, Message> {
  return new TransformStream<Message, Message>({
    transform(message, controller) {
      counts.messages++;
      counts.bytes += message.payload.length;
      controller.enqueue(message);
    },
  });
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
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new RangeError(`maxConnections must be a positive integer, got ${maxConnections}`);
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
  /** Whether connecting to `target` would reach this proxy itself. */
  const isSelf = (target: HostPort) =>
    target.port === addr.port &&
    (isLoopback(target.host) || target.host === addr.hostname || isUnspecified(addr.hostname));
  if (fixed && isSelf(fixed)) {
    tcp.stop();
    throw new RangeError(`to (${formatHostPort(fixed.host, fixed.port)}) is the proxy itself`);
  }

  const stopping = new AbortController();
  const sessions = new Set<Session>();
  const served = new Set<Promise<void>>();
  let nextId = 1;

  const track = (session: Session) => {
    sessions.add(session);
    session.closed.then(() => sessions.delete(session));
    if (stopping.signal.aborted) session.close();
  };

  /** The first message, which must be a `version` naming the target in `addr_recv`. */
  const targetFromClient = async (
    local: Session,
  ): Promise<{ target: HostPort; first: Message }> => {
    const reader = local.readable.getReader();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const next = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Bip324Error("TIMEOUT", `no version message from the client in ${timeout} ms`, {
                  origin: "local",
                }),
              ),
            timeout,
          );
        }),
      ]);
      if (next.done) {
        throw local.closeReason ??
          new Bip324Error("UNEXPECTED_EOF", "client closed before sending version");
      }
      const first = next.value;
      if (first.type !== "version") {
        throw new ProxyRefusal("NO_TARGET", `first message must be version, got ${first.type}`);
      }
      const recv = decodeVersion(first.payload).addrRecv;
      const target = { host: ipToString(recv.ip), port: recv.port };
      if (isUnspecified(target.host) || target.port === 0) {
        throw new ProxyRefusal(
          "NO_TARGET",
          `version.addr_recv ${formatHostPort(target.host, target.port)} names no node`,
        );
      }
      if (isSelf(target)) {
        throw new ProxyRefusal(
          "NO_TARGET",
          `version.addr_recv ${
            formatHostPort(target.host, target.port)
          } is this proxy (give the proxy a fixed target)`,
        );
      }
      return { target, first };
    } finally {
      clearTimeout(timer);
      reader.releaseLock();
    }
  };

  const serve = async (conn: IncomingConnection, id: number): Promise<void> => {
    const started = performance.now();
    const from = conn.remote ?? "unknown";
    const local = openV1Session(conn.pair, { role: "responder", network });
    track(local);
    let remote: Session | undefined;
    let to: string | undefined;
    const up = { messages: 0, bytes: 0 };
    const down = { messages: 0, bytes: 0 };
    let failedSide: "client" | "remote" = "client";
    try {
      let target = fixed;
      let first: Message | undefined;
      if (!target) ({ target, first } = await targetFromClient(local));
      to = formatHostPort(target.host, target.port);
      failedSide = "remote";
      remote = await connect({
        hostname: target.host,
        port: target.port,
        network,
        fallback,
        handshakeTimeout: timeout,
        signal: stopping.signal,
      });
      track(remote);
      emit({
        event: "connection",
        id,
        from,
        to,
        transport: remote.transportVersion === 2 ? "v2" : "v1",
        ...(remote.transportVersion === 2 ? { session_id: toHex(remote.sessionId) } : {}),
      });
      if (first) {
        const writer = remote.writable.getWriter();
        try {
          await writer.write(first);
          up.messages++;
          up.bytes += first.payload.length;
        } finally {
          writer.releaseLock();
        }
      }
      // Either side ending ends the other: a pipe closes (or aborts) its destination, and a
      // destination that closed cancels its source.
      await Promise.allSettled([
        local.readable.pipeThrough(counter(up)).pipeTo(remote.writable),
        remote.readable.pipeThrough(counter(down)).pipeTo(local.writable),
      ]);
    } catch (error) {
      if (!stopping.signal.aborted) {
        emit({ event: "error", id, from, to, side: failedSide, ...errorInfo(error) });
      }
    } finally {
      await Promise.all([local.close(), remote?.close()]);
    }
    for (const [side, session] of [["client", local], ["remote", remote]] as const) {
      const reason = session?.closeReason;
      if (reason) emit({ event: "error", id, from, to, side, ...errorInfo(reason) });
    }
    emit({
      event: "closed",
      id,
      from,
      ...(to !== undefined ? { to } : {}),
      ...(remote
        ? {
          transport: remote.transportVersion === 2 ? "v2" : "v1",
          ...(remote.transportVersion === 2 ? { session_id: toHex(remote.sessionId) } : {}),
        }
        : {}),
      messages: { to_remote: up.messages, to_client: down.messages },
      bytes: { to_remote: up.bytes, to_client: down.bytes },
      duration_ms: Math.round(performance.now() - started),
    });
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
        const task: Promise<void> = serve(conn, id)
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
