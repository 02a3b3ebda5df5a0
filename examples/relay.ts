/**
 * An edge relay for BIP324 from web pages: a `Deno.serve` WebSocket endpoint
 * that, per accepted WebSocket, opens a TCP connection to a Bitcoin node and
 * forwards raw bytes both ways.
 *
 * ```
 * browser (BIP324 initiator) ⇄ WebSocket ⇄ relay ⇄ TCP ⇄ node (BIP324 responder)
 * ```
 *
 * The relay knows no cryptography and never parses, logs or inspects the bytes
 * it forwards: the BIP324 session runs end to end between the page and the
 * node, so the relay sees only ciphertext and can neither read nor alter the
 * session (both ends can compare the session id out of band).
 *
 * - Targets come only from an allow-list (`--allow host:port,...`; default:
 *   just `--to host:port`). A client may pick one of them with
 *   `?target=host:port`; anything else is refused with 403.
 * - A total connection limit (503) and a per-client-IP limit (429) are
 *   checked before upgrading; a node that cannot be reached gives 502.
 * - Backpressure: node → client reads from TCP only as fast as the WebSocket
 *   drains; client → node buffers at most `maxBufferedBytes` (a WebSocket
 *   cannot pause its sender) before the connection is closed.
 * - No bytes either way for `idleTimeout` ms closes both sides; closing
 *   either side closes the other.
 * - `GET /healthz` → 200 `ok`; `GET /metrics` → Prometheus text (or JSON with
 *   `?format=json` or `Accept: application/json`).
 *
 * It uses only `Deno.serve`, `Deno.connect` and (optionally) environment
 * variables, so it runs unchanged on Deno Deploy–style edge runtimes. See
 * `docs/relay.md`.
 *
 * @example Command line
 * ```sh
 * deno run -A examples/relay.ts --port 8080 --to 127.0.0.1:18444
 * # {"event":"listening","port":8080}
 * ```
 *
 * @example In-process
 * ```ts ignore
 * import { startRelay } from "./relay.ts";
 * const relay = startRelay({ port: 0, to: "127.0.0.1:18444" });
 * console.log(`ws://127.0.0.1:${relay.addr.port}/`);
 * // ... later
 * console.log(relay.metrics().bytesClientToNode);
 * await relay.close();
 * ```
 *
 * @module
 */

import { connectTcp } from "../transports/tcp.ts";
import { webSocketPair } from "../transports/websocket.ts";

/** A node the relay may connect to. */
export interface RelayTarget {
  /** Host name or IP address (IPv6 without brackets). */
  hostname: string;
  /** TCP port, 1..65535. */
  port: number;
}

/** Why a relayed connection ended (or was refused). */
export type RelayCloseReason =
  /** The WebSocket client closed (or vanished); the node side was closed too. */
  | "client_closed"
  /** The node closed (or reset) the TCP connection; the client side was closed too. */
  | "node_closed"
  /** No bytes in either direction for `idleTimeout` ms. */
  | "idle"
  /** Refused before upgrading: total (503) or per-IP (429) connection limit. */
  | "limit"
  /** Refused before upgrading: the requested target is not on the allow-list (403). */
  | "forbidden"
  /** A local failure: the client overran `maxBufferedBytes`, sent a text frame, or a bug. */
  | "error"
  /** The node could not be reached within `connectTimeout` (502, before upgrading). */
  | "connect_failed"
  /** The relay was shut down. */
  | "shutdown";

/** Every {@linkcode RelayCloseReason}, in display order. */
export const RELAY_CLOSE_REASONS: readonly RelayCloseReason[] = Object.freeze([
  "client_closed",
  "node_closed",
  "idle",
  "limit",
  "forbidden",
  "error",
  "connect_failed",
  "shutdown",
]);

/** A snapshot of the relay's counters. */
export interface RelayMetrics {
  /** Connections being relayed now (including ones still connecting to the node). */
  connectionsOpen: number;
  /** Connections admitted since start (past the allow-list and the limits). */
  connectionsTotal: number;
  /** Bytes forwarded from WebSocket clients to nodes. */
  bytesClientToNode: number;
  /** Bytes forwarded from nodes to WebSocket clients. */
  bytesNodeToClient: number;
  /** Connections ended or refused, by reason. */
  closes: Record<RelayCloseReason, number>;
}

/**
 * What the relay reports about connections (metadata only: never payload
 * bytes). The command line prints each event as a JSON line.
 */
export type RelayEvent =
  | {
    event: "open";
    /** Connection number (1, 2, …). */
    id: number;
    /** The client's IP address, as used for the per-IP limit. */
    client: string;
    /** The node, as `host:port`. */
    target: string;
  }
  | {
    event: "close";
    id: number;
    reason: RelayCloseReason;
    /** Bytes forwarded client → node on this connection. */
    bytes_client_to_node: number;
    /** Bytes forwarded node → client on this connection. */
    bytes_node_to_client: number;
    /** Connection lifetime in milliseconds. */
    ms: number;
    /** For `error` and `connect_failed`: what went wrong (never payload bytes). */
    error?: string;
  }
  | {
    event: "refused";
    status: number;
    reason: RelayCloseReason;
    client: string;
  };

/** Options for {@linkcode startRelay}. */
export interface RelayOptions {
  /** Port to serve on (0 picks a free one; see `relay.addr.port`). Default 8080. */
  port?: number;
  /** Address to bind. Default `"127.0.0.1"`. */
  hostname?: string;
  /** The default node (`"host:port"` or an address), used when the client names no target. */
  to: string | RelayTarget;
  /** Further nodes clients may pick with `?target=host:port`. `to` is always allowed. */
  allow?: readonly (string | RelayTarget)[];
  /** Connections relayed at once; more are refused with 503. Default 1,000. */
  maxConnections?: number;
  /** Connections relayed at once per client IP; more are refused with 429. Default 16. */
  maxPerIp?: number;
  /** Milliseconds without a byte either way before both sides are closed. Default 600,000. */
  idleTimeout?: number;
  /** Milliseconds allowed for the TCP connection to the node. Default 10,000. */
  connectTimeout?: number;
  /**
   * Bytes from a client the relay may hold while the node reads slower than
   * the client sends (a WebSocket cannot pause its sender); beyond this the
   * connection is closed with reason `error`. Default 8 MiB.
   */
  maxBufferedBytes?: number;
  /** Node → client writes wait while more than this many bytes are queued in the WebSocket. Default 1 MiB. */
  sendHighWater?: number;
  /**
   * The client's identity for the per-IP limit. Default: the TCP peer
   * address. Behind a trusted reverse proxy, derive it from the proxy's header.
   */
  clientIp?: (request: Request, info: Deno.ServeHandlerInfo) => string;
  /** Serve `/metrics`. Default true. */
  metrics?: boolean;
  /** Called for each connection event (metadata only). Exceptions are ignored. */
  onEvent?: (event: RelayEvent) => void;
}

/** A running relay. */
export interface Relay {
  /** The address the relay listens on. */
  readonly addr: { hostname: string; port: number };
  /** A snapshot of the counters. */
  metrics(): RelayMetrics;
  /** Stops accepting, closes every relayed connection (reason `shutdown`) and the server. */
  close(): Promise<void>;
}

const DEFAULT_PORT = 8080;
const DEFAULT_MAX_CONNECTIONS = 1_000;
const DEFAULT_MAX_PER_IP = 16;
const DEFAULT_IDLE_TIMEOUT = 600_000;
const DEFAULT_CONNECT_TIMEOUT = 10_000;
const DEFAULT_MAX_BUFFERED = 8 << 20;
const DEFAULT_SEND_HIGH_WATER = 1 << 20;
/** Milliseconds a closing connection waits for the WebSocket closing handshake. */
const CLOSE_TIMEOUT = 2_000;
/** Milliseconds the client's last frames may take to reach a slow node after the client closed. */
const DRAIN_TIMEOUT = 5_000;

/**
 * Parses `"host:port"` or `"[v6]:port"` into a {@linkcode RelayTarget}
 * (host lower-cased, brackets removed). Throws `TypeError` or `RangeError`.
 *
 * @example
 * ```ts
 * import { parseTarget } from "./relay.ts";
 * console.assert(parseTarget("[::1]:18444").hostname === "::1");
 * ```
 */
export function parseTarget(text: string): RelayTarget {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/?#\[\]@]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) throw new TypeError(`expected host:port or [ipv6]:port, got ${JSON.stringify(text)}`);
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new RangeError(`port must be 1..65535, got ${port}`);
  return { hostname: (match[1] ?? match[2]).toLowerCase(), port };
}

/**
 * Formats a target as `host:port` (IPv6 in brackets), the form allow-lists
 * and `?target=` use.
 *
 * @example
 * ```ts
 * import { formatTarget } from "./relay.ts";
 * console.assert(formatTarget({ hostname: "::1", port: 8333 }) === "[::1]:8333");
 * ```
 */
export function formatTarget(target: RelayTarget): string {
  const host = target.hostname.toLowerCase();
  return `${host.includes(":") ? `[${host}]` : host}:${target.port}`;
}

function toTarget(value: string | RelayTarget): RelayTarget {
  if (typeof value === "string") return parseTarget(value);
  return parseTarget(formatTarget(value));
}

function checkCount(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${name} must be an integer ≥ 1, got ${n}`);
  }
  return n;
}

function checkMs(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!(typeof n === "number" && n > 0 && Number.isFinite(n))) {
    throw new RangeError(`${name} must be a number of milliseconds > 0, got ${n}`);
  }
  return n;
}

/** Rejects with `Error(message)` after `ms`, unless `promise` settles first. */
function deadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** One relayed connection, from admission to teardown. */
interface Link {
  id: number;
  client: string;
  target: string;
  started: number;
  up: number;
  down: number;
  /** Closes both sides (first reason wins). */
  teardown(reason: RelayCloseReason, error?: unknown): void;
  /** Resolves once both sides are closed (bounded). */
  done: Promise<void>;
}

/**
 * Starts the relay. Options are validated at once (`TypeError`/`RangeError`);
 * the server is listening when this returns.
 *
 * @example
 * ```ts ignore
 * import { startRelay } from "./relay.ts";
 * const relay = startRelay({
 *   port: 0,
 *   to: "127.0.0.1:18444",
 *   allow: ["127.0.0.1:18445"],
 *   maxPerIp: 4,
 *   idleTimeout: 300_000,
 * });
 * // ws://127.0.0.1:PORT/?target=127.0.0.1:18445 reaches the second node
 * await relay.close();
 * ```
 */
export function startRelay(options: RelayOptions): Relay {
  if (options.to === undefined) {
    throw new TypeError("startRelay: `to` (the default node) is required");
  }
  const defaultTarget = toTarget(options.to);
  const allowed = new Map<string, RelayTarget>();
  allowed.set(formatTarget(defaultTarget), defaultTarget);
  for (const entry of options.allow ?? []) {
    const target = toTarget(entry);
    allowed.set(formatTarget(target), target);
  }
  const maxConnections = checkCount(
    "maxConnections",
    options.maxConnections,
    DEFAULT_MAX_CONNECTIONS,
  );
  const maxPerIp = checkCount("maxPerIp", options.maxPerIp, DEFAULT_MAX_PER_IP);
  const idleTimeout = checkMs("idleTimeout", options.idleTimeout, DEFAULT_IDLE_TIMEOUT);
  const connectTimeout = checkMs("connectTimeout", options.connectTimeout, DEFAULT_CONNECT_TIMEOUT);
  const maxBuffered = checkCount(
    "maxBufferedBytes",
    options.maxBufferedBytes,
    DEFAULT_MAX_BUFFERED,
  );
  const sendHighWater = checkCount("sendHighWater", options.sendHighWater, DEFAULT_SEND_HIGH_WATER);
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer 0..65535, got ${port}`);
  }
  const serveMetrics = options.metrics ?? true;

  const closes = Object.fromEntries(RELAY_CLOSE_REASONS.map((r) => [r, 0])) as Record<
    RelayCloseReason,
    number
  >;
  const counters = { open: 0, total: 0, up: 0, down: 0 };
  const perIp = new Map<string, number>();
  const links = new Set<Link>();
  const shutdown = new AbortController();
  let nextId = 1;

  const emit = (event: RelayEvent) => {
    try {
      options.onEvent?.(event);
    } catch { /* a throwing callback must not break the relay */ }
  };
  const snapshot = (): RelayMetrics => ({
    connectionsOpen: counters.open,
    connectionsTotal: counters.total,
    bytesClientToNode: counters.up,
    bytesNodeToClient: counters.down,
    closes: { ...closes },
  });
  const refuse = (status: number, reason: RelayCloseReason, client: string, text: string) => {
    closes[reason]++;
    emit({ event: "refused", status, reason, client });
    return new Response(text + "\n", { status, headers: { "content-type": "text/plain" } });
  };

  /** Admits one WebSocket request: reserve a slot, connect to the node, upgrade, pump. */
  const relay = async (request: Request, client: string, target: RelayTarget) => {
    counters.open++;
    counters.total++;
    perIp.set(client, (perIp.get(client) ?? 0) + 1);
    const id = nextId++;
    const label = formatTarget(target);
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    let ended = false;
    let tcp: Awaited<ReturnType<typeof connectTcp>> | undefined;
    let ws: Awaited<ReturnType<typeof webSocketPair>> | undefined;
    let socket: WebSocket | undefined;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    let lastActivity = Date.now();

    const link: Link = {
      id,
      client,
      target: label,
      started: Date.now(),
      up: 0,
      down: 0,
      done,
      teardown(reason, error) {
        if (ended) return;
        ended = true;
        clearTimeout(idleTimer);
        clearTimeout(drainTimer);
        links.delete(link);
        closes[reason]++;
        counters.open--;
        const n = (perIp.get(client) ?? 1) - 1;
        if (n > 0) perIp.set(client, n);
        else perIp.delete(client);
        emit({
          event: "close",
          id,
          reason,
          bytes_client_to_node: link.up,
          bytes_node_to_client: link.down,
          ms: Date.now() - link.started,
          ...(error !== undefined && (reason === "error" || reason === "connect_failed")
            ? { error: describeError(error) }
            : {}),
        });
        try {
          tcp?.close();
        } catch { /* already closed */ }
        // Sends queued before the close frame still go out first.
        const closeClient = ws ? ws.close() : (() => {
          try {
            socket?.close(1000);
          } catch { /* not open yet, or already closed */ }
          return Promise.resolve();
        })();
        deadline(closeClient, CLOSE_TIMEOUT, "close").catch(() => {}).finally(resolveDone);
      },
    };
    links.add(link);
    emit({ event: "open", id, client, target: label });

    // 1. The node, before upgrading: a client whose node is unreachable gets a plain 502.
    try {
      const connecting = connectTcp(target);
      connecting.then((late) => {
        if (ended) late.close();
      }, () => {});
      let onAbort!: () => void;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new Error("relay is shutting down"));
        if (shutdown.signal.aborted) onAbort();
        else shutdown.signal.addEventListener("abort", onAbort, { once: true });
      });
      aborted.catch(() => {});
      try {
        tcp = await deadline(
          Promise.race([connecting, aborted]),
          connectTimeout,
          `no connection to ${label} within ${connectTimeout} ms`,
        );
      } finally {
        shutdown.signal.removeEventListener("abort", onAbort);
      }
    } catch (error) {
      link.teardown(shutdown.signal.aborted ? "shutdown" : "connect_failed", error);
      return new Response("cannot reach the node\n", {
        status: shutdown.signal.aborted ? 503 : 502,
      });
    }
    if (ended) return new Response("relay is shutting down\n", { status: 503 });

    // 2. Upgrade.
    let response: Response;
    try {
      const upgraded = Deno.upgradeWebSocket(request);
      socket = upgraded.socket;
      response = upgraded.response;
    } catch (error) {
      link.teardown("error", error);
      return new Response("bad WebSocket upgrade request\n", { status: 400 });
    }
    // The client went away (a close or error event on its socket), as opposed to a local
    // failure. Registered before webSocketPair's own listeners, so it is set first.
    let clientGone = false;
    socket.addEventListener("error", () => (clientGone = true));
    socket.addEventListener("close", () => {
      clientGone = true;
      // The client's last frames still go to the node, but a stalled node cannot hold
      // the connection open.
      if (!ended) drainTimer = setTimeout(() => link.teardown("client_closed"), DRAIN_TIMEOUT);
    });

    // 3. Once open, pump both ways. Nothing below looks at a chunk's contents, only its length.
    webSocketPair(socket, { receiveLimit: maxBuffered, sendHighWater, closeTimeout: CLOSE_TIMEOUT })
      .then((pair) => {
        ws = pair;
        if (ended) {
          pair.close();
          return;
        }
        const node = tcp!;
        const touch = () => (lastActivity = Date.now());
        const checkIdle = () => {
          const quiet = Date.now() - lastActivity;
          if (quiet >= idleTimeout) link.teardown("idle");
          else idleTimer = setTimeout(checkIdle, idleTimeout - quiet);
        };
        touch();
        idleTimer = setTimeout(checkIdle, idleTimeout);

        // client → node
        (async () => {
          const reader = pair.readable.getReader();
          const writer = node.writable.getWriter();
          // A failed client side (gone, a text frame, or more than maxBufferedBytes queued)
          // ends the link at once, even while a write to a slow node is pending.
          reader.closed.catch((error) =>
            link.teardown(clientGone ? "client_closed" : "error", error)
          );
          try {
            for (;;) {
              let next: ReadableStreamReadResult<Uint8Array>;
              try {
                next = await reader.read();
              } catch (error) {
                return link.teardown(clientGone ? "client_closed" : "error", error);
              }
              if (next.done) return link.teardown("client_closed");
              const n = next.value.byteLength;
              link.up += n;
              counters.up += n;
              touch();
              try {
                await writer.write(next.value);
              } catch {
                return link.teardown("node_closed");
              }
            }
          } catch (error) {
            link.teardown("error", error);
          }
        })();

        // node → client
        (async () => {
          const reader = node.readable.getReader();
          const writer = pair.writable.getWriter();
          try {
            for (;;) {
              let next: ReadableStreamReadResult<Uint8Array>;
              try {
                next = await reader.read();
              } catch {
                return link.teardown("node_closed");
              }
              if (next.done) return link.teardown("node_closed");
              const n = next.value.byteLength;
              link.down += n;
              counters.down += n;
              touch();
              try {
                await writer.write(next.value);
              } catch (error) {
                return link.teardown(clientGone ? "client_closed" : "error", error);
              }
            }
          } catch (error) {
            link.teardown("error", error);
          }
        })();
      }, () => link.teardown("client_closed"));
    return response;
  };

  const handler = async (request: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
    try {
      const url = new URL(request.url);
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        if (url.pathname === "/healthz") return new Response("ok\n");
        if (url.pathname === "/metrics" && serveMetrics) {
          return metricsResponse(request, url, snapshot());
        }
        return new Response("BIP324 WebSocket relay: upgrade required\n", { status: 426 });
      }
      const client = options.clientIp?.(request, info) ??
        (info.remoteAddr as Deno.NetAddr).hostname;
      if (shutdown.signal.aborted) return refuse(503, "shutdown", client, "relay is shutting down");
      const requested = url.searchParams.get("target");
      let target: RelayTarget | undefined = defaultTarget;
      if (requested !== null) {
        try {
          target = allowed.get(formatTarget(parseTarget(requested)));
        } catch {
          target = undefined;
        }
      }
      if (!target) return refuse(403, "forbidden", client, "target not allowed");
      if (counters.open >= maxConnections) {
        return refuse(503, "limit", client, "too many connections");
      }
      if ((perIp.get(client) ?? 0) >= maxPerIp) {
        return refuse(429, "limit", client, "too many connections from this address");
      }
      return await relay(request, client, target);
    } catch {
      emit({
        event: "refused",
        status: 500,
        reason: "error",
        client: (info.remoteAddr as Deno.NetAddr).hostname,
      });
      closes.error++;
      return new Response("internal error\n", { status: 500 });
    }
  };

  const server = Deno.serve({
    port,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: () => {},
    onError: () => new Response("internal error\n", { status: 500 }),
  }, handler);
  const netAddr = server.addr as Deno.NetAddr;
  let closing: Promise<void> | undefined;

  return {
    addr: { hostname: netAddr.hostname, port: netAddr.port },
    metrics: snapshot,
    close() {
      closing ??= (async () => {
        shutdown.abort();
        const pending = [...links];
        for (const link of pending) link.teardown("shutdown");
        await Promise.all(pending.map((l) => l.done));
        await deadline(server.shutdown(), CLOSE_TIMEOUT * 2, "server shutdown").catch(() => {});
      })();
      return closing;
    },
  };
}

function metricsResponse(request: Request, url: URL, m: RelayMetrics): Response {
  const json = url.searchParams.get("format") === "json" ||
    (request.headers.get("accept") ?? "").includes("application/json");
  if (json) return Response.json(m);
  return new Response(formatPrometheus(m), {
    headers: { "content-type": "text/plain; version=0.0.4" },
  });
}

/**
 * Renders metrics in the Prometheus text exposition format.
 *
 * @example
 * ```ts
 * import { formatPrometheus, RELAY_CLOSE_REASONS } from "./relay.ts";
 * const closes = Object.fromEntries(RELAY_CLOSE_REASONS.map((r) => [r, 0]));
 * const text = formatPrometheus({
 *   connectionsOpen: 1,
 *   connectionsTotal: 2,
 *   bytesClientToNode: 3,
 *   bytesNodeToClient: 4,
 *   closes: closes as Record<(typeof RELAY_CLOSE_REASONS)[number], number>,
 * });
 * console.assert(text.includes("bip324_relay_connections_open 1"));
 * ```
 */
export function formatPrometheus(m: RelayMetrics): string {
  const lines = [
    "# HELP bip324_relay_connections_open Connections being relayed now.",
    "# TYPE bip324_relay_connections_open gauge",
    `bip324_relay_connections_open ${m.connectionsOpen}`,
    "# HELP bip324_relay_connections_total Connections admitted since start.",
    "# TYPE bip324_relay_connections_total counter",
    `bip324_relay_connections_total ${m.connectionsTotal}`,
    "# HELP bip324_relay_bytes_total Bytes forwarded, by direction.",
    "# TYPE bip324_relay_bytes_total counter",
    `bip324_relay_bytes_total{direction="client_to_node"} ${m.bytesClientToNode}`,
    `bip324_relay_bytes_total{direction="node_to_client"} ${m.bytesNodeToClient}`,
    "# HELP bip324_relay_closes_total Connections ended or refused, by reason.",
    "# TYPE bip324_relay_closes_total counter",
    ...RELAY_CLOSE_REASONS.map((r) => `bip324_relay_closes_total{reason="${r}"} ${m.closes[r]}`),
  ];
  return lines.join("\n") + "\n";
}

/** A command-line mistake: printed with the usage text, exit code 2. */
export class RelayUsageError extends Error {
  /** Creates the error with a message for the user. */
  constructor(message: string) {
    super(message);
    this.name = "RelayUsageError";
  }
}

/** Usage text of the command line. */
export const RELAY_USAGE: string = `Usage:
  relay.ts --to HOST:PORT [--allow HOST:PORT,...] [--port N] [--hostname ADDR]
           [--max-connections N] [--max-per-ip N] [--idle-timeout MS]

Relays each WebSocket (binary frames = raw bytes) to a TCP connection to a node,
seeing only ciphertext. Clients pick a node with ?target=HOST:PORT among the allowed ones.

Options (environment variable used when the flag is absent):
  --to HOST:PORT          default node                      RELAY_TO
  --allow LIST            more nodes clients may pick       RELAY_ALLOW
  --port N                port (0 picks one; default 8080)  RELAY_PORT, PORT
  --hostname ADDR         address to bind (127.0.0.1)       RELAY_HOSTNAME
  --max-connections N     total connections (1000)          RELAY_MAX_CONNECTIONS
  --max-per-ip N          connections per client IP (16)    RELAY_MAX_PER_IP
  --idle-timeout MS       close after MS ms without bytes (600000)  RELAY_IDLE_TIMEOUT
  -h, --help              show this help

Prints {"event":"listening","port":N}, then one JSON line per connection event
(metadata only); runs until SIGINT/SIGTERM. GET /healthz, GET /metrics.
`;

/** What {@linkcode parseRelayArgs} returns. */
export type RelayCommand = { command: "help" } | { command: "run"; options: RelayOptions };

const FLAGS: Record<string, string> = {
  to: "RELAY_TO",
  allow: "RELAY_ALLOW",
  port: "RELAY_PORT",
  hostname: "RELAY_HOSTNAME",
  "max-connections": "RELAY_MAX_CONNECTIONS",
  "max-per-ip": "RELAY_MAX_PER_IP",
  "idle-timeout": "RELAY_IDLE_TIMEOUT",
};

/**
 * Reads an environment variable if (and only if) access is already granted:
 * never prompts, never throws (edge runtimes and `deno run` without
 * `--allow-env` both work).
 */
export function readEnv(name: string): string | undefined {
  try {
    const status = Deno.permissions?.querySync?.({ name: "env", variable: name });
    if (status && status.state !== "granted") return undefined;
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * Parses command-line flags, falling back to `env` (default: the process
 * environment, read only where permitted) for absent ones. Throws
 * {@linkcode RelayUsageError}.
 *
 * @example
 * ```ts
 * import { parseRelayArgs } from "./relay.ts";
 * const parsed = parseRelayArgs(["--to", "127.0.0.1:18444", "--port", "0"], () => undefined);
 * console.assert(parsed.command === "run" && parsed.options.port === 0);
 * ```
 */
export function parseRelayArgs(
  args: string[],
  env: (name: string) => string | undefined = readEnv,
): RelayCommand {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") return { command: "help" };
    if (!arg.startsWith("--")) throw new RelayUsageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!(name in FLAGS)) throw new RelayUsageError(`unknown option --${name}`);
    if (flags.has(name)) throw new RelayUsageError(`--${name} given twice`);
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new RelayUsageError(`--${name} needs a value`);
    flags.set(name, value);
  }
  const get = (name: string): string | undefined => {
    const v = flags.get(name) ?? env(FLAGS[name]) ?? (name === "port" ? env("PORT") : undefined);
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new RelayUsageError(`--${name} must be an integer ${min}..${max}, got ${v}`);
    }
    return Number(v);
  };
  const target = (text: string, flag: string): RelayTarget => {
    try {
      return parseTarget(text);
    } catch (error) {
      throw new RelayUsageError(`--${flag}: ${(error as Error).message}`);
    }
  };
  const allow = (get("allow") ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")
    .map((s) => target(s, "allow"));
  const toText = get("to");
  const to = toText !== undefined ? target(toText, "to") : allow[0];
  if (!to) throw new RelayUsageError("no node: give --to HOST:PORT (or --allow, or RELAY_TO)");
  const options: RelayOptions = { to, allow };
  const port = int("port", 0, 65535);
  if (port !== undefined) options.port = port;
  const hostname = get("hostname");
  if (hostname !== undefined) options.hostname = hostname;
  const maxConnections = int("max-connections", 1, 1_000_000);
  if (maxConnections !== undefined) options.maxConnections = maxConnections;
  const maxPerIp = int("max-per-ip", 1, 1_000_000);
  if (maxPerIp !== undefined) options.maxPerIp = maxPerIp;
  const idle = int("idle-timeout", 1, 2 ** 31 - 1);
  if (idle !== undefined) options.idleTimeout = idle;
  return { command: "run", options };
}

/** Extra hooks for {@linkcode runRelayCli} (tests, embedding). */
export interface RelayCliHooks {
  /** Stops the relay like SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Where output lines go. Default `console.log`. */
  print?: (line: string) => void;
  /** Where usage and errors go. Default `console.error`. */
  printError?: (line: string) => void;
}

/**
 * The command line: parses `args`, starts the relay, prints
 * `{"event":"listening","port":N}` and one JSON line per connection event,
 * and runs until SIGINT/SIGTERM (or `hooks.signal`). Resolves with the exit
 * code: 0 after a clean shutdown, 1 if the relay cannot start, 2 for usage
 * errors.
 *
 * @example
 * ```ts ignore
 * import { runRelayCli } from "./relay.ts";
 * Deno.exit(await runRelayCli(["--port", "8080", "--to", "127.0.0.1:18444"]));
 * ```
 */
export async function runRelayCli(args: string[], hooks: RelayCliHooks = {}): Promise<number> {
  const print = hooks.print ?? ((line: string) => console.log(line));
  const printError = hooks.printError ?? ((line: string) => console.error(line));
  let parsed: RelayCommand;
  try {
    parsed = parseRelayArgs(args);
  } catch (error) {
    if (!(error instanceof RelayUsageError)) throw error;
    printError(`error: ${error.message}\n\n${RELAY_USAGE}`);
    return 2;
  }
  if (parsed.command === "help") {
    print(RELAY_USAGE);
    return 0;
  }
  let relay: Relay;
  try {
    relay = startRelay({ ...parsed.options, onEvent: (e) => print(JSON.stringify(e)) });
  } catch (error) {
    print(JSON.stringify({ event: "error", message: describeError(error) }));
    return 1;
  }
  print(JSON.stringify({ event: "listening", port: relay.addr.port }));

  let resolveStop!: () => void;
  const stop = new Promise<void>((resolve) => (resolveStop = resolve));
  const onSignal = () => resolveStop();
  const registered: Deno.Signal[] = [];
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(sig, onSignal);
      registered.push(sig);
    } catch { /* no signals here (e.g. an edge runtime, or SIGTERM on Windows) */ }
  }
  if (hooks.signal?.aborted) resolveStop();
  hooks.signal?.addEventListener("abort", onSignal, { once: true });
  await stop;
  for (const sig of registered) {
    try {
      Deno.removeSignalListener(sig, onSignal);
    } catch { /* already removed */ }
  }
  await relay.close();
  print(JSON.stringify({ event: "stopped", ...relay.metrics() }));
  return 0;
}

if (import.meta.main) Deno.exit(await runRelayCli(Deno.args));
