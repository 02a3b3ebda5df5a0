// Resource bounds, each provoked by a test: garbage, message size, handshake
// stalls, idle sessions, decoy floods. Handshake floods against a listener are in
// listener_bounds_test.ts; key wiping on close in bounds_secrets_test.ts, secrets in errors
// in secrets_in_errors_test.ts.
//
// Bounds already covered elsewhere are not repeated: a silent peer
// (HANDSHAKE_TIMEOUT) in driver_test.ts, a silent session (IDLE_TIMEOUT) in session_test.ts,
// the sans-I/O garbage limit in handshake_test.ts, the listener's BUSY
// refusal in listener_test.ts.
import assert from "node:assert/strict";
import type { Bip324Error } from "../layers/errors.ts";
import { encryptPacket } from "../layers/packet_cipher.ts";
import { Handshake, MAX_GARBAGE_LEN } from "../layers/handshake/handshake.ts";
import { DEFAULT_MESSAGE_TYPES } from "../layers/aliasing/aliasing.ts";
import { openSession } from "../layers/session/open.ts";
import { performHandshake } from "../layers/handshake/driver.ts";
import { memoryPair } from "../transports/memory.ts";
import type { CallerLayer as Layer } from "../layers/layer.ts";
import { concat, isCode, prng, within } from "./helpers.ts";
import {
  EMPTY,
  Feed,
  handshakeOverFeed,
  I,
  initiatorCipher,
  KEY_LEN,
  msg,
  responderCipher,
  sleep,
  TERMINATOR_LEN,
  until,
} from "./bounds_helpers.ts";

// ---------------------------------------------------------------------------
// Garbage: 4,095 bytes + 16 for the terminator, exactly

for (const role of ["responder", "initiator"] as const) {
  Deno.test(`bounds: garbage without terminator fails at exactly 4,095 + 16 bytes (${role} session)`, async () => {
    const feed = new Feed();
    const opening = openSession(feed, { role, network: "regtest", handshakeTimeout: 30_000 });
    opening.catch(() => {});
    // The peer's key: any 64 bytes decode to a point (ElligatorSwift).
    feed.push(I.ell);
    // One byte short of the limit: the session must still ask for more.
    feed.push(new Uint8Array(MAX_GARBAGE_LEN + TERMINATOR_LEN - 2).fill(0x55));
    await within(feed.hungry(), 5000, "session asks for more");
    feed.push(new Uint8Array([0x55]));
    await within(feed.hungry(), 5000, "session asks for more at 4,110 bytes");
    assert.equal(feed.delivered, KEY_LEN + MAX_GARBAGE_LEN + TERMINATOR_LEN - 1);
    // The 4,111th byte after the key: no terminator can end within 4,095 bytes of garbage any more.
    feed.push(new Uint8Array([0x55]));
    await assert.rejects(within(opening, 5000, "handshake"), isCode("NO_GARBAGE_TERMINATOR"));
    assert.equal(feed.delivered, KEY_LEN + MAX_GARBAGE_LEN + TERMINATOR_LEN);
    assert.ok(feed.cancelled, "the transport is closed");
  });
}

Deno.test("bounds: garbage fed one byte per read fails on exactly the 4,111th byte", async () => {
  const feed = new Feed();
  const opening = openSession(feed, { role: "responder", network: "regtest" });
  opening.catch(() => {});
  feed.push(I.ell);
  let sent = 0;
  for (; sent < MAX_GARBAGE_LEN + TERMINATOR_LEN - 1; sent++) {
    await within(feed.hungry(), 5000, `read after ${sent} garbage bytes`);
    feed.push(new Uint8Array([sent & 0xff]));
  }
  await within(feed.hungry(), 5000, "read after 4,110 garbage bytes");
  feed.push(new Uint8Array([0]));
  await assert.rejects(within(opening, 5000, "handshake"), isCode("NO_GARBAGE_TERMINATOR"));
  assert.equal(feed.delivered, KEY_LEN + MAX_GARBAGE_LEN + TERMINATOR_LEN);
});

Deno.test("bounds: 4,095 bytes of garbage and the terminator are accepted (the bound is not too tight)", async () => {
  const [x, y] = memoryPair();
  const [a, b] = await within(
    Promise.all([
      openSession(x, { role: "initiator", network: "regtest", garbage: MAX_GARBAGE_LEN }),
      openSession(y, { role: "responder", network: "regtest", garbage: MAX_GARBAGE_LEN }),
    ]),
    5000,
    "handshake",
  );
  assert.equal(a.handshake.garbageReceived, MAX_GARBAGE_LEN);
  assert.equal(b.handshake.garbageReceived, MAX_GARBAGE_LEN);
  await a.close();
  await within(b.closed, 5000, "b closed");
});

// ---------------------------------------------------------------------------
// Claimed length over maxMessageSize: refused on the 3 length bytes alone

Deno.test("bounds: maxMessageSize accepted exactly; one more fails on the 3-byte length alone", async () => {
  const max = 1000;
  const { feed, session, ciphers, handshakeBytes } = await handshakeOverFeed({
    maxMessageSize: max,
  });
  const reader = session.readable.getReader();
  // contents of exactly max bytes: type byte + payload
  const atLimit = DEFAULT_MESSAGE_TYPES.encode(msg("tx", new Uint8Array(max - 1).fill(7)));
  assert.equal(atLimit.length, max);
  feed.push(encryptPacket(ciphers, atLimit));
  assert.deepEqual(
    (await within(reader.read(), 5000, "read")).value,
    msg("tx", atLimit.subarray(1)),
  );
  await within(feed.hungry(), 5000, "session asks for more");
  const before = feed.delivered;
  // only the length field of a packet one byte over the limit
  const field = new Uint8Array(3);
  ciphers.sendLength.encryptLength(max + 1, field);
  feed.push(field);
  await assert.rejects(within(reader.read(), 5000, "read"), isCode("OVERSIZED"));
  assert.equal(feed.delivered, before + 3, "failed with only the 3-byte length sent");
  assert.ok(before > handshakeBytes);
  await within(session.closed, 5000, "closed");
  assert.equal(session.closeReason?.code, "OVERSIZED");
  assert.ok(feed.cancelled, "the transport is closed, nothing more is read");
});

Deno.test("bounds: an oversized decoy during the handshake fails before its body is read", async () => {
  const feed = new Feed();
  const cipher = initiatorCipher();
  const machine = new Handshake({
    role: "initiator",
    network: "regtest",
    cipher,
    garbage: 0,
    decoys: [2_000_000],
  });
  let second: Uint8Array | undefined;
  feed.onWrite = (chunk) => {
    if (!second) second = machine.receive(chunk);
  };
  const opening = openSession(feed, {
    role: "responder",
    network: "regtest",
    cipher: responderCipher(),
    maxMessageSize: 1_000_000,
  });
  opening.catch(() => {});
  feed.push(machine.start());
  await until(() => second !== undefined && second.length > 0, "initiator's second flight");
  // terminator + the decoy's 3-byte length only
  feed.push(second!.subarray(0, TERMINATOR_LEN + 3));
  await assert.rejects(within(opening, 5000, "handshake"), isCode("OVERSIZED"));
  assert.equal(feed.delivered, KEY_LEN + TERMINATOR_LEN + 3);
});

// ---------------------------------------------------------------------------
// Handshake stalls that are not plain silence (silence: driver_test.ts)

Deno.test("bounds: a peer trickling garbage (slowloris) still hits HANDSHAKE_TIMEOUT", async () => {
  const feed = new Feed();
  const opening = openSession(feed, {
    role: "responder",
    network: "regtest",
    handshakeTimeout: 300,
  });
  opening.catch(() => {});
  feed.push(I.ell);
  const trickle = (async () => {
    // one byte every 10 ms: never idle for long, never reaching the garbage bound
    for (let i = 0; i < 1000 && !feed.cancelled; i++) {
      feed.push(new Uint8Array([1]));
      await sleep(10);
    }
  })();
  await assert.rejects(
    within(opening, 5000, "handshake"),
    (e) => isCode("HANDSHAKE_TIMEOUT")(e) && (e as Bip324Error).origin === "local",
  );
  await within(trickle, 5000, "trickle stops");
  assert.ok(feed.delivered > KEY_LEN + 1, "bytes kept arriving");
  assert.ok(
    feed.delivered < KEY_LEN + MAX_GARBAGE_LEN,
    "the garbage bound was not what stopped it",
  );
  assert.ok(feed.cancelled);
});

Deno.test("bounds: stall after the terminator (no version packet) → HANDSHAKE_TIMEOUT", async () => {
  const feed = new Feed();
  const machine = new Handshake({
    role: "initiator",
    network: "regtest",
    cipher: initiatorCipher(),
    garbage: 5,
  });
  feed.onWrite = (chunk) => {
    const out = machine.receive(chunk);
    if (out.length > 0) feed.push(out.subarray(0, TERMINATOR_LEN)); // withhold the version packet
  };
  const opening = openSession(feed, {
    role: "responder",
    network: "regtest",
    cipher: responderCipher(),
    handshakeTimeout: 200,
  });
  opening.catch(() => {});
  feed.push(machine.start());
  await assert.rejects(within(opening, 5000, "handshake"), isCode("HANDSHAKE_TIMEOUT"));
  assert.equal(feed.delivered, KEY_LEN + 5 + TERMINATOR_LEN);
});

Deno.test("bounds: one byte then silence → HANDSHAKE_TIMEOUT; the responder has answered", async () => {
  const feed = new Feed();
  const opening = openSession(feed, {
    role: "responder",
    network: "regtest",
    handshakeTimeout: 200,
  });
  opening.catch(() => {});
  feed.push(new Uint8Array([0x42]));
  await assert.rejects(within(opening, 5000, "handshake"), isCode("HANDSHAKE_TIMEOUT"));
  assert.ok(concat(feed.written).length >= KEY_LEN, "responder sent its key after one byte");
});

// ---------------------------------------------------------------------------
// Idle

Deno.test("bounds: a peer stalling inside a packet → IDLE_TIMEOUT, transport closed", async () => {
  const { feed, session, ciphers } = await handshakeOverFeed({ idleTimeout: 150 });
  const reader = session.readable.getReader();
  const packet = encryptPacket(
    ciphers,
    DEFAULT_MESSAGE_TYPES.encode(msg("ping", new Uint8Array(8))),
  );
  feed.push(packet.subarray(0, 7)); // length + a few body bytes, then nothing
  await assert.rejects(within(reader.read(), 5000, "read"), isCode("IDLE_TIMEOUT"));
  await within(session.closed, 5000, "closed");
  assert.equal(session.closeReason?.origin, "local");
  assert.ok(feed.cancelled);
});

// ---------------------------------------------------------------------------
// Decoy flood

Deno.test("bounds: 10,000 decoys of up to 1 KiB, then one message — decoys are dropped, not kept", async () => {
  // Probes above and below the AEAD layer: decoys must stop there.
  let bodies = 0, contents = 0;
  const probe = (count: () => void): Layer<Uint8Array, Uint8Array> => ({
    inbound: new TransformStream({
      transform(chunk, controller) {
        count();
        controller.enqueue(chunk);
      },
    }),
    outbound: new TransformStream(),
  });
  const { feed, session, ciphers } = await handshakeOverFeed({
    layers: { packets: [probe(() => bodies++)], contents: [probe(() => contents++)] },
  });
  const reader = session.readable.getReader();
  const rand = prng(99);
  let decoyBytes = 0;
  const total = 10_000, batch = 100;
  for (let sent = 0; sent < total; sent += batch) {
    const packets: Uint8Array[] = [];
    for (let i = 0; i < batch; i++) {
      const n = Math.floor(rand() * 1025);
      decoyBytes += n;
      packets.push(encryptPacket(ciphers, new Uint8Array(n), EMPTY, true));
    }
    feed.push(concat(packets));
    // Each batch is consumed, decrypted and dropped before the next is offered: nothing
    // piles up anywhere in the stack (at most one ~100 KiB batch is ever in flight).
    await within(feed.hungry(), 10_000, `batch ${sent / batch}`);
    await until(() => session.stats.decoysReceived === sent + batch, "decoys counted", 10_000);
    assert.equal(bodies, sent + batch);
    assert.equal(contents, 0, "no decoy got past the AEAD layer");
  }
  assert.ok(decoyBytes > 4_000_000);
  const payload = new Uint8Array(100).fill(3);
  feed.push(encryptPacket(ciphers, DEFAULT_MESSAGE_TYPES.encode(msg("tx", payload))));
  // The first (and only) thing the application reads is the real message.
  assert.deepEqual((await within(reader.read(), 5000, "read")).value, msg("tx", payload));
  assert.equal(session.stats.decoysReceived, total);
  assert.equal(session.stats.messagesDropped, 0);
  assert.equal(contents, 1);
  assert.ok(session.isOpen);
  await session.close();
});

Deno.test("bounds: read-ahead counts the chunks queued messages pin, not just their payloads", async () => {
  // Each chunk holds a 60,000-byte decoy and a 1-byte message, so the message pins the chunk.
  // Nobody reads: the session must stop after about readAhead bytes of chunks (not 1,000×).
  let wireBytes = 0;
  const count = {
    inbound: {
      transform(c: Uint8Array, ctl: TransformStreamDefaultController<Uint8Array>) {
        wireBytes += c.length;
        ctl.enqueue(c);
      },
    },
  };
  const [x, y] = memoryPair({ highWaterMark: 4096 });
  const [raw, session] = await Promise.all([
    performHandshake(x, { role: "initiator", network: "regtest" }),
    openSession(y, {
      role: "responder",
      network: "regtest",
      readAhead: 256 * 1024,
      layers: { wire: [count] },
    }),
  ]);
  const writer = x.writable.getWriter();
  for (let i = 0; i < 200; i++) {
    const decoy = encryptPacket(raw.cipher.ciphers, new Uint8Array(60_000), undefined, true);
    const message = encryptPacket(raw.cipher.ciphers, new Uint8Array([14, i]));
    writer.write(concat([decoy, message])).catch(() => {});
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(wireBytes < 1024 * 1024, `read ${wireBytes} bytes ahead of the application`);
  const r = session.readable.getReader();
  for (let i = 0; i < 200; i++) {
    const { value } = await within(r.read(), 5000, "read");
    assert.equal(value?.payload[0], i);
  }
  assert.ok(wireBytes > 200 * 60_000);
  await session.close();
});
