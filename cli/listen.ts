/**
 * `cli.ts listen`: accepts sessions as responder (concurrently) over TCP or
 * WebSocket and prints their messages, until SIGINT/SIGTERM.
 *
 * @module
 */

import { toHex } from "../layers/bytes.ts";
import { Bip324Error } from "../layers/errors.ts";
import type { Network } from "../layers/bitcoin/network.ts";
import { listen, listenWebSocket } from "../layers/session/connect.ts";
import { type SessionListener, sessionRemote } from "../layers/session/listener.ts";
import type { Session } from "../layers/session/session.ts";
import { flagValue, parseFlags, parseMs, parseNetwork, parsePort, UsageError } from "./args.ts";
import {
  aborted,
  type CommandContext,
  errorEvent,
  EXIT,
  EXIT_CODES_HELP,
  type JsonLineWriter,
} from "./output.ts";
import {
  isAnswerablePing,
  messageLine,
  sessionEvent,
  SessionWriter,
  warnIfPlaintext,
} from "./session_io.ts";

/** Options for `listen` (responder). */
export interface ListenCommand {
  /** The command. */
  command: "listen";
  /** Port to listen on (0 picks a free one). */
  port: number;
  /** Address to bind. */
  hostname: string;
  /** The network both ends must agree on. */
  network: Network;
  /** Serve WebSocket instead of TCP. */
  ws: boolean;
  /** Send every received message straight back. */
  echo: boolean;
  /** Refuse peers that speak v1 (`--v2-only`). */
  v2Only: boolean;
  /** Ms each handshake may take (`--timeout`); absent: the library's 20,000. */
  timeout?: number;
}

/** One-line synopsis. */
export const LISTEN_SYNOPSIS = "cli.ts listen --port N [OPTIONS]";

/** `cli.ts listen --help`. */
export const LISTEN_HELP: string = `Usage: ${LISTEN_SYNOPSIS}

Accept sessions as responder (concurrently) and print their messages, until
SIGINT/SIGTERM. A received ping (8-byte payload) is answered with a pong. Peers
that open with a v1 version message get a plaintext v1 session unless --v2-only.

Options:
  --port N          port to listen on (0 picks a free one; see the "listening" event)
  --hostname ADDR   address to bind (default 127.0.0.1)
  --network NET     mainnet, testnet3, testnet4, signet, regtest (default mainnet)
  --ws              serve WebSocket (any path) instead of TCP
  --echo            send every received message straight back
  --timeout MS      time each handshake may take (default 20000)
  --v2-only         refuse peers that speak v1 (each one: an error event, code V1_PROTOCOL)
  -h, --help        show this help

Output (stdout, JSON lines):
  {"event":"listening","hostname":"ADDR","port":N}
  {"event":"session","session_id":"<hex>","role":"responder","transport":"v2"|"v1","remote":"HOST:PORT"}
  {"type":"<type>","payload":"<hex>","session_id":"<hex>","remote":"HOST:PORT"}
  {"event":"closed","session_id":"<hex>","remote":"HOST:PORT"}
  {"event":"error","code":"<CODE>","message":"<text>", "session_id"/"remote" when known}
A v1 session also prints a warning on stderr. (v1 sessions have an empty session_id:
tell them apart by "remote".)

${EXIT_CODES_HELP}`;

/** Parses `listen`'s arguments (after the command name). */
export function parseListen(args: readonly string[]): ListenCommand {
  const parsed = parseFlags("listen", args, {
    valued: ["network", "port", "hostname", "timeout"],
    boolean: ["ws", "echo", "v2-only"],
  });
  if (parsed.positional.length !== 0) {
    throw new UsageError(`unexpected argument ${parsed.positional[0]}`, "listen");
  }
  const port = flagValue(parsed, "port");
  if (port === undefined) {
    throw new UsageError("listen needs --port N (0 picks a free one)", "listen");
  }
  const timeout = flagValue(parsed, "timeout");
  return {
    command: "listen",
    port: parsePort("listen", port),
    hostname: flagValue(parsed, "hostname") ?? "127.0.0.1",
    network: parseNetwork("listen", flagValue(parsed, "network")),
    ws: parsed.flags.has("ws"),
    echo: parsed.flags.has("echo"),
    v2Only: parsed.flags.has("v2-only"),
    ...(timeout !== undefined ? { timeout: parseMs("listen", "timeout", timeout) } : {}),
  };
}

/** Serves one responder session. */
async function serveSession(
  session: Session,
  echo: boolean,
  out: JsonLineWriter,
  err: JsonLineWriter,
): Promise<void> {
  const remote = sessionRemote(session) ?? "unknown";
  const tags = { session_id: toHex(session.sessionId), remote };
  await out.write(sessionEvent(session, remote));
  await warnIfPlaintext(err, session, remote, "use --v2-only to refuse v1 peers");
  const writer = new SessionWriter(session);
  try {
    for await (const message of session.readable) {
      await out.write(messageLine(message, tags));
      if (isAnswerablePing(message)) await writer.pong(message.payload.slice());
      else if (echo) await writer.send(message);
    }
  } catch (error) {
    if (session.closeReason === undefined && !(error instanceof Bip324Error)) {
      await out.write(errorEvent(error, tags));
    }
  } finally {
    await writer.close();
    await session.close();
  }
  const reason = session.closeReason;
  if (reason) await out.write(errorEvent(reason, tags));
  await out.write({ event: "closed", ...tags });
}

/** Runs `listen` until `ctx.signal` aborts: returns the exit code. */
export async function runListen(command: ListenCommand, ctx: CommandContext): Promise<number> {
  const { out, err, signal } = ctx;
  const options = {
    port: command.port,
    hostname: command.hostname,
    network: command.network,
    v1: command.v2Only ? "reject" as const : "accept" as const,
    handshakeTimeout: command.timeout,
    onError: (error: Bip324Error, remote: string | undefined) => {
      out.write(errorEvent(error, remote ? { remote } : {}));
    },
  };
  let listener: SessionListener;
  try {
    listener = command.ws ? listenWebSocket(options) : listen(options);
  } catch (error) {
    await out.write(errorEvent(error));
    return EXIT.FAILURE;
  }
  await out.write({
    event: "listening",
    hostname: listener.addr.hostname,
    port: listener.addr.port,
  });
  const sessions = new Set<Session>();
  const served = new Set<Promise<void>>();
  const accepting = (async () => {
    for await (const session of listener) {
      sessions.add(session);
      const task = serveSession(session, command.echo, out, err).finally(() => {
        sessions.delete(session);
        served.delete(task);
      });
      served.add(task);
    }
  })();
  await aborted(signal);
  const closing = listener.close();
  await Promise.all([...sessions].map((s) => s.close()));
  await closing.catch(() => {});
  await accepting.catch(() => {});
  await Promise.all([...served]);
  return out.failed ? EXIT.FAILURE : EXIT.OK;
}
