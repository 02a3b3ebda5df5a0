// Phase 1 (load): one listener whose sessions echo every message; N client sessions connect
// (at most 100 handshakes at once, under the listener's default cap of 128), wait until all N
// are open, then each sends M messages of random size (0..maxPayload) while reading the echoes.
// Every payload is checked by SHA-256, in order: nothing lost, reordered or altered. Every
// session, on both ends, must close cleanly (closeReason undefined). Memory is sampled for
// this phase on its own: start, peak, and the end after every session closed and a full GC.
import type { Bip324Error } from "../../layers/errors.ts";
import type { Message } from "../../layers/aliasing/aliasing.ts";
import type { Session } from "../../layers/session/session.ts";
import { connect, listen, type ListenOptions } from "../../layers/session/connect.ts";
import { prng } from "../../tests/helpers.ts";
import type { SoakConfig } from "./config.ts";
import {
  type AllocatorFigures,
  allocatorNow,
  type MemoryFigures,
  type MemorySample,
  MemorySampler,
  settleMemory,
  trimmedRss,
} from "./memory.ts";
import { codeOf, count, Gate, sha256, sleep } from "./util.ts";

/** Bip324Error codes seen in a phase, by where: listener (handshakes, BUSY), server sessions, clients. */
export interface ErrorTables {
  listener: Record<string, number>;
  server: Record<string, number>;
  client: Record<string, number>;
}

/** Live counters for the progress lines. */
export interface Progress {
  phase: string;
  moved: number;
  messages: number;
  open: number;
  done: number;
}

/** What every phase gets from the run. */
export interface PhaseContext {
  config: SoakConfig;
  log: (line: string) => void;
  failures: string[];
  bounded: <T>(p: Promise<T>, what: string) => Promise<T>;
  deadlineAt: number;
  /** Payload sizes, uniform in 0..maxPayload. */
  size: () => number;
  rand: () => number;
  makePayload: (size: number, tag: number) => Uint8Array;
  progress: Progress;
}

/** The load phase's figures. */
export interface LoadReport {
  sessions: number;
  sessionsOpenAtOnce: number;
  messagesSent: number;
  messagesEchoed: number;
  bytesSent: number;
  bytesEchoed: number;
  lost: number;
  reordered: number;
  corrupted: number;
  cleanClientCloses: number;
  cleanServerCloses: number;
  connectRetries: number;
  durationMs: number;
  /** Payload bytes per second, both directions together. */
  throughput: number;
  errors: ErrorTables;
  /** This phase's memory: start, peak (and the sample at the RSS peak), settled end. */
  memory: {
    start: MemoryFigures;
    peak: MemoryFigures;
    atPeakRss: MemorySample;
    end: MemoryFigures;
    timeline: MemorySample[];
    /** glibc's heap at the end (free = pages freed but kept), where readable. */
    allocatorEnd?: AllocatorFigures;
    /** RSS right after malloc_trim(0) at the end, where glibc is reachable (diagnostic). */
    endRssAfterTrim?: number;
    /** With `gcEveryMs`: the highest live memory (heap + external) right after a full GC. */
    livePeakAfterGc?: number;
  };
}

/** Random payload source: distinct content per message, cheap to produce. */
export function payloadMaker(
  seed: number,
  maxPayload: number,
): (size: number, tag: number) => Uint8Array {
  const pool = new Uint8Array(maxPayload + 65536);
  for (let i = 0; i < pool.length; i += 65536) crypto.getRandomValues(pool.subarray(i, i + 65536));
  const rand = prng(seed ^ 0x5eed);
  return (size, tag) => {
    const at = Math.floor(rand() * (pool.length - size));
    const p = pool.slice(at, at + size);
    // stamp a sequence tag so that equal sizes never give equal payloads
    for (let i = 0; i < Math.min(8, size); i++) p[i] = (tag / 2 ** (8 * i)) & 0xff;
    return p;
  };
}

/** One session's exchange. */
export interface ExchangeResult {
  sent: number;
  echoed: number;
  bytesSent: number;
  bytesEchoed: number;
  lost: number;
  reordered: number;
  corrupted: number;
}

/** Sends `sizes.length` messages and checks every echo, in order, by SHA-256. */
export async function exchange(
  session: Session,
  sizes: number[],
  makePayload: (size: number, tag: number) => Uint8Array,
  tagBase: number,
  onMessage: (bytes: number) => void,
): Promise<ExchangeResult> {
  const expected: Promise<string>[] = [];
  const result: ExchangeResult = {
    sent: 0,
    echoed: 0,
    bytesSent: 0,
    bytesEchoed: 0,
    lost: 0,
    reordered: 0,
    corrupted: 0,
  };
  const writer = session.writable.getWriter();
  const reader = session.readable.getReader();
  const writing = (async () => {
    for (let i = 0; i < sizes.length; i++) {
      const payload = makePayload(sizes[i], tagBase + i);
      expected.push(sha256(payload));
      await writer.write({ type: i % 2 ? "block" : "soakmsg", payload });
      result.sent++;
      result.bytesSent += payload.length;
      onMessage(payload.length);
    }
  })();
  for (let i = 0; i < sizes.length; i++) {
    const { done, value } = await reader.read();
    if (done) break;
    const got = await sha256(value.payload);
    result.echoed++;
    result.bytesEchoed += value.payload.length;
    onMessage(value.payload.length);
    const want = await expected[i];
    if (got !== want || value.type !== (i % 2 ? "block" : "soakmsg")) {
      const all = await Promise.all(expected);
      if (all.includes(got)) result.reordered++;
      else result.corrupted++;
    }
  }
  await writing;
  result.lost = result.sent - result.echoed;
  writer.releaseLock();
  reader.releaseLock();
  return result;
}

/** Server side: echo every message until the peer closes; report how the session ended. */
async function echo(session: Session): Promise<Bip324Error | undefined> {
  const reader = session.readable.getReader();
  const writer = session.writable.getWriter();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await writer.write(value as Message);
    }
  } catch { /* the reason is in closeReason */ }
  await session.close();
  return session.closeReason;
}

/** A loopback listener whose sessions echo; `onEnd` gets each server session's close reason. */
export function echoListener(
  options: Partial<ListenOptions>,
  errors: ErrorTables,
  onEnd: (reason: Bip324Error | undefined) => void,
) {
  const listener = listen({
    port: 0,
    hostname: "127.0.0.1",
    network: "regtest",
    onError: (e) => count(errors.listener, e.code),
    ...options,
  });
  const serverDone: Promise<void>[] = [];
  const serving = (async () => {
    for await (const s of listener) serverDone.push(echo(s).then(onEnd));
  })();
  return { listener, port: listener.addr.port, serverDone, serving };
}

/** Runs phase 1. */
export async function runLoad(ctx: PhaseContext): Promise<LoadReport> {
  const { config, failures, bounded, progress } = ctx;
  const errors: ErrorTables = { listener: {}, server: {}, client: {} };
  const start = await settleMemory();
  const sampler = new MemorySampler(start);
  let livePeakAfterGc = 0;
  const gc = (globalThis as { gc?: () => void }).gc;
  const gcTimer = config.gcEveryMs && gc
    ? setInterval(() => {
      gc();
      const m = Deno.memoryUsage();
      livePeakAfterGc = Math.max(livePeakAfterGc, m.heapUsed + m.external);
    }, config.gcEveryMs)
    : undefined;
  const sessionOptions = {
    ...(config.readAhead !== undefined ? { readAhead: config.readAhead } : {}),
    ...(config.aead !== undefined ? { aeadBackend: config.aead } : {}),
  };
  const report: LoadReport = {
    sessions: config.sessions,
    sessionsOpenAtOnce: 0,
    messagesSent: 0,
    messagesEchoed: 0,
    bytesSent: 0,
    bytesEchoed: 0,
    lost: 0,
    reordered: 0,
    corrupted: 0,
    cleanClientCloses: 0,
    cleanServerCloses: 0,
    connectRetries: 0,
    durationMs: 0,
    throughput: 0,
    errors,
    memory: { start, peak: sampler.peak, atPeakRss: sampler.atPeakRss, end: start, timeline: [] },
  };
  const t1 = performance.now();
  const { listener, serverDone, serving, port } = echoListener(sessionOptions, errors, (reason) => {
    if (reason === undefined) report.cleanServerCloses++;
    else count(errors.server, reason.code);
  });
  const gate = new Gate(100);
  let connected = 0;
  let releaseBarrier!: () => void;
  const barrier = new Promise<void>((r) => (releaseBarrier = r));
  const clients = Array.from({ length: config.sessions }, async (_, k) => {
    const sizes = Array.from({ length: config.messages }, ctx.size);
    let session: Session | undefined;
    await gate.take();
    try {
      for (let attempt = 0; attempt < 20 && !session; attempt++) {
        try {
          session = await connect({
            port,
            network: "regtest",
            fallback: "none",
            ...sessionOptions,
          });
        } catch (e) {
          count(errors.client, codeOf(e));
          report.connectRetries++;
          await sleep(50 + 50 * attempt);
        }
      }
    } finally {
      gate.give();
    }
    if (!session) throw new Error(`client ${k} could not connect`);
    progress.open++;
    if (++connected === config.sessions) releaseBarrier();
    await barrier;
    const r = await exchange(session, sizes, ctx.makePayload, k * 1_000_000, (n) => {
      progress.moved += n;
      progress.messages++;
    });
    await session.close();
    progress.open--;
    progress.done++;
    if (session.closeReason === undefined) report.cleanClientCloses++;
    else count(errors.client, session.closeReason.code);
    return r;
  });
  const connectedAll = (async () => {
    await barrier;
    report.sessionsOpenAtOnce = progress.open;
    ctx.log(`all ${config.sessions} sessions open`);
  })();
  try {
    const settled = await bounded(Promise.allSettled(clients), "phase 1 (load)");
    const results: ExchangeResult[] = [];
    for (const r of settled) {
      if (r.status === "fulfilled") results.push(r.value);
      else failures.push(String(r.reason));
    }
    await connectedAll;
    await bounded(Promise.all(serverDone), "phase 1 server close");
    await listener.close();
    await bounded(serving, "phase 1 listener close");
    for (const r of results) {
      report.messagesSent += r.sent;
      report.messagesEchoed += r.echoed;
      report.bytesSent += r.bytesSent;
      report.bytesEchoed += r.bytesEchoed;
      report.lost += r.lost;
      report.reordered += r.reordered;
      report.corrupted += r.corrupted;
    }
  } finally {
    sampler.stop();
    clearInterval(gcTimer);
  }
  if (gcTimer !== undefined) report.memory.livePeakAfterGc = livePeakAfterGc;
  report.durationMs = performance.now() - t1;
  report.throughput = (report.bytesSent + report.bytesEchoed) / (report.durationMs / 1000);
  report.memory.atPeakRss = sampler.atPeakRss;
  report.memory.timeline = sampler.timeline;
  report.memory.end = await settleMemory();
  report.memory.allocatorEnd = allocatorNow();
  report.memory.endRssAfterTrim = trimmedRss();
  checkLoad(report, config, failures);
  return report;
}

function checkLoad(report: LoadReport, config: SoakConfig, failures: string[]): void {
  const want = config.sessions * config.messages;
  if (report.messagesSent !== want) failures.push(`sent ${report.messagesSent} of ${want}`);
  if (report.messagesEchoed !== want) failures.push(`echoed ${report.messagesEchoed} of ${want}`);
  for (const k of ["lost", "reordered", "corrupted"] as const) {
    if (report[k] !== 0) failures.push(`${report[k]} messages ${k}`);
  }
  for (
    const [side, n] of [["client", report.cleanClientCloses], ["server", report.cleanServerCloses]]
  ) {
    if (n !== config.sessions) {
      failures.push(`${config.sessions - (n as number)} ${side} sessions not closed cleanly`);
    }
  }
  if (report.sessionsOpenAtOnce !== config.sessions) {
    failures.push(`only ${report.sessionsOpenAtOnce} sessions were open at once`);
  }
}
