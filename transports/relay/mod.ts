/**
 * An edge relay for BIP324 from web pages, as a library: per accepted
 * WebSocket it opens a TCP connection to an allow-listed node and forwards
 * raw bytes both ways, seeing only ciphertext.
 *
 * ```
 * browser (BIP324 initiator) ⇄ WebSocket ⇄ relay ⇄ TCP ⇄ node (BIP324 responder)
 * ```
 *
 * - {@linkcode createRelay}: the core, a fetch-style handler plus an
 *   injected `connect`; runs on `Deno.serve`, Cloudflare Workers
 *   ({@linkcode socketsConnector} over `cloudflare:sockets`, `WebSocketPair`)
 *   and anything else with `Request`/`Response` and WebSockets;
 * - {@linkcode serveRelay}: the core as a server in Deno, Node.js and Bun,
 *   refusing WebSocket frames over `maxFrameBytes` before reading them.
 *
 * Allow-list, total and per-IP limits, idle timeout, byte budget,
 * `/healthz` and `/metrics` work the same everywhere. See `docs/relay.md`.
 *
 * @example
 * ```ts ignore
 * import { serveRelay } from "@bip324/bip324/relay";
 * const relay = serveRelay({ port: 8080, to: "127.0.0.1:8333" });
 * await relay.ready;
 * ```
 *
 * @module
 */

export { createRelay } from "./core.ts";
export type {
  RelayConnect,
  RelayCore,
  RelayCoreOptions,
  RelayNodeConnection,
  RelayRequestContext,
} from "./options.ts";
export { serveRelay } from "./serve.ts";
export type { Relay, RelayClientInfo, ServeRelayOptions } from "./serve.ts";
export { socketsConnector } from "./sockets.ts";
export type { SocketsApiConnect, SocketsApiSocket } from "./sockets.ts";
export { formatPrometheus, RELAY_CLOSE_REASONS } from "./metrics.ts";
export type { RelayCloseReason, RelayEvent, RelayMetrics, RelayTarget } from "./metrics.ts";
export { formatTarget, parseTarget } from "./target.ts";
