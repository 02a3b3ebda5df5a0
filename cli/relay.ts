/**
 * `cli.ts relay`: the WebSocket ⇄ TCP edge relay (see `examples/relay.ts`,
 * which parses the flags and runs the relay; this module wires its output
 * into the CLI's JSON lines and exit codes).
 *
 * @module
 */

import {
  parseRelayArgs,
  type Relay,
  RELAY_USAGE,
  RelayUsageError,
  startRelay,
} from "../examples/relay.ts";
import { UsageError } from "./args.ts";
import { aborted, type CommandContext, errorEvent, EXIT, EXIT_CODES_HELP } from "./output.ts";

/** `relay ARGS…`: parsed by `examples/relay.ts` when it runs. */
export interface RelayCommand {
  /** The command. */
  command: "relay";
  /** The arguments after `relay`. */
  args: string[];
}

/** One-line synopsis. */
export const RELAY_SYNOPSIS = "cli.ts relay --to HOST:PORT [OPTIONS]";

/** `cli.ts relay --help`. */
export const RELAY_HELP: string = `${
  RELAY_USAGE.replace("Usage:\n  relay.ts", "Usage:\n  cli.ts relay")
}
Errors are {"event":"error","code":"<CODE>","message":"<text>"} lines on stdout
(e.g. ADDR_IN_USE when the port is taken).

${EXIT_CODES_HELP}`;

/** Runs `relay` until `ctx.signal` aborts: returns the exit code. */
export async function runRelay(command: RelayCommand, ctx: CommandContext): Promise<number> {
  const { out, signal } = ctx;
  let parsed: ReturnType<typeof parseRelayArgs>;
  try {
    parsed = parseRelayArgs(command.args);
  } catch (error) {
    if (error instanceof RelayUsageError) throw new UsageError(error.message, "relay");
    throw error;
  }
  if (parsed.command === "help") {
    await out.text(RELAY_HELP);
    return EXIT.OK;
  }
  let relay: Relay;
  try {
    relay = startRelay({ ...parsed.options, onEvent: (event) => void out.write({ ...event }) });
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new UsageError(error.message, "relay");
    }
    await out.write(errorEvent(error));
    return EXIT.FAILURE;
  }
  await out.write({ event: "listening", hostname: relay.addr.hostname, port: relay.addr.port });
  await aborted(signal);
  await relay.close();
  await out.write({ event: "stopped", ...relay.metrics() });
  return out.failed ? EXIT.FAILURE : EXIT.OK;
}
