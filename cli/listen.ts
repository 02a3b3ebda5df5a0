/**
 * `cli.ts listen`: accepts sessions as responder (concurrently) over TCP or
 * WebSocket and prints their messages, until SIGINT/SIGTERM.
 *
 * @module
 */

import type { AuthenticateOptions } from "../layers/auth/authenticate.ts";
import { toHex } from "../layers/bytes.ts";
import { Bip324Error } from "../layers/errors.ts";
import type { Network } from "../layers/bitcoin/network.ts";
import { listen, listenWebSocket } from "../layers/session/connect.ts";
import {
  DEFAULT_LISTENER_IDLE_TIMEOUT,
  DEFAULT_MAX_SESSIONS,
  type SessionListener,
  sessionRemote,
} from "../layers/session/listener.ts";
import type { Session } from "../layers/session/session.ts";
import {
  flagValue,
  parseCount,
  parseFlags,
  parseMs,
  parseNetwork,
  parsePort,
  UsageError,
} from "./args.ts";
import { AUTH_FLAGS, AUTH_HELP, type AuthFlags, loadAuth, parseAuthFlags } from "./auth.ts";
import {
  aborted,
  type CommandContext,
  errorEvent,
  EXIT,
  EXIT_CODES_HELP,
  type JsonLineWriter,
} from "./output.ts";
import {
  closedEvent,
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
  /** Ms each handshake (and authentication) may take (`--timeout`); absent: the library's 20,000. */
  timeout?: number;
  /** Sessions open at once, handshakes included (`--max-sessions`); absent: the library's 1,024. */
  maxSessions?: number;
  /** Ms without inbound bytes before a session is closed; 0 never (`--idle-timeout`); absent: 20 minutes. */
  idleTimeout?: number;
  /** Private authentication on every session (`--identity`, `--accept`, `--accept-slots`); absent: off. */
  auth?: AuthFlags;
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
  --timeout MS      time each handshake (and authentication) may take (default 20000)
  --v2-only         refuse peers that speak v1 (each one: an error event, code V1_PROTOCOL)
  --max-sessions N  sessions open at once, handshakes included (default ${DEFAULT_MAX_SESSIONS});
                    a connection past it is refused (an error event, code BUSY; the
                    peer sees an error, never a v1 session)
  --idle-timeout MS close a session after MS ms without a byte from the peer (default
                    ${DEFAULT_LISTENER_IDLE_TIMEOUT} = 20 minutes; 0 never); its closed event then has
                    "reason":"IDLE_TIMEOUT"
  -h, --help        show this help

${AUTH_HELP}

Output (stdout, JSON lines):
  {"event":"listening","hostname":"ADDR","port":N}         (+ "public_key" of --identity)
  {"event":"session","session_id":"<hex>","role":"responder","transport":"v2"|"v1","remote":"HOST:PORT"}
                                                 (+ "authenticated":true|false with auth on)
  {"type":"<type>","payload":"<hex>","session_id":"<hex>","remote":"HOST:PORT"}
  {"event":"closed","session_id":"<hex>","remote":"HOST:PORT"}  (+ "reason":"<CODE>" on an error)
  {"event":"error","code":"<CODE>","message":"<text>", "session_id"/"remote" when known}
A v1 session also prints a warning on stderr. (v1 sessions have an empty session_id:
tell them apart by "remote"; with auth on they are never authenticated.)

${EXIT_CODES_HELP}`;

/** Parses `listen`'s arguments (after the command name). */
export function parseListen(args: readonly string[]): ListenCommand {
  const parsed = parseFlags("listen", args, {
    valued: [
      "network",
      "port",
      "hostname",
      "timeout",
      "max-sessions",
      "idle-timeout",
      ...AUTH_FLAGS,
    ],
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
  const maxSessions = flagValue(parsed, "max-sessions");
  const idleTimeout = flagValue(parsed, "idle-timeout");
  const auth = parseAuthFlags("listen", parsed);
  return {
    command: "listen",
    port: parsePort("listen", port),
    hostname: flagValue(parsed, "hostname") ?? "127.0.0.1",
    network: parseNetwork("listen", flagValue(parsed, "network")),
    ws: parsed.flags.has("ws"),
    echo: parsed.flags.has("echo"),
    v2Only: parsed.flags.has("v2-only"),
    ...(timeout !== undefined ? { timeout: parseMs("listen", "timeout", timeout) } : {}),
    ...(maxSessions !== undefined
      ? { maxSessions: parseCount("listen", "max-sessions", maxSessions, 1, 2 ** 31 - 1) }
      : {}),
    ...(idleTimeout !== undefined
      ? { idleTimeout: parseMs("listen", "idle-timeout", idleTimeout, { allowZero: true }) }
      : {}),
    ...(auth !== undefined ? { auth } : {}),
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
  await out.write(closedEvent(tags, reason));
}

/** Runs `listen` until `ctx.signal` aborts: returns the exit code. */
export async function runListen(command: ListenCommand, ctx: CommandContext): Promise<number> {
  // The key file is read before anything listens: a bad one is a usage error (exit 2).
  const auth = command.auth ? await loadAuth("listen", command.auth, command.timeout) : undefined;
  try {
    return await serve(command, ctx, auth?.options, auth?.publicKey);
  } finally {
    auth?.wipe();
  }
}

async function serve(
  command: ListenCommand,
  { out, err, signal }: CommandContext,
  auth: AuthenticateOptions | undefined,
  publicKey: string | undefined,
): Promise<number> {
  const options = {
    port: command.port,
    hostname: command.hostname,
    network: command.network,
    v1: command.v2Only ? "reject" as const : "accept" as const,
    handshakeTimeout: command.timeout,
    maxSessions: command.maxSessions,
    idleTimeout: command.idleTimeout,
    ...(auth ? { auth } : {}),
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
    ...(publicKey !== undefined ? { public_key: publicKey } : {}),
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
