// connect / connectWebSocket / listen / listenWebSocket (layers/session/connect.ts): aborts
// and timeouts at every phase, one error model for every transport, caller mistakes at the
// call. Loopback only.
import assert from "node:assert/strict";
import { connect, connectWebSocket, listen, listenWebSocket } from "../layers/session/connect.ts";
import { sessionRemote } from "../layers/session/listener.ts";
import { Bip324Error } from "../layers/errors.ts";
import { within } from "./helpers.ts";
import { closedPort, silentServer } from "./peers.ts";

const settle = <T>(p: Promise<T>) => within(p.then(() => undefined, (e) => e), 10_000, "settle");

Deno.test("connect: an abort during the handshake rejects with the reason; no v1 fallback", async () => {
  const server = silentServer();
  try {
    const signal = AbortSignal.timeout(200);
    const error = await settle(connect({ port: server.port, network: "regtest", signal }));
    assert.equal(error, signal.reason);
    assert.equal((error as DOMException).name, "TimeoutError");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.connections, 1, "reconnected for a v1 fallback after the abort");
  } finally {
    await server.close();
  }
});

Deno.test("connect: aborted as the peer hangs up on our key: the reason, not a v1 session", async () => {
  const controller = new AbortController();
  const reason = new Error("user stop");
  const server = silentServer((conn) => {
    (async () => {
      await conn.read(new Uint8Array(64)).catch(() => null); // our key arrives
      controller.abort(reason); // the user stops just as the peer hangs up (v1 fallback rule)
      conn.close();
    })();
  });
  try {
    const error = await settle(
      connect({ port: server.port, network: "regtest", signal: controller.signal }),
    );
    assert.equal(error, reason);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.connections, 1);
  } finally {
    await server.close();
  }
});

Deno.test("connect/connectWebSocket/listen: an already-aborted signal throws its reason", async () => {
  const reason = new Error("already");
  const signal = AbortSignal.abort(reason);
  assert.equal(await settle(connect({ port: 1, signal })), reason);
  assert.equal(await settle(connectWebSocket({ url: "ws://127.0.0.1:1/", signal })), reason);
  assert.throws(() => listen({ port: 0, signal }), (e) => e === reason);
  assert.throws(() => listenWebSocket({ port: 0, signal }), (e) => e === reason);
});

Deno.test("connectWebSocket: handshakeTimeout covers a server that never answers the upgrade", async () => {
  const server = silentServer();
  try {
    const started = performance.now();
    const error = await settle(
      connectWebSocket({ url: `ws://127.0.0.1:${server.port}/`, handshakeTimeout: 300 }),
    );
    assert.ok(error instanceof Bip324Error, String(error));
    assert.equal(error.code, "HANDSHAKE_TIMEOUT");
    assert.equal(error.origin, "local");
    assert.ok(performance.now() - started < 5000);
  } finally {
    await server.close();
  }
});

Deno.test("connectWebSocket: a signal aborts the WebSocket opening with its reason", async () => {
  const server = silentServer();
  try {
    const signal = AbortSignal.timeout(200);
    const error = await settle(
      connectWebSocket({ url: `ws://127.0.0.1:${server.port}/`, handshakeTimeout: 10_000, signal }),
    );
    assert.equal(error, signal.reason);
  } finally {
    await server.close();
  }
});

Deno.test("connect/connectWebSocket: a refused connection is TRANSPORT, origin peer, with its cause", async () => {
  const port = closedPort();
  const tcp = await settle(connect({ port }));
  const ws = await settle(connectWebSocket({ url: `ws://127.0.0.1:${port}/` }));
  for (const error of [tcp, ws]) {
    assert.ok(error instanceof Bip324Error, String(error));
    assert.equal(error.code, "TRANSPORT");
    assert.equal(error.origin, "peer");
    assert.ok(error.cause !== undefined);
  }
  assert.ok(tcp.cause instanceof Deno.errors.ConnectionRefused);
});

Deno.test("listen/listenWebSocket: a port in use is ADDR_IN_USE (origin local, cause kept)", () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (busy.addr as Deno.NetAddr).port;
  try {
    for (const open of [listen, listenWebSocket]) {
      assert.throws(() => open({ port }), (e) => {
        assert.ok(e instanceof Bip324Error, String(e));
        assert.equal(e.code, "ADDR_IN_USE");
        assert.equal(e.origin, "local");
        assert.ok(e.cause instanceof Deno.errors.AddrInUse);
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        return true;
      });
    }
  } finally {
    busy.close();
  }
});

Deno.test("caller mistakes throw TypeError/RangeError at the call, before any connection", async () => {
  const server = silentServer();
  try {
    const bad = [
      [{ network: "foonet" }, TypeError],
      [{ handshakeTimeout: 0 }, RangeError],
      [{ garbage: 5000 }, RangeError],
      [{ decoys: [-1] }, RangeError],
      [{ aeadBackend: "fast" }, TypeError],
      [{ signal: "stop" }, TypeError],
    ] as const;
    for (const [options, type] of bad) {
      const extra = options as Record<string, unknown>;
      await assert.rejects(connect({ port: server.port, ...extra }), type, JSON.stringify(extra));
      await assert.rejects(
        connectWebSocket({ url: `ws://127.0.0.1:${server.port}/`, ...extra }),
        type,
      );
      assert.throws(() => listen({ port: 0, ...extra }), type);
      assert.throws(() => listenWebSocket({ port: 0, ...extra }), type);
    }
    assert.throws(() => listen({ port: 0, v1: "maybe" as "accept" }), TypeError);
    assert.throws(() => listen({ port: 0, maxPendingHandshakes: 1.5 }), RangeError);
    assert.throws(() => listen({ port: 70000 }), RangeError);
    await assert.rejects(connect({ port: 0 }), RangeError);
    await assert.rejects(connectWebSocket({ url: "not a url" }), TypeError);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.connections, 0, "a connection was opened despite bad options");
  } finally {
    await server.close();
  }
});

Deno.test("connect and listeners record the remote address (HOST:PORT)", async () => {
  for (const ws of [false, true]) {
    const listener = ws ? listenWebSocket({ port: 0 }) : listen({ port: 0 });
    const accepted = (async () => {
      for await (const s of listener) return s;
    })();
    const client = ws
      ? await connectWebSocket({ url: `ws://127.0.0.1:${listener.addr.port}/` })
      : await connect({ port: listener.addr.port });
    const server = (await within(accepted, 5000, "accept"))!;
    assert.equal(client.remote, `127.0.0.1:${listener.addr.port}`);
    assert.equal(sessionRemote(client), client.remote);
    assert.match(server.remote ?? "", /^127\.0\.0\.1:\d+$/);
    await client.close();
    await server.close();
    await listener.close();
  }
});
