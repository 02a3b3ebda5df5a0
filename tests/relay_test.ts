import assert from "node:assert/strict";
import {
  formatTarget,
  parseRelayArgs,
  parseTarget,
  type Relay,
  RELAY_CLOSE_REASONS,
  type RelayEvent,
  type RelayMetrics,
  type RelayOptions,
  RelayUsageError,
  runRelayCli,
  startRelay,
} from "../examples/relay.ts";
import { listen } from "../layers/session/connect.ts";
import { connectWebSocket } from "../layers/session/connect.ts";
import type { Session } from "../layers/session/session.ts";
import type { SessionListener } from "../layers/session/listener.ts";
import { bytesEqual, toHex } from "../layers/bytes.ts";
import { concat, within } from "./helpers.ts";

/** Every wait in these tests is bounded by this. */
const TIMEOUT = 20_000;
const ROOT = new URL("../", import.meta.url);
const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Helpers: a BIP324 responder, a raw TCP "node", raw WebSocket handshakes, polling.

/** A BIP324 responder on loopback whose sessions echo every message. */
function startEchoResponder(): {
  listener: SessionListener;
  port: number;
  sessions: Session[];
  close(): Promise<void>;
} {
  const listener = listen({ port: 0, hostname: "127.0.0.1", network: "regtest" });
  const sessions: Session[] = [];
  const served = (async () => {
    for await (const s of listener) {
      sessions.push(s);
      s.readable.pipeTo(s.writable).catch(() => {});
    }
  })();
  return {
    listener,
    port: listener.addr.port,
    sessions,
    async close() {
      await listener.close();
      await within(served, TIMEOUT, "responder loop");
      await Promise.all(sessions.map((s) => s.close()));
    },
  };
}

/** A raw TCP server standing in for a node: hands out accepted connections in order. */
class RawNode {
  readonly port: number;
  readonly conns: Deno.Conn[] = [];
  accepted = 0;
  #listener: Deno.Listener;
  #waiters: ((c: Deno.Conn) => void)[] = [];
  #queue: Deno.Conn[] = [];
  #loop: Promise<void>;

  constructor() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#loop = (async () => {
      for (;;) {
        let conn: Deno.Conn;
        try {
          conn = await listener.accept();
        } catch {
          return;
        }
        this.accepted++;
        this.conns.push(conn);
        const w = this.#waiters.shift();
        if (w) w(conn);
        else this.#queue.push(conn);
      }
    })();
  }

  /** The next accepted connection. */
  accept(): Promise<Deno.Conn> {
    const c = this.#queue.shift();
    if (c) return Promise.resolve(c);
    return within(new Promise((r) => this.#waiters.push(r)), TIMEOUT, "node accept");
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#loop;
    for (const c of this.conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }
}

/** Reads exactly `n` bytes (or until EOF) from a connection. */
async function readN(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await within(conn.read(out.subarray(got)), TIMEOUT, `read ${n} bytes`);
    if (r === null) break;
    got += r;
  }
  return out.subarray(0, got);
}

/** Writes all of `bytes` (`conn.write` may write fewer). */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let o = 0; o < bytes.length;) o += await conn.write(bytes.subarray(o));
}

/** Resolves true once the peer has closed the connection (EOF or reset), reading and dropping data. */
async function waitEof(conn: Deno.Conn, ms = TIMEOUT): Promise<void> {
  const buf = new Uint8Array(65536);
  const deadline = Date.now() + ms;
  for (;;) {
    if (Date.now() > deadline) throw new Error("connection did not close in time");
    try {
      const r = await within(conn.read(buf), ms, "EOF");
      if (r === null) return;
    } catch (error) {
      if (error instanceof Error && /did not finish/.test(error.message)) throw error;
      return; // reset: closed as well
    }
  }
}

/** Sends a WebSocket upgrade request by hand and returns the HTTP status (and the conn). */
async function rawUpgrade(
  port: number,
  path = "/",
): Promise<{ status: number; head: string; conn: Deno.Conn }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  await conn.write(encoder.encode(request));
  let head = "";
  const buf = new Uint8Array(1);
  // Byte by byte up to the end of the headers, so no frame bytes are consumed.
  while (!head.endsWith("\r\n\r\n") && head.length < 8192) {
    const n = await within(conn.read(buf), TIMEOUT, "HTTP response");
    if (n === null) break;
    head += String.fromCharCode(buf[0]);
  }
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, conn };
}

/** A masked binary WebSocket frame (client → server), payload < 126 bytes. */
function clientFrame(payload: Uint8Array): Uint8Array {
  assert.ok(payload.length < 126);
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(6 + payload.length);
  frame[0] = 0x82;
  frame[1] = 0x80 | payload.length;
  frame.set(mask, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/** Opens a standard WebSocket (binary) and resolves once it is open. */
async function openWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await within(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
    }),
    TIMEOUT,
    `open ${url}`,
  );
  return ws;
}

/** Collects a WebSocket's binary messages and its close. */
function collect(ws: WebSocket): { bytes(): Uint8Array; closed: Promise<CloseEvent> } {
  const parts: Uint8Array[] = [];
  ws.addEventListener("message", (e) => parts.push(new Uint8Array(e.data as ArrayBuffer)));
  const closed = new Promise<CloseEvent>((r) => ws.addEventListener("close", (e) => r(e)));
  return {
    bytes: () => concat(parts),
    closed,
  };
}

/** Polls `check` every 10 ms until it returns true (bounded). */
async function until(check: () => boolean, what: string, ms = TIMEOUT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts a relay on a free loopback port. */
function relayTo(port: number, options: Partial<RelayOptions> = {}): Relay {
  return startRelay({ port: 0, hostname: "127.0.0.1", to: `127.0.0.1:${port}`, ...options });
}

function url(relay: Relay, query = ""): string {
  return `ws://127.0.0.1:${relay.addr.port}/${query}`;
}

function zeroCloses(): RelayMetrics["closes"] {
  return Object.fromEntries(RELAY_CLOSE_REASONS.map((r) => [r, 0])) as RelayMetrics["closes"];
}

// ---------------------------------------------------------------------------------------------

Deno.test("relay: 50 BIP324 clients at once through the relay, echoing, all payloads match", async () => {
  const responder = startEchoResponder();
  const relay = relayTo(responder.port, { maxPerIp: 100, maxConnections: 100 });
  try {
    const clients = 50;
    const ids = await within(
      Promise.all(Array.from({ length: clients }, async (_, i) => {
        const session = await connectWebSocket({ url: url(relay), network: "regtest" });
        const w = session.writable.getWriter(), r = session.readable.getReader();
        try {
          for (let k = 0; k < 3; k++) {
            const payload = crypto.getRandomValues(
              new Uint8Array(1 + ((i * 7919 + k * 104729) % 30_000)),
            );
            await w.write({ type: "tx", payload });
            const { value } = await r.read();
            assert.equal(value?.type, "tx");
            assert.ok(bytesEqual(value!.payload, payload), `client ${i} message ${k} differs`);
          }
          return toHex(session.sessionId);
        } finally {
          w.releaseLock();
          r.releaseLock();
          await session.close();
        }
      })),
      60_000,
      "50 clients",
    );
    assert.equal(new Set(ids).size, clients, "session ids are distinct");
    await until(() => responder.sessions.length === clients, "responder sessions");
    const theirs = new Set(responder.sessions.map((s) => toHex(s.sessionId)));
    for (const id of ids) assert.ok(theirs.has(id), "the node sees the same session id");
    await until(() => relay.metrics().connectionsOpen === 0, "all relayed connections closed");
    const m = relay.metrics();
    assert.equal(m.connectionsTotal, clients);
    assert.equal(m.closes.client_closed, clients);
    assert.ok(m.bytesClientToNode > clients * 3 * 17, `${m.bytesClientToNode}`);
    assert.ok(m.bytesNodeToClient > clients * 3 * 17, `${m.bytesNodeToClient}`);
    // The node's sessions end once the relay closes the TCP side.
    await within(Promise.all(responder.sessions.map((s) => s.closed)), TIMEOUT, "node side closed");
  } finally {
    await relay.close();
    await responder.close();
  }
});

Deno.test("relay: raw bytes both ways, counted exactly; the relay logs no payload", async () => {
  const node = new RawNode();
  const printed: string[] = [];
  const captured: string[] = [];
  const saved = { ...console };
  const capture = (...args: unknown[]) => captured.push(args.map(String).join(" "));
  Object.assign(console, {
    log: capture,
    info: capture,
    warn: capture,
    error: capture,
    debug: capture,
  });
  const stop = new AbortController();
  let exit: Promise<number> | undefined;
  try {
    let resolvePort!: (p: number) => void;
    const portPromise = new Promise<number>((r) => (resolvePort = r));
    exit = runRelayCli(["--port", "0", "--to", `127.0.0.1:${node.port}`], {
      signal: stop.signal,
      print: (line) => {
        printed.push(line);
        const event = JSON.parse(line);
        if (event.event === "listening") resolvePort(event.port);
      },
      printError: (line) => printed.push(line),
    });
    const port = await within(portPromise, TIMEOUT, "listening line");
    assert.deepEqual(JSON.parse(printed[0]), { event: "listening", port });

    // A distinctive, unencrypted payload: if the relay logged it, we would find it.
    const secretText = "RELAY-MUST-NOT-LOG-THIS-7f3a9c";
    const secret = encoder.encode(secretText);
    const reply = encoder.encode("NODE-REPLY-ALSO-SECRET-51be02");
    const ws = await openWs(`ws://127.0.0.1:${port}/`);
    const got = collect(ws);
    const conn = await node.accept();
    ws.send(secret);
    const big = new Uint8Array(200_000).map((_, i) => (i * 31 + (i >> 8)) & 0xff);
    ws.send(big);
    assert.deepEqual(await readN(conn, secret.length), secret);
    assert.ok(bytesEqual(await readN(conn, big.length), big));
    await writeAll(conn, reply);
    await until(() => got.bytes().length === reply.length, "reply at the client");
    assert.deepEqual(got.bytes(), reply);

    const res = await fetch(`http://127.0.0.1:${port}/metrics?format=json`);
    const m = await res.json() as RelayMetrics;
    assert.equal(m.bytesClientToNode, secret.length + big.length);
    assert.equal(m.bytesNodeToClient, reply.length);
    assert.equal(m.connectionsOpen, 1);

    ws.close();
    await waitEof(conn);
    await within(got.closed, TIMEOUT, "client close");
    stop.abort();
    assert.equal(await within(exit, TIMEOUT, "cli exit"), 0);

    const all = [...printed, ...captured].join("\n");
    for (
      const needle of [secretText, toHex(secret), btoa(secretText), "NODE-REPLY", toHex(reply)]
    ) {
      assert.ok(!all.includes(needle), `the relay's output contains payload (${needle})`);
    }
    assert.ok(!all.includes(toHex(big.subarray(0, 16))), "the relay's output contains payload");
    const events = printed.map((l) => JSON.parse(l));
    const close = events.find((e) => e.event === "close");
    assert.equal(close.reason, "client_closed");
    assert.equal(close.bytes_client_to_node, secret.length + big.length);
    assert.equal(close.bytes_node_to_client, reply.length);
    assert.equal(captured.length, 0, `unexpected console output: ${captured.join("\n")}`);
  } finally {
    Object.assign(console, saved);
    stop.abort();
    await exit?.catch(() => {});
    await node.close();
  }
});

Deno.test("relay: the command line as a subprocess relays a BIP324 session and a raw stream without printing them", async () => {
  const responder = startEchoResponder();
  const node = new RawNode();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env=WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE",
      "examples/relay.ts",
      "--port",
      "0",
      "--to",
      `127.0.0.1:${responder.port}`,
      "--allow",
      `127.0.0.1:${node.port}`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const drain = async (stream: ReadableStream<Uint8Array>, into: string[]) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) into.push(text);
  };
  const outDone = drain(child.stdout, stdout);
  const errDone = drain(child.stderr, stderr);
  try {
    await until(() => stdout.join("").includes("\n"), "listening line");
    const listening = JSON.parse(stdout.join("").split("\n")[0]);
    assert.equal(listening.event, "listening");
    const port = listening.port as number;

    // BIP324 through the relay: the message arrives at the node intact.
    const secretText = "BIP324-PLAINTEXT-NEVER-IN-LOGS-c0ffee";
    const session = await connectWebSocket({ url: `ws://127.0.0.1:${port}/`, network: "regtest" });
    const w = session.writable.getWriter(), r = session.readable.getReader();
    await w.write({ type: "tx", payload: encoder.encode(secretText) });
    const { value } = await within(r.read(), TIMEOUT, "echo");
    assert.equal(new TextDecoder().decode(value!.payload), secretText);
    await until(() => responder.sessions.length === 1, "responder session");
    assert.deepEqual(responder.sessions[0].sessionId, session.sessionId);
    w.releaseLock();
    r.releaseLock();
    await session.close();

    // A raw stream to the second (allowed) node.
    const rawText = "RAW-BYTES-THROUGH-THE-RELAY-9d1e";
    const ws = await openWs(`ws://127.0.0.1:${port}/?target=127.0.0.1:${node.port}`);
    const conn = await node.accept();
    ws.send(encoder.encode(rawText));
    assert.equal(new TextDecoder().decode(await readN(conn, rawText.length)), rawText);
    conn.close();
    await within(collect(ws).closed, TIMEOUT, "client closed after the node closed");

    await until(
      () => (stdout.join("").match(/"event":"close"/g) ?? []).length === 2,
      "close events",
    );
    child.kill("SIGTERM");
    const status = await within(child.status, TIMEOUT, "relay exit");
    await within(Promise.all([outDone, errDone]), TIMEOUT, "output end");
    assert.equal(status.code, 0, stderr.join(""));
    const all = stdout.join("") + stderr.join("");
    for (const needle of [secretText, rawText, toHex(encoder.encode(rawText))]) {
      assert.ok(!all.includes(needle), `relay output contains payload: ${needle}`);
    }
    assert.equal(stderr.join(""), "");
    const events = stdout.join("").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(
      events.filter((e) => e.event === "close").map((e) => e.reason).sort(),
      ["client_closed", "node_closed"],
    );
    assert.equal(events.at(-1).event, "stopped");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await Promise.all([outDone, errDone]).catch(() => {});
    await node.close();
    await responder.close();
  }
});

Deno.test("relay: a client vanishing mid-stream closes the node side", async () => {
  const node = new RawNode();
  const relay = relayTo(node.port);
  try {
    // Abruptly: the TCP connection under the WebSocket just goes away, no close frame.
    const { status, conn: client } = await rawUpgrade(relay.addr.port);
    assert.equal(status, 101);
    const conn = await node.accept();
    client.write(clientFrame(encoder.encode("half a message")));
    assert.equal(new TextDecoder().decode(await readN(conn, 14)), "half a message");
    client.close();
    await waitEof(conn);
    await until(() => relay.metrics().connectionsOpen === 0, "slot released");

    // Politely: a WebSocket close frame.
    const ws = await openWs(url(relay));
    const conn2 = await node.accept();
    ws.send(new Uint8Array([1, 2, 3]));
    assert.deepEqual(await readN(conn2, 3), new Uint8Array([1, 2, 3]));
    ws.close();
    await waitEof(conn2);
    await until(() => relay.metrics().connectionsOpen === 0, "slot released");
    assert.equal(relay.metrics().closes.client_closed, 2);
  } finally {
    await relay.close();
    await node.close();
  }
});

Deno.test("relay: the node vanishing closes the client side (raw and BIP324)", async () => {
  const node = new RawNode();
  const relay = relayTo(node.port);
  const responder = startEchoResponder();
  const relay2 = relayTo(responder.port);
  try {
    const ws = await openWs(url(relay));
    const got = collect(ws);
    const conn = await node.accept();
    await writeAll(conn, new Uint8Array([9, 8, 7]));
    conn.close();
    await within(got.closed, TIMEOUT, "client close");
    assert.deepEqual(got.bytes(), new Uint8Array([9, 8, 7]), "bytes before the close arrive");
    await until(() => relay.metrics().closes.node_closed === 1, "node_closed counted");

    const session = await connectWebSocket({ url: url(relay2), network: "regtest" });
    await until(() => responder.sessions.length === 1, "responder session");
    await responder.sessions[0].close();
    await within(session.closed, TIMEOUT, "client session closed after the node closed");
    await until(() => relay2.metrics().closes.node_closed === 1, "node_closed counted");
    assert.equal(relay2.metrics().connectionsOpen, 0);
  } finally {
    await relay.close();
    await relay2.close();
    await node.close();
    await responder.close();
  }
});

Deno.test("relay: backpressure — a client outrunning a stalled node is paused (bounded), then idles out; big node → client transfers arrive intact", async () => {
  const node = new RawNode();
  const limit = 256 * 1024;
  const relay = relayTo(node.port, { maxBufferedBytes: limit, idleTimeout: 1500 });
  try {
    // The node never reads: kernel buffers fill, then the relay's bounded buffer, then the
    // relay stops reading from the client (its sender backs up) instead of buffering more.
    const ws = await openWs(url(relay));
    const got = collect(ws);
    const stalled = await node.accept();
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    let closed = false;
    got.closed.then(() => (closed = true));
    const deadline = Date.now() + TIMEOUT;
    let forwardedAtStall = -1;
    while (!closed && sent < 64 * 1024 * 1024 && Date.now() < deadline) {
      if (ws.readyState !== WebSocket.OPEN) break;
      if (ws.bufferedAmount > 4 << 20) {
        // The client's own queue grows: the relay is not reading. Note what it forwarded.
        forwardedAtStall = relay.metrics().bytesClientToNode;
        break;
      }
      ws.send(chunk);
      sent += chunk.length;
      await new Promise((r) => setTimeout(r, 0));
    }
    assert.ok(forwardedAtStall >= 0, "the relay stopped reading from the client");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(relay.metrics().bytesClientToNode, forwardedAtStall, "nothing more forwarded");
    assert.ok(relay.metrics().bytesClientToNode < sent, "not everything was forwarded");
    await within(got.closed, TIMEOUT, "client closed by the idle timeout");
    await until(() => relay.metrics().closes.idle === 1, "closed with reason idle");
    await waitEof(stalled);

    // Node → client: 16 MiB, read by the relay only as fast as the WebSocket drains.
    const ws2 = await openWs(url(relay));
    const got2 = collect(ws2);
    const conn = await node.accept();
    const total = 16 << 20;
    const block = new Uint8Array(1 << 16).map((_, i) => (i * 131 + 7) & 0xff);
    for (let o = 0; o < total; o += block.length) {
      await within(writeAll(conn, block), TIMEOUT, "write");
    }
    conn.close();
    await within(got2.closed, TIMEOUT, "transfer end");
    const received = got2.bytes();
    assert.equal(received.length, total);
    for (let o = 0; o < total; o += block.length) {
      assert.ok(bytesEqual(received.subarray(o, o + block.length), block), `block at ${o}`);
    }
    assert.equal(relay.metrics().closes.node_closed, 1);
  } finally {
    await relay.close();
    await node.close();
  }
});

Deno.test("relay: a text frame from the client is an error; the node side is closed", async () => {
  const node = new RawNode();
  const relay = relayTo(node.port);
  try {
    const ws = await openWs(url(relay));
    const got = collect(ws);
    const conn = await node.accept();
    ws.send("not binary");
    await within(got.closed, TIMEOUT, "client closed");
    await waitEof(conn);
    await until(() => relay.metrics().closes.error === 1, "reason error");
    assert.equal(relay.metrics().bytesClientToNode, 0);
  } finally {
    await relay.close();
    await node.close();
  }
});

Deno.test("relay: per-IP (429) and total (503) limits, checked before upgrading", async () => {
  const node = new RawNode();
  const perIp = relayTo(node.port, { maxPerIp: 2, maxConnections: 10 });
  const total = relayTo(node.port, { maxPerIp: 10, maxConnections: 2 });
  const open: WebSocket[] = [];
  try {
    for (const [relay, expected] of [[perIp, 429], [total, 503]] as const) {
      const a = await openWs(url(relay)), b = await openWs(url(relay));
      open.push(a, b);
      const before = node.accepted;
      const refused = await rawUpgrade(relay.addr.port);
      refused.conn.close();
      assert.equal(refused.status, expected, refused.head);
      assert.equal(node.accepted, before, "no node connection for a refused client");
      assert.equal(relay.metrics().closes.limit, 1);
      assert.equal(relay.metrics().connectionsOpen, 2);
      // A freed slot admits the next client.
      a.close();
      await until(() => relay.metrics().connectionsOpen === 1, "slot freed");
      const c = await openWs(url(relay));
      open.push(c);
      assert.equal(relay.metrics().connectionsTotal, 3);
    }
  } finally {
    for (const ws of open) ws.close();
    await perIp.close();
    await total.close();
    await node.close();
  }
});

Deno.test("relay: targets only from the allow-list; anything else → 403", async () => {
  const a = new RawNode(), b = new RawNode(), c = new RawNode();
  const relay = relayTo(a.port, { allow: [`127.0.0.1:${b.port}`] });
  try {
    const wsA = await openWs(url(relay));
    await a.accept();
    const wsB = await openWs(url(relay, `?target=127.0.0.1:${b.port}`));
    await b.accept();
    const wsA2 = await openWs(url(relay, `?target=127.0.0.1:${a.port}`));
    await a.accept();
    for (
      const target of [
        `127.0.0.1:${c.port}`,
        `localhost:${a.port}`,
        `[::1]:${a.port}`,
        "127.0.0.1",
        "garbage",
        `127.0.0.1:${a.port}/x`,
        "",
        `http://127.0.0.1:${a.port}`,
      ]
    ) {
      const refused = await rawUpgrade(relay.addr.port, `/?target=${encodeURIComponent(target)}`);
      refused.conn.close();
      assert.equal(refused.status, 403, `target ${target}: ${refused.head}`);
    }
    assert.equal(c.accepted, 0, "the relay never connected to a target off the list");
    assert.equal(relay.metrics().closes.forbidden, 8);
    assert.equal(relay.metrics().connectionsOpen, 3);
    for (const ws of [wsA, wsB, wsA2]) ws.close();
  } finally {
    await relay.close();
    for (const n of [a, b, c]) await n.close();
  }
});

Deno.test("relay: idle timeout closes both sides; traffic keeps a connection alive", async () => {
  const node = new RawNode();
  const relay = relayTo(node.port, { idleTimeout: 300 });
  try {
    const ws = await openWs(url(relay));
    const got = collect(ws);
    const conn = await node.accept();
    // Activity every 100 ms for ~900 ms, alternating directions: still open.
    let quietSince = Date.now();
    for (let i = 0; i < 9; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (i % 2 === 0) ws.send(new Uint8Array([i]));
      else await writeAll(conn, new Uint8Array([i]));
      quietSince = Date.now();
    }
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(relay.metrics().closes.idle, 0);
    await within(got.closed, 5_000, "idle close at the client");
    await waitEof(conn, 5_000);
    const quiet = Date.now() - quietSince;
    assert.ok(quiet >= 250, `closed after only ${quiet} ms of silence`);
    assert.equal(relay.metrics().closes.idle, 1);
    assert.equal(relay.metrics().connectionsOpen, 0);
  } finally {
    await relay.close();
    await node.close();
  }
});

Deno.test("relay: /healthz, /metrics (Prometheus and JSON), 426, 502 for an unreachable node", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const events: RelayEvent[] = [];
  const relay = relayTo(deadPort, { onEvent: (e) => events.push(e) });
  try {
    const base = `http://127.0.0.1:${relay.addr.port}`;
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await health.text()).trim(), "ok");
    const plain = await fetch(`${base}/`);
    assert.equal(plain.status, 426);
    await plain.body?.cancel();

    const refused = await rawUpgrade(relay.addr.port);
    refused.conn.close();
    assert.equal(refused.status, 502, refused.head);
    const failed = events.find((e) => e.event === "close" && e.reason === "connect_failed");
    assert.ok(failed && failed.event === "close", JSON.stringify(events));
    assert.equal(failed.code, "CONNECT_FAILED");
    assert.equal(typeof failed.error, "string");

    const prom = await fetch(`${base}/metrics`);
    assert.match(prom.headers.get("content-type") ?? "", /text\/plain/);
    const text = await prom.text();
    assert.match(text, /^bip324_relay_connections_open 0$/m);
    assert.match(text, /^bip324_relay_connections_total 1$/m);
    assert.match(text, /^bip324_relay_bytes_total\{direction="client_to_node"\} 0$/m);
    assert.match(text, /^bip324_relay_closes_total\{reason="connect_failed"\} 1$/m);
    for (const reason of RELAY_CLOSE_REASONS) {
      assert.match(
        text,
        new RegExp(`^bip324_relay_closes_total\\{reason="${reason}"\\} \\d+$`, "m"),
      );
    }
    const json = await fetch(`${base}/metrics`, { headers: { accept: "application/json" } });
    assert.deepEqual(await json.json(), {
      connectionsOpen: 0,
      connectionsTotal: 1,
      bytesClientToNode: 0,
      bytesNodeToClient: 0,
      closes: { ...zeroCloses(), connect_failed: 1 },
    });
    const close = events.find((e) => e.event === "close");
    assert.ok(close && close.event === "close" && close.reason === "connect_failed");
    assert.equal(typeof close.error, "string");
  } finally {
    await relay.close();
  }
});

Deno.test("relay: close() ends every relayed connection with reason shutdown", async () => {
  const node = new RawNode();
  const relay = relayTo(node.port);
  const ws = await openWs(url(relay));
  const got = collect(ws);
  const conn = await node.accept();
  await relay.close();
  await within(got.closed, TIMEOUT, "client closed");
  await waitEof(conn);
  assert.equal(relay.metrics().closes.shutdown, 1);
  assert.equal(relay.metrics().connectionsOpen, 0);
  await node.close();
});

Deno.test("relay: argument parsing, environment fallback, option validation", () => {
  const none = () => undefined;
  assert.deepEqual(parseRelayArgs(["--to", "127.0.0.1:18444"], none), {
    command: "run",
    options: { to: { hostname: "127.0.0.1", port: 18444 }, allow: [] },
  });
  assert.deepEqual(
    parseRelayArgs(
      [
        "--port=0",
        "--hostname",
        "::1",
        "--allow",
        "[::1]:8333, node.example:8333",
        "--max-connections",
        "5",
        "--max-per-ip",
        "2",
        "--idle-timeout",
        "1000",
      ],
      none,
    ),
    {
      command: "run",
      options: {
        to: { hostname: "::1", port: 8333 },
        allow: [{ hostname: "::1", port: 8333 }, { hostname: "node.example", port: 8333 }],
        port: 0,
        hostname: "::1",
        maxConnections: 5,
        maxPerIp: 2,
        idleTimeout: 1000,
      },
    },
  );
  const env: Record<string, string> = { RELAY_TO: "10.0.0.1:8333", PORT: "9000" };
  assert.deepEqual(parseRelayArgs([], (n) => env[n]), {
    command: "run",
    options: { to: { hostname: "10.0.0.1", port: 8333 }, allow: [], port: 9000 },
  });
  // Flags win over the environment.
  const parsed = parseRelayArgs(["--to", "127.0.0.1:1"], (n) => env[n]);
  assert.ok(parsed.command === "run");
  assert.deepEqual(parsed.options.to, { hostname: "127.0.0.1", port: 1 });
  assert.deepEqual(parseRelayArgs(["-h"], none), { command: "help" });
  for (
    const bad of [
      [],
      ["--to"],
      ["--to", "nohost"],
      ["--to", "h:0"],
      ["--to", "h:70000"],
      ["--to", "h:1", "--to", "h:2"],
      ["--to", "h:1", "--bogus", "1"],
      ["--to", "h:1", "--port", "-1"],
      ["--to", "h:1", "--max-per-ip", "0"],
      ["stray"],
    ]
  ) {
    assert.throws(() => parseRelayArgs(bad, none), RelayUsageError, bad.join(" "));
  }
  assert.deepEqual(parseTarget("Node.Example:8333"), { hostname: "node.example", port: 8333 });
  assert.equal(formatTarget(parseTarget("[::FFFF:7f00:1]:1")), "[::ffff:7f00:1]:1");
  assert.throws(() => parseTarget("::1:8333"), TypeError);
  assert.throws(() => startRelay({ to: "127.0.0.1:1", port: 0, maxPerIp: 0 }), RangeError);
  assert.throws(() => startRelay({ to: "127.0.0.1:1", port: 0, idleTimeout: -5 }), RangeError);
  assert.throws(() => startRelay({ to: "bad", port: 0 }), TypeError);
});

Deno.test("relay: usage errors exit 2 without starting; --help exits 0", async () => {
  const out: string[] = [];
  assert.equal(
    await runRelayCli(["--bogus"], { print: (l) => out.push(l), printError: (l) => out.push(l) }),
    2,
  );
  assert.match(out.join("\n"), /Usage:/);
  out.length = 0;
  assert.equal(await runRelayCli(["--help"], { print: (l) => out.push(l) }), 0);
  assert.match(out.join("\n"), /Usage:/);
});

Deno.test("relay: a frame over maxFrameBytes closes that connection (reason error) before it is forwarded", async () => {
  const node = new RawNode();
  const relay = relayTo(node.port, { maxFrameBytes: 64 * 1024 });
  try {
    const ws = await openWs(url(relay));
    const got = collect(ws);
    const conn = await node.accept();
    ws.send(new Uint8Array(1000).fill(1));
    ws.send(new Uint8Array(64 * 1024 + 1));
    await within(got.closed, TIMEOUT, "client closed");
    await waitEof(conn);
    await until(() => relay.metrics().closes.error === 1, "reason error");
    assert.equal(relay.metrics().bytesClientToNode, 1000, "only the small frame was forwarded");
    // Other clients are unaffected.
    const ws2 = await openWs(url(relay));
    const got2 = collect(ws2);
    const conn2 = await node.accept();
    ws2.send(new Uint8Array(64 * 1024).fill(2));
    ws2.close();
    await within(got2.closed, TIMEOUT, "second client closed");
    await waitEof(conn2);
    await until(() => relay.metrics().bytesClientToNode === 1000 + 64 * 1024, "second forwarded");
  } finally {
    await relay.close();
    await node.close();
  }
});
