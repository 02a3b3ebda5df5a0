// examples/proxy.ts and `cli.ts proxy`: v1 client → proxy → v2 (or v1-only) node, all on loopback.
import assert from "node:assert/strict";
import { startProxy } from "../examples/proxy.ts";
import { parseCliArgs, UsageError } from "../cli.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";
import { toHex } from "../layers/bytes.ts";
import { peerHandshake } from "../layers/bitcoin/peer_handshake.ts";
import type { Session } from "../layers/session/session.ts";
import { isCode, readJsonLines, within } from "./helpers.ts";
import {
  echoNode,
  ended,
  poll,
  randomMessages,
  roundTrip,
  testProxy,
  TIMEOUT,
  v1Client,
} from "./proxy_helpers.ts";

const ROOT = new URL("../", import.meta.url);

const sum = (ms: Message[]) => ms.reduce((n, m) => n + m.payload.length, 0);

async function carriesBothWays(kind: "v2" | "v1-only"): Promise<void> {
  const node = echoNode(kind);
  const t = testProxy({ to: node.port });
  let client: Session | undefined;
  try {
    client = await v1Client(t.port);
    const info = await within(
      peerHandshake(client, { userAgent: "/v1-client:0/", timeout: 5000 }),
      TIMEOUT,
      "client handshake",
    );
    assert.equal(info.version.userAgent, kind === "v2" ? "/node-like:2/" : "/v1-only:1/");
    const sent = randomMessages();
    await roundTrip(client, sent);

    const i = await node.handshaken();
    const theirs = node.sessions[i];
    assert.equal(theirs.transportVersion, kind === "v2" ? 2 : 1);
    assert.equal(node.infos[i].version.userAgent, "/v1-client:0/"); // the client's own version
    assert.deepEqual(node.received[i], sent);

    const connection = await t.event("connection");
    assert.equal(connection.id, 1);
    assert.match(connection.from, /^127\.0\.0\.1:\d+$/);
    assert.equal(connection.to, `127.0.0.1:${node.port}`);
    if (kind === "v2") {
      assert.equal(connection.transport, "v2");
      assert.equal(connection.session_id, toHex(theirs.sessionId));
      assert.match(connection.session_id!, /^[0-9a-f]{64}$/);
    } else {
      assert.equal(connection.transport, "v1");
      assert.equal("session_id" in connection, false);
    }

    await client.close();
    await within(theirs.closed, TIMEOUT, "node session closed after the client closed");
    const closed = await t.event("closed");
    assert.equal(closed.to, connection.to);
    assert.equal(closed.transport, connection.transport);
    assert.equal(closed.session_id, connection.session_id);
    // version, wtxidrelay, sendaddrv2, verack, then the custom messages (each echoed).
    assert.deepEqual(closed.messages, { to_remote: 4 + sent.length, to_client: 4 + sent.length });
    assert.ok(closed.bytes.to_remote > sum(sent) && closed.bytes.to_client > sum(sent));
    assert.equal(typeof closed.duration_ms, "number");
    assert.ok(!t.events.some((e) => e.event === "error"), JSON.stringify(t.events));
    assert.equal(await poll(() => t.proxy.connections === 0 || undefined, "no connections"), true);
  } finally {
    await client?.close();
    await t.proxy.close();
    await node.close();
  }
}

Deno.test("proxy: v1 client ⇄ proxy ⇄ v2 node, messages carried both ways", async () => {
  await carriesBothWays("v2");
});

Deno.test("proxy: a v1-only node → the proxy falls back to v1 and says so", async () => {
  await carriesBothWays("v1-only");
});

Deno.test("proxy: without `to`, the client's version.addr_recv picks the node", async () => {
  const node = echoNode("v2");
  const t = testProxy();
  let client: Session | undefined;
  try {
    client = await v1Client(t.port);
    await within(
      peerHandshake(client, {
        userAgent: "/v1-client:0/",
        peerAddress: { host: "127.0.0.1", port: node.port },
        timeout: 5000,
      }),
      TIMEOUT,
      "client handshake",
    );
    await roundTrip(client, randomMessages().slice(0, 3));
    const i = await node.handshaken();
    // The first version reached the node untouched.
    assert.equal(node.infos[i].version.userAgent, "/v1-client:0/");
    assert.equal(node.infos[i].version.addrRecv.port, node.port);
    assert.equal(node.sessions[i].transportVersion, 2);
    const connection = await t.event("connection");
    assert.equal(connection.to, `127.0.0.1:${node.port}`);
    assert.equal(connection.session_id, toHex(node.sessions[i].sessionId));
  } finally {
    await client?.close();
    await t.proxy.close();
    await node.close();
  }
});

Deno.test("proxy: refuses a first message that is not version, addr_recv 0.0.0.0:0, itself, silence", async () => {
  const t = testProxy({ timeout: 300 });
  try {
    // 1. not a version
    {
      const client = await v1Client(t.port);
      const w = client.writable.getWriter();
      await w.write({ type: "ping", payload: new Uint8Array(8) });
      w.releaseLock();
      await within(ended(client), TIMEOUT, "client closed by the proxy");
      await client.close();
      const error = await t.event("error", (e) => e.id === 1);
      assert.equal(error.code, "NO_TARGET");
      assert.equal(error.side, "client");
      assert.match(error.message, /first message must be version, got ping/);
      const closed = await t.event("closed", (e) => e.id === 1);
      assert.equal("to" in closed, false);
      assert.equal("to" in error, false);
      assert.deepEqual(closed.messages, { to_remote: 0, to_client: 0 });
    }
    // 2. addr_recv 0.0.0.0:0 (peerHandshake's default)
    {
      const client = await v1Client(t.port);
      await assert.rejects(peerHandshake(client, { timeout: 5000 }), isCode("UNEXPECTED_EOF"));
      await client.close();
      const error = await t.event("error", (e) => e.id === 2);
      assert.equal(error.code, "NO_TARGET");
      assert.match(error.message, /0\.0\.0\.0:0/);
    }
    // 3. addr_recv is the proxy itself (what Bitcoin Core sends when pointed at the proxy)
    {
      const client = await v1Client(t.port);
      await assert.rejects(
        peerHandshake(client, { peerAddress: { host: "127.0.0.1", port: t.port }, timeout: 5000 }),
        isCode("UNEXPECTED_EOF"),
      );
      await client.close();
      const error = await t.event("error", (e) => e.id === 3);
      assert.equal(error.code, "NO_TARGET");
      assert.match(error.message, /this proxy/);
    }
    // 4. silence
    {
      const client = await v1Client(t.port);
      await within(ended(client), TIMEOUT, "silent client closed by the proxy");
      await client.close();
      const error = await t.event("error", (e) => e.id === 4);
      assert.equal(error.code, "TIMEOUT");
      await t.event("closed", (e) => e.id === 4); // once its close lingered to our end
    }
    assert.equal(t.events.filter((e) => e.event === "connection").length, 0);
    assert.equal(t.events.filter((e) => e.event === "closed").length, 4);
  } finally {
    await t.proxy.close();
  }
});

Deno.test("proxy: the node closing closes the client; an unreachable node too", async () => {
  const node = echoNode("v2");
  const t = testProxy({ to: node.port });
  try {
    const client = await v1Client(t.port);
    try {
      await peerHandshake(client, { timeout: 5000 });
      const i = await node.handshaken();
      await node.sessions[i].close();
      await within(ended(client), TIMEOUT, "client closed after the node closed");
      await within(client.closed, TIMEOUT, "client session closed");
      const closed = await t.event("closed");
      assert.equal(closed.transport, "v2");
    } finally {
      await client.close();
    }
  } finally {
    await t.proxy.close();
    await node.close();
  }

  // A node that is not there: the client is disconnected and the error names the remote side.
  const port = (() => {
    const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  })();
  const u = testProxy({ to: port });
  try {
    const client = await v1Client(u.port);
    await assert.rejects(peerHandshake(client, { timeout: 5000 }), isCode("UNEXPECTED_EOF"));
    await client.close();
    const error = await u.event("error");
    assert.equal(error.code, "TRANSPORT");
    assert.equal(error.side, "remote");
    assert.equal(error.to, `127.0.0.1:${port}`);
    await u.event("closed");
  } finally {
    await u.proxy.close();
  }
});

Deno.test("proxy: fallback none refuses a v1-only node; close() ends live connections", async () => {
  {
    const node = echoNode("v1-only");
    const t = testProxy({ to: node.port, fallback: "none" });
    try {
      const client = await v1Client(t.port);
      await assert.rejects(peerHandshake(client, { timeout: 5000 }), isCode("UNEXPECTED_EOF"));
      await client.close();
      const error = await t.event("error");
      assert.equal(error.code, "V1_ONLY_PEER");
      assert.equal(error.side, "remote");
    } finally {
      await t.proxy.close();
      await node.close();
    }
  }
  {
    const node = echoNode("v2");
    const t = testProxy({ to: node.port });
    try {
      const clients = await Promise.all([v1Client(t.port), v1Client(t.port)]);
      await Promise.all(clients.map((c) => peerHandshake(c, { timeout: 5000 })));
      assert.equal(t.proxy.connections, 2);
      await within(t.proxy.close(), TIMEOUT, "proxy close");
      assert.equal(t.proxy.connections, 0);
      await within(Promise.all(clients.map((c) => ended(c))), TIMEOUT, "clients closed");
      await within(Promise.all(node.sessions.map((s) => s.closed)), TIMEOUT, "node sessions");
      assert.equal(t.events.filter((e) => e.event === "closed").length, 2);
      await assert.rejects(v1Client(t.port)); // no longer listening
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await t.proxy.close();
      await node.close();
    }
  }
  assert.throws(
    () => startProxy({ listen: { port: 0 }, to: { host: "127.0.0.1", port: 0 } }),
    RangeError,
  );
});

/** JSON lines of a subprocess's stdout, collected in the background. */
function collectLines(stream: ReadableStream<Uint8Array>) {
  const lines: Record<string, unknown>[] = [];
  const done = readJsonLines(stream, (line) => lines.push(line));
  return {
    lines,
    done,
    next: (match: (l: Record<string, unknown>) => boolean, what: string) =>
      poll(() => lines.find(match), `${what}; saw ${JSON.stringify(lines)}`),
  };
}

Deno.test("cli: proxy subcommand carries one round trip and exits 0 on SIGTERM", async () => {
  const node = echoNode("v2");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "cli.ts",
      "proxy",
      "--listen",
      "127.0.0.1:0",
      "--to",
      `127.0.0.1:${node.port}`,
      "--network",
      "regtest",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = collectLines(child.stdout);
  const err = new Response(child.stderr).text();
  let client: Session | undefined;
  try {
    const listening = await out.next((l) => l.event === "listening", "listening line");
    assert.equal(listening.hostname, "127.0.0.1");
    assert.equal(listening.network, "regtest");
    assert.equal(listening.to, `127.0.0.1:${node.port}`);
    const port = listening.port as number;
    assert.ok(port > 0);

    client = await v1Client(port);
    await within(peerHandshake(client, { timeout: 5000 }), TIMEOUT, "client handshake");
    await roundTrip(client, [{
      type: "hello",
      payload: crypto.getRandomValues(new Uint8Array(64)),
    }]);
    const i = await node.handshaken();
    const connection = await out.next((l) => l.event === "connection", "connection line");
    assert.equal(connection.transport, "v2");
    assert.equal(connection.session_id, toHex(node.sessions[i].sessionId));
    assert.equal(connection.to, `127.0.0.1:${node.port}`);

    child.kill("SIGTERM");
    const status = await within(child.status, TIMEOUT, "proxy exit");
    await within(out.done, TIMEOUT, "stdout end");
    assert.equal(status.code, 0, await err);
    const closed = await out.next((l) => l.event === "closed", "closed line");
    assert.equal(closed.session_id, connection.session_id);
    await within(ended(client), TIMEOUT, "client closed by the exiting proxy");
    assert.ok(
      out.lines.every((l) => l.event !== "error" && !("raw" in l)),
      JSON.stringify(out.lines),
    );
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await out.done.catch(() => {});
    await err;
    await client?.close();
    await node.close();
  }
});

Deno.test("cli: proxy argument parsing", () => {
  assert.deepEqual(parseCliArgs(["proxy"]), {
    command: "proxy",
    listen: { hostname: "127.0.0.1", port: 8333 },
    network: "mainnet",
    fallback: "v1",
  });
  assert.deepEqual(
    parseCliArgs([
      "proxy",
      "--listen",
      "[::1]:0",
      "--to",
      "[2001:db8::1]",
      "--network",
      "signet",
      "--timeout",
      "1000",
      "--no-fallback",
    ]),
    {
      command: "proxy",
      listen: { hostname: "::1", port: 0 },
      to: { host: "2001:db8::1", port: 38333 },
      network: "signet",
      timeout: 1000,
      fallback: "none",
    },
  );
  assert.throws(() => parseCliArgs(["proxy", "extra"]), UsageError);
  assert.throws(() => parseCliArgs(["proxy", "--to", "host:0"]), UsageError);
  assert.throws(() => parseCliArgs(["proxy", "--listen", "host"]), UsageError);
  assert.throws(() => parseCliArgs(["proxy", "--v1-only"]), UsageError);
  assert.deepEqual(parseCliArgs(["relay", "--anything", "x", "--help"]), {
    command: "relay",
    args: ["--anything", "x", "--help"],
  });
});
