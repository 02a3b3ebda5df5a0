// Session lifecycle: closing from either stream, keys wiped, idle timeout, backpressure, and
// how messages, errors and a peer's end meet a close (split from session_test.ts).
import assert from "node:assert/strict";
import { concat, fixedCipher, isCode, msg, readAll, sessionPair, within } from "./helpers.ts";
import { openSession } from "../layers/session/open.ts";
import { memoryPair } from "../transports/memory.ts";
import { performHandshake } from "../layers/handshake/driver.ts";
import { encryptPacket } from "../layers/packet_cipher.ts";
import { FSChaCha20Poly1305 } from "../layers/aead/aead.ts";
import { variant, VARIANTS } from "./session_variants.ts";

Deno.test("session: cancelling the readable or closing the writable closes the session", async () => {
  {
    const [a, b] = await sessionPair();
    await a.readable.cancel();
    await within(a.closed, 2000, "a closed");
    assert.equal((await within(b.readable.getReader().read(), 2000, "b read")).done, true);
  }
  {
    const [a, b] = await sessionPair();
    const w = a.writable.getWriter();
    await w.write(msg("inv", 1));
    await w.close(); // flushes, then closes
    const r = b.readable.getReader();
    assert.deepEqual((await r.read()).value, msg("inv", 1));
    assert.equal((await within(r.read(), 2000, "b read")).done, true);
    await within(a.closed, 2000, "a closed");
  }
});

Deno.test("session: keys are zeroed on close", async () => {
  const [x, y] = memoryPair();
  const cipher = fixedCipher(5);
  const [a, b] = await Promise.all([
    openSession(x, { role: "initiator", cipher }),
    openSession(y, { role: "responder" }),
  ]);
  const before = cipher.encrypt(new Uint8Array(4));
  await a.close();
  await within(b.closed, 2000, "b closed");
  // After close every key is zero: packets now equal those of a cipher keyed with zeros
  // at the same positions, and no longer what the real keys would produce.
  const zeroKeyed = new FSChaCha20Poly1305(new Uint8Array(32));
  const after = cipher.ciphers.sendPacket.encrypt(new Uint8Array(0), new Uint8Array(4));
  const expectedEpochIndex = cipher.ciphers.sendPacket.packetCounter - 1;
  for (let i = 0; i < expectedEpochIndex; i++) {
    zeroKeyed.encrypt(new Uint8Array(0), new Uint8Array(0));
  }
  assert.deepEqual(after, zeroKeyed.encrypt(new Uint8Array(0), new Uint8Array(4)));
  assert.notDeepEqual(before.subarray(3), after);
});

Deno.test("session: idle timeout closes a silent session with IDLE_TIMEOUT", async () => {
  const [a, b] = await sessionPair({ idleTimeout: 100 });
  await within(a.closed, 2000, "idle close");
  assert.equal(a.closeReason?.code, "IDLE_TIMEOUT");
  assert.equal(a.closeReason?.origin, "local");
  await within(b.closed, 2000, "peer sees close");
});

Deno.test("session: backpressure — a writer waits while the reader does not read", async () => {
  const [a, b] = await sessionPair();
  const w = a.writable.getWriter();
  let written = 0;
  const writing = (async () => {
    for (let i = 0; i < 1000; i++) {
      await w.write({ type: "block", payload: new Uint8Array(10_000) });
      written++;
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(written < 1000, `writer should be held back, wrote ${written}`);
  const r = b.readable.getReader();
  for (let i = 0; i < 1000; i++) await r.read();
  await writing;
  assert.equal(written, 1000);
  await a.close();
});

Deno.test("session: close() still sends writes issued just before it", async () => {
  for (const kind of VARIANTS) {
    const [a, b] = await sessionPair(variant(kind));
    const w = a.writable.getWriter();
    for (let i = 0; i < 50; i++) w.write(msg("inv", i)).catch(() => {});
    const closing = a.close(); // not awaited writes, then close at once
    const got = await within(readAll(b.readable), 3000, "read all");
    await closing;
    assert.equal(got.length, 50, kind);
    assert.deepEqual(got[49], msg("inv", 49));
  }
});

Deno.test("session: an echo via readable.pipeTo(writable) ends cleanly when the peer closes", async () => {
  const [a, b] = await sessionPair();
  const echo = b.readable.pipeTo(b.writable);
  const w = a.writable.getWriter(), r = a.readable.getReader();
  await w.write(msg("ping", 1, 2, 3, 4, 5, 6, 7, 8));
  assert.deepEqual((await r.read()).value, msg("ping", 1, 2, 3, 4, 5, 6, 7, 8));
  await a.close();
  await within(echo, 2000, "echo pipe settles"); // resolves: no unhandled rejection
  await b.closed;
  assert.equal(b.closeReason, undefined);
  // the pipe closed b.writable itself, so a later write fails as on any closed stream
  await assert.rejects(b.writable.getWriter().write(msg("ping")));
});

Deno.test("session: messages received before a bad packet are still read, then the error", async () => {
  for (const kind of VARIANTS) {
    const [x, y] = memoryPair();
    const [raw, session] = await Promise.all([
      performHandshake(x, { role: "initiator", network: "regtest" }),
      openSession(y, { role: "responder", network: "regtest", ...variant(kind) }),
    ]);
    const good = [1, 2, 3].map((i) => encryptPacket(raw.cipher.ciphers, new Uint8Array([14, i])));
    const bad = encryptPacket(raw.cipher.ciphers, new Uint8Array([14, 4]));
    bad[bad.length - 1] ^= 1;
    await x.writable.getWriter().write(concat([...good, bad])); // one chunk, nobody reading yet
    await within(session.closed, 2000, "session fails");
    assert.equal(session.closeReason?.code, "DECRYPTION");
    const r = session.readable.getReader();
    for (let i = 1; i <= 3; i++) {
      assert.deepEqual((await r.read()).value, msg("inv", i), kind);
    }
    await assert.rejects(r.read(), isCode("DECRYPTION"));
  }
});

Deno.test("session: cancelling readable while the peer still sends is a clean close, and every acknowledged send arrives", async () => {
  for (const hops of [0, 1, 2, 4, 8, 12, 16, 24]) {
    const [a, b] = await sessionPair();
    const gotByA: number[] = [];
    const aReads = (async () => {
      for await (const m of a.readable) gotByA.push(m.payload[0]);
    })();
    const acked: number[] = [], refused: number[] = [];
    const send = (i: number) => {
      const payload = new Uint8Array(20_000);
      payload[0] = i;
      return b.send("inv", payload).then(() => void acked.push(i), () => void refused.push(i));
    };
    const sends = Array.from({ length: 10 }, (_, i) => send(i));
    const closing = b.readable.cancel(); // b.close() underneath, draining b's writes
    sends.push(send(10)); // after the close began: refused
    for (let i = 0; i < hops; i++) await null;
    a.send("late", Uint8Array.of(0)).catch(() => {}); // arrives while b drains: dropped
    await Promise.all(sends);
    await within(closing, 2000, "close");
    await within(Promise.all([a.closed, b.closed, aReads]), 2000, "both closed");
    assert.equal(b.closeReason, undefined, `hops ${hops}: ${b.closeReason}`);
    assert.equal(a.closeReason, undefined, `hops ${hops}: ${a.closeReason}`);
    assert.deepEqual(gotByA, acked, `hops ${hops}`);
    assert.equal(acked.length, 10);
    assert.deepEqual(refused, [10]);
  }
});

Deno.test("session: a close whose transport takes its time ends clean though the peer, seeing our end, ends first", async () => {
  // Our transport's close resolves 20 ms after the peer has read our end; meanwhile the peer's
  // session ends (clean) too. Its end must reach us as an end, not as an abort (before: our
  // session, still closing, took the peer's abort for a failure: closeReason CLOSED).
  for (const slow of [0, 20]) {
    const [x, y] = memoryPair();
    const writer = x.writable.getWriter();
    const slowClose = {
      readable: x.readable,
      writable: new WritableStream<Uint8Array>({
        write: (chunk) => writer.write(chunk),
        close: async () => {
          await writer.close();
          await new Promise((r) => setTimeout(r, slow));
        },
        abort: (reason) => writer.abort(reason),
      }),
    };
    const [a, b] = await Promise.all([
      openSession(slowClose, { role: "initiator", network: "regtest" }),
      openSession(y, { role: "responder", network: "regtest" }),
    ]);
    await a.send("ping", new Uint8Array(8));
    await a.close();
    await b.closed;
    assert.equal(b.closeReason, undefined, `${slow} ms: b`);
    assert.equal(a.closeReason, undefined, `${slow} ms: a: ${a.closeReason?.message}`);
  }
});
