// Listener bounds under load: a half-open handshake flood against maxPendingHandshakes with honest
// peers during it, and maxQueuedSessions pausing instead of dropping.
import assert from "node:assert/strict";
import { Bip324Error, type Bip324ErrorCode } from "../layers/errors.ts";
import type { Session } from "../layers/session/session.ts";
import { connect, listen } from "../layers/session/connect.ts";
import { within } from "./helpers.ts";
import { msg, sleep, until } from "./bounds_helpers.ts";

// ---------------------------------------------------------------------------
// Handshake flood against a TCP listener, with honest peers during the flood

Deno.test("bounds: half-open handshake flood vs maxPendingHandshakes; honest peers complete during it", async () => {
  const cap = 16;
  const errors: Bip324ErrorCode[] = [];
  const listener = listen({
    port: 0,
    network: "regtest",
    maxPendingHandshakes: cap,
    handshakeTimeout: 1500,
    onError: (e) => errors.push(e.code),
  });
  const port = listener.addr.port;
  const served = (async () => {
    for await (const s of listener) {
      (async () => {
        const r = s.readable.getReader(), w = s.writable.getWriter();
        for (;;) {
          const { done, value } = await r.read();
          if (done) break;
          await w.write(value);
        }
      })().catch(() => {}).finally(() => s.close());
    }
  })();
  const flood: Deno.Conn[] = [];
  let maxPendingSeen = 0;
  const halfOpen = async (i: number) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    flood.push(conn);
    if (i % 2 === 1) await conn.write(new Uint8Array([0x42])).catch(() => 0); // 1 byte, then silence
  };
  try {
    // Wave 1: 40 half-open connections at once: `cap` of them hold slots, the rest are refused.
    for (let i = 0; i < 40; i++) await halfOpen(i);
    await until(() => errors.filter((c) => c === "BUSY").length >= 40 - cap, "BUSY refusals", 5000);
    assert.equal(listener.pendingHandshakes, cap);
    assert.equal(errors.filter((c) => c === "BUSY").length, 40 - cap);

    // Honest peers start now, while every slot is held, and retry when refused.
    let floodOn = true;
    const honest = Array.from({ length: 5 }, async (_, k) => {
      for (let attempt = 0; attempt < 400; attempt++) {
        let session: Session;
        try {
          session = await connect({
            port,
            network: "regtest",
            fallback: "none",
            handshakeTimeout: 5000,
          });
        } catch (e) {
          // refused: closed without an answer (V1_ONLY_PEER) or reset (TRANSPORT)
          assert.ok(e instanceof Bip324Error, String(e));
          assert.ok(["V1_ONLY_PEER", "TRANSPORT", "UNEXPECTED_EOF"].includes(e.code), e.code);
          await sleep(20);
          continue;
        }
        const w = session.writable.getWriter(), r = session.readable.getReader();
        const payload = new Uint8Array(1000).fill(k);
        await w.write(msg("inv", payload));
        assert.deepEqual((await within(r.read(), 5000, "echo")).value, msg("inv", payload));
        await session.close();
        return attempt;
      }
      throw new Error(`honest peer ${k} never got in`);
    });
    // Wave 2: the flood goes on (one more half-open connection every 50 ms) while honest peers try.
    const wave2 = (async () => {
      for (let i = 0; i < 100 && floodOn; i++) {
        await halfOpen(i);
        maxPendingSeen = Math.max(maxPendingSeen, listener.pendingHandshakes);
        await sleep(50);
      }
    })();
    const attempts = await within(Promise.all(honest), 20_000, "honest peers");
    floodOn = false;
    await within(wave2, 5000, "flood stops");
    assert.equal(attempts.length, 5);
    assert.ok(maxPendingSeen <= cap, `pending handshakes peaked at ${maxPendingSeen}`);
    const unexpected = errors.filter((c) =>
      !["BUSY", "HANDSHAKE_TIMEOUT", "UNEXPECTED_EOF", "TRANSPORT"].includes(c)
    );
    assert.deepEqual(unexpected, []);
  } finally {
    for (const c of flood) {
      try {
        c.close();
      } catch { /* closed by the listener */ }
    }
    await listener.close();
    await within(served, 5000, "listener stops");
  }
});

Deno.test("bounds: with maxQueuedSessions untaken, the listener pauses instead of dropping sessions", async () => {
  const reported: Bip324Error[] = [];
  const listener = listen({
    port: 0,
    network: "regtest",
    maxQueuedSessions: 1,
    onError: (e) => reported.push(e),
  });
  const clients: Session[] = [];
  try {
    // Nobody takes sessions yet: the first is established and queued …
    clients.push(
      await within(
        connect({ port: listener.addr.port, network: "regtest", fallback: "none" }),
        5000,
        "first connect",
      ),
    );
    await until(() => listener.pendingHandshakes === 0, "first session queued", 5000);
    // … and the second waits in the backlog, its handshake not answered.
    let second: Session | undefined;
    const secondConnect = connect({
      port: listener.addr.port,
      network: "regtest",
      fallback: "none",
      handshakeTimeout: 10_000,
    }).then((s) => (second = s));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(second, undefined, "the listener must not accept while its queue is full");
    // Taking a session lets the listener accept again; nothing was dropped or refused.
    const it = listener[Symbol.asyncIterator]();
    const first = await within(it.next(), 5000, "take first");
    await within(secondConnect, 5000, "second connect completes");
    const other = await within(it.next(), 5000, "take second");
    clients.push(second!);
    assert.deepEqual(first.value!.sessionId, clients[0].sessionId);
    assert.deepEqual(other.value!.sessionId, second!.sessionId);
    assert.ok(clients[0].isOpen && second!.isOpen);
    assert.deepEqual(reported, []);
    await first.value!.close();
    await other.value!.close();
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await listener.close();
  }
});
