import assert from "node:assert/strict";
import { connect } from "../layers/session/connect.ts";
import { toHex } from "../layers/bytes.ts";
import { main, MAX_INPUT_PAYLOAD, parseCliArgs, parseInputLine, UsageError } from "../cli.ts";
import { readJsonLines, within } from "./helpers.ts";

/** Every wait in these tests is bounded by this, so a broken CLI fails instead of hanging. */
const TIMEOUT = 20_000;

const ROOT = new URL("../", import.meta.url);

type Line = Record<string, unknown>;

/** Rejects after `ms` unless `promise` settles first. */
const withTimeout = <T>(promise: Promise<T>, what: string, ms = TIMEOUT): Promise<T> =>
  within(promise, ms, what);

/** JSON lines from a byte stream, readable one by one with a predicate. */
class LineReader {
  /** Every line read so far (parsed, or `{ raw }` if it was not JSON). */
  readonly all: Line[] = [];
  /** Resolves once the stream has ended. */
  readonly done: Promise<void>;
  #pending: Line[] = [];
  #wake?: () => void;
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#pump(stream);
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    try {
      rest = await readJsonLines(stream, (line) => {
        this.all.push(line);
        this.#pending.push(line);
        this.#wake?.();
      });
    } finally {
      if (rest) this.all.push({ raw: rest });
      this.#ended = true;
      this.#wake?.();
    }
  }

  /** The next unread line matching `match` (lines before it are consumed). */
  async next(match: (line: Line) => boolean = () => true, what = "a line"): Promise<Line> {
    const find = async (): Promise<Line> => {
      for (;;) {
        while (this.#pending.length > 0) {
          const line = this.#pending.shift()!;
          if (match(line)) return line;
        }
        if (this.#ended) throw new Error(`stream ended before ${what}; saw ${this.dump()}`);
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
    };
    return await withTimeout(find(), `${what}; saw ${this.dump()}`);
  }

  /** Every line so far, for failure messages. */
  dump(): string {
    return this.all.map((l) => JSON.stringify(l)).join("\n");
  }
}

/** The CLI as a subprocess. */
class Cli {
  readonly stdout: LineReader;
  readonly stderr: LineReader;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stdinClosed = false;
  #status?: Promise<Deno.CommandStatus>;

  constructor(args: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli.ts", ...args],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.stdout = new LineReader(this.#child.stdout);
    this.stderr = new LineReader(this.#child.stderr);
  }

  /** Writes one line to stdin (an object is sent as JSON). */
  async send(line: Line | string): Promise<void> {
    const text = typeof line === "string" ? line : JSON.stringify(line);
    await withTimeout(this.#stdin.write(new TextEncoder().encode(text + "\n")), "stdin write");
  }

  /** Closes stdin (EOF). */
  async closeStdin(): Promise<void> {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    await withTimeout(this.#stdin.close(), "stdin close").catch(() => {});
  }

  /** The exit status, once the process ends (bounded by the timeout). */
  async status(): Promise<Deno.CommandStatus> {
    this.#status ??= this.#child.status;
    const status = await withTimeout(this.#status, "process exit");
    await withTimeout(Promise.all([this.stdout.done, this.stderr.done]), "output end");
    return status;
  }

  /** Sends a signal (if the process still runs). */
  signal(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch { /* already exited */ }
  }

  /** SIGTERM (then SIGKILL if needed), and waits for everything to end. */
  async dispose(): Promise<void> {
    await this.closeStdin();
    this.signal("SIGTERM");
    try {
      await this.status();
    } catch {
      this.signal("SIGKILL");
      await this.#child.status;
      await Promise.all([this.stdout.done, this.stderr.done]);
    }
  }
}

/** Starts `listen --port 0` with `flags` and returns it with its port. */
async function startListener(flags: string[]): Promise<{ cli: Cli; port: number }> {
  const cli = new Cli(["listen", "--port", "0", "--network", "regtest", ...flags]);
  try {
    const line = await cli.stdout.next((l) => l.event === "listening", "listening event");
    assert.equal(typeof line.port, "number");
    assert.ok((line.port as number) > 0);
    return { cli, port: line.port as number };
  } catch (error) {
    await cli.dispose();
    throw error;
  }
}

/** A port nobody listens on. */
function closedPort(): number {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const isMessage = (l: Line) => typeof l.type === "string";

async function echoRoundTrip(ws: boolean): Promise<void> {
  const flags = ws ? ["--ws"] : [];
  const { cli: server, port } = await startListener(["--echo", ...flags]);
  let client: Cli | undefined;
  try {
    client = new Cli(["cat", `127.0.0.1:${port}`, "--network", "regtest", ...flags]);
    const ours = await client.stdout.next((l) => l.event === "session", "cat session event");
    assert.equal(ours.role, "initiator");
    assert.match(ours.session_id as string, /^[0-9a-f]{64}$/);
    const theirs = await server.stdout.next((l) => l.event === "session", "listen session event");
    assert.equal(theirs.role, "responder");
    assert.equal(theirs.session_id, ours.session_id);

    const big = toHex(crypto.getRandomValues(new Uint8Array(50_000)));
    const sent = [
      { type: "inv", payload: "0102030405" },
      { type: "mycustommsg", payload: "" },
      { type: "ping", payload: "0011223344556677" },
      { type: "block", payload: big },
      { type: "tx", payload: "ff" },
    ];
    for (const m of sent) await client.send(m);

    // Echoes in order, with the ping answered by a pong (and not echoed).
    const expected = sent.map((m) => m.type === "ping" ? { ...m, type: "pong" } : m);
    for (const want of expected) {
      const got = await client.stdout.next(isMessage, `${want.type} back`);
      assert.deepEqual(got, want);
    }
    // The listener printed each message with the session id.
    for (const want of sent) {
      const got = await server.stdout.next(isMessage, `listener printing ${want.type}`);
      assert.deepEqual(got, { ...want, session_id: ours.session_id });
    }

    await client.closeStdin();
    const status = await client.status();
    assert.equal(status.code, 0, client.stderr.dump());
    assert.ok(!client.stdout.all.some((l) => l.type === "ping"), "the ping was echoed");
    assert.ok(!client.stdout.all.some((l) => l.event === "error"), client.stdout.dump());
    assert.equal(client.stdout.all.filter((l) => l.event === "session").length, 1);

    const closed = await server.stdout.next((l) => l.event === "closed", "closed event");
    assert.equal(closed.session_id, ours.session_id);
    server.signal("SIGTERM");
    const serverStatus = await server.status();
    assert.equal(serverStatus.code, 0, server.stderr.dump());
    assert.ok(!server.stdout.all.some((l) => l.event === "error"), server.stdout.dump());
  } finally {
    await client?.dispose();
    await server.dispose();
  }
}

Deno.test("cli: cat ⇄ listen --echo over TCP, with ping → pong", async () => {
  await echoRoundTrip(false);
});

Deno.test("cli: cat ⇄ listen --echo over WebSocket (--ws)", async () => {
  await echoRoundTrip(true);
});

Deno.test("cli: cat accepts a ws:// URL as its target", async () => {
  const { cli: server, port } = await startListener(["--ws", "--echo"]);
  const client = new Cli(["cat", `ws://127.0.0.1:${port}/bip324`, "--network", "regtest"]);
  try {
    const ours = await client.stdout.next((l) => l.event === "session", "session event");
    await client.send({ type: "inv", payload: "ab" });
    assert.deepEqual(await client.stdout.next(isMessage, "echo"), { type: "inv", payload: "ab" });
    await client.closeStdin();
    assert.equal((await client.status()).code, 0);
    const theirs = await server.stdout.next((l) => l.event === "session", "listen session");
    assert.equal(theirs.session_id, ours.session_id);
  } finally {
    await client.dispose();
    await server.dispose();
  }
});

Deno.test("cli: cat to a closed port exits non-zero with a TRANSPORT error", async () => {
  for (const flags of [[], ["--ws"]]) {
    const client = new Cli(["cat", `127.0.0.1:${closedPort()}`, "--network", "regtest", ...flags]);
    try {
      const status = await client.status();
      assert.notEqual(status.code, 0);
      const error = await client.stdout.next((l) => l.event === "error", "error event");
      assert.equal(error.code, "TRANSPORT");
      assert.equal(typeof error.message, "string");
      assert.ok(client.stdout.all.every((l) => !("raw" in l)), client.stdout.dump());
    } finally {
      await client.dispose();
    }
  }
});

Deno.test("cli: listen prints an in-process client's messages and answers its ping", async () => {
  const { cli: server, port } = await startListener([]);
  try {
    const session = await connect({ hostname: "127.0.0.1", port, network: "regtest" });
    const id = toHex(session.sessionId);
    const writer = session.writable.getWriter();
    const reader = session.readable.getReader();
    try {
      const event = await server.stdout.next((l) => l.event === "session", "session event");
      assert.deepEqual(event, { event: "session", session_id: id, role: "responder" });

      await writer.write({ type: "inv", payload: new Uint8Array([1, 2, 3]) });
      await writer.write({ type: "ping", payload: new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]) });
      const pong = await withTimeout(reader.read(), "pong");
      assert.equal(pong.value?.type, "pong");
      assert.deepEqual(pong.value?.payload, new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]));

      assert.deepEqual(await server.stdout.next(isMessage, "inv line"), {
        type: "inv",
        payload: "010203",
        session_id: id,
      });
      assert.deepEqual(await server.stdout.next(isMessage, "ping line"), {
        type: "ping",
        payload: "0807060504030201",
        session_id: id,
      });
    } finally {
      reader.releaseLock();
      await writer.close().catch(() => {});
      await session.close();
    }
    const closed = await server.stdout.next((l) => l.event === "closed", "closed event");
    assert.equal(closed.session_id, id);
  } finally {
    await server.dispose();
  }
});

Deno.test("cli: listen serves concurrent sessions and tells them apart", async () => {
  const { cli: server, port } = await startListener(["--echo"]);
  try {
    const sessions = await Promise.all(
      [0, 1, 2].map(() => connect({ hostname: "127.0.0.1", port, network: "regtest" })),
    );
    try {
      await Promise.all(sessions.map(async (s, i) => {
        const w = s.writable.getWriter(), r = s.readable.getReader();
        await w.write({ type: "inv", payload: new Uint8Array([i]) });
        const { value } = await withTimeout(r.read(), `echo ${i}`);
        assert.deepEqual(value?.payload, new Uint8Array([i]));
        w.releaseLock();
        r.releaseLock();
      }));
      for (let i = 0; i < 3; i++) {
        const line = await server.stdout.next(isMessage, `message ${i}`);
        const index = sessions.findIndex((s) => toHex(s.sessionId) === line.session_id);
        assert.ok(index >= 0, `unknown session id in ${JSON.stringify(line)}`);
        assert.equal(line.payload, toHex(new Uint8Array([index])));
      }
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
  } finally {
    await server.dispose();
  }
});

Deno.test("cli: a malformed stdin line is reported on stderr and skipped", async () => {
  const { cli: server, port } = await startListener(["--echo"]);
  const client = new Cli(["cat", `127.0.0.1:${port}`, "--network", "regtest"]);
  try {
    await client.stdout.next((l) => l.event === "session", "session event");
    const bad = [
      "not json",
      "[1, 2]",
      '{"payload":"00"}',
      '{"type":"inv","payload":"xyz"}',
      '{"type":"inv","payload":"abc"}',
      '{"type":"inv","payload":12}',
      '{"type":"","payload":""}',
      '{"type":"muchtoolongtype","payload":""}',
      '{"type":"caf\u00e9","payload":""}',
    ];
    for (const line of bad) await client.send(line);
    await client.send("");
    await client.send({ type: "inv", payload: "c0ffee" });
    assert.deepEqual(await client.stdout.next(isMessage, "echo after bad lines"), {
      type: "inv",
      payload: "c0ffee",
    });
    for (let i = 0; i < bad.length; i++) {
      const error = await client.stderr.next((l) => l.event === "error", `BAD_INPUT ${i + 1}`);
      assert.equal(error.code, "BAD_INPUT");
      assert.equal(error.line, i + 1);
      assert.equal(typeof error.message, "string");
    }
    await client.closeStdin();
    assert.equal((await client.status()).code, 0);
    assert.ok(client.stdout.all.every((l) => l.event !== "error"), client.stdout.dump());
  } finally {
    await client.dispose();
    await server.dispose();
  }
});

Deno.test("cli: cat exits 0 when the peer closes the session (TCP and WebSocket)", async () => {
  for (const flags of [[], ["--ws"]]) {
    const { cli: server, port } = await startListener(flags);
    const client = new Cli(["cat", `127.0.0.1:${port}`, "--network", "regtest", ...flags]);
    try {
      await client.stdout.next((l) => l.event === "session", "cat session event");
      await server.stdout.next((l) => l.event === "session", "listen session event");
      server.signal("SIGTERM");
      assert.equal((await server.status()).code, 0);
      const status = await client.status(); // stdin still open
      assert.equal(status.code, 0, client.stdout.dump());
      assert.ok(client.stdout.all.every((l) => l.event !== "error"), client.stdout.dump());
    } finally {
      await client.dispose();
      await server.dispose();
    }
  }
});

Deno.test("cli: usage errors exit 2 with usage on stderr; --help exits 0", async () => {
  for (
    const args of [
      [],
      ["frobnicate"],
      ["cat"],
      ["cat", "127.0.0.1:1", "--bogus"],
      ["cat", "127.0.0.1:1", "--echo"],
      ["cat", "localhost"],
      ["listen"],
      ["listen", "--port", "99999"],
      ["listen", "--port", "0", "--network", "moon"],
    ]
  ) {
    const cli = new Cli(args);
    try {
      const status = await cli.status();
      assert.equal(status.code, 2, `args ${args.join(" ")}`);
      assert.match(cli.stderr.all.map((l) => l.raw ?? "").join("\n"), /Usage:/);
      assert.equal(cli.stdout.all.length, 0);
    } finally {
      await cli.dispose();
    }
  }
  const help = new Cli(["--help"]);
  try {
    assert.equal((await help.status()).code, 0);
    assert.match(help.stdout.all.map((l) => l.raw ?? "").join("\n"), /Usage:/);
  } finally {
    await help.dispose();
  }
});

Deno.test("cli: argument and input parsing", () => {
  assert.deepEqual(parseCliArgs(["cat", "127.0.0.1:8333"]), {
    command: "cat",
    target: { kind: "tcp", hostname: "127.0.0.1", port: 8333 },
    network: "mainnet",
  });
  assert.deepEqual(parseCliArgs(["cat", "[::1]:18444", "--network=regtest", "--ws"]), {
    command: "cat",
    target: { kind: "ws", url: "ws://[::1]:18444/" },
    network: "regtest",
  });
  assert.deepEqual(parseCliArgs(["cat", "wss://example.com/p2p"]).command, "cat");
  assert.deepEqual(parseCliArgs(["listen", "--port", "0", "--echo", "--hostname", "::"]), {
    command: "listen",
    port: 0,
    hostname: "::",
    network: "mainnet",
    ws: false,
    echo: true,
  });
  assert.deepEqual(parseCliArgs(["listen", "-h"]), { command: "help" });
  assert.throws(() => parseCliArgs(["listen", "--port", "1", "--port", "2"]), UsageError);
  assert.throws(() => parseCliArgs(["cat", "host:0"]), UsageError);

  assert.deepEqual(parseInputLine('{"type":"ping","payload":"00FF"}'), {
    type: "ping",
    payload: new Uint8Array([0, 255]),
  });
  assert.deepEqual(parseInputLine('{"type":"verack"}'), {
    type: "verack",
    payload: new Uint8Array(0),
  });
  assert.equal(parseInputLine("   "), undefined);
  assert.throws(() => parseInputLine("{"), TypeError);
  assert.throws(() => parseInputLine('{"type":"inv","payload":"0"}'), TypeError);
  assert.throws(
    () => parseInputLine(`{"type":"inv","payload":"${"00".repeat(MAX_INPUT_PAYLOAD + 1)}"}`),
    RangeError,
  );
});

Deno.test("cli: relay hands its arguments to examples/relay.ts (help, then a run stopped by the signal)", async () => {
  const help = new Cli(["relay", "--help"]);
  try {
    assert.equal((await help.status()).code, 0);
    assert.match(help.stdout.all.map((l) => l.raw ?? "").join("\n"), /--to HOST:PORT/);
  } finally {
    await help.dispose();
  }

  // In process, with injected streams and signal: the relay prints through the CLI's stdout.
  const stdout = new TransformStream<Uint8Array, Uint8Array>();
  const stderr = new TransformStream<Uint8Array, Uint8Array>();
  const lines = new LineReader(stdout.readable);
  const errors = new LineReader(stderr.readable);
  const controller = new AbortController();
  const running = main(["relay", "--port", "0", "--to", "127.0.0.1:18444"], {
    stdout: stdout.writable,
    stderr: stderr.writable,
    signal: controller.signal,
  });
  try {
    const listening = await lines.next((l) => l.event === "listening", "relay listening");
    assert.ok((listening.port as number) > 0);
  } finally {
    controller.abort();
    assert.equal(await withTimeout(running, "relay exit"), 0, errors.dump());
    await stdout.writable.close();
    await stderr.writable.close();
  }
  await lines.next((l) => l.event === "stopped", "relay stopped line");
});
