/**
 * WebSocket transport: binary frames carry raw bytes, with frame boundaries
 * meaning nothing. The client side works wherever the standard `WebSocket`
 * exists (Deno, Node.js ≥ 22, Bun, browsers, edge runtimes); the server
 * side ({@linkcode serveWebSocket}) runs on {@linkcode serveHttp} (Deno,
 * Node.js, Bun), which refuses a frame over `maxFrameBytes` from its header.
 * Byte pairs only: `connectWebSocket` and `listenWebSocket` (in
 * `layers/session/`) run BIP324 sessions over them.
 *
 * @module
 */

import type { BytePair } from "../layers/bytes.ts";
import { unsupported } from "./runtime.ts";
import { isOversizedFrameError } from "./node_http.ts";

// WebSocket.readyState values (the global `WebSocket` may be missing, e.g. Node.js 20).
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;
/** Outgoing chunks are sent as frames of at most this many bytes. */
const MAX_SEND_FRAME = 1 << 20;

/**
 * The error a byte pair's readable fails with when a frame exceeded the
 * server's `maxFrameBytes` (the connection is closed at once; the frame's
 * payload was never read). `code` is `"OVERSIZED"`.
 *
 * @example
 * ```ts
 * import { FrameTooLargeError } from "@bip324/bip324/transports";
 * const error = new FrameTooLargeError(4 << 20);
 * console.assert(error.code === "OVERSIZED" && error.limit === 4 << 20);
 * ```
 */
export class FrameTooLargeError extends Error {
  /** Always `"OVERSIZED"`. */
  readonly code: "OVERSIZED" = "OVERSIZED";
  /** The limit in bytes, when known. */
  readonly limit: number | undefined;
  /** Creates the error for a frame over `limit` bytes. */
  constructor(limit?: number, options?: { cause?: unknown }) {
    super(
      `a WebSocket frame exceeded the ${
        limit === undefined ? "frame size limit" : `${limit}-byte frame limit`
      }; connection closed`,
      options,
    );
    this.name = "FrameTooLargeError";
    this.limit = limit;
  }
}

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
   * Largest WebSocket frame the peer may send, in bytes. Servers
   * ({@linkcode serveWebSocket}, `listenWebSocket`, the relay) enforce it: a
   * larger frame closes the connection before its payload is read, and the
   * pair's readable fails with {@linkcode FrameTooLargeError}. Default 4 MiB
   * there. For a socket you wrap yourself, only that error's message uses it.
   */
  maxFrameBytes?: number;
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
 * Opens a client WebSocket with the runtime's global `WebSocket` (Deno,
 * Node.js ≥ 22, Bun, browsers, Workers). Throws an `Error` naming what is
 * missing where there is none (Node.js 20 without `--experimental-websocket`),
 * and `TypeError` for an invalid URL.
 *
 * @example
 * ```ts ignore
 * import { openWebSocket, webSocketPair } from "@bip324/bip324/transports";
 * const pair = await webSocketPair(openWebSocket("ws://127.0.0.1:8080/"));
 * ```
 */
export function openWebSocket(url: string | URL): WebSocket {
  const Ctor = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (typeof Ctor !== "function") {
    throw unsupported(
      "a WebSocket client",
      "a global WebSocket (Node.js ≥ 22, or Node.js 20 with --experimental-websocket)",
    );
  }
  try {
    return new Ctor(url);
  } catch (cause) {
    throw new TypeError(`invalid WebSocket url: ${url}`, { cause });
  }
}

/**
 * Wraps an open (or opening) WebSocket as a byte pair. The socket is closed
 * when the readable is cancelled or the writable closed or aborted.
 *
 * @example
 * ```ts ignore
 * import { webSocketPair } from "@bip324/bip324/transports";
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
  if (ws.readyState === CONNECTING) {
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
  if (ws.readyState !== OPEN) {
    throw new Error("WebSocket is not open");
  }
  // Sockets that can pause their sender (the `ws` package's) get real backpressure; the
  // standard WebSocket cannot, so the reader may fall at most `receiveLimit` bytes behind.
  const pausable = ws as WebSocket & { pause?: () => void; resume?: () => void };
  const canPause = typeof pausable.pause === "function" && typeof pausable.resume === "function";
  let paused = false;
  // Closing waits for the WebSocket closing handshake (bounded), so a process that exits
  // right after closing a session does not leave the peer with an abrupt EOF.
  const socketClosed = new Promise<void>((resolve) => {
    if (ws.readyState === CLOSED) resolve();
    else ws.addEventListener("close", () => resolve(), { once: true });
  });
  let closing = false;
  const close = async (): Promise<void> => {
    if (!closing) {
      closing = true;
      // A paused socket must read again, or the peer's close reply (queued behind the data
      // we stopped reading) never arrives; what arrives from now on is dropped.
      if (paused) {
        paused = false;
        pausable.resume!();
      }
    }
    if (ws.readyState === OPEN || ws.readyState === CONNECTING) {
      try {
        ws.close(1000);
      } catch { /* already closing */ }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      socketClosed.then(() => false),
      new Promise<boolean>((
        r,
      ) => (timer = setTimeout(() => r(true), options.closeTimeout ?? 3000))),
    ]);
    clearTimeout(timer);
    // No closing handshake in time: drop the connection (where the socket allows it).
    if (timedOut) (ws as WebSocket & { terminate?: () => void }).terminate?.();
  };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull() {
      if (paused) {
        paused = false;
        pausable.resume!();
      }
    },
    cancel: close,
  }, {
    highWaterMark: canPause ? Math.min(receiveLimit, 1 << 20) : receiveLimit,
    size: (chunk) => chunk.byteLength,
  });
  ws.addEventListener("message", (event) => {
    if (ended || closing) return;
    const data = event.data;
    if (!(data instanceof ArrayBuffer)) {
      ended = true;
      controller.error(new Error("received a text frame; BIP324 uses binary"));
      close();
      return;
    }
    controller.enqueue(new Uint8Array(data));
    if (canPause) {
      if (!paused && (controller.desiredSize ?? 0) <= 0) {
        paused = true;
        pausable.pause!();
      }
    } else if ((controller.desiredSize ?? 0) < 0) {
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
    const cause = (e as ErrorEvent).error;
    try {
      controller.error(
        isOversizedFrameError(cause)
          ? new FrameTooLargeError(options.maxFrameBytes, { cause })
          : new Error(`WebSocket error: ${describe(e)}`, { cause }),
      );
    } catch { /* cancelled */ }
    close();
  });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (ws.readyState !== OPEN) {
        throw new Error("WebSocket is closed");
      }
      for (let at = 0; at < chunk.length; at += MAX_SEND_FRAME) {
        ws.send(chunk.length <= MAX_SEND_FRAME ? chunk : chunk.subarray(at, at + MAX_SEND_FRAME));
      }
      while (ws.bufferedAmount > sendHighWater && ws.readyState === OPEN) {
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
