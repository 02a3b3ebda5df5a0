/**
 * The relay's counters, events and close reasons, and their Prometheus
 * rendering.
 *
 * @module
 */

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
  /**
   * A local failure: the client overran `maxBufferedBytes`, sent a text frame, or a bug;
   * or an invalid upgrade request, refused (400, 405) before any node is contacted.
   */
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
    /**
     * With `error`: a machine-readable code — `CONNECT_FAILED` (the node could
     * not be reached), the runtime's own code where it has one (e.g.
     * `ECONNRESET`), `OVERSIZED` for a frame over the limit, else `TRANSPORT`.
     */
    code?: string;
  }
  | {
    event: "refused";
    status: number;
    reason: RelayCloseReason;
    client: string;
  };

/** `/metrics` as Prometheus text, or JSON with `?format=json` / `Accept: application/json`. */
export function metricsResponse(request: Request, url: URL, m: RelayMetrics): Response {
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
 * import { formatPrometheus, RELAY_CLOSE_REASONS } from "@bip324/bip324/relay";
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
