/**
 * The relay core's public shapes: the injected `connect`, what a host tells
 * the core per request, the options (with their defaults) and the core's
 * interface. The core itself is `core.ts`.
 *
 * @module
 */

import type { BytePair } from "../types.ts";
import type { RelayEvent, RelayMetrics, RelayTarget } from "./metrics.ts";

/** A byte pair to a node, as the injected `connect` returns it. */
export type RelayNodeConnection = BytePair & { close(): void };

/** Opens a TCP connection to a node (rejects if it cannot). */
export type RelayConnect = (
  target: RelayTarget & { signal?: AbortSignal },
) => Promise<RelayNodeConnection>;

/** What the host tells the core about one request. */
export interface RelayRequestContext {
  /** The client's identity for the per-IP limit (its IP address, or a trusted header's). */
  clientIp: string;
  /**
   * Accepts the WebSocket upgrade: the response to return, and the socket
   * (open, or opening). Called only after the request passed every check and
   * the node was reached.
   */
  upgrade(): { response: Response; socket: WebSocket | Promise<WebSocket> };
  /**
   * `false` when the host already knows `upgrade()` would refuse this
   * request (an invalid WebSocket handshake; `serveRelay` knows): the core
   * then answers 400 without contacting a node. Default: not known, and the
   * core checks the request itself (a GET with a well-formed
   * `Sec-WebSocket-Key` and `Sec-WebSocket-Version` 13 or 8).
   */
  upgradable?: boolean;
}

/** Options for {@linkcode createRelay}. */
export interface RelayCoreOptions {
  /** The default node (`"host:port"` or an address), used when the client names no target. */
  to: string | RelayTarget;
  /** Further nodes clients may pick with `?target=host:port`. `to` is always allowed. */
  allow?: readonly (string | RelayTarget)[];
  /** How to reach a node: e.g. `connectTcp`, or Workers' `connect()` via `socketsConnector`. */
  connect: RelayConnect;
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
   * the client sends; past this the connection is closed with reason
   * `error` (where the socket can pause its sender, it is paused instead).
   * Default 8 MiB.
   */
  maxBufferedBytes?: number;
  /** Node → client writes wait while more than this many bytes are queued in the WebSocket. Default 1 MiB. */
  sendHighWater?: number;
  /** Serve `/metrics`. Default true. */
  metrics?: boolean;
  /** Called for each connection event (metadata only). Exceptions are ignored. */
  onEvent?: (event: RelayEvent) => void;
}

/** A relay core: hand it requests; it answers them and pumps the WebSockets it accepts. */
export interface RelayCore {
  /** Answers one request: `/healthz`, `/metrics`, 426, a refusal, or an accepted upgrade. */
  handle(request: Request, context: RelayRequestContext): Promise<Response>;
  /** A snapshot of the counters. */
  metrics(): RelayMetrics;
  /** Refuses new requests and closes every relayed connection (reason `shutdown`). */
  close(): Promise<void>;
}
