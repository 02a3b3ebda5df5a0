/**
 * `bip324` — a netcat for BIP324, speaking JSON lines on stdin/stdout.
 *
 * ```sh
 * deno run -A cli.ts listen --port 0 --network regtest --echo   # responder
 * deno run -A cli.ts cat 127.0.0.1:18444 --network regtest      # initiator
 * deno run -A cli.ts probe seed.bitcoin.sipa.be                  # one node: v2? version? ping?
 * deno run -A cli.ts proxy --listen 127.0.0.1:8333 --to HOST:PORT # v1 programs → v2 node
 * deno run -A cli.ts relay --to 127.0.0.1:18444                  # WebSocket ⇄ TCP for browsers
 * deno run -A cli.ts bundle --serve 8000                         # the browser example
 * deno run -A cli.ts keygen --out node.key                       # a key for --identity
 * deno run -A cli.ts COMMAND --help                              # a command's options
 * ```
 *
 * One module per command under `cli/` (`cat.ts`, `listen.ts`, `probe.ts`,
 * `proxy.ts`, `relay.ts`, `bundle.ts`, `keygen.ts`), sharing `cli/args.ts`
 * (flags, values, usage errors), `cli/output.ts` (JSON lines, error events,
 * exit codes), `cli/session_io.ts` (session events, pings) and `cli/auth.ts`
 * (the private-authentication flags of `cat` and `listen`). stdout carries JSON lines
 * only; every failure is `{"event":"error","code":..,"message":..}` there.
 * stderr carries text for people: one-line usage errors and warnings.
 *
 * @module
 */

import { UsageError } from "./cli/args.ts";
import { type CommandContext, EXIT, EXIT_CODES_HELP, JsonLineWriter } from "./cli/output.ts";
import { CAT_HELP, CAT_SYNOPSIS, type CatCommand, parseCat, runCat } from "./cli/cat.ts";
import {
  LISTEN_HELP,
  LISTEN_SYNOPSIS,
  type ListenCommand,
  parseListen,
  runListen,
} from "./cli/listen.ts";
import {
  parseProbe,
  PROBE_HELP,
  PROBE_SYNOPSIS,
  type ProbeCommand,
  runProbe,
} from "./cli/probe.ts";
import {
  parseProxy,
  PROXY_HELP,
  PROXY_SYNOPSIS,
  type ProxyCommand,
  runProxy,
} from "./cli/proxy.ts";
import { RELAY_HELP, RELAY_SYNOPSIS, type RelayCommand, runRelay } from "./cli/relay.ts";
import {
  BUNDLE_HELP,
  BUNDLE_SYNOPSIS,
  type BundleCommand,
  parseBundle,
  runBundle,
} from "./cli/bundle.ts";
import {
  KEYGEN_HELP,
  KEYGEN_SYNOPSIS,
  type KeygenCommand,
  parseKeygen,
  runKeygen,
} from "./cli/keygen.ts";

export { UsageError } from "./cli/args.ts";
export { MAX_INPUT_PAYLOAD, parseInputLine } from "./cli/input.ts";
export { describeError, EXIT, JsonLineWriter } from "./cli/output.ts";
export type { AuthFlags } from "./cli/auth.ts";
export type { HostPort, ProbeFallback } from "./examples/probe.ts";
export type { Message } from "./layers/aliasing/aliasing.ts";
export type { Network } from "./layers/bitcoin/network.ts";
export type {
  BundleCommand,
  CatCommand,
  KeygenCommand,
  ListenCommand,
  ProbeCommand,
  ProxyCommand,
  RelayCommand,
};

/** `--help` (or `help COMMAND`): the global help, or one command's. */
export interface HelpCommand {
  /** The command. */
  command: "help";
  /** The command whose help to show; absent: the global help. */
  topic?: CommandName;
}

/** A parsed command line. */
export type CliCommand =
  | CatCommand
  | ListenCommand
  | ProbeCommand
  | ProxyCommand
  | RelayCommand
  | BundleCommand
  | KeygenCommand
  | HelpCommand;

/** The commands. */
export type CommandName = "cat" | "listen" | "probe" | "proxy" | "relay" | "bundle" | "keygen";

interface CommandEntry {
  summary: string;
  synopsis: string;
  help: string;
  parse(args: readonly string[]): CliCommand;
  // deno-lint-ignore no-explicit-any
  run(command: any, ctx: CommandContext): Promise<number>;
}

const COMMANDS: Readonly<Record<CommandName, CommandEntry>> = {
  cat: {
    summary: "connect as initiator: stdin lines → messages, messages → stdout (a netcat)",
    synopsis: CAT_SYNOPSIS,
    help: CAT_HELP,
    parse: parseCat,
    run: runCat,
  },
  listen: {
    summary: "accept sessions as responder and print their messages",
    synopsis: LISTEN_SYNOPSIS,
    help: LISTEN_HELP,
    parse: parseListen,
    run: runListen,
  },
  probe: {
    summary: "one node: does it speak v2? version, services, ping (one JSON line)",
    synopsis: PROBE_SYNOPSIS,
    help: PROBE_HELP,
    parse: parseProbe,
    run: runProbe,
  },
  proxy: {
    summary: "accept v1 programs locally and carry them to a node over v2",
    synopsis: PROXY_SYNOPSIS,
    help: PROXY_HELP,
    parse: parseProxy,
    run: runProxy,
  },
  relay: {
    summary: "WebSocket ⇄ TCP relay for BIP324 from web pages (sees only ciphertext)",
    synopsis: RELAY_SYNOPSIS,
    help: RELAY_HELP,
    parse: (args) => ({ command: "relay", args: [...args] }), // examples/relay.ts parses them
    run: runRelay,
  },
  bundle: {
    summary: "build the browser example (and serve it)",
    synopsis: BUNDLE_SYNOPSIS,
    help: BUNDLE_HELP,
    parse: parseBundle,
    run: runBundle,
  },
  keygen: {
    summary: "make an identity key pair for private authentication (--identity, --accept)",
    synopsis: KEYGEN_SYNOPSIS,
    help: KEYGEN_HELP,
    parse: parseKeygen,
    run: runKeygen,
  },
};

const GLOBAL_SYNOPSIS = "cli.ts COMMAND [OPTIONS]";

/** The global help, printed by `cli.ts --help`. */
export const USAGE: string = `Usage: ${GLOBAL_SYNOPSIS}
       cli.ts COMMAND --help      (a command's options and output)

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`).join("\n")}

Every command prints JSON lines on stdout; every failure is an
{"event":"error","code":"<CODE>","message":"<text>"} line there. Usage errors and
warnings (e.g. a plaintext v1 session) go to stderr.

${EXIT_CODES_HELP}`;

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}

/**
 * Parses the command line (without the program name). Throws
 * {@linkcode UsageError} for anything it does not accept. `relay`'s
 * arguments are passed on unparsed (`examples/relay.ts` parses them).
 */
export function parseCliArgs(args: readonly string[]): CliCommand {
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw new TypeError("args must be an array of strings");
  }
  const [name, ...rest] = args;
  if (name === undefined) throw new UsageError("no command given");
  if (name === "-h" || name === "--help" || name === "help") {
    const topic = rest[0];
    if (topic === undefined) return { command: "help" };
    if (!isCommand(topic)) throw new UsageError(`unknown command ${topic}`);
    return { command: "help", topic };
  }
  if (name.startsWith("-")) throw new UsageError(`the command comes first, before ${name}`);
  if (!isCommand(name)) throw new UsageError(`unknown command ${name}`);
  if (name === "relay") return COMMANDS.relay.parse(rest);
  const flags = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (flags.includes("-h") || flags.includes("--help")) return { command: "help", topic: name };
  return COMMANDS[name].parse(rest);
}

/** The one-line usage error: what is wrong, the command's synopsis, where to read more. */
function usageLine(error: UsageError): string {
  const name = error.command;
  if (isCommand(name)) {
    return `error: ${error.message}. Usage: ${COMMANDS[name].synopsis} ` +
      `(more: cli.ts ${name} --help)\n`;
  }
  return `error: ${error.message}. Usage: ${GLOBAL_SYNOPSIS}, COMMAND one of ` +
    `${Object.keys(COMMANDS).join(", ")} (more: cli.ts --help)\n`;
}

/** Where the CLI reads and writes; defaults to the process's own streams and signals. */
export interface CliIo {
  /** Input lines (cat). Default `Deno.stdin.readable`. */
  stdin?: ReadableStream<Uint8Array>;
  /** JSON-line output. Default `Deno.stdout.writable`. */
  stdout?: WritableStream<Uint8Array>;
  /** Usage errors and warnings. Default `Deno.stderr.writable`. */
  stderr?: WritableStream<Uint8Array>;
  /** Aborting it stops the command cleanly. Default: SIGINT or SIGTERM. */
  signal?: AbortSignal;
}

/**
 * Runs the CLI with `args` (without the program name) and returns the exit
 * code ({@linkcode EXIT}: 0 success, 1 failure, 2 usage error, 3 bad input
 * lines, 130 interrupted).
 */
export async function main(args: readonly string[], io: CliIo = {}): Promise<number> {
  const out = new JsonLineWriter(io.stdout ?? Deno.stdout.writable);
  const err = new JsonLineWriter(io.stderr ?? Deno.stderr.writable);
  const controller = new AbortController();
  const removeSignals = io.signal ? forwardAbort(io.signal, controller) : onSignals(controller);
  try {
    const command = parseCliArgs(args);
    if (command.command === "help") {
      await out.text(command.topic ? COMMANDS[command.topic].help : USAGE);
      return EXIT.OK;
    }
    const ctx: CommandContext = {
      out,
      err,
      get stdin() {
        return io.stdin ?? Deno.stdin.readable;
      },
      signal: controller.signal,
    };
    return await COMMANDS[command.command].run(command, ctx);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    await err.text(usageLine(error));
    return EXIT.USAGE;
  } finally {
    removeSignals();
    await out.release();
    await err.release();
  }
}

function forwardAbort(signal: AbortSignal, controller: AbortController): () => void {
  const abort = () => controller.abort();
  if (signal.aborted) abort();
  else signal.addEventListener("abort", abort, { once: true });
  return () => signal.removeEventListener("abort", abort);
}

function onSignals(controller: AbortController): () => void {
  const abort = () => controller.abort();
  const installed: Deno.Signal[] = [];
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(name, abort);
      installed.push(name);
    } catch { /* not supported here (e.g. SIGTERM on Windows) */ }
  }
  return () => {
    for (const name of installed) Deno.removeSignalListener(name, abort);
  };
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
