// For rssPerIdleTcpSession: opens COUNT idle sessions to the listener on PORT and prints the
// RSS growth per session, measured from a warmed-up, settled baseline.
import { connect, type Session } from "../../mod.ts";

const [port, count] = Deno.args.map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
};
const open = async (n: number, into: Session[]) => {
  for (let i = 0; i < n; i++) into.push(await connect({ hostname: "127.0.0.1", port }));
};
const warm: Session[] = [];
await open(50, warm);
await Promise.all(warm.map((s) => s.close()));
await settle();
const before = Deno.memoryUsage().rss;
if (Deno.env.get("DETAIL")) {
  const m = Deno.memoryUsage();
  console.error("before heap", m.heapUsed, "external", m.external, "rss", m.rss);
}
const held: Session[] = [];
await open(count, held);
await settle();
const m = Deno.memoryUsage();
if (Deno.env.get("DETAIL")) console.error("heap", m.heapUsed, "external", m.external, "rss", m.rss);
console.log(Math.round((m.rss - before) / count));
Deno.exit(0);
