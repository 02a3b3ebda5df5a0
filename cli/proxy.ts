/**
 * `cli.ts proxy`: legacy v1 programs → BIP324 v2 node (see `examples/proxy.ts`).
 *
 * @module
 */

import { DEFAULT_PORT, type Network } from "../layers/bitcoin/network.ts";
import { formatHostPort, type HostPort } from "../examples/probe.ts";
import {
  DEFAULT_PROXY_IDLE_TIMEOUT,
  DEFAULT_PROXY_TIMEOUT,
  type Proxy,
  type ProxyEvent,
  startProxy,
} from "../examples/proxy.ts";
import { flagValue, parseAddress, parseFlags, parseMs, parseNetwork, UsageError } from "./args.ts";
import { aborted, type CommandContext, errorEvent, EXIT, EXIT_CODES_HELP } from "./output.ts";

/** Options for `proxy`. */
export interface ProxyCommand {
  /** The command. */
  command: "proxy";
  /** Where to accept v1 clients. */
  listen: { hostname: string; port: number };
  /** The node to connect every client to; absent: each client's `version.addr_recv`. */
  to?: HostPort;
  /** The network both sides speak. */
  network: Network;
  /** Ms for each client's first message and its node's handshake (with or without `to`), if given. */
  timeout?: number;
  /** Ms a connection may go without a message either way (`--idle-timeout`); `Infinity`: never. */
  idleTimeout?: number;
  /** v1 fallback toward the node (`--v2-only`/`--no-fallback` → `"none"`). */
  fallback: "v1" | "none";
}

/** One-line synopsis. */
export const PROXY_SYNOPSIS = "cli.ts proxy [--listen HOST:PORT] [--to HOST[:PORT]] [OPTIONS]";

/** `cli.ts proxy --help`. */
export const PROXY_HELP: string = `Usage: ${PROXY_SYNOPSIS}

Accept legacy v1 connections (default 127.0.0.1:<network port>) and forward their
messages to a node over BIP324 v2 (v1 only if the node cannot do v2). The node is
--to, or else the addr_recv of each client's version message. Runs until SIGINT/SIGTERM.

Options:
  --listen HOST:PORT  where to accept v1 clients (port 0 picks a free one)
  --to HOST[:PORT]    the node to connect every client to
  --network NET       mainnet, testnet3, testnet4, signet, regtest (default mainnet)
  --timeout MS        for each client, with or without --to: the wait for its version
                      message and for the node's handshake (default ${DEFAULT_PROXY_TIMEOUT})
  --idle-timeout MS   close a connection after MS ms without a message either way (an
                      IDLE_TIMEOUT error event, then closed; default ${DEFAULT_PROXY_IDLE_TIMEOUT}; 0 never)
  --v2-only           toward the node: never fall back to v1 (alias --no-fallback);
                      a node that cannot do v2 is an error and the client is dropped
  -h, --help          show this help

Output (stdout, JSON lines):
  {"event":"listening","hostname":..,"port":N,"network":..,"to":..}
  {"event":"connection","id":N,"from":..,"to":..,"remote":"HOST:PORT","transport":"v2"|"v1","session_id":..}
  {"event":"closed","id":N,..,"messages":{..},"bytes":{..},"duration_ms":..}
  {"event":"error","code":"<CODE>","message":"<text>",..}
A v1 connection to the node also prints a warning on stderr.

${EXIT_CODES_HELP}`;

/** Parses `proxy`'s arguments (after the command name). */
export function parseProxy(args: readonly string[]): ProxyCommand {
  const parsed = parseFlags("proxy", args, {
    valued: ["network", "listen", "to", "timeout", "idle-timeout"],
    boolean: ["v2-only"],
    aliases: { "no-fallback": "v2-only" },
  });
  if (parsed.positional.length !== 0) {
    throw new UsageError(`unexpected argument ${parsed.positional[0]}`, "proxy");
  }
  const network = parseNetwork("proxy", flagValue(parsed, "network"));
  const listenAt = parseAddress(
    "proxy",
    flagValue(parsed, "listen") ?? `127.0.0.1:${DEFAULT_PORT[network]}`,
    { allowPortZero: true },
  );
  const to = flagValue(parsed, "to");
  const timeout = flagValue(parsed, "timeout");
  const idle = flagValue(parsed, "idle-timeout");
  const idleTimeout = idle === undefined
    ? undefined
    : parseMs("proxy", "idle-timeout", idle, { allowZero: true });
  return {
    command: "proxy",
    listen: { hostname: listenAt.host, port: listenAt.port },
    ...(to !== undefined
      ? { to: parseAddress("proxy", to, { defaultPort: DEFAULT_PORT[network] }) }
      : {}),
    network,
    ...(timeout !== undefined ? { timeout: parseMs("proxy", "timeout", timeout) } : {}),
    ...(idleTimeout !== undefined
      ? { idleTimeout: idleTimeout === 0 ? Infinity : idleTimeout }
      : {}),
    fallback: parsed.flags.has("v2-only") ? "none" : "v1",
  };
}

/** Runs `proxy` until `ctx.signal` aborts: returns the exit code. */
export async function runProxy(command: ProxyCommand, ctx: CommandContext): Promise<number> {
  const { out, err, signal } = ctx;
  const onEvent = (event: ProxyEvent) => {
    if (event.event !== "connection") {
      out.write({ ...event });
      return;
    }
    out.write({ ...event, remote: event.to });
    if (event.transport === "v1") {
      err.text(
        `warning: plaintext v1 session with ${event.to} (connection ${event.id}): not ` +
          "encrypted, not authenticated; use --v2-only to refuse v1 nodes\n",
      );
    }
  };
  let proxy: Proxy;
  try {
    proxy = startProxy({
      listen: command.listen,
      to: command.to,
      network: command.network,
      timeout: command.timeout,
      idleTimeout: command.idleTimeout,
      fallback: command.fallback,
      onEvent,
    });
  } catch (error) {
    // Options were checked above; what is left (e.g. --to naming the proxy itself) is ours.
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new UsageError(error.message, "proxy");
    }
    await out.write(errorEvent(error));
    return EXIT.FAILURE;
  }
  await out.write({
    event: "listening",
    hostname: proxy.addr.hostname,
    port: proxy.addr.port,
    network: command.network,
    ...(command.to ? { to: formatHostPort(command.to.host, command.to.port) } : {}),
  });
  await aborted(signal);
  await proxy.close();
  return out.failed ? EXIT.FAILURE : EXIT.OK;
}
