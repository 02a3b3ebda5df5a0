// Formatting: the soak's report as text, and the hostile figures as a table.
import type { Bound } from "./budgets.ts";
import type { ErrorTables } from "./load.ts";
import type { MemoryFigures } from "./memory.ts";
import type { SoakReport } from "./run.ts";
import { mib } from "./util.ts";

/** One figure of `deno task soak --hostile`, with its bound and verdict. */
export interface Figure {
  key: string;
  /** The figure, in its unit (MiB, bytes, ms, a count, or a boolean). */
  value: number | boolean;
  /** For numbers: the figure must be ≤ the bound. For booleans: must be true. */
  bound?: Bound;
  verdict: "PASS" | "FAIL";
  /** What was measured, and anything worth knowing about it. */
  detail: string;
}

/** The figure's verdict against its bound. */
export function judge(
  key: string,
  value: number | boolean,
  bound: Bound | undefined,
  detail: string,
): Figure {
  const ok = typeof value === "boolean" ? value : bound !== undefined && value <= bound.value;
  return { key, value, bound, verdict: ok ? "PASS" : "FAIL", detail };
}

const table = (t: Record<string, number>) =>
  Object.entries(t).sort().map(([k, v]) => `${k} ${v}`).join(", ") || "none";

const mem = (f: MemoryFigures) =>
  `rss ${mib(f.rss)}, heap ${mib(f.heapUsed)}, external ${mib(f.external)}`;

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const errorLines = (phase: string, e: ErrorTables) => [
  `  errors (${phase}, listener): ${table(e.listener)}`,
  `  errors (${phase}, server sessions): ${table(e.server)}`,
  `  errors (${phase}, clients): ${table(e.client)}`,
];

/** Human-readable figures of a soak run. */
export function formatReport(r: SoakReport): string {
  const l = r.load, h = r.hostile, m = r.memory, c = r.config;
  const gcNote = r.gcAvailable ? "yes" : "no (end memory measured without a forced GC)";
  const lines = [`soak: ${secs(r.durationMs)}, ulimit -n ${r.fdLimit ?? "?"}, gc ${gcNote}`];
  if (l) {
    const lm = l.memory;
    const alloc = lm.allocatorEnd;
    lines.push(
      `load: ${l.sessions} sessions (${l.sessionsOpenAtOnce} open at once) × ${c.messages} ` +
        `messages of 0..${c.maxPayload} B in ${secs(l.durationMs)}`,
      `  messages: ${l.messagesSent} sent, ${l.messagesEchoed} echoed and verified by SHA-256; ` +
        `lost ${l.lost}, reordered ${l.reordered}, corrupted ${l.corrupted}`,
      `  bytes: ${mib(l.bytesSent)} sent + ${mib(l.bytesEchoed)} echoed (${mib(l.throughput)}/s)`,
      `  clean closes: ${l.cleanClientCloses} client, ${l.cleanServerCloses} server; ` +
        `connect retries ${l.connectRetries}`,
      `  memory: start ${mem(lm.start)}`,
      `    peak ${mem(lm.peak)}; at the RSS peak: heap total ${mib(lm.atPeakRss.heapTotal)}, ` +
        `external ${mib(lm.atPeakRss.external)}`,
      ...(lm.livePeakAfterGc !== undefined
        ? [`    live peak right after a full GC: ${mib(lm.livePeakAfterGc)}`]
        : []),
      `    end ${mem(lm.end)}` +
        (lm.endRssAfterTrim !== undefined
          ? `; rss after malloc_trim(0) ${mib(lm.endRssAfterTrim)}`
          : ""),
      ...(alloc
        ? [
          `    glibc at the end: ${mib(alloc.inUse)} in use, ${
            mib(alloc.free)
          } free in its arenas (pages a trim handed back included) ` +
          `(arena ${mib(alloc.arena)}, mmapped ${
            mib(alloc.mmapped)
          }); settings: ${mallocSettings()}`,
        ]
        : []),
      ...errorLines("load", l.errors),
    );
  }
  if (h) {
    lines.push(
      `hostile: ${h.hostile} hostile slots, ${h.connections} connections (${table(h.kinds)})`,
      `  honest: ${h.honestCompleted} of ${h.honest} completed (${h.honestMessages} messages, ` +
        `${h.honestRetries} refused attempts retried, ${h.honestSawV1Only} of them seen as ` +
        `V1_ONLY_PEER) in ${secs(h.durationMs)}`,
      ...errorLines("hostile", h.errors),
    );
  }
  lines.push(
    `memory (whole run): start ${mem(m.start)}`,
    `  peak ${mem(m.peak)}`,
    `  end ${mem(m.end)}`,
    `  bounds: live (heap + external) +${mib(c.liveBound)}, rss +${mib(c.rssBound)}`,
    r.failures.length === 0 ? "PASS" : `FAIL:\n  ${r.failures.slice(0, 20).join("\n  ")}` +
      (r.failures.length > 20 ? `\n  … and ${r.failures.length - 20} more` : ""),
  );
  return lines.join("\n");
}

const show = (v: number | boolean) =>
  typeof v === "boolean" ? String(v) : Number.isInteger(v) ? v.toLocaleString("en-US") : (
    Math.round(v * 10) / 10
  ).toLocaleString("en-US");

/** The hostile figures as a text table: key, value, bound, verdict, then how each was reached. */
export function formatFigures(figures: Figure[]): string {
  const w = Math.max(...figures.map((f) => f.key.length));
  const lines = ["hostile figures (issue 14):"];
  for (const f of figures) {
    const bound = f.bound ? `≤ ${show(Math.round(f.bound.value * 10) / 10)}` : "must be true";
    lines.push(
      `  ${f.key.padEnd(w)}  ${show(f.value).padStart(10)}  ${bound.padEnd(12)} ${f.verdict}`,
    );
  }
  lines.push("how:");
  for (const f of figures) {
    lines.push(`  ${f.key}: ${f.detail}${f.bound ? `; bound: ${f.bound.basis}` : ""}`);
  }
  return lines.join("\n");
}

/** The final JSON line: every figure, its bound and verdict, and whether all passed. */
export function figuresJson(figures: Figure[]): string {
  const out: Record<string, unknown> = {};
  for (const f of figures) out[f.key] = typeof f.value === "number" ? round(f.value) : f.value;
  out.bounds = Object.fromEntries(
    figures.filter((f) => f.bound).map((f) => [f.key, round(f.bound!.value)]),
  );
  out.verdicts = Object.fromEntries(figures.map((f) => [f.key, f.verdict]));
  out.pass = figures.every((f) => f.verdict === "PASS");
  return JSON.stringify(out);
}

const round = (v: number) => Math.round(v * 10) / 10;

/** The glibc malloc environment variables this process runs with (they change the RSS figures). */
export function mallocSettings(): string {
  const set = Object.entries(Deno.env.toObject())
    .filter(([k]) => k.startsWith("MALLOC_") || k === "GLIBC_TUNABLES")
    .map(([k, v]) => `${k}=${v}`);
  return set.length > 0 ? set.join(" ") : "glibc defaults";
}
