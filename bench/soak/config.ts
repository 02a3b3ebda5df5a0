// What a soak run does: the sizes (full, short), and its command line.
import { GOALS } from "./budgets.ts";
import { MIB } from "./util.ts";

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
   * start, after a full GC: the leak check. Every session has closed by then, so the
   * per-connection budget says nothing is held for any; this allows for V8's code and
   * caches only.
   */
  liveBound: number;
  /**
   * Allowed RSS growth, end vs start: pages the run freed that the allocator keeps
   * (issue 14's 256 MiB). The peak is bounded separately, by the per-connection budget.
   */
  rssBound: number;
  /** Phase 2: reconnects per hostile slot (an attacker comes back when dropped). */
  hostileRounds: number;
  /** Phase 2: the listener's handshakeTimeout and idleTimeout, ms. */
  hostileTimeout: number;
  /** Seed for sizes and hostile behaviour. */
  seed: number;
  /** Phase 1 (diagnostics): `readAhead` of both ends' sessions; default the library's. */
  readAhead?: number;
  /**
   * Phase 1 (diagnostics): `aeadBackend` of both ends' sessions; default the library's
   * (`"auto"`). `"wasm"` shows what the native backend's per-message buffers cost.
   */
  aead?: "auto" | "pure" | "native" | "wasm";
  /**
   * Phase 1 (diagnostics): every this many ms, a full GC and a sample of live memory (heap +
   * external), to tell memory still held from garbage not yet collected. Default: none.
   */
  gcEveryMs?: number;
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
  liveBound: 64 * MIB,
  rssBound: GOALS.endRssGrowthMib * MIB,
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
  liveBound: 32 * MIB,
  rssBound: GOALS.endRssGrowthMib * MIB,
  hostileRounds: 10,
  hostileTimeout: 2000,
  seed: 324,
};

/** The command line: sizes, `--json`, `--hostile`. */
export interface SoakArgs {
  config: SoakConfig;
  /** Print the whole report as one JSON line. */
  json: boolean;
  /** Run issue 14's hostile figures after the soak; their JSON line is the last line. */
  hostile: boolean;
}

const USAGE = "usage: deno task soak [--size=short] [--json] [--hostile] " +
  "[--sessions=N] [--messages=M] [--hostile-slots=H] [--honest=K] [--limit-s=S] [--seed=X] " +
  "[--read-ahead=BYTES] [--gc-every=MS] [--aead=auto|pure|native|wasm]";

/** Parses the soak's arguments (`RangeError` for a bad one). */
export function parseArgs(args: string[]): SoakArgs {
  const known =
    /^--(size|sessions|messages|hostile-slots|honest|limit-s|seed|read-ahead|gc-every|aead)=|^--(json|hostile)$/;
  for (const a of args) if (!known.test(a)) throw new RangeError(`unknown argument ${a}\n${USAGE}`);
  const get = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const size = get("size");
  if (size !== undefined && size !== "short" && size !== "full") {
    throw new RangeError(`--size must be short or full, got ${size}`);
  }
  const base = size === "short" ? SHORT : FULL;
  const aead = get("aead");
  if (aead !== undefined && !["auto", "pure", "native", "wasm"].includes(aead)) {
    throw new RangeError(`--aead must be auto, pure, native or wasm, got ${aead}`);
  }
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
      hostile: num("hostile-slots", base.hostile),
      honest: num("honest", base.honest),
      timeLimitMs: num("limit-s", base.timeLimitMs / 1000) * 1000,
      seed: num("seed", base.seed),
      ...(get("read-ahead") !== undefined ? { readAhead: num("read-ahead", 0) } : {}),
      ...(get("gc-every") !== undefined ? { gcEveryMs: num("gc-every", 0) } : {}),
      ...(aead !== undefined ? { aead: aead as SoakConfig["aead"] } : {}),
    },
    json: args.includes("--json"),
    hostile: args.includes("--hostile"),
  };
}
