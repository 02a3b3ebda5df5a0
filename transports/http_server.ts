/**
 * A small HTTP server with WebSocket upgrades that refuses an oversized
 * WebSocket frame from its header, before reading (or allocating) its
 * payload. HTTP is parsed by `node:http` and WebSocket frames by the `ws`
 * package (its `maxPayload` option), in Deno, Node.js and Bun alike; in Deno
 * the port is bound with `Deno.listen` (so `addr` is known at once) and each
 * connection is handed to `node:http`.
 *
 * Why not `Deno.serve` + `Deno.upgradeWebSocket`: Deno's WebSocket accepts
 * frames up to 64 MiB and buffers each one whole before JavaScript sees it
 * (measured by `bench/hostile_ws.ts`), with no option to lower that.
 *
 * Handlers are fetch-style: `(request, context) => Response`, with
 * `context.upgrade()` for WebSocket requests, like `Deno.upgradeWebSocket`.
 *
 * @module
 */

import { type DenoConnLike, denoRuntime, netAddr, nodeBuiltin, unsupported } from "./runtime.ts";
import {
  BodyTooLarge,
  bridge,
  checkDenoEnvPermission,
  type DuplexLike,
  type IncomingMessageLike,
  loadWs,
  type NodeHttpLike,
  type NodeStreamLike,
  readBody,
  type Remote,
  remoteOf,
  type ServerResponseLike,
  toRequest,
  upgradeProblem,
  writeRawResponse,
  type WsServerLike,
} from "./node_http.ts";

export { isOversizedFrameError, upgradeProblem, WS_ENV_VARIABLES } from "./node_http.ts";

/** Default largest WebSocket frame accepted: 4 MiB (a BIP324 packet is at most ~4,000,036 bytes). */
export const DEFAULT_MAX_FRAME_BYTES: number = 4 << 20;

/** The WebSocket objects {@linkcode ServeContext.upgrade} hands out: the standard interface. */
export type ServerWebSocket = WebSocket;

/** What a handler gets besides the request. */
export interface ServeContext {
  /** The client's address. */
  readonly remote: { hostname: string; port: number };
  /**
   * Accepts a WebSocket upgrade request: return `response` from the
   * handler; `socket` resolves once the handshake is written (open), or
   * rejects if the handler returned another response or the client left.
   * Throws `TypeError` for a request that is not a WebSocket upgrade, or one
   * the WebSocket handshake would refuse (see `upgradable`).
   */
  upgrade(): { response: Response; socket: Promise<ServerWebSocket> };
  /**
   * Whether `upgrade()` would accept this request: a WebSocket upgrade
   * (`Connection: Upgrade`, `Upgrade: websocket`) that is a GET with a valid
   * `Sec-WebSocket-Key` and version. Known before the handler runs, so it can
   * refuse an invalid one before doing anything for it.
   */
  readonly upgradable: boolean;
}

/** A fetch-style request handler. */
export type ServeHandler = (
  request: Request,
  context: ServeContext,
) => Response | Promise<Response>;

/** Options for {@linkcode serveHttp}. */
export interface ServeHttpOptions {
  /** Port to serve on (0 picks a free one). */
  port: number;
  /** Address to bind. Default `"127.0.0.1"`. */
  hostname?: string;
  /**
   * Largest WebSocket frame (message) a client may send, in bytes; a larger
   * one is refused from its header, before its payload is read: the
   * connection is closed (1009) and the socket's `error` event carries an
   * error whose `code` is `"OVERSIZED"`. Default
   * {@linkcode DEFAULT_MAX_FRAME_BYTES} (4 MiB).
   */
  maxFrameBytes?: number;
}

/** A running {@linkcode serveHttp} server. */
export interface HttpServer {
  /** The bound address (filled in once `ready` settles where binding is asynchronous). */
  readonly addr: { hostname: string; port: number };
  /** Settles once bound; rejects with the runtime's error if binding fails. */
  readonly ready: Promise<void>;
  /** Stops accepting and closes connections that are not WebSockets; open WebSockets stay. */
  close(): Promise<void>;
}

/**
 * Serves HTTP and WebSocket upgrades with a fetch-style handler (Deno,
 * Node.js ≥ 20.16, Bun). Validates options at once (`RangeError`).
 *
 * @example
 * ```ts ignore
 * import { serveHttp } from "@bip324/bip324/transports";
 * const server = serveHttp({ port: 8080 }, (request, context) => {
 *   if (request.headers.get("upgrade") !== "websocket") return new Response("hello");
 *   const { response, socket } = context.upgrade();
 *   socket.then((ws) => ws.addEventListener("message", (e) => ws.send(e.data)));
 *   return response;
 * });
 * await server.ready;
 * ```
 */
export function serveHttp(options: ServeHttpOptions, handler: ServeHandler): HttpServer {
  const port = options.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer 0..65535, got ${port}`);
  }
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1) {
    throw new RangeError(`maxFrameBytes must be an integer ≥ 1, got ${maxFrameBytes}`);
  }
  const hostname = options.hostname ?? "127.0.0.1";
  const http = nodeBuiltin<NodeHttpLike>("node:http");
  if (typeof http?.createServer !== "function") {
    throw unsupported("an HTTP/WebSocket server", "node:http (Deno 2, Node.js ≥ 20.16, Bun)");
  }
  checkDenoEnvPermission();
  const ws = loadWs();
  ws.catch(() => {});
  const server = http.createServer({ headersTimeout: 20_000, requestTimeout: 60_000 });
  /** Sockets that are not (yet) WebSockets: closed by close(). */
  const plain = new Set<DuplexLike>();
  let wss: WsServerLike | undefined;
  const addr = { hostname, port };
  let closed = false;

  const onRequest = async (req: IncomingMessageLike, res: ServerResponseLike, remote: Remote) => {
    let response: Response;
    try {
      const body = await readBody(req);
      const request = toRequest(req, addr, body);
      response = await handler(request, {
        remote,
        upgrade: () => {
          throw new TypeError("not a WebSocket upgrade request");
        },
        upgradable: false,
      });
    } catch (error) {
      response = error instanceof BodyTooLarge
        ? new Response("request body too large\n", { status: 413 })
        : new Response("internal error\n", { status: 500 });
    }
    const bytes = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
    res.writeHead(response.status, [...response.headers]);
    res.end(bytes);
  };

  const onUpgrade = async (
    req: IncomingMessageLike,
    socket: DuplexLike,
    head: Uint8Array,
    remote: Remote,
  ) => {
    let marker: Response | undefined;
    let resolveSocket!: (ws: ServerWebSocket) => void;
    let rejectSocket!: (error: Error) => void;
    const opened = new Promise<ServerWebSocket>((resolve, reject) => {
      resolveSocket = resolve;
      rejectSocket = reject;
    });
    opened.catch(() => {});
    let response: Response;
    let problem: string | undefined;
    try {
      const request = toRequest(req, addr, undefined);
      problem = upgradeProblem(request);
      response = await handler(request, {
        remote,
        upgradable: problem === undefined,
        upgrade: () => {
          if (problem !== undefined) {
            throw new TypeError(`invalid WebSocket upgrade request: ${problem}`);
          }
          if (marker) throw new TypeError("upgrade() called twice");
          marker = new Response(null, { status: 200, headers: { "x-bip324-upgrade": "1" } });
          return { response: marker, socket: opened };
        },
      });
    } catch {
      // A handler that upgraded an invalid request anyway: what ws would have answered.
      response = problem !== undefined
        ? new Response(`${problem}\n`, { status: 400 })
        : new Response("internal error\n", { status: 500 });
    }
    if (marker === undefined || response !== marker) {
      rejectSocket(new Error(`upgrade refused with status ${response.status}`));
      const text = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
      writeRawResponse(socket, response, text);
      return;
    }
    if (socket.destroyed || closed) {
      rejectSocket(new Error("the client went away before the upgrade"));
      socket.destroy();
      return;
    }
    try {
      wss ??= new (await ws).WebSocketServer({
        noServer: true,
        maxPayload: maxFrameBytes,
        perMessageDeflate: false,
        clientTracking: false,
      });
    } catch (error) {
      rejectSocket(error as Error);
      socket.destroy();
      return;
    }
    plain.delete(socket);
    wss.handleUpgrade(req, socket, head, (websocket) => resolveSocket(websocket));
    // A handshake ws rejects (bad key, version) ends the socket without calling back.
    socket.once("close", () => rejectSocket(new Error("the client went away during the upgrade")));
  };

  server.on("request", (req: IncomingMessageLike, res: ServerResponseLike) => {
    const socket = (req as unknown as { socket: DuplexLike }).socket;
    void onRequest(req, res, remoteOf(socket));
  });
  server.on("upgrade", (req: IncomingMessageLike, socket: DuplexLike, head: Uint8Array) => {
    void onUpgrade(req, socket, head, remoteOf(socket));
  });
  server.on("connection", (socket: DuplexLike) => {
    if (closed) return void socket.destroy();
    plain.add(socket);
    socket.once("close", () => plain.delete(socket));
  });
  server.on("clientError", (_error: Error, socket: DuplexLike) => {
    if (!socket.destroyed) {
      socket.write("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    }
    socket.destroy();
  });

  const deno = denoRuntime();
  let ready: Promise<void>;
  let stopListening: () => void;
  if (deno) {
    // Bind now (addr known at once), then hand each connection to node:http.
    const stream = nodeBuiltin<NodeStreamLike>("node:stream");
    if (typeof stream?.Duplex !== "function") {
      throw unsupported("an HTTP/WebSocket server", "node:stream Duplex");
    }
    const listener = deno.listen({ port, hostname });
    addr.hostname = netAddr(listener.addr).hostname ?? hostname;
    addr.port = netAddr(listener.addr).port ?? port;
    ready = Promise.resolve();
    stopListening = () => {
      try {
        listener.close();
      } catch { /* already closed */ }
    };
    (async () => {
      for (;;) {
        let conn: DenoConnLike;
        try {
          conn = await listener.accept();
        } catch {
          return; // closed
        }
        if (closed) {
          conn.close();
          continue;
        }
        conn.setNoDelay?.(true);
        server.emit("connection", bridge(stream, conn));
      }
    })();
  } else {
    ready = new Promise<void>((resolve, reject) => {
      server.once("listening", () => {
        const bound = server.address();
        if (bound && typeof bound === "object") {
          addr.hostname = bound.address;
          addr.port = bound.port;
        }
        resolve();
      });
      server.once("error", reject);
    });
    ready.catch(() => {});
    server.listen({ port, host: hostname });
    stopListening = () => server.close();
  }

  return {
    addr,
    ready,
    close() {
      if (!closed) {
        closed = true;
        stopListening();
        for (const socket of plain) socket.destroy();
        plain.clear();
      }
      return Promise.resolve();
    },
  };
}
