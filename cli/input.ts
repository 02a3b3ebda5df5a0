/**
 * `cat`'s input: stdin as lines, each line `{"type":"<type>","payload":"<hex>"}`.
 *
 * @module
 */

import { checkMessageType, type Message } from "../layers/aliasing/aliasing.ts";
import { fromHex } from "../layers/bytes.ts";

/** Largest payload accepted on stdin (Bitcoin Core's largest protocol message). */
export const MAX_INPUT_PAYLOAD = 4_000_000;

/** Largest stdin line, in characters (a maximal payload in hex plus slack). */
const MAX_LINE_LENGTH = 2 * MAX_INPUT_PAYLOAD + 4096;

/**
 * Parses one stdin line into a message. Returns `undefined` for a blank line;
 * throws `TypeError` or `RangeError` (with a readable reason) for a malformed one.
 *
 * @example
 * ```ts
 * import { parseInputLine } from "@bip324/bip324/cli";
 * console.assert(parseInputLine('{"type":"ping","payload":"0001020304050607"}')?.type === "ping");
 * ```
 */
export function parseInputLine(line: string): Message | undefined {
  if (line.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new TypeError(`not JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError('expected an object {"type":..,"payload":"<hex>"}');
  }
  const { type, payload = "" } = value as { type?: unknown; payload?: unknown };
  checkMessageType(type);
  if (typeof payload !== "string") {
    throw new TypeError(`payload must be a string of hex digits, got ${typeof payload}`);
  }
  if (payload.length > 2 * MAX_INPUT_PAYLOAD) {
    throw new RangeError(`payload must be at most ${MAX_INPUT_PAYLOAD} bytes`);
  }
  const bad = /[^0-9a-fA-F]/.exec(payload);
  if (bad) {
    throw new TypeError(
      `payload must be hex digits (0-9, a-f); found ${JSON.stringify(bad[0])} at ${bad.index}`,
    );
  }
  if (payload.length % 2 !== 0) {
    throw new TypeError(`payload has an odd number (${payload.length}) of hex digits`);
  }
  return { type: type as string, payload: fromHex(payload) };
}

/**
 * Splits a byte stream into lines (without `\n` / `\r\n`); an over-long line
 * yields `null`. Aborting `signal` ends the lines at once. A last line
 * without a newline is yielded too (unless aborted).
 */
export async function* lines(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<string | null> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const stop = () => reader.cancel().catch(() => {});
  if (signal.aborted) stop();
  else signal.addEventListener("abort", stop, { once: true });
  let buffer = "";
  let skipping = false;
  const emit = (line: string) => line.endsWith("\r") ? line.slice(0, -1) : line;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let start = 0;
      for (let nl = value.indexOf("\n"); nl >= 0; nl = value.indexOf("\n", start)) {
        const piece = value.slice(start, nl);
        start = nl + 1;
        if (skipping) {
          skipping = false;
          buffer = "";
          continue;
        }
        const line = buffer + piece;
        buffer = "";
        yield emit(line);
      }
      if (!skipping) {
        buffer += value.slice(start);
        if (buffer.length > MAX_LINE_LENGTH) {
          buffer = "";
          skipping = true;
          yield null;
        }
      }
    }
    if (!skipping && buffer.length > 0 && !signal.aborted) yield emit(buffer);
  } finally {
    signal.removeEventListener("abort", stop);
    reader.cancel().catch(() => {});
  }
}
