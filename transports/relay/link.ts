/**
 * The relay's plumbing: option checks, bounded waits, and forwarding one
 * direction of a relayed connection (counting bytes, never looking at them).
 *
 * @module
 */

import type { RelayCloseReason } from "./metrics.ts";

/** A positive integer option, or its default (`RangeError` otherwise). */
export function checkCount(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${name} must be an integer ≥ 1, got ${n}`);
  }
  return n;
}

/** A positive number of milliseconds, or its default (`RangeError` otherwise). */
export function checkMs(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!(typeof n === "number" && n > 0 && Number.isFinite(n))) {
    throw new RangeError(`${name} must be a number of milliseconds > 0, got ${n}`);
  }
  return n;
}

/** Rejects with `Error(message)` after `ms`, unless `promise` settles first. */
export function deadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** An error as one short line (never payload bytes). */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** A machine-readable code for a relay error event (see `RelayEvent`). */
export function errorCode(error: unknown, reason: string): string {
  if (reason === "connect_failed") return "CONNECT_FAILED";
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code) ? code : "TRANSPORT";
}

/** How {@linkcode forward} reports. */
export interface ForwardHooks {
  /** Client → node (`true`) or node → client. */
  up: boolean;
  /** Whether the client went away (as opposed to a local failure). */
  clientGone(): boolean;
  /** Bytes forwarded (a chunk's length, never its contents). */
  onBytes(up: boolean, n: number): void;
  /** Ends the link (first reason wins). */
  teardown(reason: RelayCloseReason, error?: unknown): void;
}

/** Copies `from` into `into` until either ends, then tears the link down with the right reason. */
export async function forward(
  from: ReadableStream<Uint8Array>,
  into: WritableStream<Uint8Array>,
  hooks: ForwardHooks,
): Promise<void> {
  const { up, teardown } = hooks;
  const reader = from.getReader();
  const writer = into.getWriter();
  const fromGone = (): RelayCloseReason =>
    up ? (hooks.clientGone() ? "client_closed" : "error") : "node_closed";
  const intoGone = (): RelayCloseReason =>
    up ? "node_closed" : (hooks.clientGone() ? "client_closed" : "error");
  // A failed client side (gone, a text frame, too many bytes queued, a frame over the limit)
  // ends the link at once, even while a write to a slow node is pending.
  if (up) reader.closed.catch((error) => teardown(fromGone(), error));
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        return teardown(fromGone(), error);
      }
      if (next.done) return teardown(up ? "client_closed" : "node_closed");
      hooks.onBytes(up, next.value.byteLength);
      try {
        await writer.write(next.value);
      } catch (error) {
        return teardown(intoGone(), error);
      }
    }
  } catch (error) {
    teardown("error", error);
  }
}
