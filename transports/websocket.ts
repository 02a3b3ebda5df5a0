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
import {
  describe,
  dropOnceSent,
  forceClose,
  FrameTooLargeError,
  nextTask,
} from "./websocket_socket.ts";

export { FrameTooLargeError };

// WebSocket.readyState values (the global `WebSocket` may be missing, e.g. Node.js 20).
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;
/** The close code of an aborted writable (4000–4999 are the application's; browsers allow them). */
const ABORT_CODE = 4000;
/** Close codes that end the stream cleanly: normal closure, going away, no status sent. */
const CLEAN_CLOSE_CODES: readonly number[] = [1000, 1001, 1005];
/**
 * Bytes the readable's own queue takes ahead of reads (so that a chunk goes straight to the
 * stream while the reader keeps up); the rest waits in ours. Both count against the limits.
 */
const STREAM_QUEUE = 64 * 1024;
/** Outgoing chunks are sent as frames of at most this many bytes. */
const MAX_SEND_FRAME = 1 << 20;
/** A write over `sendHighWater` looks again after this many macrotasks before using timers. */
const QUICK_LOOKS = 100;

/** Options for {@linkcode webSocketPair}. */
export interface WebSocketPairOptions {
  /** Writes wait while more than this many bytes are queued in the socket. Default 1 MiB. */
  sendHighWater?: number;
  /**
   * Received bytes the reader may fall behind by before the connection is
   * failed (WebSocket cannot pause the sender). Default 16 MiB.
   */
  receiveLimit?: number;
  /**
   * Milliseconds closing waits for the WebSocket closing handshake before the
   * connection is dropped; also the longest a write after the peer's close
   * waits for the reader to see the end before it is refused. Default 3,000.
   */
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
 * when the readable is cancelled or the writable closed or aborted. Closing
 * the writable resolves once what was written has left and the close frame
 * follows it; `closed` resolves when the closing handshake is done (or the
 * socket was dropped after `closeTimeout`), and `close()` does both.
 *
 * The peer's close frame (code 1000, 1001 or 1005) ends the readable, after
 * every byte that came before it; a write once it has arrived is refused
 * only after the reader has seen that end, so a session still sending ends
 * as closed by the peer. A connection lost without a close frame (1006), a
 * close with another code, a text frame or a socket error fail the readable,
 * again after the bytes already received.
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
): Promise<BytePair & { close(): Promise<void>; closed: Promise<void> }> {
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
  /** Queued bytes at which a pausable socket is paused (unused where it cannot pause). */
  const pauseAt = canPause ? Math.min(receiveLimit, 1 << 20) : receiveLimit;
  const closeTimeout = options.closeTimeout ?? 3000;
  /** The readable's own queue (within the limits: see `behind`). */
  const streamQueue = Math.min(STREAM_QUEUE, pauseAt);
  let paused = false;
  const resume = () => {
    if (paused) {
      paused = false;
      pausable.resume!();
    }
  };
  // Closing waits for the WebSocket closing handshake (bounded), so a process that exits
  // right after closing a session does not leave the peer with an abrupt EOF.
  const socketClosed = new Promise<void>((resolve) => {
    if (ws.readyState === CLOSED) resolve();
    else ws.addEventListener("close", () => resolve(), { once: true });
  });
  /** We started closing (close(), a cancel, or a local failure); what arrives now is dropped. */
  let closing = false;
  const close = async (code = 1000): Promise<void> => {
    if (!closing) {
      closing = true;
      // A paused socket must read again, or the peer's close reply (queued behind the data
      // we stopped reading) never arrives.
      resume();
    }
    if (ws.readyState === OPEN || ws.readyState === CONNECTING) {
      try {
        ws.close(code, code === ABORT_CODE ? "aborted" : undefined);
      } catch { /* already closing */ }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      socketClosed.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), closeTimeout))),
    ]);
    clearTimeout(timer);
    // No closing handshake in time (a frozen peer): drop the connection.
    if (timedOut) forceClose(ws);
  };

  /**
   * Resolves once at most `limit` bytes wait in the socket, it is no longer open, or `until`
   * passed. No event says the socket's queue went down: it looks again after each macrotask
   * for a while (a large message is usually out within a millisecond), then every few ms.
   */
  const buffered = async (limit: number, until = Infinity): Promise<void> => {
    for (
      let looks = 0;
      ws.bufferedAmount > limit && ws.readyState === OPEN && performance.now() < until;
      looks++
    ) {
      await (looks < QUICK_LOOKS ? nextTask() : new Promise((r) => setTimeout(r, 2)));
    }
  };

  // What arrives waits in our own queue, handed to the readable one chunk per read: so what
  // ends it (a clean end, or an error) always comes after the bytes that arrived before it,
  // and we know when the reader has seen the end.
  const queue: Uint8Array[] = [];
  let queued = 0;
  /** What comes after the queued bytes, once known. */
  let end: { error?: unknown } | undefined;
  /** A read waits with nothing queued. */
  let reading = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let endReached!: () => void;
  /** Resolves once the end was handed to the readable. */
  const endDelivered = new Promise<void>((r) => (endReached = r));
  const finish = () => {
    reading = false;
    try {
      if (end!.error === undefined) controller.close();
      else controller.error(end!.error);
    } catch { /* cancelled */ }
    endReached();
  };
  /**
   * Ends the readable after what is queued. A clean end waits for a read (so that
   * `endDelivered` means the reader saw it); an error with nothing queued is at once.
   */
  const endWith = (error?: unknown) => {
    if (end) return;
    end = { error };
    if (queue.length === 0 && drained() && (reading || error !== undefined)) finish();
  };
  /** Bytes the reader is behind: in our queue and in the stream's. */
  const behind = () => queued + streamQueue - (controller.desiredSize ?? streamQueue);
  /** Nothing waits in the stream's own queue (an error would drop it; the end comes after). */
  const drained = () => controller.desiredSize === streamQueue;
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull() {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        queued -= chunk.byteLength;
        controller.enqueue(chunk);
        if (behind() < pauseAt) resume();
      } else if (end && drained()) finish();
      else reading = true;
    },
    cancel() {
      queue.length = queued = 0;
      end ??= {};
      reading = false;
      endReached();
      return close();
    },
  }, { highWaterMark: streamQueue, size: (chunk) => chunk.byteLength });
  ws.addEventListener("message", (event) => {
    if (end || closing) return;
    const data = event.data;
    if (!(data instanceof ArrayBuffer)) {
      endWith(new Error("received a text frame; BIP324 uses binary"));
      close();
      return;
    }
    const chunk = new Uint8Array(data);
    if (reading) {
      reading = false;
      controller.enqueue(chunk);
      return;
    }
    queue.push(chunk);
    queued += chunk.byteLength;
    if (canPause) {
      if (!paused && behind() >= pauseAt) {
        paused = true;
        pausable.pause!();
      }
    } else if (behind() > receiveLimit) {
      queue.length = queued = 0; // our own limit: the backlog is dropped
      endWith(new Error(`reader fell more than ${receiveLimit} bytes behind`));
      close();
    }
  });
  ws.addEventListener("close", (event) => {
    const { code, wasClean } = event as CloseEvent;
    // The peer's close frame ends the stream cleanly; a connection lost without one (1006)
    // or a close for a failure (1002, 1009, 1011, ...) is an error.
    if (closing || (wasClean !== false && CLEAN_CLOSE_CODES.includes(code))) endWith();
    else endWith(new Error(`WebSocket closed abnormally (code ${code})`));
  });
  ws.addEventListener("error", (e) => {
    if (end) return;
    const cause = (e as ErrorEvent).error;
    if (isOversizedFrameError(cause)) {
      endWith(new FrameTooLargeError(options.maxFrameBytes, { cause }));
      // Dropped as soon as the close frame (1009) is out: a closing handshake would go on
      // reading (and dropping) the frame's payload, as fast as the peer sends it, for up to
      // closeTimeout.
      closing = true;
      void dropOnceSent(ws);
      return;
    }
    endWith(new Error(`WebSocket error: ${describe(e)}`, { cause }));
    close();
  });
  /**
   * A write once the peer has closed (its close frame arrived; the socket is CLOSING or
   * CLOSED): the readable ends, and the write is refused only once the reader has seen that
   * end (or the writable is aborted, or closeTimeout passed), so that a session reading it
   * has ended cleanly, closed by the peer, by then.
   */
  const refuseAfterEnd = (signal: AbortSignal | undefined): Promise<void> => {
    endWith();
    return new Promise((_, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const refuse = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", refuse);
        reject(new Error("WebSocket closed by the peer"));
      };
      timer = setTimeout(refuse, closeTimeout);
      signal?.addEventListener("abort", refuse, { once: true });
      // A macrotask after the end was read: the reader's continuation has run.
      endDelivered.then(() => {
        clearTimeout(timer);
        timer = setTimeout(refuse, 0);
      });
    });
  };
  let writeSignal: AbortSignal | undefined;
  const writable = new WritableStream<Uint8Array>({
    start(c) {
      writeSignal = c.signal;
      // writer.abort() signals at once, even while a write waits for room (its sink's abort
      // comes only after that write).
      writeSignal?.addEventListener("abort", () => void close(ABORT_CODE), { once: true });
    },
    async write(chunk) {
      if (ws.readyState !== OPEN) {
        if (closing || end?.error !== undefined) throw new Error("WebSocket is closed");
        return refuseAfterEnd(writeSignal);
      }
      for (let at = 0; at < chunk.length; at += MAX_SEND_FRAME) {
        ws.send(chunk.length <= MAX_SEND_FRAME ? chunk : chunk.subarray(at, at + MAX_SEND_FRAME));
      }
      await buffered(sendHighWater);
    },
    // Our side is done once what we wrote has left for the peer and the close frame follows
    // it; the peer's reply (the closing handshake) is waited for behind that, at most
    // closeTimeout, as a TCP close lingers. So a session's close() reports what it sent, not
    // how long the peer takes to answer (a Deno WebSocket's handshake takes ~45 ms here).
    async close() {
      await buffered(0, performance.now() + closeTimeout);
      void close();
    },
    // What was queued is dropped: the peer is told so (its reader fails instead of ending).
    abort: () => close(ABORT_CODE),
  });
  return { readable, writable, close, closed: socketClosed };
}
