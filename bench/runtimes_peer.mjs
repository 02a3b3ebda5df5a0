// One runtime's figures for bench/runtimes.ts, from the npm build: session throughput over an
// in-memory pair, small (37 B) and 1 MiB messages, like bench:report. Prints one JSON line.
import { memoryPair, openSession } from "@bip324/bip324";

const SMALL = 37;
const MIB = 1 << 20;

async function throughput(size, count) {
  const [x, y] = memoryPair();
  const [a, b] = await Promise.all([
    openSession(x, { role: "initiator", garbage: 0, network: "regtest" }),
    openSession(y, { role: "responder", garbage: 0, network: "regtest" }),
  ]);
  const w = a.writable.getWriter(), r = b.readable.getReader();
  const payload = new Uint8Array(size).fill(7);
  const run = async (n) => {
    const t0 = performance.now();
    const reading = (async () => {
      for (let i = 0; i < n; i++) await r.read();
    })();
    for (let i = 0; i < n; i++) w.write({ type: "inv", payload });
    await reading;
    return performance.now() - t0;
  };
  await run(count); // warm-up
  const ms = await run(count);
  await a.close();
  await b.closed;
  return (count / ms) * 1000;
}

const small = await throughput(SMALL, 100_000);
const bulk = await throughput(MIB, 200);
console.log(JSON.stringify({
  small_msgs_per_s: Math.round(small),
  bulk_mb_per_s: Math.round((bulk * MIB) / 1e6),
}));
