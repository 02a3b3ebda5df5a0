/**
 * What the WebSocket transport does to a socket beyond the standard API:
 * waiting one macrotask cheaply (to let its writes progress), dropping a
 * connection whose closing handshake never finishes, and the error for an
 * oversized frame ({@linkcode FrameTooLargeError}, public through
 * `websocket.ts`). The rest is internal to `websocket.ts`.
 *
 * @module
 */

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

/**
 * Resolves after one macrotask, so that the socket's writes progress: `setImmediate` (Deno,
 * Node.js, Bun) or a `MessageChannel` message (browsers, Workers), 10–15 µs here, where a
 * timer takes 2–3 ms in Deno (that made 1 MiB messages over a WebSocket wait ~3 ms each).
 */
export const nextTask: () => Promise<void> = (() => {
  const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
  if (typeof immediate === "function") return () => new Promise((r) => void immediate(r));
  if (typeof MessageChannel !== "function") return () => new Promise((r) => setTimeout(r, 0));
  let channel: MessageChannel | undefined;
  const waiting: (() => void)[] = [];
  return () =>
    new Promise<void>((resolve) => {
      if (channel === undefined) {
        channel = new MessageChannel();
        channel.port1.onmessage = () => waiting.shift()?.();
      }
      waiting.push(resolve);
      channel.port2.postMessage(0);
    });
})();

/**
 * Drops a connection whose closing handshake did not finish: `terminate()` where the socket
 * has it (the `ws` package, Bun). Deno's WebSocket has none, and stays CLOSING (keeping the
 * process alive) while a frozen peer never answers: there its resource is closed, where the
 * runtime exposes that. Elsewhere (browsers) the runtime's own timeouts apply.
 */
export function forceClose(ws: WebSocket): void {
  try {
    const terminate = (ws as WebSocket & { terminate?: () => void }).terminate;
    if (typeof terminate === "function") return terminate.call(ws);
    const deno = (globalThis as { Deno?: Record<string | symbol, unknown> }).Deno;
    const internal = typeof deno?.internal === "symbol" ? deno[deno.internal] : undefined;
    const tryClose = (internal as { core?: { tryClose?: unknown } } | undefined)?.core?.tryClose;
    const ridKey = Object.getOwnPropertySymbols(ws).find((s) => s.description === "[[rid]]");
    const rid = ridKey && (ws as unknown as Record<symbol, unknown>)[ridKey];
    if (typeof tryClose === "function" && typeof rid === "number") tryClose(rid);
  } catch { /* best effort */ }
}

/**
 * Drops a connection once what it was writing (a close frame, say) has left: the socket of
 * the `ws` package says how much waits (`writableLength`); elsewhere after one macrotask.
 * At most 100 macrotasks.
 */
export async function dropOnceSent(ws: WebSocket): Promise<void> {
  const socket = (ws as WebSocket & { _socket?: { writableLength?: number } })._socket;
  await nextTask();
  for (let looks = 0; looks < 100 && (socket?.writableLength ?? 0) > 0; looks++) await nextTask();
  forceClose(ws);
}

/** What an error event says (its message, else its type). */
export function describe(event: Event): string {
  return (event as ErrorEvent).message ?? event.type;
}
