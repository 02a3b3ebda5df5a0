/**
 * `cli.ts probe`: one node, one JSON line (see `examples/probe.ts`).
 *
 * @module
 */

import { DEFAULT_PORT, type Network } from "../layers/bitcoin/network.ts";
import { probe, type ProbeFallback, type ProbeResult } from "../examples/probe.ts";
import { flagValue, parseAddress, parseFlags, parseMs, parseNetwork, UsageError } from "./args.ts";
import { type CommandContext, EXIT, EXIT_CODES_HELP, startFailed } from "./output.ts";

/** Options for `probe`. */
export interface ProbeCommand {
  /** The command. */
  command: "probe";
  /** The node's host (IPv6 without brackets). */
  host: string;
  /** The node's port (the network's default when not given). */
  port: number;
  /** The node's network. */
  network: Network;
  /** Milliseconds for the whole probe, if given. */
  timeout?: number;
  /** v1 fallback policy (`--v1-only` → `"v1-only"`, `--v2-only`/`--no-fallback` → `"none"`). */
  fallback: ProbeFallback;
}

/** One-line synopsis. */
export const PROBE_SYNOPSIS = "cli.ts probe HOST[:PORT] [OPTIONS]";

/** `cli.ts probe --help`. */
export const PROBE_HELP: string = `Usage: ${PROBE_SYNOPSIS}

Connect to a node (v2, falling back to v1), exchange version/verack and one ping,
print ONE JSON line and exit. PORT defaults to the network's P2P port; write IPv6
with a port as [ADDR]:PORT.

Options:
  --network NET     mainnet, testnet3, testnet4, signet, regtest (default mainnet)
  --timeout MS      the whole probe (default 20000)
  --v2-only         never fall back to v1 (alias --no-fallback): a node that
                    cannot do v2 is an error (V1_ONLY_PEER)
  --v1-only         speak only the legacy v1 protocol
  -h, --help        show this help

Output (stdout, one line):
  {"address":..,"network":..,"transport":"v2"|"v1","session_id":..,"advertises_v2":..,
   "user_agent":..,"protocol_version":..,"features":[{"id":..,"data":"<hex>"}],
   "start_height":..,"services":"0x…",
   "service_names":[..],"relay":..,"ping_ms":..}
or {"event":"error","code":"<CODE>","message":"<text>"}.

${EXIT_CODES_HELP}`;

/** Parses `probe`'s arguments (after the command name). */
export function parseProbe(args: readonly string[]): ProbeCommand {
  const parsed = parseFlags("probe", args, {
    valued: ["network", "timeout"],
    boolean: ["v1-only", "v2-only"],
    aliases: { "no-fallback": "v2-only" },
  });
  if (parsed.positional.length !== 1) {
    throw new UsageError("probe needs exactly one target, HOST[:PORT]", "probe");
  }
  if (parsed.flags.has("v1-only") && parsed.flags.has("v2-only")) {
    throw new UsageError("--v1-only and --v2-only (--no-fallback) exclude each other", "probe");
  }
  const network = parseNetwork("probe", flagValue(parsed, "network"));
  const { host, port } = parseAddress("probe", parsed.positional[0], {
    defaultPort: DEFAULT_PORT[network],
  });
  const timeout = flagValue(parsed, "timeout");
  return {
    command: "probe",
    host,
    port,
    network,
    ...(timeout !== undefined ? { timeout: parseMs("probe", "timeout", timeout) } : {}),
    fallback: parsed.flags.has("v1-only") ? "v1-only" : parsed.flags.has("v2-only") ? "none" : "v1",
  };
}

/** Runs `probe`: prints one line (the result or an error) and returns the exit code. */
export async function runProbe(command: ProbeCommand, ctx: CommandContext): Promise<number> {
  const { out, signal } = ctx;
  let result: ProbeResult;
  try {
    result = await probe({
      host: command.host,
      port: command.port,
      network: command.network,
      timeout: command.timeout,
      fallback: command.fallback,
      signal,
    });
  } catch (error) {
    return await startFailed(out, signal, error);
  }
  await out.write({ ...result });
  return out.failed ? EXIT.FAILURE : EXIT.OK;
}
