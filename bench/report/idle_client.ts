// For rssPerIdleTcpSession: opens COUNT idle sessions to the listener on PORT and prints the RSS
// growth per session as JSON `{ "raw": …, "net": … }`, measured from a warmed-up, settled
// baseline (50 sessions opened and closed first):
// - raw: the whole RSS growth ÷ COUNT. It includes V8 growing its young generation (new
//   space, up to ~54 MB here), which happens in steps, at points that depend on allocation
//   timing, once per process whatever the number of sessions.
// - net: the same minus that young-generation growth (read from node:v8's heap space
//   statistics): what each further session holds (old generation, external, socket).
import v8 from "node:v8";
import { connect, type Session } from "../../mod.ts";

const [port, count] = Deno.args.map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
};
const newSpace = () =>
  v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
const open = async (n: number, into: Session[]) => {
  for (let i = 0; i < n; i++) into.push(await connect({ hostname: "127.0.0.1", port }));
};
const detail = (label: string) => {
  if (!Deno.env.get("DETAIL")) return;
  const m = Deno.memoryUsage();
  console.error(label, "heap", m.heapUsed, "external", m.external, "rss", m.rss, "new", newSpace());
};
const warmUp: Session[] = [];
await open(50, warmUp);
await Promise.all(warmUp.map((s) => s.close()));
await settle();
const rss0 = Deno.memoryUsage().rss, new0 = newSpace();
detail("before");
const held: Session[] = [];
await open(count, held);
await settle();
detail("held");
const grown = Deno.memoryUsage().rss - rss0, youngGrowth = newSpace() - new0;
console.log(JSON.stringify({
  raw: Math.round(grown / count),
  net: Math.round((grown - youngGrowth) / count),
}));
Deno.exit(0);
