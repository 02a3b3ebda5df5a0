/**
 * WebSocket transport, server side: accepting upgrades as byte pairs, in a
 * fetch-style server of the runtime's own ({@linkcode upgradeToPair}) or in
 * {@linkcode serveHttp} ({@linkcode serveWebSocket}), which refuses a frame
 * over `maxFrameBytes` from its header.
 *
 * @module
 */

import type { BytePair } from "../layers/bytes.ts";
import { formatHostPort, type IncomingPair, type PairListener } from "./types.ts";
import { denoRuntime, unsupported } from "./runtime.ts";
import {
  DEFAULT_MAX_FRAME_BYTES as DEFAULT_FRAME_LIMIT,
  serveHttp,
  type ServeHttpOptions,
} from "./http_server.ts";
import { webSocketPair, type WebSocketPairOptions } from "./websocket.ts";

/**
 * Upgrades a fetch-style server's request to a WebSocket and returns the
 * response to send plus a promise of the byte pair (for servers that route
 * themselves): `Deno.upgradeWebSocket` in `Deno.serve`, `WebSocketPair` in
 * Cloudflare Workers; elsewhere it throws an `Error` naming what is missing
 * (use {@linkcode serveHttp}'s `context.upgrade()` there). Note that Deno's
 * own upgrade accepts frames up to 64 MiB; {@linkcode serveWebSocket} does not.
 *
 * @example
 * ```ts ignore
 * import { upgradeToPair } from "@bip324/bip324/transports";
 * Deno.serve((req) => {
 *   const { response, pair } = upgradeToPair(req);
 *   pair.then((p) => p.close());
 *   return response;
 * });
 * ```
 */
export function upgradeToPair(
  request: Request,
  options: WebSocketPairOptions = {},
): { response: Response; pair: Promise<BytePair & { close(): Promise<void> }> } {
  const { socket, response } = upgradeRequest(request);
  return { response, pair: webSocketPair(socket, options) };
}

/**
 * `Deno.upgradeWebSocket`, or Workers' `WebSocketPair`: the runtime's own
 * way for a fetch handler to accept a WebSocket.
 */
export function upgradeRequest(request: Request): { socket: WebSocket; response: Response } {
  const deno = denoRuntime();
  if (typeof deno?.upgradeWebSocket === "function") return deno.upgradeWebSocket(request);
  const Pair = (globalThis as { WebSocketPair?: new () => Record<0 | 1, WebSocket> })
    .WebSocketPair;
  if (typeof Pair === "function") {
    const pair = new Pair();
    const [client, server] = [pair[0], pair[1]];
    (server as WebSocket & { accept(): void }).accept();
    const init = { status: 101, webSocket: client } as ResponseInit;
    return { socket: server, response: new Response(null, init) };
  }
  throw unsupported(
    "upgrading a request to a WebSocket",
    "Deno.upgradeWebSocket or WebSocketPair (or use serveHttp / serveWebSocket)",
  );
}

/**
 * Closes an upgraded socket once the server is stopping (never taken, or given back unread):
 * with 1013 (try again later) rather than a plain close, so the client's pair fails instead
 * of ending as a peer that hung up at once would (which an initiator takes for v1-only).
 */
function shutOut(ws: WebSocket, pair: { close(): Promise<void> }): void {
  try {
    ws.close(1013, "server is shutting down");
  } catch { /* already closing */ }
  void pair.close();
}

/** Options for {@linkcode serveWebSocket}. */
export interface ServeWebSocketOptions extends WebSocketPairOptions, ServeHttpOptions {
  /** Only upgrade requests for this path. Default: any path. */
  path?: string;
  /**
   * Upgraded sockets that may wait to be taken from `incoming`; past this,
   * upgrade requests are refused with 503 before upgrading. Default 128.
   */
  maxWaiting?: number;
}

/**
 * Serves WebSocket upgrades ({@linkcode serveHttp}: Deno, Node.js, Bun)
 * and hands out each upgraded socket as a byte pair. Plain HTTP requests get
 * 426, other paths 404. A client frame over `maxFrameBytes` (default 4 MiB)
 * closes that connection before its payload is read; the pair's readable
 * then fails with {@linkcode FrameTooLargeError}.
 *
 * @example
 * ```ts ignore
 * import { serveWebSocket } from "@bip324/bip324/transports";
 * const server = serveWebSocket({ port: 8080, maxFrameBytes: 1 << 20 });
 * await server.ready;
 * for await (const { pair } of server.incoming) pair.readable.pipeTo(pair.writable);
 * ```
 */
export function serveWebSocket(options: ServeWebSocketOptions): PairListener {
  const queue: IncomingPair[] = [];
  const waiters: ((c: IteratorResult<IncomingPair>) => void)[] = [];
  const maxWaiting = options.maxWaiting ?? 128;
  let upgrading = 0;
  let stopped = false;
  const push = (c: IncomingPair) => {
    if (stopped) return c.close();
    const w = waiters.shift();
    if (w) w({ value: c, done: false });
    else queue.push(c);
  };
  const server = serveHttp(options, (request, context) => {
    const url = new URL(request.url);
    if (options.path && url.pathname !== options.path) {
      return new Response("not found", { status: 404 });
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("BIP324 over WebSocket: upgrade required", { status: 426 });
    }
    if (!context.upgradable) return new Response("invalid WebSocket upgrade", { status: 400 });
    // While nobody takes connections, upgraded sockets wait here; past the cap, refuse
    // before upgrading.
    if (stopped || queue.length + upgrading >= maxWaiting) {
      return new Response("busy", { status: 503 });
    }
    const remote = formatHostPort(context.remote.hostname, context.remote.port);
    const { response, socket } = context.upgrade();
    upgrading++;
    socket
      .then(async (ws) => {
        const p = await webSocketPair(ws, {
          ...options,
          maxFrameBytes: options.maxFrameBytes ?? DEFAULT_FRAME_LIMIT,
        });
        push({ pair: p, remote, close: () => stopped ? shutOut(ws, p) : void p.close() });
      })
      .catch(() => {})
      .finally(() => upgrading--);
    return response;
  });
  const incoming: AsyncIterable<IncomingPair> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const c = queue.shift();
        if (c) return Promise.resolve({ value: c, done: false });
        if (stopped) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiters.push(resolve));
      },
    }),
  };
  return {
    addr: server.addr,
    incoming,
    ready: server.ready,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const w of waiters.splice(0)) w({ value: undefined, done: true });
      for (const c of queue.splice(0)) c.close();
      await server.close();
    },
  };
}
