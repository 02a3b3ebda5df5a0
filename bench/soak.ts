// Soak test: many concurrent BIP324 sessions over TCP on 127.0.0.1, then a
// flood of hostile connections alongside honest ones.
//
//   deno task soak                  full size (1,000 sessions × 100 messages;
//                                   1,000 hostile + 100 honest), ≤ 10 minutes
//   deno task soak --size=short     50 × 20; 200 hostile + 10 honest (tests/soak_test.ts)
//   deno task soak --json           print the report as one JSON line at the end
//   options: --sessions=N --messages=M --hostile=H --honest=K --limit-s=S --seed=X
//
// Phase 1 (load): one listener whose sessions echo every message; N client
// sessions connect (at most 100 handshakes at once, under the listener's
// default cap of 128), wait until all N are open, then each sends M messages
// of random size (0..64 KiB) while reading the echoes. Every payload is checked
// by SHA-256, in order: nothing lost, reordered or altered. Every session, on
// both ends, must close cleanly (closeReason undefined).
//
// Phase 2 (hostile): H hostile connections at once (random bytes, stalls,
// one byte then silence, a slow trickle, v1 garbage, v1 of another network, a
// complete handshake followed by garbage) against a listener with the default
// maxPendingHandshakes (128); meanwhile K honest sessions connect (retrying
// when refused, as a node's connection manager does) and exchange messages.
// All K must complete.
//
// Memory: heap and RSS at the start, the peak (sampled every 250 ms) and the
// end, after all sessions have closed and a full GC. The end must be within
// the stated bound of the start. V8's gc() needs --v8-flags=--expose-gc: when
// it is missing (as with `deno task soak`), the script re-runs itself with the
// flag (set BIP324_SOAK_NO_REEXEC=1 to measure without a GC instead).
//
// Bounded: every loop has a count limit, every phase and the whole run a time
// limit; over it, the run prints what it has and exits with status 2.
// Integrity or memory failures exit with status 1.
//
// File descriptors: phase 1 holds 2 × N sockets (both ends are in this
// process), phase 2 about 2 × (H + K). The run checks `ulimit -n` first and
// refuses to start if it is too low for the requested size.

import { Bip324Error } from "../layers/errors.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";
import type { Session } from "../layers/session/session.ts";
import { connect, listen, type ListenOptions } from "../layers/session/connect.ts";
import { performHandshake } from "../layers/handshake/driver.ts";
import { connPair } from "../transports/tcp.ts";
import { networkMagic } from "../layers/bitcoin/network.ts";
import { prng } from "../tests/helpers.ts";

/** What to run. */
export interface SoakConfig {
  /** Phase 1: concurrent client sessions. */
  sessions: number;
  /** Phase 1: messages each client sends (and receives back). */
  messages: number;
  /** Largest payload, bytes (sizes are uniform in 0..maxPayload). */
  maxPayload: number;
  /** Phase 2: hostile connections opened at once. */
  hostile: number;
  /** Phase 2: honest sessions during the hostile flood. */
  honest: number;
  /** Phase 2: messages per honest session. */
  honestMessages: number;
  /** Whole-run time limit, ms. */
  timeLimitMs: number;
  /**
   * Allowed growth of live memory (V8 heap + external ArrayBuffers), end vs
   * start, after a full GC: the leak check.
   */
  liveBound: number;
  /**
   * Allowed RSS growth, end vs start. The allocator keeps pages it freed, so
   * RSS stays near the run's peak: this is a ceiling on the working set, not a
   * leak check.
   */
  rssBound: number;
  /** Phase 2: reconnects per hostile slot (an attacker comes back when dropped). */
  hostileRounds: number;
  /** Phase 2: the listener's handshakeTimeout and idleTimeout, ms. */
  hostileTimeout: number;
  /** Seed for sizes and hostile behaviour. */
  seed: number;
  /** Progress lines (default: stderr). */
  progress?: (line: string) => void;
}

/** The full-size run (`deno task soak`). */
export const FULL: Omit<SoakConfig, "progress"> = {
  sessions: 1000,
  messages: 100,
  maxPayload: 64 * 1024,
  hostile: 1000,
  honest: 100,
  honestMessages: 10,
  timeLimitMs: 10 * 60_000,
  liveBound: 64 * 2 ** 20,
  rssBound: 3 * 2 ** 30,
  hostileRounds: 50,
  hostileTimeout: 5000,
  seed: 324,
};

/** The short run inside the test suite. */
export const SHORT: Omit<SoakConfig, "progress"> = {
  sessions: 50,
  messages: 20,
  maxPayload: 64 * 1024,
  hostile: 200,
  honest: 10,
  honestMessages: 5,
  timeLimitMs: 60_000,
  liveBound: 32 * 2 ** 20,
  rssBound: 512 * 2 ** 20,
  hostileRounds: 10,
  hostileTimeout: 2000,
  seed: 324,
};

/** Memory figures, bytes. */
export interface MemoryFigures {
  /** Resident set size of the process. */
  rss: number;
  /** V8 heap in use. */
  heapUsed: number;
  /** Memory outside the V8 heap held by JS objects (ArrayBuffers: packets, payloads, buffers). */
  external: number;
}

/** What a run found. */
export interface SoakReport {
  config: Omit<SoakConfig, "progress">;
  fdLimit: number | undefined;
  gcAvailable: boolean;
  load: {
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
  };
  hostile: {
    hostile: number;
    honest: number;
    honestCompleted: number;
    honestMessages: number;
    honestRetries: number;
    durationMs: number;
    /** Hostile connections opened in all (slots reconnect when dropped). */
    connections: number;
    /** By hostile behaviour: how many of each were opened. */
    kinds: Record<string, number>;
  };
  /** Bip324Error codes seen, by where: listener (handshake failures, BUSY), server sessions, clients. */
  errors: {
    listener: Record<string, number>;
    server: Record<string, number>;
    client: Record<string, number>;
  };
  memory: { start: MemoryFigures; peak: MemoryFigures; end: MemoryFigures };
  durationMs: number;
  /** Everything that went wrong; empty for a pass. */
  failures: string[];
}

const HOSTILE_KINDS = [
  "random-close",
  "random-open",
  "stall",
  "one-byte",
  "trickle",
  "v1-garbage",
  "v1-other-network",
  "v2-then-garbage",
] as const;
type HostileKind = typeof HOSTILE_KINDS[number];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class Deadline extends Error {
  constructor(what: string) {
    super(`time limit reached during ${what}`);
  }
}

/** A counting semaphore. */
class Gate {
  #free: number;
  #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  async take(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((r) => this.#waiting.push(r));
  }
  give(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

function count(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

function codeOf(e: unknown): string {
  return e instanceof Bip324Error ? e.code : `untyped ${e instanceof Error ? e.name : typeof e}`;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  let s = "";
  for (const b of d) s += b.toString(16).padStart(2, "0");
  return s;
}

/** `ulimit -n`, or undefined where it cannot be read. */
export async function fdLimit(): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stdout: "piped" })
      .output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    return Number.isFinite(n) ? n : undefined; // "unlimited" → NaN → undefined
  } catch {
    return undefined;
  }
}

function memoryNow(): MemoryFigures {
  const m = Deno.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

const gc = (globalThis as { gc?: () => void }).gc;

async function settleMemory(): Promise<MemoryFigures> {
  for (let i = 0; i < 3; i++) {
    await sleep(50);
    gc?.();
  }
  return memoryNow();
}

/** Random payload source: distinct content per message, cheap to produce. */
function payloadMaker(seed: number, maxPayload: number): (size: number, tag: number) => Uint8Array {
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

interface ExchangeResult {
  sent: number;
  echoed: number;
  bytesSent: number;
  bytesEchoed: number;
  lost: number;
  reordered: number;
  corrupted: number;
}

/** Sends `sizes.length` messages and checks every echo, in order, by SHA-256. */
async function exchange(
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
  const seen = new Map<string, number>();
  for (let i = 0; i < sizes.length; i++) {
    const { done, value } = await reader.read();
    if (done) break;
    const got = await sha256(value.payload);
    result.echoed++;
    result.bytesEchoed += value.payload.length;
    onMessage(value.payload.length);
    seen.set(got, i);
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

/** Runs the soak and returns its report (never throws for a failed check: see `failures`). */
export async function runSoak(config: SoakConfig): Promise<SoakReport> {
  const log = config.progress ?? ((line: string) => console.error(line));
  const t0 = performance.now();
  const deadlineAt = t0 + config.timeLimitMs;
  const failures: string[] = [];
  const errors = { listener: {}, server: {}, client: {} } as SoakReport["errors"];
  /** A loopback listener whose sessions echo; `onEnd` gets each server session's close reason. */
  const echoListener = (
    options: Partial<ListenOptions>,
    onEnd: (reason: Bip324Error | undefined) => void,
  ) => {
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
  };
  const limit = await fdLimit();
  const needFds = 2 * Math.max(config.sessions, config.hostile + config.honest) + 200;
  if (limit !== undefined && limit < needFds) {
    throw new Error(
      `ulimit -n is ${limit}, this size needs about ${needFds} descriptors: ` +
        `raise it (ulimit -n ${needFds}) or run fewer sessions`,
    );
  }
  const start = await settleMemory();
  const peak: MemoryFigures = { ...start };
  const sampler = setInterval(() => {
    const m = memoryNow();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
  }, 250);
  const remaining = (what: string): Promise<never> =>
    new Promise((_, reject) => {
      const ms = Math.max(0, deadlineAt - performance.now());
      const t = setTimeout(() => reject(new Deadline(what)), ms);
      Deno.unrefTimer(t);
    });
  const bounded = <T>(p: Promise<T>, what: string): Promise<T> => {
    const d = remaining(what);
    d.catch(() => {});
    return Promise.race([p, d]);
  };
  const rand = prng(config.seed);
  const makePayload = payloadMaker(config.seed, config.maxPayload);
  const size = () => Math.floor(rand() * (config.maxPayload + 1));

  const report: SoakReport = {
    config: { ...config, progress: undefined } as Omit<SoakConfig, "progress">,
    fdLimit: limit,
    gcAvailable: gc !== undefined,
    load: {
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
    },
    hostile: {
      hostile: config.hostile,
      honest: config.honest,
      honestCompleted: 0,
      honestMessages: 0,
      honestRetries: 0,
      durationMs: 0,
      connections: 0,
      kinds: {},
    },
    errors,
    memory: { start, peak, end: start },
    durationMs: 0,
    failures,
  };
  delete (report.config as Partial<SoakConfig>).progress;

  let progressTimer: ReturnType<typeof setInterval> | undefined;
  let phase = "load";
  let moved = 0, messages = 0, open = 0, done = 0;
  const progress = () => {
    const m = memoryNow();
    log(
      `[${((performance.now() - t0) / 1000).toFixed(1)} s] ${phase}: ${open} open, ${done} done, ` +
        `${messages} messages, ${(moved / 2 ** 20).toFixed(1)} MiB, ` +
        `rss ${(m.rss / 2 ** 20).toFixed(0)} MiB, heap ${(m.heapUsed / 2 ** 20).toFixed(0)} MiB, ` +
        `external ${(m.external / 2 ** 20).toFixed(0)} MiB`,
    );
  };
  progressTimer = setInterval(progress, 2000);

  try {
    // ------------------------------------------------------------------ phase 1
    {
      const t1 = performance.now();
      const { listener, port, serverDone, serving } = echoListener({}, (reason) => {
        if (reason === undefined) report.load.cleanServerCloses++;
        else count(errors.server, reason.code);
      });
      const gate = new Gate(100);
      let connected = 0;
      let releaseBarrier!: () => void;
      const barrier = new Promise<void>((r) => (releaseBarrier = r));
      const clients = Array.from({ length: config.sessions }, async (_, k) => {
        const sizes = Array.from({ length: config.messages }, size);
        let session: Session | undefined;
        await gate.take();
        try {
          for (let attempt = 0; attempt < 20 && !session; attempt++) {
            try {
              session = await connect({ port, network: "regtest", fallback: "none" });
            } catch (e) {
              count(errors.client, codeOf(e));
              report.load.connectRetries++;
              await sleep(50 + 50 * attempt);
            }
          }
        } finally {
          gate.give();
        }
        if (!session) throw new Error(`client ${k} could not connect`);
        open++;
        if (++connected === config.sessions) releaseBarrier();
        await barrier;
        const r = await exchange(session, sizes, makePayload, k * 1_000_000, (n) => {
          moved += n;
          messages++;
        });
        await session.close();
        open--;
        done++;
        if (session.closeReason === undefined) report.load.cleanClientCloses++;
        else count(errors.client, session.closeReason.code);
        return r;
      });
      const connectedAll = (async () => {
        await barrier;
        report.load.sessionsOpenAtOnce = open;
        log(`all ${config.sessions} sessions open`);
      })();
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
        report.load.messagesSent += r.sent;
        report.load.messagesEchoed += r.echoed;
        report.load.bytesSent += r.bytesSent;
        report.load.bytesEchoed += r.bytesEchoed;
        report.load.lost += r.lost;
        report.load.reordered += r.reordered;
        report.load.corrupted += r.corrupted;
      }
      report.load.durationMs = performance.now() - t1;
      report.load.throughput = (report.load.bytesSent + report.load.bytesEchoed) /
        (report.load.durationMs / 1000);
      const want = config.sessions * config.messages;
      if (report.load.messagesSent !== want) {
        failures.push(`sent ${report.load.messagesSent} of ${want}`);
      }
      if (report.load.messagesEchoed !== want) {
        failures.push(`echoed ${report.load.messagesEchoed} of ${want}`);
      }
      for (const k of ["lost", "reordered", "corrupted"] as const) {
        if (report.load[k] !== 0) failures.push(`${report.load[k]} messages ${k}`);
      }
      if (report.load.cleanClientCloses !== config.sessions) {
        failures.push(
          `${config.sessions - report.load.cleanClientCloses} client sessions not closed cleanly`,
        );
      }
      if (report.load.cleanServerCloses !== config.sessions) {
        failures.push(
          `${config.sessions - report.load.cleanServerCloses} server sessions not closed cleanly`,
        );
      }
      if (report.load.sessionsOpenAtOnce !== config.sessions) {
        failures.push(`only ${report.load.sessionsOpenAtOnce} sessions were open at once`);
      }
      progress();
      log(
        `phase 1 done: ${report.load.messagesEchoed} echoes verified in ${
          (report.load.durationMs / 1000).toFixed(1)
        } s`,
      );
    }

    // ------------------------------------------------------------------ phase 2
    {
      phase = "hostile";
      open = 0;
      done = 0;
      const t2 = performance.now();
      const handshakeTimeout = config.hostileTimeout;
      const { listener, port, serverDone, serving } = echoListener(
        // the idle timeout reaps stalled v1 peers and silent sessions
        { handshakeTimeout, idleTimeout: config.hostileTimeout },
        (reason) => count(errors.server, reason === undefined ? "clean" : reason.code),
      );
      let stopHostile = false;
      const conns = new Set<Deno.Conn>();
      const hostileOne = async (i: number, round: number) => {
        const kind: HostileKind = HOSTILE_KINDS[(i + round) % HOSTILE_KINDS.length];
        count(report.hostile.kinds, kind);
        report.hostile.connections++;
        const r = prng(config.seed + i * 1000 + round);
        const bytes = (n: number) => {
          const b = new Uint8Array(n);
          crypto.getRandomValues(b.subarray(0, Math.min(n, 65536)));
          return b;
        };
        let conn: Deno.Conn;
        try {
          conn = await Deno.connect({ hostname: "127.0.0.1", port });
        } catch (e) {
          count(errors.client, `hostile connect: ${codeOf(e)}`);
          return;
        }
        conns.add(conn);
        const write = (b: Uint8Array) => conn.write(b).catch(() => 0);
        // Drain whatever the server sends, so its writes never block on us; ends when it hangs up.
        const drainFrom = async (read: (buf: Uint8Array) => Promise<number | null>) => {
          const buf = new Uint8Array(65536);
          for (let n = 0; n < 100_000; n++) {
            if ((await read(buf).catch(() => null)) === null) return;
          }
        };
        let drain: Promise<void> = Promise.resolve();
        try {
          if (kind === "v2-then-garbage") {
            // an authenticated peer that then sends junk: the session must fail, not hang
            const pair = connPair(conn);
            try {
              await performHandshake(pair, {
                role: "initiator",
                network: "regtest",
                handshakeTimeout: 60_000,
              });
              const reader = pair.readable.getReader();
              drain = drainFrom(async () => {
                const { done, value } = await reader.read();
                return done ? null : value.length;
              });
              const w = pair.writable.getWriter();
              await w.write(bytes(1 + Math.floor(r() * 5000))).catch(() => {});
              w.releaseLock();
            } catch (e) {
              count(errors.client, `hostile v2: ${codeOf(e)}`);
            }
          } else {
            drain = drainFrom((buf) => conn.read(buf));
          }
          switch (kind) {
            case "random-close":
              await write(bytes(1 + Math.floor(r() * 8000)));
              await conn.closeWrite().catch(() => {});
              break;
            case "random-open":
              await write(bytes(1 + Math.floor(r() * 8000)));
              break;
            case "stall":
            case "v2-then-garbage":
              break;
            case "one-byte":
              await write(new Uint8Array([Math.floor(r() * 256)]));
              break;
            case "trickle":
              for (let n = 0; n < 400 && !stopHostile; n++) {
                if ((await write(new Uint8Array([n & 0xff]))) === 0) break;
                await sleep(100);
              }
              break;
            case "v1-garbage": {
              // a v1 version header with a random length and checksum, then junk
              const header = new Uint8Array(24);
              header.set(networkMagic("regtest"));
              header.set(new TextEncoder().encode("version"), 4);
              new DataView(header.buffer).setUint32(16, Math.floor(r() * 4_000_000), true);
              await write(header);
              await write(bytes(Math.floor(r() * 2000)));
              break;
            }
            case "v1-other-network": {
              const header = new Uint8Array(24);
              header.set(networkMagic("mainnet"));
              header.set(new TextEncoder().encode("version"), 4);
              await write(header);
              break;
            }
          }
          // hold the connection until the server drops it or the phase ends
          for (let n = 0; n < 1200 && !stopHostile; n++) {
            const ended = await Promise.race([
              drain.then(() => true),
              sleep(100).then(() => false),
            ]);
            if (ended) break;
          }
        } finally {
          conns.delete(conn);
          try {
            conn.close();
          } catch { /* already closed */ }
          await drain;
        }
      };
      // Each hostile slot comes back after it is dropped (refused, timed out, failed), so the
      // listener stays under a standing flood while the honest peers try to get in.
      const hostile = Array.from({ length: config.hostile }, async (_, i) => {
        const r = prng(config.seed ^ (i * 7919));
        for (let round = 0; round < config.hostileRounds && !stopHostile; round++) {
          await hostileOne(i, round);
          if (!stopHostile) await sleep(100 + Math.floor(r() * 400));
        }
      });
      await sleep(500); // let the flood land first: honest peers arrive into a full listener
      const honest = Array.from({ length: config.honest }, async (_, k) => {
        const sizes = Array.from({ length: config.honestMessages }, size);
        let session: Session | undefined;
        for (let attempt = 0; attempt < 1000 && !session; attempt++) {
          if (performance.now() > deadlineAt) break;
          try {
            session = await connect({ port, network: "regtest", fallback: "none" });
          } catch (e) {
            count(errors.client, codeOf(e));
            report.hostile.honestRetries++;
            await sleep(25 + Math.floor(rand() * 75));
          }
        }
        if (!session) throw new Error(`honest peer ${k} never got in`);
        open++;
        const r = await exchange(session, sizes, makePayload, 2_000_000_000 + k * 1000, (n) => {
          moved += n;
          messages++;
        });
        await session.close();
        open--;
        done++;
        if (r.echoed === sizes.length && r.lost + r.reordered + r.corrupted === 0) {
          report.hostile.honestCompleted++;
          report.hostile.honestMessages += r.echoed;
        } else {
          failures.push(`honest peer ${k}: ${JSON.stringify(r)}`);
        }
        if (session.closeReason !== undefined) {
          failures.push(`honest peer ${k} closed with ${session.closeReason.code}`);
        }
      });
      const honestResults = await bounded(Promise.allSettled(honest), "phase 2 (honest peers)");
      for (const r of honestResults) {
        if (r.status === "rejected") failures.push(String(r.reason));
      }
      stopHostile = true;
      await bounded(Promise.all(hostile), "phase 2 (hostile connections close)");
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      // the listener reaps what is left: handshakes time out, idle sessions close
      for (let n = 0; n < 400 && listener.pendingHandshakes > 0; n++) await sleep(50);
      if (listener.pendingHandshakes > 0) {
        failures.push(`${listener.pendingHandshakes} handshakes still pending after the flood`);
      }
      await bounded(Promise.all(serverDone), "phase 2 server sessions close");
      await listener.close();
      await bounded(serving, "phase 2 listener close");
      report.hostile.durationMs = performance.now() - t2;
      if (report.hostile.honestCompleted !== config.honest) {
        failures.push(
          `only ${report.hostile.honestCompleted} of ${config.honest} honest peers completed`,
        );
      }
      progress();
      log(`phase 2 done in ${(report.hostile.durationMs / 1000).toFixed(1)} s`);
    }
  } catch (e) {
    if (e instanceof Deadline) {
      failures.push(e.message);
      report.durationMs = performance.now() - t0;
      clearInterval(sampler);
      clearInterval(progressTimer);
      progressTimer = undefined;
      (report as SoakReport & { timedOut?: boolean }).timedOut = true;
      return report;
    }
    throw e;
  } finally {
    if (progressTimer !== undefined) clearInterval(progressTimer);
  }

  clearInterval(sampler);
  report.memory.end = await settleMemory();
  const end = report.memory.end;
  const liveGrowth = end.heapUsed + end.external - start.heapUsed - start.external;
  const rssGrowth = end.rss - start.rss;
  if (liveGrowth > config.liveBound) {
    failures.push(`live memory grew by ${mib(liveGrowth)} (bound ${mib(config.liveBound)})`);
  }
  if (rssGrowth > config.rssBound) {
    failures.push(`RSS grew by ${mib(rssGrowth)} (bound ${mib(config.rssBound)})`);
  }
  report.durationMs = performance.now() - t0;
  return report;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Human-readable figures. */
export function formatReport(r: SoakReport): string {
  const l = r.load, h = r.hostile, m = r.memory, c = r.config;
  const table = (t: Record<string, number>) =>
    Object.entries(t).sort().map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  const mem = (f: MemoryFigures) =>
    `rss ${mib(f.rss)}, heap ${mib(f.heapUsed)}, external ${mib(f.external)}`;
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const gcNote = r.gcAvailable ? "yes" : "no (end memory measured without a forced GC)";
  return [
    `soak: ${secs(r.durationMs)}, ulimit -n ${r.fdLimit ?? "?"}, gc ${gcNote}`,
    `load: ${l.sessions} sessions (${l.sessionsOpenAtOnce} open at once) × ${c.messages} messages ` +
    `of 0..${c.maxPayload} B in ${secs(l.durationMs)}`,
    `  messages: ${l.messagesSent} sent, ${l.messagesEchoed} echoed and verified by SHA-256; ` +
    `lost ${l.lost}, reordered ${l.reordered}, corrupted ${l.corrupted}`,
    `  bytes: ${mib(l.bytesSent)} sent + ${mib(l.bytesEchoed)} echoed (${mib(l.throughput)}/s)`,
    `  clean closes: ${l.cleanClientCloses} client, ${l.cleanServerCloses} server; ` +
    `connect retries ${l.connectRetries}`,
    `hostile: ${h.hostile} hostile slots, ${h.connections} connections (${table(h.kinds)})`,
    `  honest: ${h.honestCompleted} of ${h.honest} completed (${h.honestMessages} messages, ` +
    `${h.honestRetries} refused attempts retried) in ${secs(h.durationMs)}`,
    `memory: start ${mem(m.start)}`,
    `  peak ${mem(m.peak)}`,
    `  end ${mem(m.end)}`,
    `  bounds: live (heap + external) +${mib(c.liveBound)}, rss +${mib(c.rssBound)}`,
    `errors (listener): ${table(r.errors.listener)}`,
    `errors (server sessions): ${table(r.errors.server)}`,
    `errors (clients): ${table(r.errors.client)}`,
    r.failures.length === 0 ? "PASS" : `FAIL:\n  ${r.failures.slice(0, 20).join("\n  ")}` +
      (r.failures.length > 20 ? `\n  … and ${r.failures.length - 20} more` : ""),
  ].join("\n");
}

function parseArgs(args: string[]): { config: SoakConfig; json: boolean } {
  const get = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const base = get("size") === "short" ? SHORT : FULL;
  const num = (name: string, fallback: number) => {
    const v = get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} must be a count, got ${v}`);
    return n;
  };
  return {
    config: {
      ...base,
      sessions: num("sessions", base.sessions),
      messages: num("messages", base.messages),
      hostile: num("hostile", base.hostile),
      honest: num("honest", base.honest),
      timeLimitMs: num("limit-s", base.timeLimitMs / 1000) * 1000,
      seed: num("seed", base.seed),
    },
    json: args.includes("--json"),
  };
}

if (import.meta.main) {
  if (!gc && !Deno.env.get("BIP324_SOAK_NO_REEXEC")) {
    // Re-run with V8's gc() exposed, so the end-of-run memory is measured after a full GC.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", import.meta.filename!, ...Deno.args],
      env: { BIP324_SOAK_NO_REEXEC: "1" },
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    Deno.exit((await child.status).code);
  }
  const { config, json } = parseArgs(Deno.args);
  const hardStop = setTimeout(() => {
    console.error(`soak: hard time limit (${config.timeLimitMs + 60_000} ms) exceeded, aborting`);
    Deno.exit(2);
  }, config.timeLimitMs + 60_000);
  Deno.unrefTimer(hardStop);
  const report = await runSoak(config);
  console.log(formatReport(report));
  if (json) console.log(JSON.stringify(report));
  const timedOut = (report as SoakReport & { timedOut?: boolean }).timedOut;
  Deno.exit(timedOut ? 2 : report.failures.length === 0 ? 0 : 1);
}
