import assert from "node:assert/strict";
import { listen } from "../layers/session/connect.ts";
import { connect } from "../layers/session/connect.ts";
import { Bip324Error } from "../layers/errors.ts";
import type { Session } from "../layers/session/session.ts";
import { within } from "./helpers.ts";

Deno.test("listener: handshakes over the cap are refused with BUSY; the listener keeps serving", async () => {
  const errors: Bip324Error[] = [];
  const listener = listen({
    port: 0,
    maxPendingHandshakes: 3,
    handshakeTimeout: 1000,
    onError: (e) => errors.push(e),
  });
  const served = (async () => {
    for await (const s of listener) s.close();
  })();
  // 6 silent connections: 3 occupy the slots, 3 are refused
  const silent: Deno.Conn[] = [];
  for (let i = 0; i < 6; i++) {
    silent.push(await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }));
  }
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(listener.pendingHandshakes, 3);
  assert.equal(errors.filter((e) => e.code === "BUSY").length, 3);
  // the stalled ones time out, then honest peers get in
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(errors.filter((e) => e.code === "HANDSHAKE_TIMEOUT").length, 3);
  const honest = await within(connect({ port: listener.addr.port }), 3000, "honest connect");
  await honest.close();
  for (const c of silent) {
    try {
      c.close();
    } catch { /* closed by the listener */ }
  }
  await listener.close();
  await served;
});

Deno.test("listener: with the pending slots full, connect (default fallback) does NOT end on v1", async () => {
  const errors: Bip324Error[] = [];
  const listener = listen({
    port: 0,
    network: "regtest",
    maxPendingHandshakes: 1,
    handshakeTimeout: 10_000,
    onError: (e) => errors.push(e),
  });
  const served = (async () => {
    for await (const s of listener) s.close();
  })();
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  try {
    await within(
      (async () => {
        while (listener.pendingHandshakes < 1) await new Promise((r) => setTimeout(r, 10));
      })(),
      3000,
      "the slot taken",
    );
    const outcome = await within(
      connect({ port: listener.addr.port, network: "regtest" }).then(
        (session) => ({ session, error: undefined }),
        (error) => ({ session: undefined, error }),
      ),
      5000,
      "connect",
    );
    if (outcome.session) {
      const version = outcome.session.transportVersion;
      await outcome.session.close();
      assert.fail(`a refused connection ended on a v${version} session (a silent downgrade)`);
    }
    assert.ok(outcome.error instanceof Bip324Error, String(outcome.error));
    assert.ok(
      ["UNEXPECTED_EOF", "BUSY"].includes(outcome.error.code),
      `${outcome.error.code}: ${outcome.error.message}`,
    );
    assert.match(outcome.error.message, /BUSY/);
    // One refusal: the initiator did not reconnect to try v1.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(errors.filter((e) => e.code === "BUSY").length, 1);
    assert.equal(listener.stats.busy, 1);
  } finally {
    silent.close();
    await listener.close();
    await served;
  }
});

Deno.test("listener: v1: reject refuses v1 version messages and counts them", async () => {
  const errors: Bip324Error[] = [];
  const listener = listen({
    port: 0,
    network: "regtest",
    v1: "reject",
    onError: (e) => errors.push(e),
  });
  const sessions: Session[] = [];
  const served = (async () => {
    for await (const s of listener) sessions.push(s);
  })();
  try {
    for (let i = 0; i < 2; i++) {
      const v1 = await connect({
        port: listener.addr.port,
        network: "regtest",
        fallback: "v1-only",
      });
      const w = v1.writable.getWriter();
      await w.write({ type: "version", payload: new Uint8Array(90) });
      await within(v1.closed, 5000, "refused v1 session closed by the listener");
      w.releaseLock();
    }
    const v2 = await connect({ port: listener.addr.port, network: "regtest", fallback: "none" });
    assert.equal(v2.transportVersion, 2);
    await within(
      (async () => {
        while (sessions.length < 1) await new Promise((r) => setTimeout(r, 10));
      })(),
      3000,
      "v2 accepted",
    );
    assert.equal(listener.stats.v1Refused, 2);
    assert.equal(listener.stats.accepted, 1);
    assert.equal(errors.filter((e) => e.code === "V1_PROTOCOL").length, 2);
    assert.ok(sessions.every((s) => s.transportVersion === 2));
    await v2.close();
  } finally {
    await listener.close();
    await served;
    for (const s of sessions) await s.close();
  }
});

Deno.test("listener: a signal stops it; `await using` closes it; established sessions stay open", async () => {
  const controller = new AbortController();
  const listener = listen({ port: 0, network: "regtest", signal: controller.signal });
  const port = listener.addr.port;
  const it = listener[Symbol.asyncIterator]();
  const client = await connect({ port, network: "regtest" });
  const server = (await within(it.next(), 3000, "accept")).value as Session;
  controller.abort(new Error("stop"));
  assert.deepEqual(await within(it.next(), 3000, "iterator ends"), {
    value: undefined,
    done: true,
  });
  await assert.rejects(connect({ port, network: "regtest", fallback: "none" }), Bip324Error);
  // The established session still works.
  const w = client.writable.getWriter();
  await w.write({ type: "ping", payload: new Uint8Array(8) });
  assert.equal(
    (await within(server.readable.getReader().read(), 3000, "read")).value?.type,
    "ping",
  );
  w.releaseLock();
  await client.close();
  await server.close();

  let disposedPort = 0;
  {
    await using scoped = listen({ port: 0, network: "regtest" });
    disposedPort = scoped.addr.port;
  }
  await assert.rejects(
    connect({ port: disposedPort, network: "regtest", fallback: "none" }),
    (e) => e instanceof Bip324Error && e.code === "TRANSPORT",
  );
});

Deno.test("listener: maxSessions caps open sessions (BUSY, never v1), and idle ones are closed", async () => {
  const errors: string[] = [];
  const listener = listen({
    port: 0,
    network: "regtest",
    maxSessions: 3,
    idleTimeout: 300,
    onError: (e) => errors.push(e.code),
  });
  await listener.ready; // bound (at once in Deno)
  const port = listener.addr.port;
  const served: Session[] = [];
  const serving = (async () => {
    for await (const s of listener) served.push(s);
  })();
  const clients = await Promise.all(
    [0, 1, 2].map(() => connect({ port, network: "regtest", fallback: "v1" })),
  );
  assert.ok(clients.every((c) => c.transportVersion === 2));
  await within(
    (async () => {
      while (listener.stats.open < 3) await new Promise((r) => setTimeout(r, 5));
    })(),
    3000,
    "three open",
  );
  // A fourth is refused for load and does not fall back to v1.
  await assert.rejects(connect({ port, network: "regtest" }), (e) => {
    assert.ok(e instanceof Bip324Error && e.code !== "V1_ONLY_PEER", String(e));
    return true;
  });
  assert.equal(listener.stats.busy, 1);
  assert.ok(errors.includes("BUSY"));
  // Idle sessions are closed by the listener's idle timeout; then there is room again.
  await within(Promise.all(served.map((s) => s.closed)), 3000, "idle close");
  assert.ok(served.every((s) => s.closeReason?.code === "IDLE_TIMEOUT"));
  await within(Promise.all(clients.map((c) => c.closed)), 3000, "clients see the close");
  assert.equal(listener.stats.open, 0);
  const again = await connect({ port, network: "regtest" });
  assert.equal(again.transportVersion, 2);
  await again.close();
  await listener.close();
  await serving;
  assert.throws(() => listen({ port: 0, maxSessions: 0 }), RangeError);
});
