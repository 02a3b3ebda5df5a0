/**
 * `bip324` — a netcat for BIP324, speaking JSON lines on stdin/stdout.
 *
 * ```sh
 * deno run -A cli.ts cat 127.0.0.1:18444 --network regtest      # initiator
 * deno run -A cli.ts listen --port 0 --network regtest --echo   # responder
 * deno run -A cli.ts probe seed.bitcoin.sipa.be                  # one node: v2? version? ping?
 * deno run -A cli.ts proxy --listen 127.0.0.1:8333 --to HOST:PORT # v1 programs → v2 node
 * ```
 *
 * Output (stdout, one JSON object per line):
 *
 * - `{"event":"listening","port":N}` (listen mode, once);
 * - `{"event":"session","session_id":"<hex>","role":"initiator"|"responder"}`;
 * - `{"type":"<type>","payload":"<hex>"}` per received message (in listen mode
 *   with a `"session_id"` field too);
 * - `{"event":"closed","session_id":"<hex>"}` when a session ends (listen mode);
 * - `{"event":"error","code":"<code>","message":"<text>"}` on failure (in
 *   listen mode with `"session_id"` or `"remote"` when known).
 *
 * Input (stdin, cat mode): one `{"type":"<type>","payload":"<hex>"}` per line.
 * A malformed line is reported on stderr as
 * `{"event":"error","code":"BAD_INPUT","message":..,"line":N}` and skipped.
 *
 * A received `ping` with an 8-byte payload is answered with a `pong` carrying
 * the same payload, as a Bitcoin node would.
 *
 * `probe` prints exactly one line and exits: the {@linkcode ProbeResult}
 * (`{"address":..,"network":..,"transport":"v2"|"v1","session_id":..,
 * "advertises_v2":..,"user_agent":..,"protocol_version":..,"start_height":..,
 * "services":"0x…","service_names":[..],"relay":..,"ping_ms":..}`, exit 0) or an
 * error event (exit 1).
 *
 * `proxy` prints `{"event":"listening","hostname":..,"port":N,"network":..,"to":..}`
 * once, then one {@linkcode ProxyEvent} per line (`connection`, `closed`,
 * `error`) until SIGINT/SIGTERM.
 *
 * `relay ARGS…` hands its arguments to `examples/relay.ts` (`runRelayCli`).
 *
 * @module
 */

import { checkMessageType, type Message } from "./layers/aliasing/aliasing.ts";
import { fromHex, toHex } from "./layers/bytes.ts";
import { Bip324Error } from "./layers/errors.ts";
import type { SessionListener } from "./layers/session/listener.ts";
import { DEFAULT_PORT, type Network, NETWORK_MAGIC } from "./layers/bitcoin/network.ts";
import type { Session } from "./layers/session/session.ts";
import { openSession } from "./layers/session/open.ts";
import { connect, listen } from "./layers/session/connect.ts";
import { webSocketPair } from "./transports/websocket.ts";
import { listenWebSocket } from "./layers/session/connect.ts";
import {
  formatHostPort,
  type HostPort,
  parseHostPort,
  probe,
  type ProbeFallback,
  type ProbeResult,
} from "./examples/probe.ts";
import { type Proxy, type ProxyEvent, startProxy } from "./examples/proxy.ts";

/** Usage text, printed by `--help` (stdout) and on usage errors (stderr). */
export const USAGE: string = `Usage:
  cli.ts cat HOST:PORT [--network NET] [--ws]
  cli.ts cat ws://HOST:PORT/PATH [--network NET]
  cli.ts listen --port N [--hostname ADDR] [--network NET] [--ws] [--echo]
  cli.ts probe HOST[:PORT] [--network NET] [--timeout MS] [--v1-only | --no-fallback]
  cli.ts proxy [--listen HOST:PORT] [--to HOST[:PORT]] [--network NET] [--timeout MS]
               [--no-fallback]
  cli.ts relay ARGS...
  cli.ts --help

cat      connect as initiator; send each stdin line {"type":..,"payload":"<hex>"},
         print each received message as a JSON line; EOF on stdin closes the session.
listen   accept sessions as responder (concurrently) and print their messages
         (with "session_id"); runs until SIGINT/SIGTERM.
probe    connect to a node (v2, falling back to v1), exchange version/verack and one
         ping, print ONE JSON line (transport, session_id, advertises_v2, user_agent,
         services, ping_ms, ...) and exit. PORT defaults to the network's P2P port;
         write IPv6 with a port as [ADDR]:PORT.
proxy    accept legacy v1 connections (default 127.0.0.1:<network port>) and forward
         their messages to a node over BIP324 v2 (v1 if the node cannot do v2). The
         node is --to, or else the addr_recv of each client's version message.
         Prints a "listening" line, then connection/closed/error lines; runs until
         SIGINT/SIGTERM.
relay    run examples/relay.ts with the remaining arguments.

Options:
  --network NET    ${Object.keys(NETWORK_MAGIC).join(", ")} (default mainnet)
  --ws             WebSocket transport (cat: ws://HOST:PORT/) instead of TCP
  --port N         port to listen on (0 picks a free one; see the "listening" event)
  --hostname ADDR  address to bind (default 127.0.0.1)
  --echo           send every received message straight back
  --timeout MS     probe: whole probe (default 20000); proxy: client's first message
                   and the node's handshake (default 20000)
  --v1-only        probe: speak only the legacy v1 protocol
  --no-fallback    probe/proxy: v2 only; a node that cannot do v2 is an error
  --listen ADDR    proxy: HOST:PORT to accept v1 clients on (port 0 picks a free one)
  --to ADDR        proxy: the node to connect every client to
  -h, --help       show this help

Received pings (8-byte payload) are answered with a pong, as a Bitcoin node does.
`;

/** Largest payload accepted on stdin (Bitcoin Core's largest protocol message). */
export const MAX_INPUT_PAYLOAD = 4_000_000;

/** Largest stdin line, in characters (a maximal payload in hex plus slack). */
const MAX_LINE_LENGTH = 2 * MAX_INPUT_PAYLOAD + 4096;

/** Pongs allowed to queue before answering pings waits for the peer to read. */
const MAX_QUEUED_PONGS = 64;

/** Thrown by {@linkcode parseCliArgs} for a command line it cannot accept. */
export class UsageError extends Error {
  /** Creates a usage error with a human-readable reason. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Options for `cat` (initiator). */
export interface CatCommand {
  /** The command. */
  command: "cat";
  /** Where to connect: a TCP address, or a WebSocket URL. */
  target: { kind: "tcp"; hostname: string; port: number } | { kind: "ws"; url: string };
  /** The network both ends must agree on. */
  network: Network;
}

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
}

/** `--help`. */
export interface HelpCommand {
  /** The command. */
  command: "help";
}

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
  /** v1 fallback policy (`--v1-only` → `"v1-only"`, `--no-fallback` → `"none"`). */
  fallback: ProbeFallback;
}

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
  /** Milliseconds for a client's first message and the node's handshake, if given. */
  timeout?: number;
  /** v1 fallback toward the node (`--no-fallback` → `"none"`). */
  fallback: "v1" | "none";
}

/** `relay ARGS…`: handed to `examples/relay.ts` unparsed. */
export interface RelayCommand {
  /** The command. */
  command: "relay";
  /** The arguments after `relay`. */
  args: string[];
}

/** A parsed command line. */
export type CliCommand =
  | CatCommand
  | ListenCommand
  | ProbeCommand
  | ProxyCommand
  | RelayCommand
  | HelpCommand;

/**
 * Parses the command line (without the program name). Throws
 * {@linkcode UsageError} for anything it does not accept.
 */
export function parseCliArgs(args: readonly string[]): CliCommand {
  if (!Array.isArray(args)) throw new TypeError("args must be an array of strings");
  if (args[0] === "relay") {
    if (!args.every((arg) => typeof arg === "string")) {
      throw new TypeError("args must be an array of strings");
    }
    return { command: "relay", args: args.slice(1) };
  }
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const valued = new Set(["network", "port", "hostname", "timeout", "listen", "to"]);
  const boolean = new Set(["ws", "echo", "help", "v1-only", "no-fallback"]);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== "string") throw new TypeError("args must be an array of strings");
    if (arg === "-h" || arg === "--help") return { command: "help" };
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    if (!arg.startsWith("--")) throw new UsageError(`unknown option ${arg}`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (flags.has(name)) throw new UsageError(`--${name} given twice`);
    if (valued.has(name)) {
      let value: string | undefined;
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < args.length) value = args[++i];
      if (value === undefined || value === "") throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else if (boolean.has(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }

  const network = parseNetwork(flags.get("network"));
  const [command, ...rest] = positional;
  const allow = (...names: string[]) => {
    for (const name of flags.keys()) {
      if (!names.includes(name)) throw new UsageError(`--${name} is not an option of ${command}`);
    }
  };
  if (command === "cat") {
    allow("network", "ws");
    if (rest.length !== 1) throw new UsageError("cat needs exactly one target, HOST:PORT or a URL");
    return { command, target: parseTarget(rest[0], flags.has("ws")), network };
  }
  if (command === "listen") {
    allow("network", "ws", "echo", "port", "hostname");
    if (rest.length !== 0) throw new UsageError(`unexpected argument ${rest[0]}`);
    const port = flags.get("port");
    if (port === undefined) throw new UsageError("listen needs --port N (0 picks a free one)");
    return {
      command,
      port: parsePort(port as string),
      hostname: (flags.get("hostname") as string | undefined) ?? "127.0.0.1",
      network,
      ws: flags.has("ws"),
      echo: flags.has("echo"),
    };
  }
  if (command === "probe") {
    allow("network", "timeout", "v1-only", "no-fallback");
    if (rest.length !== 1) throw new UsageError("probe needs exactly one target, HOST[:PORT]");
    if (flags.has("v1-only") && flags.has("no-fallback")) {
      throw new UsageError("--v1-only and --no-fallback exclude each other");
    }
    const { host, port } = parseAddress(rest[0], { defaultPort: DEFAULT_PORT[network] });
    const timeout = flags.get("timeout");
    return {
      command,
      host,
      port,
      network,
      ...(timeout !== undefined ? { timeout: parseTimeout(timeout as string) } : {}),
      fallback: flags.has("v1-only") ? "v1-only" : flags.has("no-fallback") ? "none" : "v1",
    };
  }
  if (command === "proxy") {
    allow("network", "listen", "to", "timeout", "no-fallback");
    if (rest.length !== 0) throw new UsageError(`unexpected argument ${rest[0]}`);
    const listenAt = parseAddress(
      (flags.get("listen") as string | undefined) ?? `127.0.0.1:${DEFAULT_PORT[network]}`,
      { allowPortZero: true },
    );
    const to = flags.get("to") as string | undefined;
    const timeout = flags.get("timeout");
    return {
      command,
      listen: { hostname: listenAt.host, port: listenAt.port },
      ...(to !== undefined ? { to: parseAddress(to, { defaultPort: DEFAULT_PORT[network] }) } : {}),
      network,
      ...(timeout !== undefined ? { timeout: parseTimeout(timeout as string) } : {}),
      fallback: flags.has("no-fallback") ? "none" : "v1",
    };
  }
  if (command === undefined) throw new UsageError("no command given");
  throw new UsageError(`unknown command ${command}`);
}

function parseAddress(
  text: string,
  options: { defaultPort?: number; allowPortZero?: boolean },
): HostPort {
  try {
    return parseHostPort(text, options);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseTimeout(value: string): number {
  const ms = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(ms > 0)) throw new UsageError(`invalid timeout ${value}; expected milliseconds > 0`);
  return ms;
}

function parseNetwork(value: string | true | undefined): Network {
  if (value === undefined) return "mainnet";
  if (typeof value === "string" && Object.hasOwn(NETWORK_MAGIC, value)) return value as Network;
  throw new UsageError(
    `unknown network ${value}; expected one of ${Object.keys(NETWORK_MAGIC).join(", ")}`,
  );
}

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`invalid port ${value}`);
  return port;
}

function parseTarget(target: string, ws: boolean): CatCommand["target"] {
  if (/^wss?:\/\//i.test(target)) {
    try {
      return { kind: "ws", url: new URL(target).href };
    } catch {
      throw new UsageError(`invalid URL ${target}`);
    }
  }
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d+)$/.exec(target);
  if (!match) throw new UsageError(`invalid target ${target}; expected HOST:PORT or a ws:// URL`);
  const hostname = match[1] ?? match[2];
  const port = parsePort(match[3]);
  if (port === 0) throw new UsageError("cannot connect to port 0");
  if (ws) {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return { kind: "ws", url: `ws://${host}:${port}/` };
  }
  return { kind: "tcp", hostname, port };
}

/** Where the CLI reads and writes; defaults to the process's own streams and signals. */
export interface CliIo {
  /** Input lines (cat mode). Default `Deno.stdin.readable`. */
  stdin?: ReadableStream<Uint8Array>;
  /** JSON-line output. Default `Deno.stdout.writable`. */
  stdout?: WritableStream<Uint8Array>;
  /** Usage text and input errors. Default `Deno.stderr.writable`. */
  stderr?: WritableStream<Uint8Array>;
  /** Aborting it stops the command cleanly. Default: SIGINT or SIGTERM. */
  signal?: AbortSignal;
}

/**
 * Writes JSON lines through a single writer, in call order; each call's
 * promise settles once its line has been accepted by the stream, so awaiting
 * it applies the output's backpressure. Never rejects: after an output
 * failure, lines are dropped and {@linkcode JsonLineWriter.failed} is set.
 */
export class JsonLineWriter {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #encoder = new TextEncoder();
  #failed = false;
  #last: Promise<void> = Promise.resolve();

  /** Takes the writer lock of `stream` until {@linkcode JsonLineWriter.release}. */
  constructor(stream: WritableStream<Uint8Array>) {
    this.#writer = stream.getWriter();
  }

  /** Whether a write to the output failed (e.g. a closed pipe). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Writes `value` as one JSON line. */
  write(value: Record<string, unknown>): Promise<void> {
    return this.text(JSON.stringify(value) + "\n");
  }

  /** Writes raw text (usage). */
  text(text: string): Promise<void> {
    if (this.#failed) return Promise.resolve();
    const written = this.#writer.write(this.#encoder.encode(text)).catch(() => {
      this.#failed = true;
    });
    this.#last = written;
    return written;
  }

  /** Waits for every queued line, then releases the stream (without closing it). */
  async release(): Promise<void> {
    await this.#last;
    this.#writer.releaseLock();
  }
}

/** An error as the `code` and `message` of an error event. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof Bip324Error) return { code: error.code, message: error.message };
  if (
    error instanceof Deno.errors.ConnectionRefused || error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.AddrInUse || error instanceof Deno.errors.AddrNotAvailable ||
    error instanceof Deno.errors.PermissionDenied
  ) {
    return { code: "TRANSPORT", message: String(error.message) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: "INTERNAL", message };
}

/**
 * Parses one stdin line into a message. Returns `undefined` for a blank line;
 * throws `TypeError` or `RangeError` (with a readable reason) for a malformed one.
 */
export function parseInputLine(line: string): Message | undefined {
  if (line.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new TypeError(`not JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError('expected an object {"type":..,"payload":"<hex>"}');
  }
  const { type, payload = "" } = value as { type?: unknown; payload?: unknown };
  checkMessageType(type);
  if (typeof payload !== "string") throw new TypeError("payload must be a hex string");
  if (payload.length > 2 * MAX_INPUT_PAYLOAD) {
    throw new RangeError(`payload must be at most ${MAX_INPUT_PAYLOAD} bytes`);
  }
  return { type: type as string, payload: fromHex(payload) };
}

/**
 * Splits a byte stream into lines (without `\n` / `\r\n`); an over-long line
 * yields `null`. Aborting `signal` ends the lines at once.
 */
async function* lines(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<string | null> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const stop = () => reader.cancel().catch(() => {});
  if (signal.aborted) stop();
  else signal.addEventListener("abort", stop, { once: true });
  let buffer = "";
  let skipping = false;
  const emit = (line: string) => line.endsWith("\r") ? line.slice(0, -1) : line;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let start = 0;
      for (let nl = value.indexOf("\n"); nl >= 0; nl = value.indexOf("\n", start)) {
        const piece = value.slice(start, nl);
        start = nl + 1;
        if (skipping) {
          skipping = false;
          buffer = "";
          continue;
        }
        const line = buffer + piece;
        buffer = "";
        yield emit(line);
      }
      if (!skipping) {
        buffer += value.slice(start);
        if (buffer.length > MAX_LINE_LENGTH) {
          buffer = "";
          skipping = true;
          yield null;
        }
      }
    }
    if (!skipping && buffer.length > 0 && !signal.aborted) yield emit(buffer);
  } finally {
    signal.removeEventListener("abort", stop);
    reader.cancel().catch(() => {});
  }
}

/** Serializes writes to a session and answers pings. */
class SessionWriter {
  #writer: WritableStreamDefaultWriter<Message>;
  #queuedPongs = 0;

  constructor(session: Session) {
    this.#writer = session.writable.getWriter();
    this.#writer.closed.catch(() => {});
  }

  /** Sends a message; resolves once the session has taken it (backpressure). */
  send(message: Message): Promise<void> {
    return this.#writer.write(message);
  }

  /** Answers a ping without waiting, unless many pongs are already queued. */
  async pong(payload: Uint8Array): Promise<void> {
    this.#queuedPongs++;
    const sent = this.#writer.write({ type: "pong", payload }).catch(() => {}).finally(() => {
      this.#queuedPongs--;
    });
    if (this.#queuedPongs > MAX_QUEUED_PONGS) await sent;
  }

  /** Flushes pending writes and closes the session. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
  }
}

function isAnswerablePing(message: Message): boolean {
  return message.type === "ping" && message.payload.length === 8;
}

function messageLine(message: Message, sessionId?: string): Record<string, unknown> {
  const line: Record<string, unknown> = { type: message.type, payload: toHex(message.payload) };
  if (sessionId !== undefined) line.session_id = sessionId;
  return line;
}

/** Runs `cat`: returns the exit code. */
async function runCat(
  command: CatCommand,
  out: JsonLineWriter,
  err: JsonLineWriter,
  stdin: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): Promise<number> {
  let session: Session;
  let transportClosed: Promise<void> = Promise.resolve();
  try {
    if (command.target.kind === "tcp") {
      session = await connect({ ...command.target, network: command.network, signal });
    } else {
      ({ session, transportClosed } = await connectWs(command.target.url, command.network, signal));
    }
  } catch (error) {
    if (signal.aborted) return 0;
    await out.write({ event: "error", ...describeError(error) });
    return 1;
  }
  const sessionId = toHex(session.sessionId);
  await out.write({ event: "session", session_id: sessionId, role: session.role });
  const writer = new SessionWriter(session);
  // The session ending first (e.g. the peer closed it) stops reading stdin. SIGINT/SIGTERM
  // also closes the session (what it already took is flushed, up to its close timeout)
  // even if writes are stuck waiting for a peer that does not read.
  const stopInput = new AbortController();
  const stop = () => stopInput.abort();
  const onAbort = () => {
    stop();
    session.close();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  session.closed.then(stop);

  const receiving = (async () => {
    for await (const message of session.readable) {
      await out.write(messageLine(message));
      if (isAnswerablePing(message)) await writer.pong(message.payload.slice());
      if (out.failed) break;
    }
  })();
  const sending = (async () => {
    let lineNumber = 0;
    for await (const line of lines(stdin, stopInput.signal)) {
      lineNumber++;
      if (!session.isOpen) break;
      let message: Message | undefined;
      try {
        if (line === null) throw new RangeError("line too long");
        message = parseInputLine(line);
      } catch (error) {
        await err.write({
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
      } catch {
        break; // the session closed; `receiving` reports why
      }
    }
    await writer.close(); // EOF: flush pending writes, then close
  })();

  let failure: unknown;
  try {
    await receiving;
  } catch (error) {
    failure = error;
  }
  stopInput.abort();
  await sending.catch(() => {});
  await session.close();
  await transportClosed;
  signal.removeEventListener("abort", onAbort);
  failure ??= session.closeReason;
  if (failure !== undefined) {
    await out.write({ event: "error", ...describeError(failure) });
    return 1;
  }
  return out.failed ? 1 : 0;
}

/** How long `cat` waits for a WebSocket's closing handshake before exiting anyway. */
const WS_CLOSE_WAIT = 3_000;

/**
 * Like `connectWebSocket`, but also returns a promise that resolves once the
 * socket has finished its closing handshake (or after a short wait), so the
 * process does not exit before the peer sees a clean close.
 */
async function connectWs(
  url: string,
  network: Network,
  signal: AbortSignal,
): Promise<{ session: Session; transportClosed: Promise<void> }> {
  let ws: WebSocket;
  try {
    ws = new WebSocket(url);
  } catch (cause) {
    throw new Bip324Error("TRANSPORT", `cannot open WebSocket ${url}: ${cause}`, {
      cause,
      origin: "local",
    });
  }
  const socketClosed = new Promise<void>((resolve) => {
    ws.addEventListener("close", () => resolve(), { once: true });
  });
  let pair: Awaited<ReturnType<typeof webSocketPair>>;
  try {
    pair = await webSocketPair(ws);
  } catch (cause) {
    throw new Bip324Error("TRANSPORT", `cannot connect to ${url}: ${cause}`, { cause });
  }
  let session: Session;
  try {
    session = await openSession(pair, { role: "initiator", network, signal });
  } catch (error) {
    pair.close();
    throw error;
  }
  const transportClosed = session.closed.then(async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      socketClosed,
      new Promise<void>((resolve) => timer = setTimeout(resolve, WS_CLOSE_WAIT)),
    ]);
    clearTimeout(timer);
  });
  return { session, transportClosed };
}

/** Serves one responder session in listen mode. */
async function serveSession(session: Session, echo: boolean, out: JsonLineWriter): Promise<void> {
  const sessionId = toHex(session.sessionId);
  await out.write({ event: "session", session_id: sessionId, role: session.role });
  const writer = new SessionWriter(session);
  try {
    for await (const message of session.readable) {
      await out.write(messageLine(message, sessionId));
      if (isAnswerablePing(message)) await writer.pong(message.payload.slice());
      else if (echo) await writer.send(message);
    }
  } catch (error) {
    if (session.closeReason === undefined && !(error instanceof Bip324Error)) {
      await out.write({ event: "error", ...describeError(error), session_id: sessionId });
    }
  } finally {
    await writer.close();
    await session.close();
  }
  const reason = session.closeReason;
  if (reason) await out.write({ event: "error", ...describeError(reason), session_id: sessionId });
  await out.write({ event: "closed", session_id: sessionId });
}

/** Runs `listen` until `signal` aborts: returns the exit code. */
async function runListen(
  command: ListenCommand,
  out: JsonLineWriter,
  signal: AbortSignal,
): Promise<number> {
  const options = {
    port: command.port,
    hostname: command.hostname,
    network: command.network,
    onError: (error: Bip324Error, remote: string | undefined) => {
      out.write({ event: "error", ...describeError(error), ...(remote ? { remote } : {}) });
    },
  };
  let listener: SessionListener;
  try {
    listener = command.ws ? listenWebSocket(options) : listen(options);
  } catch (error) {
    await out.write({ event: "error", ...describeError(error) });
    return 1;
  }
  await out.write({ event: "listening", port: listener.addr.port });
  const sessions = new Set<Session>();
  const served = new Set<Promise<void>>();
  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
  const accepting = (async () => {
    for await (const session of listener) {
      sessions.add(session);
      const task = serveSession(session, command.echo, out).finally(() => {
        sessions.delete(session);
        served.delete(task);
      });
      served.add(task);
    }
  })();
  await stopped;
  const closing = listener.close();
  await Promise.all([...sessions].map((s) => s.close()));
  await closing.catch(() => {});
  await accepting.catch(() => {});
  await Promise.all([...served]);
  return 0;
}

/** Runs `probe`: prints one line (the result or an error) and returns the exit code. */
async function runProbe(
  command: ProbeCommand,
  out: JsonLineWriter,
  signal: AbortSignal,
): Promise<number> {
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
    const info = signal.aborted
      ? { code: "ABORTED", message: "interrupted before the probe finished" }
      : describeError(error);
    await out.write({ event: "error", ...info });
    return 1;
  }
  await out.write({ ...result });
  return out.failed ? 1 : 0;
}

/** Runs `proxy` until `signal` aborts: returns the exit code. */
async function runProxy(
  command: ProxyCommand,
  out: JsonLineWriter,
  signal: AbortSignal,
): Promise<number> {
  let proxy: Proxy;
  try {
    proxy = startProxy({
      listen: command.listen,
      to: command.to,
      network: command.network,
      timeout: command.timeout,
      fallback: command.fallback,
      onEvent: (event: ProxyEvent) => {
        out.write({ ...event });
      },
    });
  } catch (error) {
    await out.write({ event: "error", ...describeError(error) });
    return 1;
  }
  await out.write({
    event: "listening",
    hostname: proxy.addr.hostname,
    port: proxy.addr.port,
    network: command.network,
    ...(command.to ? { to: formatHostPort(command.to.host, command.to.port) } : {}),
  });
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await proxy.close();
  return 0;
}

/**
 * Runs `relay`: hands the arguments to `examples/relay.ts`'s `runRelayCli`
 * (loaded only when needed), with this CLI's output streams and stop signal.
 */
async function runRelay(
  command: RelayCommand,
  out: JsonLineWriter,
  err: JsonLineWriter,
  signal: AbortSignal,
): Promise<number> {
  let relay: typeof import("./examples/relay.ts");
  try {
    relay = await import("./examples/relay.ts");
  } catch (error) {
    await out.write({ event: "error", code: "INTERNAL", message: `cannot load relay: ${error}` });
    return 1;
  }
  return await relay.runRelayCli(command.args, {
    signal,
    print: (line: string) => {
      out.text(line + "\n");
    },
    printError: (line: string) => {
      err.text(line + "\n");
    },
  });
}

/**
 * Runs the CLI with `args` (without the program name) and returns the exit
 * code: 0 on success (including a clean close by the peer), 1 on failure,
 * 2 on a usage error.
 */
export async function main(args: readonly string[], io: CliIo = {}): Promise<number> {
  const out = new JsonLineWriter(io.stdout ?? Deno.stdout.writable);
  const err = new JsonLineWriter(io.stderr ?? Deno.stderr.writable);
  const controller = new AbortController();
  const removeSignals = io.signal ? forwardAbort(io.signal, controller) : onSignals(controller);
  try {
    let command: CliCommand;
    try {
      command = parseCliArgs(args);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      await err.text(`error: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    switch (command.command) {
      case "help":
        await out.text(USAGE);
        return 0;
      case "cat":
        return await runCat(command, out, err, io.stdin ?? Deno.stdin.readable, controller.signal);
      case "listen":
        return await runListen(command, out, controller.signal);
      case "probe":
        return await runProbe(command, out, controller.signal);
      case "proxy":
        return await runProxy(command, out, controller.signal);
      case "relay":
        return await runRelay(command, out, err, controller.signal);
    }
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
