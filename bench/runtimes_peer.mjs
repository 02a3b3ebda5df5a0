// One runtime's figures for bench/runtimes.ts, from the npm build: session throughput over an
// in-memory pair, small (37 B) and 1 MiB messages, like bench:report (the median of 3 session
// pairs, each measured after a warm-up run), and what the runtime's own streams cost a small
// message without the library. Prints one JSON line.
// BIP324_BACKEND=pure|native|auto picks the AEAD backend (default auto).
import { memoryPair, openSession } from "@bip324/bip324";

const SMALL = 37;
const aeadBackend = globalThis.process?.env?.BIP324_BACKEND || "auto";
const MIB = 1 << 20;

/**
 * Messages per second one way, after a warm-up run. `viaSend`: each written with
 * `await session.send()` instead of a writer (no WritableStream).
 */
async function throughput(size, count, viaSend = false) {
  const [x, y] = memoryPair();
  const [a, b] = await Promise.all([
    openSession(x, { role: "initiator", garbage: 0, network: "regtest", aeadBackend }),
    openSession(y, { role: "responder", garbage: 0, network: "regtest", aeadBackend }),
  ]);
  const w = viaSend ? undefined : a.writable.getWriter(), r = b.readable.getReader();
  const payload = new Uint8Array(size).fill(7);
  const run = async (n) => {
    const t0 = performance.now();
    const reading = (async () => {
      for (let i = 0; i < n; i++) await r.read();
    })();
    // Writes honour backpressure (as applications do): an unbounded queue of pending writes
    // would measure the runtime's stream queue (Node's is O(n) per dequeue), not BIP324.
    for (let i = 0; i < n; i++) {
      if (w === undefined) {
        await a.send("inv", payload);
        continue;
      }
      if (w.desiredSize <= 0) await w.ready;
      w.write({ type: "inv", payload });
    }
    await reading;
    return performance.now() - t0;
  };
  await run(count); // warm-up
  const ms = await run(count);
  await a.close();
  await b.closed;
  return (count / ms) * 1000;
}

/**
 * What the runtime's own streams cost a small message, without this library: ns for one write
 * honouring backpressure (high-water mark 1, a sink that does nothing) plus one read from a
 * `ReadableStream` refilled 650 messages at a time (what a 64 KiB chunk of 37-byte messages
 * decodes to), after a warm-up run. The small-message figure pays this on top of the library.
 */
async function streamFloor() {
  const n = 1_000_000;
  const w = new WritableStream({ write() {} }, { highWaterMark: 1 }).getWriter();
  const r = new ReadableStream({
    pull(c) {
      for (let i = 0; i < 650; i++) c.enqueue({ type: "inv" });
    },
  }, { highWaterMark: 1 }).getReader();
  const run = async (count) => {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      if (w.desiredSize <= 0) await w.ready;
      w.write(i);
    }
    await w.ready;
    for (let i = 0; i < count; i++) await r.read();
    return ((performance.now() - t0) / count) * 1e6;
  };
  await run(n / 10);
  return await run(n);
}

/** Median of `REPS` figures, each from a fresh session pair after its warm-up (as bench:report). */
const REPS = 3;
async function median(measure) {
  const figures = [];
  for (let i = 0; i < REPS; i++) figures.push(await measure());
  return figures.sort((x, y) => x - y)[REPS >> 1];
}

const small = await median(() => throughput(SMALL, 100_000));
const send = await median(() => throughput(SMALL, 100_000, true));
const bulk = await median(() => throughput(MIB, 200));
const floor = await median(streamFloor);
console.log(JSON.stringify({
  small_msgs_per_s: Math.round(small),
  stream_floor_ns: Math.round(floor),
  send_small_msgs_per_s: Math.round(send),
  bulk_mb_per_s: Math.round((bulk * MIB) / 1e6),
}));
