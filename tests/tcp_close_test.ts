// Closing over TCP (transports/deno_conn.ts, transports/node_socket.ts, Session.close): a FIN
// first, then a bounded linger that drops what the peer still sends, so that unread bytes never
// turn a clean close into a reset that costs the peer our last messages. Loopback only.
import assert from "node:assert/strict";
import { connect, listen } from "../layers/session/connect.ts";
import { openSession } from "../layers/session/open.ts";
import type { Session } from "../layers/session/session.ts";
import { connPair } from "../transports/tcp.ts";
import { nodeNetPairs } from "./peers.ts";
import { within } from "./helpers.ts";
import type { ByteChannel } from "../layers/bytes.ts";
import { BYTE_CHANNEL } from "../layers/channel.ts";

/** Two sessions over loopback TCP: `a` connects, `b` is accepted (Deno.connect / Deno.listen). */
async function denoSessions(): Promise<{ a: Session; b: Session; done(): Promise<void> }> {
  const listener = listen({ port: 0, network: "regtest" });
  const accepted = listener[Symbol.asyncIterator]().next();
  const a = await connect({ hostname: "127.0.0.1", port: listener.addr.port, network: "regtest" });
  const b = (await accepted).value as Session;
  return { a, b, done: () => listener.close() };
}

/** The same over the node:net byte pair (the Node.js and Bun path). */
async function nodeSessions(): Promise<{ a: Session; b: Session; done(): Promise<void> }> {
  const { client, remote, stop } = await nodeNetPairs();
  const [a, b] = await Promise.all([
    openSession(client, { role: "initiator", network: "regtest" }),
    openSession(remote, { role: "responder", network: "regtest" }),
  ]);
  return { a, b, done: stop };
}

/**
 * `a` streams 20 kB messages without reading; `b` reads five, sends ten last ones and closes.
 * `a` must read all ten and see a clean end (before, `b` closed a socket with unread bytes: a
 * reset, so `a` ended with TRANSPORT and could lose `b`'s last messages).
 */
async function closeWhilePeerStreams(open: typeof denoSessions): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const { a, b, done } = await open();
    const streaming = (async () => {
      try {
        for (;;) await a.send("tx", new Uint8Array(20_000));
      } catch { /* the session ended */ }
    })();
    const reader = b.readable.getReader();
    for (let i = 0; i < 5; i++) assert.equal((await reader.read()).value?.type, "tx");
    reader.releaseLock();
    for (let i = 0; i < 10; i++) await b.send("pong", new Uint8Array(8).fill(i));
    await within(b.close(), 10_000, "b.close()");
    const pongs: number[] = [];
    for await (const m of a.readable) if (m.type === "pong") pongs.push(m.payload[0]);
    await within(streaming, 10_000, "a's sends");
    await a.closed;
    assert.deepEqual(pongs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], `round ${round}`);
    assert.equal(a.closeReason, undefined, `round ${round}: ${a.closeReason?.message}`);
    assert.equal(b.closeReason, undefined, `round ${round}: ${b.closeReason?.message}`);
    await done();
  }
}

Deno.test("tcp close: a peer still streaming gets our last messages and a clean end (Deno)", () =>
  closeWhilePeerStreams(denoSessions));

Deno.test("tcp close: the same over the node:net byte pair (Node.js/Bun path)", () =>
  closeWhilePeerStreams(nodeSessions));

/** A raw loopback connection pair: ours wrapped as a byte pair, the peer's a bare Deno.Conn. */
async function rawPair() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const peer = Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const ours = await listener.accept();
  listener.close();
  return { ours, pair: connPair(ours), peer: await peer };
}

/** The pair's channel, as a session drives it. */
function channelOf(pair: object): ByteChannel {
  const offer = (pair as Record<symbol, () => ByteChannel>)[BYTE_CHANNEL];
  return offer.call(pair);
}

/** Whether the connection was closed already (if not, this closes it). */
function wasClosed(conn: Deno.Conn): boolean {
  try {
    conn.close();
    return false;
  } catch {
    return true;
  }
}

Deno.test("tcp close: closing the writable is a half-close: the peer's bytes still arrive", async () => {
  const { ours, pair, peer } = await rawPair();
  const writer = pair.writable.getWriter();
  const reader = pair.readable.getReader();
  await writer.write(new Uint8Array([1, 2, 3]));
  await writer.close();
  const got = new Uint8Array(3);
  assert.equal(await peer.read(got), 3);
  assert.deepEqual(got, new Uint8Array([1, 2, 3]));
  assert.equal(await peer.read(new Uint8Array(8)), null, "the peer reads our FIN");
  await peer.write(new Uint8Array([9, 8]));
  assert.deepEqual((await reader.read()).value, new Uint8Array([9, 8]), "we still read");
  peer.close();
  assert.equal((await reader.read()).done, true);
  assert.equal(wasClosed(ours), true, "both sides ended: closed");
});

Deno.test("tcp close: over node:net too, the peer's FIN ends our reads only: we still write", async () => {
  const { client, remote, stop } = await nodeNetPairs();
  const remoteWriter = remote.writable.getWriter();
  await remoteWriter.close(); // the peer's FIN
  assert.equal((await client.readable.getReader().read()).done, true);
  const writer = client.writable.getWriter();
  await writer.write(new Uint8Array([1, 2]));
  await writer.write(new Uint8Array([3]));
  await writer.close();
  const got: number[] = [];
  for await (const chunk of remote.readable) got.push(...chunk);
  assert.deepEqual(got, [1, 2, 3]);
  await stop();
});

Deno.test("tcp close: a linger drops the peer's bytes, and ends at the peer's end", async () => {
  const { ours, pair, peer } = await rawPair();
  const channel = channelOf(pair);
  await channel.write(new Uint8Array([5]));
  await channel.close();
  await peer.write(new Uint8Array(100_000)); // unread by us: a plain close would reset
  const lingering = channel.linger!(60_000);
  const got = new Uint8Array(1);
  assert.equal(await peer.read(got), 1);
  assert.equal(got[0], 5);
  assert.equal(await peer.read(new Uint8Array(8)), null, "a clean end, no reset");
  peer.close();
  const cut = await within(lingering, 10_000, "the linger (ends at the peer's end, not the 60 s)");
  assert.equal(cut, false, "ended by the peer's end, not cut short");
  assert.equal(wasClosed(ours), true);
});

Deno.test("tcp close: a linger gives up after its time when the peer never ends", async () => {
  const { ours, pair, peer } = await rawPair();
  const channel = channelOf(pair);
  await channel.close();
  let flooding = true;
  const flood = (async () => {
    const block = new Uint8Array(16_384);
    try {
      while (flooding) await peer.write(block);
    } catch { /* closed by us at last */ }
  })();
  const started = performance.now();
  const cut = await within(channel.linger!(200), 10_000, "the linger");
  const took = performance.now() - started;
  assert.ok(took >= 150, `ended at its time, not before (${took.toFixed(0)} ms)`);
  assert.equal(cut, true, "cut short while the peer was still sending");
  assert.equal(wasClosed(ours), true);
  flooding = false;
  await within(flood, 10_000, "the peer's flood");
  peer.close();
});

Deno.test("tcp close: a session's close lingers at most closeTimeout for a peer that never ends", async () => {
  const listener = listen({ port: 0, network: "regtest", closeTimeout: 300 });
  const accepted = listener[Symbol.asyncIterator]().next();
  // `a` reads nothing ahead (its user is busy), so it never notices b's end, and it floods.
  const a = await connect({ port: listener.addr.port, network: "regtest", readAhead: 0 });
  const b = (await accepted).value as Session;
  const flooding = (async () => {
    try {
      for (;;) await a.send("tx", new Uint8Array(20_000));
    } catch { /* ended */ }
  })();
  await b.readable.getReader().read();
  for (let i = 0; i < 3; i++) await b.send("pong", new Uint8Array(8));
  const started = performance.now();
  await within(b.close(), 10_000, "b.close()");
  const took = performance.now() - started;
  assert.ok(took >= 250, `lingered until closeTimeout (${took.toFixed(0)} ms)`);
  // Everything was sent, but `a` was still sending: closing may have reset the connection.
  assert.equal(b.closeReason?.code, "TIMEOUT", String(b.closeReason));
  assert.match(b.closeReason!.message, /still sending/);
  await within(a.close(), 10_000, "a.close()");
  await within(flooding, 10_000, "a's sends");
  await listener.close();
});

Deno.test("tcp close: writer.abort() ends a close() still sending, and one lingering, at once", async () => {
  const listener = listen({ port: 0, network: "regtest", readAhead: 0 });
  const it = listener[Symbol.asyncIterator]();
  for (const phase of ["sending", "lingering"] as const) {
    const accepted = it.next();
    const a = await connect({ port: listener.addr.port, network: "regtest", closeTimeout: 8_000 });
    const b = (await accepted).value as Session;
    let sending: Promise<void> = Promise.resolve();
    if (phase === "sending") {
      // b reads nothing: a's 1 MiB messages fill the socket and close() waits to send them
      sending = (async () => {
        try {
          for (;;) await a.send("block", new Uint8Array(1 << 20));
        } catch { /* ended */ }
      })();
      await new Promise((r) => setTimeout(r, 50));
    } else {
      // b took everything but never ends: a's close lingers for the peer's end
      await a.send("ping", new Uint8Array(8));
      await b.readable.getReader().read();
    }
    const started = performance.now();
    const closing = a.close();
    await new Promise((r) => setTimeout(r, 50));
    await a.writable.abort();
    await within(closing, 2_000, `close() after abort, ${phase}`);
    await within(a.closed, 2_000, "closed");
    assert.ok(performance.now() - started < 2_000);
    assert.equal(a.closeReason, undefined, "aborted by us: no error");
    await within(sending, 2_000, "a's sends");
    await b.close();
  }
  await listener.close();
});

Deno.test("tcp close: with no time left to linger (closeTimeout 0), close() says TIMEOUT, not clean", async () => {
  const listener = listen({ port: 0, network: "regtest" });
  const accepted = listener[Symbol.asyncIterator]().next();
  const a = await connect({ port: listener.addr.port, network: "regtest", closeTimeout: 0 });
  const b = (await accepted).value as Session;
  await a.send("ping", new Uint8Array(8));
  await within(a.close(), 2_000, "a.close()");
  assert.equal(a.closeReason?.code, "TIMEOUT");
  assert.match(a.closeReason!.message, /no time was left|did not take/);
  await within(b.close(), 2_000, "b.close()");
  await listener.close();
});

Deno.test("tcp close: a transport failure during close() is TRANSPORT, not a TIMEOUT that never happened", async () => {
  const listener = listen({ port: 0, network: "regtest", readAhead: 0 }); // b never reads
  const accepted = listener[Symbol.asyncIterator]().next();
  const a = await connect({ port: listener.addr.port, network: "regtest", closeTimeout: 200 });
  const b = (await accepted).value as Session;
  const sending = (async () => {
    try {
      for (;;) await b.send("x", new Uint8Array(1000));
    } catch { /* ended */ }
  })();
  await new Promise((r) => setTimeout(r, 20));
  await within(a.close(), 5_000, "a.close()"); // lingers, then closes: b's writes meet a reset
  const started = performance.now();
  await within(b.close(), 10_000, "b.close()");
  assert.ok(performance.now() - started < 4_000);
  assert.equal(b.closeReason?.code, "TRANSPORT", `${b.closeReason}`);
  await within(sending, 5_000, "b's sends");
  await listener.close();
});

/** `a` reads nothing ahead (so it never notices b's end) and `b` closes within 300 ms. */
async function quietPair(kind: "Deno" | "node:net") {
  if (kind === "Deno") {
    const listener = listen({ port: 0, network: "regtest", closeTimeout: 300 });
    const accepted = listener[Symbol.asyncIterator]().next();
    const a = await connect({ port: listener.addr.port, network: "regtest", readAhead: 0 });
    return { a, b: (await accepted).value as Session, done: () => listener.close() };
  }
  const { client, remote, stop } = await nodeNetPairs();
  const [a, b] = await Promise.all([
    openSession(client, { role: "initiator", network: "regtest", readAhead: 0 }),
    openSession(remote, { role: "responder", network: "regtest", closeTimeout: 300 }),
  ]);
  return { a, b, done: stop };
}

for (const kind of ["Deno", "node:net"] as const) {
  Deno.test(`tcp close: a linger that runs out on a silent peer that never ends is a clean close (${kind})`, async () => {
    const { a, b, done } = await quietPair(kind);
    try {
      await b.send("pong", new Uint8Array(8));
      const started = performance.now();
      await within(b.close(), 10_000, "b.close()");
      const took = performance.now() - started;
      assert.ok(took >= 250, `lingered until closeTimeout (${took.toFixed(0)} ms)`);
      assert.equal(b.closeReason, undefined, String(b.closeReason));
    } finally {
      await a.close();
      await done();
    }
  });

  Deno.test(`tcp close: a linger that runs out while the peer still sends says TIMEOUT (${kind})`, async () => {
    const { a, b, done } = await quietPair(kind);
    const flooding = (async () => {
      try {
        for (;;) await a.send("tx", new Uint8Array(20_000));
      } catch { /* ended */ }
    })();
    try {
      await within(b.readable.getReader().read(), 5_000, "b's first read");
      await within(b.close(), 10_000, "b.close()");
      assert.equal(b.closeReason?.code, "TIMEOUT", String(b.closeReason));
      assert.match(b.closeReason!.message, /still sending/);
    } finally {
      await a.close();
      await within(flooding, 10_000, "a's sends");
      await done();
    }
  });
}
