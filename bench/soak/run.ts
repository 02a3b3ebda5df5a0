// Runs the soak's phases (load, then the hostile flood) with the whole-run checks: a time limit,
// the file-descriptor check, memory at the start, peak and end of the run.
import { prng } from "../../tests/helpers.ts";
import { loadBounds } from "./budgets.ts";
import type { SoakConfig } from "./config.ts";
import { type FloodReport, runFlood } from "./flood.ts";
import { type LoadReport, payloadMaker, type PhaseContext, runLoad } from "./load.ts";
import {
  gcAvailable,
  type MemoryFigures,
  memoryNow,
  MemorySampler,
  settleMemory,
} from "./memory.ts";
import { boundedBy, Deadline, fdLimit, MIB, mib } from "./util.ts";

/** What a run found. */
export interface SoakReport {
  config: Omit<SoakConfig, "progress">;
  fdLimit: number | undefined;
  gcAvailable: boolean;
  load: LoadReport;
  hostile: FloodReport;
  /** The whole run: start, peak and end (after every session closed and a full GC). */
  memory: { start: MemoryFigures; peak: MemoryFigures; end: MemoryFigures };
  durationMs: number;
  /** The time limit was reached: what is here is partial. */
  timedOut?: boolean;
  /** Everything that went wrong; empty for a pass. */
  failures: string[];
}

/** Runs the soak and returns its report (never throws for a failed check: see `failures`). */
export async function runSoak(config: SoakConfig): Promise<SoakReport> {
  const log = config.progress ?? ((line: string) => console.error(line));
  const t0 = performance.now();
  const deadlineAt = t0 + config.timeLimitMs;
  const failures: string[] = [];
  const limit = await fdLimit();
  const needFds = 2 * Math.max(config.sessions, config.hostile + config.honest) + 200;
  if (limit !== undefined && limit < needFds) {
    throw new Error(
      `ulimit -n is ${limit}, this size needs about ${needFds} descriptors: ` +
        `raise it (ulimit -n ${needFds}) or run fewer sessions`,
    );
  }
  const start = await settleMemory();
  const sampler = new MemorySampler(start, 250, Infinity);
  const rand = prng(config.seed);
  const ctx: PhaseContext = {
    config,
    log,
    failures,
    deadlineAt,
    bounded: (p, what) => boundedBy(deadlineAt, p, what),
    rand,
    size: () => Math.floor(rand() * (config.maxPayload + 1)),
    makePayload: payloadMaker(config.seed, config.maxPayload),
    progress: { phase: "load", moved: 0, messages: 0, open: 0, done: 0 },
  };
  const report = {
    config: { ...config },
    fdLimit: limit,
    gcAvailable,
    memory: { start, peak: sampler.peak, end: start },
    durationMs: 0,
    failures,
  } as SoakReport;
  delete (report.config as Partial<SoakConfig>).progress;

  const p = ctx.progress;
  const progress = () => {
    const m = memoryNow();
    log(
      `[${((performance.now() - t0) / 1000).toFixed(1)} s] ${p.phase}: ${p.open} open, ` +
        `${p.done} done, ${p.messages} messages, ${(p.moved / MIB).toFixed(1)} MiB, ` +
        `rss ${(m.rss / MIB).toFixed(0)} MiB, heap ${(m.heapUsed / MIB).toFixed(0)} MiB, ` +
        `external ${(m.external / MIB).toFixed(0)} MiB`,
    );
  };
  const progressTimer = setInterval(progress, 2000);
  try {
    report.load = await runLoad(ctx);
    checkLoadMemory(report.load, config, failures);
    progress();
    log(
      `phase 1 done: ${report.load.messagesEchoed} echoes verified in ` +
        `${(report.load.durationMs / 1000).toFixed(1)} s`,
    );
    report.hostile = await runFlood(ctx);
    progress();
    log(`phase 2 done in ${(report.hostile.durationMs / 1000).toFixed(1)} s`);
  } catch (e) {
    if (!(e instanceof Deadline)) throw e;
    failures.push(e.message);
    report.timedOut = true;
    report.durationMs = performance.now() - t0;
    return report;
  } finally {
    clearInterval(progressTimer);
    sampler.stop();
  }
  // The run's peak includes the load phase's (sampled on its own clock).
  for (const k of ["rss", "heapUsed", "external"] as const) {
    report.memory.peak[k] = Math.max(report.memory.peak[k], report.load.memory.peak[k]);
  }
  report.memory.end = await settleMemory();
  const end = report.memory.end;
  const liveGrowth = end.heapUsed + end.external - start.heapUsed - start.external;
  const rssGrowth = end.rss - start.rss;
  if (liveGrowth > config.liveBound) {
    failures.push(`live memory grew by ${mib(liveGrowth)} (bound ${mib(config.liveBound)})`);
  }
  if (rssGrowth > config.rssBound) {
    failures.push(`RSS grew by ${mib(rssGrowth)} over the run (bound ${mib(config.rssBound)})`);
  }
  report.durationMs = performance.now() - t0;
  return report;
}

/** The load phase's peak and end RSS against the bounds the budgets give. */
function checkLoadMemory(load: LoadReport, config: SoakConfig, failures: string[]): void {
  const m = load.memory;
  const bounds = loadBounds(config.sessions, config.maxPayload, m.start.rss / MIB);
  if (m.peak.rss / MIB > bounds.peak.value) {
    failures.push(`load phase: peak RSS ${mib(m.peak.rss)} over ${bounds.peak.basis}`);
  }
  if (m.end.rss / MIB > bounds.end.value) {
    failures.push(`load phase: end RSS ${mib(m.end.rss)} over ${bounds.end.basis}`);
  }
}
