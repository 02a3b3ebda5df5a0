/**
 * Command-line parsing shared by every `cli.ts` command: flags
 * (`--name VALUE`, `--name=VALUE`, boolean `--name`, aliases), positional
 * arguments, and the value parsers (ports, milliseconds, networks,
 * addresses). Mistakes throw {@linkcode UsageError}, which the CLI prints as
 * one line with a hint and exit code 2.
 *
 * @module
 */

import { type Network, NETWORK_MAGIC } from "../layers/bitcoin/network.ts";
import { type HostPort, parseHostPort } from "../examples/probe.ts";

/** A command line the CLI cannot accept (exit code 2). */
export class UsageError extends Error {
  /** The command it belongs to (for the hint), if known. */
  readonly command?: string;

  /** Creates a usage error with a human-readable reason. */
  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** The flags a command takes. */
export interface FlagSpec {
  /** Flags that take a value. */
  valued?: readonly string[];
  /** Flags without a value. */
  boolean?: readonly string[];
  /** Other spellings: alias → flag name (e.g. `"no-fallback": "v2-only"`). */
  aliases?: Readonly<Record<string, string>>;
}

/** What {@linkcode parseFlags} found. */
export interface ParsedArgs {
  /** Flag values by (canonical) name; `true` for boolean flags. */
  flags: Map<string, string | true>;
  /** Arguments that are not flags, in order. */
  positional: string[];
  /** `-h` or `--help` was given. */
  help: boolean;
}

/**
 * Parses `args` against `spec`. Throws {@linkcode UsageError} for an unknown
 * flag, a flag given twice (or with its alias), or a missing value.
 */
export function parseFlags(command: string, args: readonly string[], spec: FlagSpec): ParsedArgs {
  const valued = new Set(spec.valued ?? []);
  const boolean = new Set(spec.boolean ?? []);
  const aliases = spec.aliases ?? {};
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== "string") throw new TypeError("args must be an array of strings");
    if (arg === "-h" || arg === "--help") {
      help = true;
      continue;
    }
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    // A lone "-" is positional; a valued flag takes the next argument whatever it is (`-1`).
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    if (!arg.startsWith("--")) throw new UsageError(`unknown option ${arg}`, command);
    const eq = arg.indexOf("=");
    const given = arg.slice(2, eq < 0 ? undefined : eq);
    const name = aliases[given] ?? given;
    if (flags.has(name)) {
      throw new UsageError(
        `--${given} given twice${given !== name ? ` (as --${name})` : ""}`,
        command,
      );
    }
    if (valued.has(name)) {
      let value: string | undefined;
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < args.length) value = args[++i];
      if (value === undefined || value === "") {
        throw new UsageError(`--${given} needs a value`, command);
      }
      flags.set(name, value);
    } else if (boolean.has(name)) {
      if (eq >= 0) throw new UsageError(`--${given} takes no value`, command);
      flags.set(name, true);
    } else {
      throw new UsageError(`--${given} is not an option of ${command}`, command);
    }
  }
  return { flags, positional, help };
}

/** The value of a valued flag, if given. */
export function flagValue(parsed: ParsedArgs, name: string): string | undefined {
  const value = parsed.flags.get(name);
  return typeof value === "string" ? value : undefined;
}

/** Parses `--network NET` (default mainnet). */
export function parseNetwork(command: string, value: string | undefined): Network {
  if (value === undefined) return "mainnet";
  if (Object.hasOwn(NETWORK_MAGIC, value)) return value as Network;
  throw new UsageError(
    `unknown network ${value}; expected one of ${Object.keys(NETWORK_MAGIC).join(", ")}`,
    command,
  );
}

/** Parses a port number 0..65535. */
export function parsePort(command: string, value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(`invalid port ${value}; expected 0..65535`, command);
  }
  return port;
}

/** Parses milliseconds > 0 (or -1 when `allowForever`). */
export function parseMs(
  command: string,
  flag: string,
  value: string,
  options: { allowZero?: boolean; allowForever?: boolean } = {},
): number {
  if (options.allowForever && value === "-1") return -1;
  const ms = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  const min = options.allowZero ? 0 : 1;
  if (!(ms >= min && ms <= 2 ** 31 - 1)) {
    const forever = options.allowForever ? " or -1 (no limit)" : "";
    throw new UsageError(
      `invalid --${flag} ${value}; expected milliseconds ${
        options.allowZero ? "≥ 0" : "> 0"
      }${forever}`,
      command,
    );
  }
  return ms;
}

/** Parses a whole number `min..max` given to `--flag`. */
export function parseCount(
  command: string,
  flag: string,
  value: string,
  min: number,
  max: number,
): number {
  const n = /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(
      `invalid --${flag} ${value}; expected a whole number ${min}..${max}`,
      command,
    );
  }
  return n;
}

/** Parses `HOST[:PORT]` / `[IPV6]:PORT` (see `parseHostPort`). */
export function parseAddress(
  command: string,
  text: string,
  options: { defaultPort?: number; allowPortZero?: boolean },
): HostPort {
  try {
    return parseHostPort(text, options);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}
