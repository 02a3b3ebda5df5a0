/**
 * Transports: byte pairs (`ReadableWritablePair<Uint8Array, Uint8Array>`)
 * that know no cryptography and no session. `openSession` from
 * `@bip324/bip324` runs BIP324 over any of them.
 *
 * - TCP: {@linkcode connectTcp}, {@linkcode listenTcp};
 * - WebSocket: {@linkcode webSocketPair}, {@linkcode serveWebSocket},
 *   {@linkcode upgradeToPair}, and {@linkcode serveHttp} (a fetch-style
 *   HTTP server whose WebSocket upgrades refuse frames over `maxFrameBytes`);
 * - in memory: {@linkcode memoryPair}.
 *
 * @example An in-memory pair
 * ```ts
 * import { memoryPair } from "@bip324/bip324/transports";
 *
 * const [a, b] = memoryPair();
 * const writer = a.writable.getWriter();
 * writer.write(new Uint8Array([1, 2, 3]));
 * const { value } = await b.readable.getReader().read();
 * console.assert(value?.length === 3);
 * ```
 *
 * @module
 */

export { connectTcp, listenTcp } from "./tcp.ts";
export type { TcpAddress } from "./tcp.ts";
export { FrameTooLargeError, openWebSocket, webSocketPair } from "./websocket.ts";
export type { WebSocketPairOptions } from "./websocket.ts";
export { serveWebSocket, upgradeRequest, upgradeToPair } from "./websocket_server.ts";
export type { ServeWebSocketOptions } from "./websocket_server.ts";
export { DEFAULT_MAX_FRAME_BYTES, serveHttp } from "./http_server.ts";
export type {
  HttpServer,
  ServeContext,
  ServeHandler,
  ServeHttpOptions,
  ServerWebSocket,
} from "./http_server.ts";
export { memoryPair } from "./memory.ts";
export type { MemoryPairOptions } from "./memory.ts";
export type { BytePair, IncomingPair, PairListener } from "./types.ts";
