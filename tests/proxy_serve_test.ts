// examples/proxy_serve.ts through startProxy: the proxy never connects to itself (any spelling of
// its address, names after resolution, a loop through a port forward caught by the version nonce)
// and closes idle connections. Loopback only; every wait bounded.
import assert from "node:assert/strict";
import { startProxy } from "../examples/proxy.ts";
import { encodeVersion, ipFromString } from "../layers/bitcoin/mod.ts";
import { peerHandshake } from "../layers/bitcoin/peer_handshake.ts";
import type { Session } from "../layers/session/session.ts";
import { isCode, within } from "./helpers.ts";
import { echoNode, ended, poll, testProxy, TIMEOUT, v1Client } from "./proxy_helpers.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A loopback port that was free a moment ago. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Sends a `version` with the given nonce (and addr_recv), as a v1 program would. */
async function sendVersion(
  client: Session,
  nonce: bigint,
  addrRecv = { host: "0.0.0.0", port: 0 },
): Promise<void> {
  const w = client.writable.getWriter();
  try {
    await w.write({
      type: "version",
      payload: encodeVersion({
        protocolVersion: 70016,
        services: 0n,
        timestamp: BigInt(Math.floor(Date.now() / 1000)),
        addrRecv: { services: 0n, ip: ipFromString(addrRecv.host), port: addrRecv.port },
        addrFrom: { services: 0n, ip: ipFromString("0.0.0.0"), port: 0 },
        nonce,
        userAgent: "/nonce-test:0/",
        startHeight: 0,
        relay: false,
      }),
    });
  } finally {
    w.releaseLock();
  }
}

/** The next message `client` receives (bounded). */
async function nextMessage(client: Session): Promise<string> {
  const r = client.readable.getReader();
  try {
    const { value, done } = await within(r.read(), TIMEOUT, "a message");
    assert.equal(done, false);
    return value!.type;
  } finally {
    r.releaseLock();
  }
}

/** A TCP port forward on loopback (like a NAT rule) that counts the connections it carries. */
function portForward(targetPort: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      accepted++;
      let upstream: Deno.Conn;
      try {
        upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      } catch {
        conn.close();
        continue;
      }
      conns.add(conn).add(upstream);
      conn.readable.pipeTo(upstream.writable).catch(() => {});
      upstream.readable.pipeTo(conn.writable).catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get accepted() {
      return accepted;
    },
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await serving;
    },
  };
}

Deno.test("proxy: a fixed `to` spelling its own address any way is refused at start", async () => {
  const port = freePort();
  const spellings = [
    "127.0.0.1",
    "2130706433",
    "0x7f000001",
    "127.1",
    "0177.0.0.1",
    "::ffff:127.0.0.1",
    "[::ffff:127.0.0.1]",
    "::ffff:7f00:1",
    "localhost",
    "0.0.0.0",
  ];
  for (const host of spellings) {
    assert.throws(
      () => startProxy({ listen: { hostname: "127.0.0.1", port }, to: { host, port } }),
      { name: "RangeError", message: /is the proxy itself/ },
      host,
    );
  }
  // Another loopback address, or our address on another port, is not us.
  for (const to of [{ host: "127.0.0.2", port }, { host: "2130706433", port: port + 1 }]) {
    const proxy = startProxy({ listen: { hostname: "127.0.0.1", port }, to });
    await proxy.close();
  }
});

Deno.test("proxy: version.addr_recv naming the proxy as IPv4-mapped IPv6 is refused", async () => {
  const t = testProxy();
  try {
    const client = await v1Client(t.port);
    await assert.rejects(
      peerHandshake(client, {
        peerAddress: { host: "::ffff:127.0.0.1", port: t.port },
        timeout: 5000,
      }),
      isCode("UNEXPECTED_EOF"),
    );
    await client.close();
    const error = await t.event("error");
    assert.equal(error.code, "NO_TARGET");
    assert.equal(error.side, "client");
    assert.match(error.message, /is this proxy/);
    await t.event("closed");
    assert.equal(t.events.filter((e) => e.event === "closed").length, 1); // nothing looped
  } finally {
    await t.proxy.close();
  }
});

Deno.test("proxy: a name is checked after resolution and the checked address is the one connected", async () => {
  // A name that resolves to the proxy itself (in two spellings): refused, nothing connected.
  for (const answer of ["::ffff:127.0.0.1", "2130706433"]) {
    const port = freePort();
    const asked: string[] = [];
    const t = testProxy({
      listen: { hostname: "127.0.0.1", port },
      to: { host: "loop.example", port },
      resolve: (host) => (asked.push(host), Promise.resolve(["192.0.2.1", answer])),
    });
    try {
      const client = await v1Client(port);
      await assert.rejects(peerHandshake(client, { timeout: 5000 }), isCode("UNEXPECTED_EOF"));
      await client.close();
      const error = await t.event("error");
      assert.equal(error.code, "NO_TARGET");
      assert.match(
        error.message,
        new RegExp(`loop\\.example:${port} \\(127\\.0\\.0\\.1:${port}\\)`),
      );
      assert.deepEqual(asked, ["loop.example"]);
      await t.event("closed");
      assert.equal(t.events.filter((e) => e.event === "closed").length, 1);
    } finally {
      await t.proxy.close();
    }
  }
  // A name that resolves to the node: addresses are tried in order (127.0.0.2 refuses).
  const node = echoNode("v2");
  const t = testProxy({
    to: { host: "node.example", port: node.port },
    resolve: () => Promise.resolve(["127.0.0.2", "127.0.0.1"]),
  });
  try {
    const client = await v1Client(t.port);
    const info = await within(peerHandshake(client, { timeout: 5000 }), TIMEOUT, "handshake");
    assert.equal(info.version.userAgent, "/node-like:2/");
    const connection = await t.event("connection");
    assert.equal(connection.to, `node.example:${node.port}`);
    assert.equal(connection.transport, "v2");
    await client.close();
    await t.event("closed");
  } finally {
    await t.proxy.close();
    await node.close();
  }
  // A name that does not resolve: TRANSPORT, on the remote side.
  const u = testProxy({
    to: { host: "nowhere.example", port: 8333 },
    resolve: () => Promise.reject(new Error("NXDOMAIN")),
  });
  try {
    const client = await v1Client(u.port);
    await assert.rejects(peerHandshake(client, { timeout: 5000 }), isCode("UNEXPECTED_EOF"));
    await client.close();
    const error = await u.event("error");
    assert.equal(error.code, "TRANSPORT");
    assert.equal(error.side, "remote");
    assert.match(error.message, /cannot resolve nowhere\.example: NXDOMAIN/);
  } finally {
    await u.proxy.close();
  }
});

Deno.test("proxy: a loop back to itself through a port forward is caught by the version nonce", async () => {
  for (const nonce of [0x1234_5678_9abc_def0n, 0n]) {
    const port = freePort();
    const forward = portForward(port);
    const t = testProxy({
      listen: { hostname: "127.0.0.1", port },
      to: { host: "127.0.0.1", port: forward.port }, // not our address: only the nonce can tell
    });
    try {
      const client = await v1Client(port);
      await sendVersion(client, nonce);
      await within(ended(client), TIMEOUT, "client disconnected");
      await client.close();
      const refusal = await t.event("error", (e) => e.code === "SELF_CONNECTION");
      assert.equal(refusal.side, "client");
      assert.match(refusal.message, /connected to itself/);
      await poll(() => (t.proxy.connections === 0 ? true : undefined), "all connections closed");
      // Bounded: the client's connection, the v2 try (refused by the v1 listener), the v1 retry.
      await sleep(300);
      assert.ok(forward.accepted <= 2, `${forward.accepted} connections through the forward`);
      const ids = new Set(t.events.map((e) => "id" in e ? e.id : undefined));
      assert.ok(ids.size <= 3, JSON.stringify(t.events));
      assert.equal(t.events.filter((e) => e.event === "connection").length, 1);
    } finally {
      await t.proxy.close();
      await forward.close();
    }
  }
});

Deno.test("proxy: only pending nonces are refused; a nonce whose node answered is free again", async () => {
  const node = echoNode("v2");
  const t = testProxy({ to: node.port });
  const clients: Session[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const client = await v1Client(t.port);
      clients.push(client);
      await sendVersion(client, 42n); // the same nonce twice, one after the other
      assert.equal(await nextMessage(client), "version"); // the node's answer came through
    }
    assert.equal(t.proxy.connections, 2);
    assert.equal(t.events.filter((e) => e.event === "connection").length, 2);
    assert.ok(!t.events.some((e) => e.event === "error"), JSON.stringify(t.events));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await t.proxy.close();
    await node.close();
  }
});

Deno.test("proxy: an idle connection is closed after idleTimeout; traffic either way keeps it", async () => {
  const node = echoNode("v2");
  const t = testProxy({ to: node.port, idleTimeout: 400 });
  try {
    const idle = await v1Client(t.port);
    const busy = await v1Client(t.port);
    await Promise.all([idle, busy].map((c) => peerHandshake(c, { timeout: 5000 })));
    const started = performance.now();
    // `busy` sends a ping every 100 ms for 1 s (the node answers): never idle that long.
    const w = busy.writable.getWriter();
    for (let i = 0; i < 10; i++) {
      await w.write({ type: "ping", payload: new Uint8Array(8).fill(i) });
      await sleep(100);
    }
    w.releaseLock();
    await within(ended(idle), TIMEOUT, "idle client closed");
    const idleError = await t.event("error", (e) => e.code === "IDLE_TIMEOUT");
    assert.match(idleError.message, /no message either way for 400 ms/);
    const closed = await t.event("closed", (e) => e.id === idleError.id);
    assert.ok(closed.duration_ms >= 400, `${closed.duration_ms}`);
    assert.ok(performance.now() - started >= 1000);
    assert.equal(t.events.filter((e) => e.event === "closed").length, 1); // busy is still open
    assert.equal(t.proxy.connections, 1);
    // Once it stops, `busy` idles out too.
    await within(ended(busy), TIMEOUT, "busy client closed after going quiet");
    await poll(() => (t.proxy.connections === 0 ? true : undefined), "no connections");
    assert.equal(
      t.events.filter((e) => e.event === "error" && e.code === "IDLE_TIMEOUT").length,
      2,
    );
    await Promise.all([idle.close(), busy.close()]);
  } finally {
    await t.proxy.close();
    await node.close();
  }
});

Deno.test("proxy: idle clients holding every slot are closed, and new clients get in", async () => {
  const node = echoNode("v2");
  const t = testProxy({ to: node.port, idleTimeout: 300, maxConnections: 3 });
  const clients: Session[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const c = await v1Client(t.port);
      clients.push(c);
      await peerHandshake(c, { timeout: 5000 });
    }
    assert.equal(t.proxy.connections, 3);
    const refused = await v1Client(t.port); // every slot held: BUSY
    clients.push(refused);
    await within(ended(refused), TIMEOUT, "refused client closed");
    await t.event("error", (e) => e.code === "BUSY");
    await within(Promise.all(clients.slice(0, 3).map(ended)), TIMEOUT, "idle clients closed");
    await poll(() => (t.proxy.connections === 0 ? true : undefined), "slots free");
    const late = await v1Client(t.port);
    clients.push(late);
    const info = await within(peerHandshake(late, { timeout: 5000 }), TIMEOUT, "late handshake");
    assert.equal(info.version.userAgent, "/node-like:2/");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await t.proxy.close();
    await node.close();
  }
});

Deno.test("proxy: idleTimeout is a positive number of ms (or Infinity)", async () => {
  for (const idleTimeout of [0, -1, NaN, 2 ** 31]) {
    assert.throws(
      () => startProxy({ listen: { hostname: "127.0.0.1", port: 0 }, idleTimeout }),
      { name: "RangeError", message: /idleTimeout/ },
      String(idleTimeout),
    );
  }
  const proxy = startProxy({ listen: { hostname: "127.0.0.1", port: 0 }, idleTimeout: Infinity });
  await proxy.close();
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => startProxy({ listen: { hostname: "127.0.0.1", port: 0 }, resolve: "dns" as any }),
    TypeError,
  );
});
