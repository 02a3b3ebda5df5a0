/**
 * WebSocket transport: binary frames carry raw bytes, with frame boundaries
 * meaning nothing. Works wherever the standard `WebSocket` exists (Deno,
 * browsers, edge runtimes); the server side uses `Deno.serve` and
 * `Deno.upgradeWebSocket`. Byte pairs only: `connectWebSocket` and
 * `listenWebSocket` (in `layers/session/`) run BIP324 sessions over them.
 *
 * @module
 */

import type { BytePair } from "../layers/bytes.ts";
import { formatHostPort, type IncomingPair, type PairListener } from "./types.ts";

/** Options for {@linkcode webSocketPair}. */
export interface WebSocketPairOptions {
  /** Writes wait while more than this many bytes are queued in the socket. Default 1 MiB. */
  sendHighWater?: number;
  /**
   * Received bytes the reader may fall behind by before the connection is
   * failed (WebSocket cannot pause the sender). Default 16 MiB.
   */
  receiveLimit?: number;
  /** Milliseconds closing waits for the WebSocket closing handshake. Default 3,000. */
  closeTimeout?: number;
  /**
   * Aborts the opening (while the socket is CONNECTING): the socket is closed
   * and the promise rejects with the signal's reason. Ignored once open.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds the opening may take; past it the socket is closed and the
   * promise rejects with a `TimeoutError` `DOMException`. Default: no limit.
   */
  openTimeout?: number;
}

/**
 * Wraps an open (or opening) WebSocket as a byte pair. The socket is closed
 * when the readable is cancelled or the writable closed or aborted.
 *
 * @example
 * ```ts ignore
 * import { webSocketPair } from "./websocket.ts";
 * const pair = await webSocketPair(new WebSocket("ws://127.0.0.1:8080"));
 * ```
 */
export async function webSocketPair(
  ws: WebSocket,
  options: WebSocketPairOptions = {},
): Promise<BytePair & { close(): Promise<void> }> {
  const sendHighWater = options.sendHighWater ?? 1 << 20;
  const receiveLimit = options.receiveLimit ?? 16 << 20;
  ws.binaryType = "arraybuffer";
  const { signal, openTimeout } = options;
  if (openTimeout !== undefined && !(openTimeout > 0 && openTimeout <= 2 ** 31 - 1)) {
    throw new RangeError(`openTimeout must be 1..${2 ** 31 - 1} ms, got ${openTimeout}`);
  }
  if (ws.readyState === WebSocket.CONNECTING) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (reason: unknown) => {
          try {
            ws.close();
          } catch { /* already closing */ }
          reject(reason);
        };
        if (signal?.aborted) return fail(signal.reason);
        onAbort = () => fail(signal!.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
        if (openTimeout !== undefined) {
          timer = setTimeout(() =>
            fail(
              new DOMException(`WebSocket did not open within ${openTimeout} ms`, "TimeoutError"),
            ), openTimeout);
        }
        ws.addEventListener("open", () => resolve(), { once: true });
        ws.addEventListener(
          "error",
          (e) => reject(new Error(`WebSocket failed to open: ${describe(e)}`)),
          { once: true },
        );
        ws.addEventListener(
          "close",
          () => reject(new Error("WebSocket closed before opening")),
          { once: true },
        );
      });
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }
  if (ws.readyState !== WebSocket.OPEN) {
    throw new Error("WebSocket is not open");
  }
  // Closing waits for the WebSocket closing handshake (bounded), so a process that exits
  // right after closing a session does not leave the peer with an abrupt EOF.
  const socketClosed = new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve();
    else ws.addEventListener("close", () => resolve(), { once: true });
  });
  const close = async (): Promise<void> => {
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      try {
        ws.close(1000);
      } catch { /* already closing */ }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      socketClosed,
      new Promise<void>((r) => (timer = setTimeout(r, options.closeTimeout ?? 3000))),
    ]);
    clearTimeout(timer);
  };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel: close,
  }, { highWaterMark: receiveLimit, size: (chunk) => chunk.byteLength });
  ws.addEventListener("message", (event) => {
    if (ended) return;
    const data = event.data;
    if (!(data instanceof ArrayBuffer)) {
      ended = true;
      controller.error(new Error("received a text frame; BIP324 uses binary"));
      close();
      return;
    }
    controller.enqueue(new Uint8Array(data));
    if ((controller.desiredSize ?? 0) < 0) {
      ended = true;
      controller.error(
        new Error(`reader fell more than ${receiveLimit} bytes behind`),
      );
      close();
    }
  });
  ws.addEventListener("close", () => {
    if (ended) return;
    ended = true;
    try {
      controller.close();
    } catch { /* cancelled */ }
  });
  ws.addEventListener("error", (e) => {
    if (ended) return;
    ended = true;
    try {
      controller.error(new Error(`WebSocket error: ${describe(e)}`));
    } catch { /* cancelled */ }
  });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (ws.readyState !== WebSocket.OPEN) {
        throw new Error("WebSocket is closed");
      }
      ws.send(chunk);
      while (ws.bufferedAmount > sendHighWater && ws.readyState === WebSocket.OPEN) {
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    close,
    abort: close,
  });
  return { readable, writable, close };
}

function describe(event: Event): string {
  return (event as ErrorEvent).message ?? event.type;
}

/**
 * Upgrades a `Deno.serve` request to a WebSocket and returns the response to
 * send plus a promise of the byte pair (for servers that route themselves).
 *
 * @example
 * ```ts ignore
 * import { upgradeToPair } from "./websocket.ts";
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
  const { socket, response } = Deno.upgradeWebSocket(request);
  return { response, pair: webSocketPair(socket, options) };
}

/** Options for {@linkcode serveWebSocket}. */
export interface ServeWebSocketOptions extends WebSocketPairOptions {
  /** Port to serve on (0 picks a free one). */
  port: number;
  /** Address to bind. Default `"127.0.0.1"`. */
  hostname?: string;
  /** Only upgrade requests for this path. Default: any path. */
  path?: string;
  /**
   * Upgraded sockets that may wait to be taken from `incoming`; past this,
   * upgrade requests are refused with 503 before upgrading. Default 128.
   */
  maxWaiting?: number;
}

/**
 * Serves WebSocket upgrades with `Deno.serve` and hands out each upgraded
 * socket as a byte pair. Plain HTTP requests get 426, other paths 404.
 *
 * @example
 * ```ts ignore
 * import { serveWebSocket } from "./websocket.ts";
 * const server = serveWebSocket({ port: 8080 });
 * for await (const { pair } of server.incoming) pair.readable.pipeTo(pair.writable);
 * ```
 */
export function serveWebSocket(options: ServeWebSocketOptions): PairListener {
  const queue: IncomingPair[] = [];
  const waiters: ((c: IteratorResult<IncomingPair>) => void)[] = [];
  const maxWaiting = options.maxWaiting ?? 128;
  let stopped = false;
  const push = (c: IncomingPair) => {
    if (stopped) return c.close();
    const w = waiters.shift();
    if (w) w({ value: c, done: false });
    else queue.push(c);
  };
  const server = Deno.serve({
    port: options.port,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: () => {},
  }, (request, info) => {
    const url = new URL(request.url);
    if (options.path && url.pathname !== options.path) {
      return new Response("not found", { status: 404 });
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("BIP324 over WebSocket: upgrade required", { status: 426 });
    }
    // While nobody takes connections, upgraded sockets wait here; past the cap, refuse
    // before upgrading.
    if (queue.length >= maxWaiting) return new Response("busy", { status: 503 });
    const remote = formatHostPort(info.remoteAddr.hostname, info.remoteAddr.port);
    const { response, pair } = upgradeToPair(request, options);
    pair.then((p) => push({ pair: p, remote, close: () => void p.close() })).catch(() => {});
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
  const addr = server.addr as Deno.NetAddr;
  return {
    addr: { hostname: addr.hostname, port: addr.port },
    incoming,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const w of waiters.splice(0)) w({ value: undefined, done: true });
      for (const c of queue.splice(0)) c.close();
      await server.shutdown();
    },
  };
}
