import assert from "node:assert/strict";
import { type RelayMetrics, runRelayCli } from "../examples/relay.ts";
import { connectWebSocket } from "../layers/session/connect.ts";
import { bytesEqual, toHex } from "../layers/bytes.ts";
import { within } from "./helpers.ts";
import {
  clientFrame,
  collect,
  encoder,
  openWs,
  RawNode,
  rawUpgrade,
  readN,
  relayTo,
  ROOT,
  startEchoResponder,
  TIMEOUT,
  until,
  url,
  waitEof,
  writeAll,
} from "./relay_helpers.ts";

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
