import assert from "node:assert/strict";
import { connect, listen } from "../layers/session/connect.ts";
import { Bip324Error } from "../layers/errors.ts";
import type { Session } from "../layers/session/session.ts";
import { nodeNetPairs } from "./peers.ts";
import { Handshake } from "../layers/handshake/handshake.ts";
import { encryptPacket } from "../layers/packet_cipher.ts";
import { concat, msg, within } from "./helpers.ts";

async function echo(session: Session) {
  await session.readable.pipeTo(session.writable).catch(() => {});
}

Deno.test("tcp: initiator and responder over loopback, echo", async () => {
  const listener = listen({ port: 0, network: "regtest" });
  const served = (async () => {
    for await (const s of listener) echo(s);
  })();
  const client = await connect({ port: listener.addr.port, network: "regtest" });
  const w = client.writable.getWriter(), r = client.readable.getReader();
  for (let i = 0; i < 20; i++) {
    const payload = new Uint8Array(i * 1000).fill(i);
    await w.write({ type: i % 2 ? "inv" : "custommsg", payload });
    const { value } = await r.read();
    assert.equal(value?.type, i % 2 ? "inv" : "custommsg");
    assert.deepEqual(value?.payload, payload);
  }
  await client.close();
  await listener.close();
  await served;
});

Deno.test("tcp: a failed handshake (wrong network) does not affect the listener", async () => {
  const errors: string[] = [];
  const listener = listen({
    port: 0,
    network: "regtest",
    handshakeTimeout: 500,
    onError: (e) => errors.push(e.code),
  });
  const accepted: Session[] = [];
  const served = (async () => {
    for await (const s of listener) accepted.push(s);
  })();
  await assert.rejects(
    connect({ port: listener.addr.port, network: "mainnet", handshakeTimeout: 500 }),
    (e) => e instanceof Bip324Error,
  );
  const good = await connect({ port: listener.addr.port, network: "regtest" });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(accepted.length, 1);
  assert.deepEqual(accepted[0].sessionId, good.sessionId);
  assert.ok(errors.length >= 1, `errors: ${errors}`);
  await good.close();
  for (const s of accepted) await s.close();
  await listener.close();
  await served;
});

Deno.test("tcp: connecting to a closed port is a TRANSPORT error", async () => {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assert.rejects(
    connect({ port }),
    (e) => e instanceof Bip324Error && e.code === "TRANSPORT",
  );
  await assert.rejects(connect({ port: 70000 }), RangeError);
});

Deno.test("tcp: connect honours an abort signal; IPv6 hosts are bracketed in errors", async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    connect({ hostname: "127.0.0.1", port: 9, signal: controller.signal }),
    (e) => e === controller.signal.reason,
  );
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assert.rejects(
    connect({ hostname: "::1", port }),
    (e) => e instanceof Bip324Error && e.message.includes(`[::1]:${port}`),
  );
});

Deno.test("tcp: the node:net byte pair (Node.js/Bun path) carries 4 MiB intact with backpressure and ends cleanly", async () => {
  const { client, remote, stop } = await nodeNetPairs();
  const total = 4 << 20;
  const block = new Uint8Array(64 * 1024).map((_, i) => (i * 31 + 5) & 0xff);
  const writing = (async () => {
    const w = client.writable.getWriter();
    for (let sent = 0; sent < total; sent += block.length) await w.write(block);
    await w.close(); // FIN: the other side's readable ends
  })();
  let received = 0;
  let intact = true;
  for await (const chunk of remote.readable) {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== block[(received + i) % block.length]) intact = false;
    }
    received += chunk.length;
    // A slow reader: the writer must wait (drain), not buffer without bound.
    if (received % (1 << 20) < chunk.length) await new Promise((r) => setTimeout(r, 5));
  }
  await writing;
  assert.equal(received, total);
  assert.ok(intact, "bytes intact");
  remote.close();
  client.close();
  await stop();
});

Deno.test("tcp: a handshake streaming large decoys (read into the handshake's own buffer) keeps every message right behind the version packet", async () => {
  for (const decoys of [[1_000_000], [9_000, 300_000, 20_000]]) {
    const listener = listen({ port: 0, hostname: "127.0.0.1", network: "regtest" });
    const accepted = listener[Symbol.asyncIterator]().next();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    try {
      const machine = new Handshake({ role: "initiator", network: "regtest", decoys });
      await conn.write(machine.start());
      // The listener's reply, read until our machine is done; what it answers is ours to send.
      const buf = new Uint8Array(4096);
      let rest: Uint8Array = new Uint8Array(0);
      while (!machine.done) {
        const n = await within(conn.read(buf), 3000, "listener's reply");
        assert.ok(n !== null, "the listener ended during the handshake");
        const out = machine.receive(buf.subarray(0, n));
        if (out.length > 0) rest = out;
      }
      // Decoys, version packet and three messages in one write: the messages arrive in the
      // listener's handshake reads, after bytes it has read into its buffer.
      const { cipher } = machine.result();
      const packets = [1, 2, 3].map((i) => encryptPacket(cipher.ciphers, new Uint8Array([14, i])));
      const all = concat([rest, ...packets]);
      for (let at = 0; at < all.length;) at += await conn.write(all.subarray(at));
      const session: Session | undefined = (await within(accepted, 3000, "session accepted")).value;
      assert.ok(session, "no session");
      assert.equal(session.handshake.decoysReceived, decoys.length);
      const r = session.readable.getReader();
      for (let i = 1; i <= 3; i++) {
        assert.deepEqual((await within(r.read(), 3000, "message")).value, msg("inv", i));
      }
      r.releaseLock();
      cipher.destroy();
      conn.close(); // our end: the session ends cleanly (it has nothing left to send)
      await within(session.closed, 3000, "session closed");
      assert.equal(session.closeReason, undefined);
    } finally {
      try {
        conn.close();
      } catch { /* closed above */ }
      await listener.close();
    }
  }
});

Deno.test("tcp: large decoys between messages (read into the decoy's own buffer) are dropped, and every message arrives intact", async () => {
  const listener = listen({ port: 0, hostname: "127.0.0.1", network: "regtest" });
  const accepted = listener[Symbol.asyncIterator]().next();
  const decoys = [300_000, 70_001, 33_000];
  const client = await connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
    network: "regtest",
    shaping: () => decoys,
  });
  const session: Session | undefined = (await within(accepted, 3000, "session accepted")).value;
  assert.ok(session, "no session");
  try {
    const sent = Array.from({ length: 6 }, (_, i) => new Uint8Array(i * 9_000 + 1).fill(i + 1));
    const sending = (async () => {
      for (const payload of sent) await client.send("block", payload);
    })();
    const r = session.readable.getReader();
    for (const payload of sent) {
      const { value } = await within(r.read(), 5000, "message");
      assert.equal(value?.type, "block");
      assert.deepEqual(value?.payload, payload);
    }
    await sending;
    r.releaseLock();
    assert.equal(session.stats.decoysReceived, decoys.length * sent.length);
  } finally {
    await client.close();
    await within(session.closed, 3000, "session closed");
    await listener.close();
  }
});
