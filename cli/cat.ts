/**
 * `cli.ts cat`: a netcat for BIP324. Connects as initiator, sends each stdin
 * line, prints each received message; at the end of stdin, every line read
 * has been handed to the session, received messages keep being printed for
 * `--linger` ms, then the session is closed cleanly.
 *
 * @module
 */

import type { Message } from "../layers/aliasing/aliasing.ts";
import { toHex } from "../layers/bytes.ts";
import type { Network } from "../layers/bitcoin/network.ts";
import { connect, connectWebSocket } from "../layers/session/connect.ts";
import { sessionRemote } from "../layers/session/listener.ts";
import type { Session } from "../layers/session/session.ts";
import { flagValue, parseFlags, parseMs, parseNetwork, parsePort, UsageError } from "./args.ts";
import {
  AUTH_FLAGS,
  AUTH_HELP,
  type AuthFlags,
  loadAuth,
  type LoadedAuth,
  parseAuthFlags,
} from "./auth.ts";
import { lines, parseInputLine } from "./input.ts";
import {
  type CommandContext,
  errorEvent,
  EXIT,
  EXIT_CODES_HELP,
  INTERRUPTED_EVENT,
  startFailed,
} from "./output.ts";
import {
  closedEvent,
  isAnswerablePing,
  messageLine,
  sessionEvent,
  SessionWriter,
  warnIfPlaintext,
} from "./session_io.ts";

/** Default `--linger`: ms to keep printing received messages after stdin ends. */
export const DEFAULT_LINGER = 2_000;

/** Options for `cat` (initiator). */
export interface CatCommand {
  /** The command. */
  command: "cat";
  /** Where to connect: a TCP address, or a WebSocket URL. */
  target: { kind: "tcp"; hostname: string; port: number } | { kind: "ws"; url: string };
  /** The network both ends must agree on. */
  network: Network;
  /** Ms for connecting, the handshake and authentication (`--timeout`); absent: the library's 20,000. */
  timeout?: number;
  /** Ms to keep reading after stdin ends; -1: until the peer closes. */
  linger: number;
  /** Refuse to fall back to unencrypted v1 (`--v2-only`, alias `--no-fallback`). */
  v2Only: boolean;
  /** Private authentication (`--identity`, `--accept`, `--accept-slots`); absent: off. */
  auth?: AuthFlags;
}

/** One-line synopsis. */
export const CAT_SYNOPSIS = "cli.ts cat HOST:PORT|ws://HOST:PORT/PATH [OPTIONS]";

/** `cli.ts cat --help`. */
export const CAT_HELP: string = `Usage: ${CAT_SYNOPSIS}

Connect as initiator. Each stdin line {"type":"<type>","payload":"<hex>"} is sent;
each received message is printed as such a line. A received ping (8-byte payload) is
answered with a pong, as a node does. At the end of stdin every line read has been
handed to the session; received messages are printed for --linger ms more, then the
session is closed cleanly (like netcat's -q).

Options:
  --network NET     mainnet, testnet3, testnet4, signet, regtest (default mainnet)
  --ws              WebSocket to ws://HOST:PORT/ instead of TCP (or give a ws:// URL)
  --timeout MS      connecting, the handshake (WebSocket opening included) and the
                    authentication, each (default 20000)
  --linger MS       after stdin ends, keep printing for MS ms (default ${DEFAULT_LINGER});
                    -1 waits until the peer closes, 0 closes at once
  --v2-only         never fall back to unencrypted v1 (alias --no-fallback); a
                    v1-only peer is an error (V1_ONLY_PEER)
  -h, --help        show this help

${AUTH_HELP}

Output (stdout, JSON lines):
  {"event":"session","session_id":"<hex>","role":"initiator","transport":"v2"|"v1","remote":"HOST:PORT"}
                                                 (+ "authenticated":true|false with auth on)
  {"type":"<type>","payload":"<hex>"}                       per received message
  {"event":"error","code":"<CODE>","message":"<text>"}     failures; BAD_INPUT adds "line":N
  {"event":"closed","session_id":"<hex>","remote":"HOST:PORT"}  (+ "reason":"<CODE>" on an error)
A v1 session (no --v2-only, peer without v2) also prints a warning on stderr, and so
does a peer that proved none of the --accept keys (the session goes on: your call).

${EXIT_CODES_HELP}`;

/** Parses `cat`'s arguments (after the command name). */
export function parseCat(args: readonly string[]): CatCommand {
  const parsed = parseFlags("cat", args, {
    valued: ["network", "timeout", "linger", ...AUTH_FLAGS],
    boolean: ["ws", "v2-only"],
    aliases: { "no-fallback": "v2-only" },
  });
  if (parsed.positional.length !== 1) {
    throw new UsageError("cat needs exactly one target, HOST:PORT or a ws:// URL", "cat");
  }
  const timeout = flagValue(parsed, "timeout");
  const linger = flagValue(parsed, "linger");
  const auth = parseAuthFlags("cat", parsed);
  return {
    command: "cat",
    target: parseTarget(parsed.positional[0], parsed.flags.has("ws")),
    network: parseNetwork("cat", flagValue(parsed, "network")),
    ...(timeout !== undefined ? { timeout: parseMs("cat", "timeout", timeout) } : {}),
    linger: linger === undefined
      ? DEFAULT_LINGER
      : parseMs("cat", "linger", linger, { allowZero: true, allowForever: true }),
    v2Only: parsed.flags.has("v2-only"),
    ...(auth !== undefined ? { auth } : {}),
  };
}

function parseTarget(target: string, ws: boolean): CatCommand["target"] {
  if (/^wss?:\/\//i.test(target)) {
    try {
      return { kind: "ws", url: new URL(target).href };
    } catch {
      throw new UsageError(`invalid URL ${target}`, "cat");
    }
  }
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d+)$/.exec(target);
  if (!match) {
    throw new UsageError(`invalid target ${target}; expected HOST:PORT or a ws:// URL`, "cat");
  }
  const hostname = match[1] ?? match[2];
  const port = parsePort("cat", match[3]);
  if (port === 0) throw new UsageError("cannot connect to port 0", "cat");
  if (ws) {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return { kind: "ws", url: `ws://${host}:${port}/` };
  }
  return { kind: "tcp", hostname, port };
}

function targetText(target: CatCommand["target"]): string {
  if (target.kind === "ws") {
    const url = new URL(target.url);
    return `${url.hostname}:${url.port || (url.protocol === "wss:" ? 443 : 80)}`;
  }
  const host = target.hostname.includes(":") ? `[${target.hostname}]` : target.hostname;
  return `${host}:${target.port}`;
}

/** Resolves after `ms` (or never for -1), or once `done` settles; the timer is cleared. */
async function lingerFor(ms: number, done: Promise<void>): Promise<void> {
  if (ms < 0) return await done;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Runs `cat`: returns the exit code. */
export async function runCat(command: CatCommand, ctx: CommandContext): Promise<number> {
  // The key file is read before connecting: a bad one is a usage error (exit 2).
  const auth = command.auth ? await loadAuth("cat", command.auth, command.timeout) : undefined;
  try {
    return await runSession(command, ctx, auth);
  } finally {
    auth?.wipe();
  }
}

async function runSession(
  command: CatCommand,
  ctx: CommandContext,
  auth: LoadedAuth | undefined,
): Promise<number> {
  const { out, err, signal } = ctx;
  let session: Session;
  try {
    session = command.target.kind === "tcp"
      ? await connect({
        ...command.target,
        network: command.network,
        handshakeTimeout: command.timeout,
        fallback: command.v2Only ? "none" : "v1",
        signal,
        ...(auth ? { auth: auth.options } : {}),
      })
      : await connectWebSocket({
        url: command.target.url,
        network: command.network,
        handshakeTimeout: command.timeout,
        signal,
        ...(auth ? { auth: auth.options } : {}),
      });
  } catch (error) {
    return await startFailed(out, signal, error);
  }
  const remote = sessionRemote(session) ?? targetText(command.target);
  const sessionId = toHex(session.sessionId);
  await out.write(sessionEvent(session, remote));
  await warnIfPlaintext(err, session, remote, "use --v2-only to refuse v1");
  if (command.auth && command.auth.accept.length > 0 && session.authenticated !== true) {
    await err.text(`warning: ${remote} proved none of the --accept keys\n`);
  }
  const writer = new SessionWriter(session);

  // The session ending (the peer closed it, or an error) stops reading stdin; so does
  // SIGINT/SIGTERM, which also closes the session at once.
  const stopInput = new AbortController();
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    stopInput.abort();
    session.close();
  };
  // (The signal may have fired while the session event was being written.)
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  session.closed.then(() => stopInput.abort());

  const receiving = (async () => {
    for await (const message of session.readable) {
      await out.write(messageLine(message));
      if (isAnswerablePing(message)) await writer.pong(message.payload.slice());
      if (out.failed) break;
    }
  })();
  receiving.catch(() => {});

  const { badLines, unsent, eof } = await sendInput(ctx.stdin, writer, stopInput.signal, out);

  // Every line read was handed to the session. Keep printing what arrives for a while.
  if (eof && session.isOpen && !interrupted) await lingerFor(command.linger, session.closed);
  signal.removeEventListener("abort", onAbort);
  await writer.close(); // flushes what was written, then closes the session
  await session.close();
  let failure: unknown;
  try {
    await receiving;
  } catch (error) {
    failure = error;
  }
  failure ??= session.closeReason;
  if (interrupted) {
    await out.write({ ...INTERRUPTED_EVENT });
  } else if (failure !== undefined) {
    await out.write(errorEvent(failure));
  } else if (unsent) {
    await out.write({
      event: "error",
      code: "CLOSED",
      message: `the session closed before input line ${unsent.line} was sent`,
      line: unsent.line,
    });
  }
  await out.write(
    closedEvent({ session_id: sessionId, remote }, interrupted ? undefined : failure),
  );
  if (interrupted) return EXIT.INTERRUPTED;
  if (failure !== undefined || unsent || out.failed) return EXIT.FAILURE;
  return badLines > 0 ? EXIT.BAD_INPUT : EXIT.OK;
}

/** Sends every stdin line until EOF (`eof`) or until `stop` aborts. */
async function sendInput(
  stdin: ReadableStream<Uint8Array>,
  writer: SessionWriter,
  stop: AbortSignal,
  out: CommandContext["out"],
): Promise<{ badLines: number; unsent?: { line: number; error: unknown }; eof: boolean }> {
  let lineNumber = 0;
  let badLines = 0;
  for await (const line of lines(stdin, stop)) {
    lineNumber++;
    let message: Message | undefined;
    try {
      if (line === null) throw new RangeError("line too long");
      message = parseInputLine(line);
    } catch (error) {
      badLines++;
      await out.write({
        event: "error",
        code: "BAD_INPUT",
        message: (error as Error).message,
        line: lineNumber,
      });
      continue;
    }
    if (message === undefined) continue;
    try {
      await writer.send(message);
    } catch (error) {
      return { badLines, unsent: { line: lineNumber, error }, eof: false };
    }
  }
  return { badLines, eof: !stop.aborted };
}
