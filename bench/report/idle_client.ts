// For rssPerIdleTcpSession: opens COUNT idle sessions to the listener on PORT, twice, and prints
// the RSS growth per session as JSON `{ "cold": …, "warm": … }`:
// - cold: the first COUNT sessions of a fresh process (after 50 opened and closed). This
//   includes V8 growing its young generation to its working size (here ~50 MB, reached once
//   per process whatever the number of sessions, kept committed afterwards).
// - warm: COUNT more on top of those (2 × COUNT held at the end): what each further session
//   costs once the young generation has its working size (the figure that scales with
//   connections).
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
const detail = (label: string) => {
  if (!Deno.env.get("DETAIL")) return;
  const m = Deno.memoryUsage();
  console.error(label, "heap", m.heapUsed, "external", m.external, "rss", m.rss);
};
/** RSS growth per session while `count` more sessions are held. */
const growth = async (held: Session[]): Promise<number> => {
  await settle();
  const before = Deno.memoryUsage().rss;
  detail("before");
  await open(count, held);
  await settle();
  detail("held");
  return Math.round((Deno.memoryUsage().rss - before) / count);
};
const warmUp: Session[] = [];
await open(50, warmUp);
await Promise.all(warmUp.map((s) => s.close()));
const held: Session[] = [];
const cold = await growth(held);
const warm = await growth(held);
console.log(JSON.stringify({ cold, warm }));
Deno.exit(0);
