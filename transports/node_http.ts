/**
 * The pieces {@linkcode serveHttp} needs from `node:http`, `node:stream` and
 * the `ws` package: their shapes, loading `ws` on first use, turning a
 * `node:http` request into a fetch `Request` and writing a raw response on a
 * socket that was not upgraded. Internal to `http_server.ts`.
 *
 * @module
 */

import { type DenoConnLike, netAddr, unsupported } from "./runtime.ts";
import type { ServerWebSocket } from "./http_server.ts";

/** Largest request body read for plain HTTP requests (a bigger one gets 413). */
export const MAX_BODY_BYTES = 1 << 20;

// The slices of node:http, node:stream and ws used here.
export interface IncomingMessageLike {
  method?: string;
  url?: string;
  rawHeaders: string[];
  on(event: string, listener: (...args: never[]) => void): unknown;
  destroy(): unknown;
}
export interface ServerResponseLike {
  writeHead(status: number, headers: [string, string][]): unknown;
  end(body?: Uint8Array): unknown;
}
export interface DuplexLike {
  remoteAddress?: string;
  remotePort?: number;
  destroyed?: boolean;
  write(data: Uint8Array | string): boolean;
  end(): unknown;
  destroy(): unknown;
  once(event: string, listener: () => void): unknown;
}
export interface NodeHttpLike {
  createServer(options: object): NodeHttpServer;
}
export interface NodeHttpServer {
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  emit(event: string, ...args: unknown[]): boolean;
  listen(options: { port: number; host: string }): unknown;
  address(): { address: string; port: number } | string | null;
  close(): unknown;
  closeAllConnections?(): void;
}
export interface NodeStreamLike {
  Duplex: new (options: object) => BridgedDuplex;
}
/** What the bridge itself calls on its Duplex. */
interface BridgedDuplex extends DuplexLike {
  push(chunk: Uint8Array | null): boolean;
  destroy(error?: unknown): unknown;
}
export interface WsServerLike {
  handleUpgrade(
    req: IncomingMessageLike,
    socket: DuplexLike,
    head: Uint8Array,
    callback: (ws: ServerWebSocket) => void,
  ): void;
}
export interface WsModule {
  WebSocketServer: new (options: object) => WsServerLike;
}

let wsModule: Promise<WsModule> | undefined;
/** Loads `ws` on first use only (browsers never reach this). */
export function loadWs(): Promise<WsModule> {
  wsModule ??= import("ws").then((m) => {
    const mod = ((m as { WebSocketServer?: unknown }).WebSocketServer ? m : m.default) as WsModule;
    if (typeof mod?.WebSocketServer !== "function") {
      throw unsupported("a WebSocket server", "the ws package (npm:ws)");
    }
    return mod;
  });
  return wsModule;
}

/** Environment variables the `ws` package reads when it loads. */
export const WS_ENV_VARIABLES: readonly string[] = ["WS_NO_BUFFER_UTIL", "WS_NO_UTF_8_VALIDATE"];

/** In Deno, `ws` needs to read two environment variables: say so up front, not per connection. */
export function checkDenoEnvPermission(): void {
  const deno = (globalThis as {
    Deno?: {
      permissions?: { querySync?(d: { name: "env"; variable: string }): { state: string } };
    };
  }).Deno;
  const query = deno?.permissions?.querySync;
  if (typeof query !== "function") return;
  for (const variable of WS_ENV_VARIABLES) {
    if (query.call(deno!.permissions, { name: "env", variable }).state !== "granted") {
      throw new Error(
        `the WebSocket server (the ws package) reads ${variable}: run Deno with ` +
          `--allow-env=${WS_ENV_VARIABLES.join(",")} (or --allow-env)`,
      );
    }
  }
}

/** Marks an error raised for a frame over `maxFrameBytes`. */
export function isOversizedFrameError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "OVERSIZED" || code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";
}

/**
 * Why `ws` would refuse this upgrade request (its own checks, RFC 6455 §4.2.1: a GET with a
 * well-formed `Sec-WebSocket-Key` and version 13 or 8), or `undefined` if it would not.
 */
export function upgradeProblem(request: Request): string | undefined {
  if (request.method !== "GET") return `a WebSocket upgrade must be a GET, not ${request.method}`;
  if (!/^[+/0-9A-Za-z]{22}==$/.test(request.headers.get("sec-websocket-key") ?? "")) {
    return "missing or invalid Sec-WebSocket-Key";
  }
  const version = request.headers.get("sec-websocket-version")?.trim();
  if (version !== "13" && version !== "8") return "unsupported Sec-WebSocket-Version";
  return undefined;
}

/** Where a connection comes from. */
export type Remote = { hostname: string; port: number };

export function remoteOf(socket: DuplexLike): Remote {
  let hostname = socket.remoteAddress ?? "";
  if (hostname.startsWith("::ffff:") && hostname.includes(".")) hostname = hostname.slice(7);
  return { hostname, port: socket.remotePort ?? 0 };
}

/** Bytes a bridged connection reads at a time while idle, and in a burst (read filled it). */
const BRIDGE_READ_IDLE = 1024;
const BRIDGE_READ_BURST = 16 * 1024;

/**
 * A Deno connection as the Duplex node:http expects, with the socket methods
 * it calls. It reads and writes the connection directly (no Web Streams in
 * between: `Duplex.fromWeb` cost a WebSocket round trip about 25 µs here),
 * into a 1 KiB buffer, or a 16 KiB one while reads fill it; each chunk handed
 * on is a copy of its own. Like a `net.Socket` of a server that does not
 * allow half-open connections, the peer's end ends our side too once what
 * was written is out.
 */
export function bridge(stream: NodeStreamLike, conn: DenoConnLike): DuplexLike {
  let idle: Uint8Array | undefined, burst: Uint8Array | undefined;
  let inBurst = false;
  let reading = false;
  const pump = (): void => {
    const buffer = inBurst
      ? (burst ??= new Uint8Array(BRIDGE_READ_BURST))
      : (idle ??= new Uint8Array(BRIDGE_READ_IDLE));
    conn.read(buffer).then((n) => {
      if (n === null) {
        reading = false;
        idle = burst = undefined;
        duplex.push(null);
        return;
      }
      const chunk = buffer.slice(0, n);
      if (n === buffer.length) inBurst = true;
      else if (inBurst) {
        inBurst = false;
        burst = undefined; // the burst is over: an idle connection holds only the small one
      }
      if (duplex.push(chunk)) pump();
      else reading = false;
    }, (error) => {
      reading = false;
      duplex.destroy(error);
    });
  };
  const duplex: BridgedDuplex = new stream.Duplex({
    allowHalfOpen: false,
    read() {
      if (reading || duplex.destroyed) return;
      reading = true;
      pump();
    },
    write(chunk: Uint8Array, _encoding: string, done: (error?: Error | null) => void) {
      writeAll(conn, chunk).then(() => done(), done);
    },
    writev(chunks: { chunk: Uint8Array }[], done: (error?: Error | null) => void) {
      let size = 0;
      for (const c of chunks) size += c.chunk.length;
      const all = new Uint8Array(size);
      size = 0;
      for (const c of chunks) {
        all.set(c.chunk, size);
        size += c.chunk.length;
      }
      writeAll(conn, all).then(() => done(), done);
    },
    final(done: () => void) {
      // Our side ends (FIN); without closeWrite the connection closes when destroyed.
      (conn.closeWrite?.() ?? Promise.resolve()).then(done, done);
    },
    destroy(error: Error | null, done: (error: Error | null) => void) {
      idle = burst = undefined;
      try {
        conn.close();
      } catch { /* already closed */ }
      done(error);
    },
  });
  const remote = netAddr(conn.remoteAddr);
  Object.assign(duplex, {
    remoteAddress: remote.hostname,
    remotePort: remote.port,
    setNoDelay: () => duplex,
    setKeepAlive: () => duplex,
    setTimeout: () => duplex,
  });
  // Errors (resets) end the connection; node:http and ws see them as close.
  (duplex as unknown as { on(e: string, l: () => void): void }).on("error", () => {});
  return duplex;
}

/** Writes all of `bytes` (a Deno write may take only some of them). */
async function writeAll(conn: DenoConnLike, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(at === 0 ? bytes : bytes.subarray(at));
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  426: "Upgrade Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

export class BodyTooLarge extends Error {}

export function readBody(req: IncomingMessageLike): Promise<Uint8Array | undefined> {
  const method = req.method ?? "GET";
  if (method === "GET" || method === "HEAD") return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Uint8Array) => {
      if (tooLarge) return; // dropped: node:http discards the rest once the 413 is sent
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        parts.length = 0;
        reject(new BodyTooLarge());
        return;
      }
      parts.push(chunk);
    });
    req.on("end", () => {
      if (tooLarge) return;
      const body = new Uint8Array(size);
      let offset = 0;
      for (const p of parts) {
        body.set(p, offset);
        offset += p.length;
      }
      resolve(body);
    });
    req.on("error", reject);
  });
}

export function toRequest(
  req: IncomingMessageLike,
  addr: { hostname: string; port: number },
  body: Uint8Array | undefined,
): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    } catch { /* an invalid header is dropped */ }
  }
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const url = new URL(req.url ?? "/", `http://${host}:${addr.port}`);
  return new Request(url, {
    method: req.method ?? "GET",
    headers,
    ...(body !== undefined ? { body: body as BodyInit } : {}),
  });
}

export function writeRawResponse(socket: DuplexLike, response: Response, body: Uint8Array): void {
  if (socket.destroyed) return;
  const reason = response.statusText || STATUS_TEXT[response.status] || "Error";
  const lines = [`HTTP/1.1 ${response.status} ${reason}`];
  for (const [name, value] of response.headers) {
    if (name !== "content-length" && name !== "connection") lines.push(`${name}: ${value}`);
  }
  lines.push(`content-length: ${body.length}`, "connection: close", "", "");
  socket.write(lines.join("\r\n"));
  if (body.length > 0) socket.write(body);
  socket.end();
}
