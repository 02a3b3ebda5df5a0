// What the report measures, through the root entry point only (so the same script also runs
// against older commits for before/after figures).
import * as bip324 from "../../mod.ts";

export const api = bip324;
export type Session = bip324.Session;
// deno-lint-ignore no-explicit-any
export type AnyOptions = Record<string, any>;

/** `BENCH_STREAM_LAYERS=1`: caller layers as TransformStreams (for commits before compose()). */
export const STREAM_LAYERS = Deno.env.get("BENCH_STREAM_LAYERS") === "1";

/** A pass-through caller layer at the `messages` position. */
export function passThroughLayer(): AnyOptions {
  const layer = STREAM_LAYERS
    ? { inbound: new TransformStream(), outbound: new TransformStream() }
    : { inbound: { transform: (m: unknown, c: TransformStreamDefaultController) => c.enqueue(m) } };
  return { layers: { messages: [layer] } };
}

export async function sessionPair(options: AnyOptions = {}): Promise<[Session, Session]> {
  const [x, y] = api.memoryPair();
  // Options may be a function: then each end gets its own (stream layers cannot be shared).
  const each = () => typeof options === "function" ? options() : options;
  return await Promise.all([
    api.openSession(x, { role: "initiator", garbage: 0, ...each() }),
    api.openSession(y, { role: "responder", garbage: 0, ...each() }),
  ]);
}

/** min / median / max of `n` runs of `fn` (run in order, not in parallel). */
export async function reps(
  n: number,
  fn: () => Promise<number> | number,
): Promise<{ min: number; median: number; max: number }> {
  const values: number[] = [];
  for (let i = 0; i < n; i++) values.push(await fn());
  values.sort((a, b) => a - b);
  return { min: values[0], median: values[Math.floor(values.length / 2)], max: values.at(-1)! };
}

export function perSecond(fn: () => void, minMs = 1000): number {
  for (let i = 0; i < 50; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn();
    n++;
  }
  return n / (performance.now() - t0) * 1000;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export const round = (x: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/**
 * 37-byte messages per second one way from the first session of a connected pair to the second
 * (written without awaiting each write, after a warm-up of a quarter as many); closes the pair
 * and calls its `stop` afterwards.
 */
export async function smallOneWayPerSecond(
  [a, b, stop]: [Session, Session, () => Promise<void>],
  count: number,
): Promise<number> {
  const w = a.writable.getWriter(), r = b.readable.getReader();
  const payload = new Uint8Array(37).fill(7);
  const run = async (n: number) => {
    const t0 = performance.now();
    const reading = (async () => {
      for (let i = 0; i < n; i++) await r.read();
    })();
    for (let i = 0; i < n; i++) w.write({ type: "inv", payload });
    await reading;
    return performance.now() - t0;
  };
  await run(count / 4);
  const ms = await run(count);
  w.releaseLock();
  r.releaseLock();
  await a.close();
  await b.closed;
  await stop();
  return count / ms * 1000;
}
