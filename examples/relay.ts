/**
 * The edge relay as a program: a thin wrapper over `@bip324/bip324/relay`
 * (`transports/relay/`) that adds the command line, environment variables and
 * {@linkcode startRelay}. Per accepted WebSocket it opens a TCP connection to
 * a Bitcoin node and forwards raw bytes both ways, seeing only ciphertext:
 *
 * ```
 * browser (BIP324 initiator) ⇄ WebSocket ⇄ relay ⇄ TCP ⇄ node (BIP324 responder)
 * ```
 *
 * Allow-list (`--allow`, 403), total (503) and per-IP (429) limits, idle
 * timeout, byte budget (`maxBufferedBytes`, `--max-frame-bytes`), `/healthz`
 * and `/metrics`: see `docs/relay.md`. The same core runs on Cloudflare
 * Workers (`examples/workers/relay_worker.ts`).
 *
 * @example Command line
 * ```sh
 * deno run -A examples/relay.ts --port 8080 --to 127.0.0.1:18444
 * # {"event":"listening","port":8080}
 * ```
 *
 * @example In-process
 * ```ts ignore
 * import { startRelay } from "./relay.ts";
 * const relay = startRelay({ port: 0, to: "127.0.0.1:18444" });
 * console.log(`ws://127.0.0.1:${relay.addr.port}/`);
 * // ... later
 * console.log(relay.metrics().bytesClientToNode);
 * await relay.close();
 * ```
 *
 * @module
 */

import {
  formatPrometheus,
  formatTarget,
  parseTarget,
  type Relay,
  RELAY_CLOSE_REASONS,
  type RelayCloseReason,
  type RelayEvent,
  type RelayMetrics,
  type RelayTarget,
  serveRelay,
  type ServeRelayOptions,
} from "../transports/relay/mod.ts";
import { describeError } from "../transports/relay/link.ts";

export { formatPrometheus, formatTarget, parseTarget, RELAY_CLOSE_REASONS };
export type { Relay, RelayCloseReason, RelayEvent, RelayMetrics, RelayTarget };

/** Options for {@linkcode startRelay}: those of `serveRelay` (all documented there). */
export type RelayOptions = ServeRelayOptions;

/**
 * Starts the relay (`serveRelay` from `@bip324/bip324/relay`). Options are
 * validated at once (`TypeError`/`RangeError`); in Deno the server is
 * listening when this returns (elsewhere once `relay.ready` settles).
 *
 * @example
 * ```ts ignore
 * import { startRelay } from "./relay.ts";
 * const relay = startRelay({
 *   port: 0,
 *   to: "127.0.0.1:18444",
 *   allow: ["127.0.0.1:18445"],
 *   maxPerIp: 4,
 *   idleTimeout: 300_000,
 * });
 * // ws://127.0.0.1:PORT/?target=127.0.0.1:18445 reaches the second node
 * await relay.close();
 * ```
 */
export function startRelay(options: RelayOptions): Relay {
  return serveRelay(options);
}

/** ADDR_IN_USE when the port is taken, else TRANSPORT (the code of a start error event). */
function startCode(error: unknown): string {
  const e = error as { name?: string; code?: string };
  return e?.name === "AddrInUse" || e?.code === "EADDRINUSE" ? "ADDR_IN_USE" : "TRANSPORT";
}

/** A command-line mistake: printed with the usage text, exit code 2. */
export class RelayUsageError extends Error {
  /** Creates the error with a message for the user. */
  constructor(message: string) {
    super(message);
    this.name = "RelayUsageError";
  }
}

/** Usage text of the command line. */
export const RELAY_USAGE: string = `Usage:
  relay.ts --to HOST:PORT [--allow HOST:PORT,...] [--port N] [--hostname ADDR]
           [--max-connections N] [--max-per-ip N] [--idle-timeout MS]
           [--max-frame-bytes N]

Relays each WebSocket (binary frames = raw bytes) to a TCP connection to a node,
seeing only ciphertext. Clients pick a node with ?target=HOST:PORT among the allowed ones.

Options (environment variable used when the flag is absent):
  --to HOST:PORT          default node                      RELAY_TO
  --allow LIST            more nodes clients may pick       RELAY_ALLOW
  --port N                port (0 picks one; default 8080)  RELAY_PORT, PORT
  --hostname ADDR         address to bind (127.0.0.1)       RELAY_HOSTNAME
  --max-connections N     total connections (1000)          RELAY_MAX_CONNECTIONS
  --max-per-ip N          connections per client IP (16)    RELAY_MAX_PER_IP
  --idle-timeout MS       close after MS ms without bytes (600000)  RELAY_IDLE_TIMEOUT
  --max-frame-bytes N     largest WebSocket frame (4194304)  RELAY_MAX_FRAME_BYTES
  -h, --help              show this help

Prints {"event":"listening","port":N}, then one JSON line per connection event
(metadata only); runs until SIGINT/SIGTERM. GET /healthz, GET /metrics.
`;

/** What {@linkcode parseRelayArgs} returns. */
export type RelayCommand = { command: "help" } | { command: "run"; options: RelayOptions };

const FLAGS: Record<string, string> = {
  to: "RELAY_TO",
  allow: "RELAY_ALLOW",
  port: "RELAY_PORT",
  hostname: "RELAY_HOSTNAME",
  "max-connections": "RELAY_MAX_CONNECTIONS",
  "max-per-ip": "RELAY_MAX_PER_IP",
  "idle-timeout": "RELAY_IDLE_TIMEOUT",
  "max-frame-bytes": "RELAY_MAX_FRAME_BYTES",
};

/**
 * Reads an environment variable if (and only if) access is already granted:
 * never prompts, never throws (edge runtimes and `deno run` without
 * `--allow-env` both work).
 */
export function readEnv(name: string): string | undefined {
  try {
    const status = Deno.permissions?.querySync?.({ name: "env", variable: name });
    if (status && status.state !== "granted") return undefined;
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * Parses command-line flags, falling back to `env` (default: the process
 * environment, read only where permitted) for absent ones. Throws
 * {@linkcode RelayUsageError}.
 *
 * @example
 * ```ts
 * import { parseRelayArgs } from "./relay.ts";
 * const parsed = parseRelayArgs(["--to", "127.0.0.1:18444", "--port", "0"], () => undefined);
 * console.assert(parsed.command === "run" && parsed.options.port === 0);
 * ```
 */
export function parseRelayArgs(
  args: string[],
  env: (name: string) => string | undefined = readEnv,
): RelayCommand {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") return { command: "help" };
    if (!arg.startsWith("--")) throw new RelayUsageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!(name in FLAGS)) throw new RelayUsageError(`unknown option --${name}`);
    if (flags.has(name)) throw new RelayUsageError(`--${name} given twice`);
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new RelayUsageError(`--${name} needs a value`);
    flags.set(name, value);
  }
  const get = (name: string): string | undefined => {
    const v = flags.get(name) ?? env(FLAGS[name]) ?? (name === "port" ? env("PORT") : undefined);
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new RelayUsageError(`--${name} must be an integer ${min}..${max}, got ${v}`);
    }
    return Number(v);
  };
  const target = (text: string, flag: string): RelayTarget => {
    try {
      return parseTarget(text);
    } catch (error) {
      throw new RelayUsageError(`--${flag}: ${(error as Error).message}`);
    }
  };
  const allow = (get("allow") ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")
    .map((s) => target(s, "allow"));
  const toText = get("to");
  const to = toText !== undefined ? target(toText, "to") : allow[0];
  if (!to) throw new RelayUsageError("no node: give --to HOST:PORT (or --allow, or RELAY_TO)");
  const options: RelayOptions = { to, allow };
  const port = int("port", 0, 65535);
  if (port !== undefined) options.port = port;
  const hostname = get("hostname");
  if (hostname !== undefined) options.hostname = hostname;
  const maxConnections = int("max-connections", 1, 1_000_000);
  if (maxConnections !== undefined) options.maxConnections = maxConnections;
  const maxPerIp = int("max-per-ip", 1, 1_000_000);
  if (maxPerIp !== undefined) options.maxPerIp = maxPerIp;
  const idle = int("idle-timeout", 1, 2 ** 31 - 1);
  if (idle !== undefined) options.idleTimeout = idle;
  const maxFrame = int("max-frame-bytes", 1, 2 ** 31 - 1);
  if (maxFrame !== undefined) options.maxFrameBytes = maxFrame;
  return { command: "run", options };
}

/** Extra hooks for {@linkcode runRelayCli} (tests, embedding). */
export interface RelayCliHooks {
  /** Stops the relay like SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Where output lines go. Default `console.log`. */
  print?: (line: string) => void;
  /** Where usage and errors go. Default `console.error`. */
  printError?: (line: string) => void;
}

/**
 * The command line: parses `args`, starts the relay, prints
 * `{"event":"listening","port":N}` and one JSON line per connection event,
 * and runs until SIGINT/SIGTERM (or `hooks.signal`). Resolves with the exit
 * code: 0 after a clean shutdown, 1 if the relay cannot start, 2 for usage
 * errors.
 *
 * @example
 * ```ts ignore
 * import { runRelayCli } from "./relay.ts";
 * Deno.exit(await runRelayCli(["--port", "8080", "--to", "127.0.0.1:18444"]));
 * ```
 */
export async function runRelayCli(args: string[], hooks: RelayCliHooks = {}): Promise<number> {
  const print = hooks.print ?? ((line: string) => console.log(line));
  const printError = hooks.printError ?? ((line: string) => console.error(line));
  let parsed: RelayCommand;
  try {
    parsed = parseRelayArgs(args);
  } catch (error) {
    if (!(error instanceof RelayUsageError)) throw error;
    printError(`error: ${error.message}\n\n${RELAY_USAGE}`);
    return 2;
  }
  if (parsed.command === "help") {
    print(RELAY_USAGE);
    return 0;
  }
  let relay: Relay;
  try {
    relay = startRelay({ ...parsed.options, onEvent: (e) => print(JSON.stringify(e)) });
  } catch (error) {
    print(
      JSON.stringify({ event: "error", code: startCode(error), message: describeError(error) }),
    );
    return 1;
  }
  try {
    await relay.ready;
  } catch (error) {
    print(
      JSON.stringify({ event: "error", code: startCode(error), message: describeError(error) }),
    );
    await relay.close();
    return 1;
  }
  print(JSON.stringify({ event: "listening", port: relay.addr.port }));

  let resolveStop!: () => void;
  const stop = new Promise<void>((resolve) => (resolveStop = resolve));
  const onSignal = () => resolveStop();
  const registered: Deno.Signal[] = [];
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(sig, onSignal);
      registered.push(sig);
    } catch { /* no signals here (e.g. an edge runtime, or SIGTERM on Windows) */ }
  }
  if (hooks.signal?.aborted) resolveStop();
  hooks.signal?.addEventListener("abort", onSignal, { once: true });
  await stop;
  for (const sig of registered) {
    try {
      Deno.removeSignalListener(sig, onSignal);
    } catch { /* already removed */ }
  }
  await relay.close();
  print(JSON.stringify({ event: "stopped", ...relay.metrics() }));
  return 0;
}

if (import.meta.main) Deno.exit(await runRelayCli(Deno.args));
