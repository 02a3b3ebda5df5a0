import assert from "node:assert/strict";
import {
  formatTarget,
  parseRelayArgs,
  parseTarget,
  RELAY_CLOSE_REASONS,
  type RelayEvent,
  RelayUsageError,
  runRelayCli,
  startRelay,
} from "../examples/relay.ts";
import { within } from "./helpers.ts";
import {
  collect,
  openWs,
  RawNode,
  rawUpgrade,
  relayTo,
  TIMEOUT,
  until,
  url,
  waitEof,
  writeAll,
  zeroCloses,
} from "./relay_helpers.ts";

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
