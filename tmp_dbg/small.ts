import { memoryPair, openSession } from "../mod.ts";
const [x, y] = memoryPair();
const [a, b] = await Promise.all([
  openSession(x, { role: "initiator", garbage: 0 }),
  openSession(y, { role: "responder", garbage: 0 }),
]);
const w = a.writable.getWriter(), r = b.readable.getReader();
const payload = new Uint8Array(37).fill(7);
async function run(n: number) {
  const t0 = performance.now();
  const reading = (async () => {
    for (let i = 0; i < n; i++) await r.read();
  })();
  for (let i = 0; i < n; i++) w.write({ type: "inv", payload });
  await reading;
  return n / (performance.now() - t0) * 1000;
}
for (let i = 0; i < 5; i++) console.log(Math.round(await run(100000)));
Deno.exit(0);
