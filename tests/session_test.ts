import assert from "node:assert/strict";
import { chunk, concat, fixedCipher, msg, prng, readAll, sessionPair, within } from "./helpers.ts";
import { openSession } from "../layers/session/open.ts";
import { memoryPair } from "../transports/memory.ts";
import { Bip324Error } from "../layers/errors.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";
import { randomDecoys } from "../layers/shaping.ts";
import type { CallerLayer } from "../layers/layer.ts";
import { variant, VARIANTS } from "./session_variants.ts";

Deno.test("session: handshake over memory, equal session ids, messages both ways", async () => {
  const [a, b] = await sessionPair();
  assert.deepEqual(a.sessionId, b.sessionId);
  assert.equal(a.role, "initiator");
  assert.equal(b.role, "responder");
  assert.equal(a.transportVersion, 2);
  const aw = a.writable.getWriter(), bw = b.writable.getWriter();
  const ar = a.readable.getReader(), br = b.readable.getReader();
  await aw.write(msg("ping", 1, 2, 3, 4, 5, 6, 7, 8));
  await aw.write(msg("version", 9));
  assert.deepEqual((await br.read()).value, msg("ping", 1, 2, 3, 4, 5, 6, 7, 8));
  assert.deepEqual((await br.read()).value, msg("version", 9));
  await bw.write(msg("pong", 1));
  assert.deepEqual((await ar.read()).value, msg("pong", 1));
  await a.close();
  assert.equal((await br.read()).done, true);
  await b.closed;
  await assert.rejects(
    bw.write(msg("ping")),
    (e) => e instanceof Bip324Error && e.code === "CLOSED",
  );
  assert.equal(a.closeReason, undefined);
});

type Layer<L, U> = CallerLayer<L, U>;

const MESSAGES: Message[] = [
  msg("verack"),
  msg("ping", 1, 2, 3, 4, 5, 6, 7, 8),
  { type: "inv", payload: new Uint8Array(37).fill(3) },
  { type: "block", payload: new Uint8Array(70_000).map((_, i) => i & 0xff) },
  msg("sendaddrv2"),
  { type: "tx", payload: new Uint8Array(300).fill(9) },
];

/** Records what a fixed-key initiator sends (handshake + MESSAGES, with decoys). */
async function recordInitiatorStream(): Promise<Uint8Array> {
  const [x, y] = memoryPair();
  const captured: Uint8Array[] = [];
  const capture: Layer<Uint8Array, Uint8Array> = {
    inbound: new TransformStream(),
    outbound: new TransformStream({
      transform(c, ctl) {
        captured.push(c.slice());
        ctl.enqueue(c);
      },
    }),
  };
  // the capture layer sees post-handshake bytes; the handshake bytes are captured at the pair
  const tapped = new TransformStream<Uint8Array, Uint8Array>({
    transform(c, ctl) {
      handshakeBytes.push(c.slice());
      ctl.enqueue(c);
    },
  });
  const handshakeBytes: Uint8Array[] = [];
  tapped.readable.pipeTo(x.writable);
  const [a, b] = await Promise.all([
    openSession({ readable: x.readable, writable: tapped.writable }, {
      role: "initiator",
      network: "regtest",
      cipher: fixedCipher(1),
      garbage: new Uint8Array(333).fill(0xab),
      decoys: [0, 50],
      shaping: randomDecoys({ probability: 0.5, maxSize: 100, random: prng(5) }),
      layers: { wire: [capture] },
    }),
    openSession(y, { role: "responder", network: "regtest", cipher: fixedCipher(2) }),
  ]);
  const w = a.writable.getWriter();
  for (const m of MESSAGES) await w.write(m);
  const r = b.readable.getReader();
  for (const m of MESSAGES) assert.deepEqual((await r.read()).value, m);
  assert.ok(a.stats.decoysSent > 0, "shaping should have sent decoys");
  assert.equal(b.stats.decoysReceived, a.stats.decoysSent);
  await a.close();
  await b.closed;
  // all bytes passed the tap (handshake and, through it, the session's packets)
  void captured;
  return concat(handshakeBytes);
}

Deno.test("session: one transcript, fed in every chunking, yields identical messages", async () => {
  const stream = await recordInitiatorStream();
  const runs = (["whole", "single", 11, 12, 13] as const).flatMap((how) =>
    VARIANTS.map((kind) => [how, kind] as const)
  );
  for (const [how, kind] of runs) {
    const [x, y] = memoryPair({ highWaterMark: 1 << 20 });
    const responder = openSession(y, {
      role: "responder",
      network: "regtest",
      cipher: fixedCipher(2),
      ...variant(kind),
    });
    x.readable.pipeTo(new WritableStream()).catch(() => {}); // drain the responder's output
    const feed = (async () => {
      const w = x.writable.getWriter();
      for (const c of chunk(stream, how)) await w.write(c);
      await w.close();
    })();
    const session = await within(responder, 5000, `handshake (${how})`);
    const got = await within(readAll(session.readable), 5000, `messages (${how})`);
    await feed;
    assert.deepEqual(got, MESSAGES, `chunking ${how}`);
    assert.equal(session.handshake.garbageReceived, 333);
    assert.equal(session.handshake.decoysReceived, 2);
    await session.closed;
  }
});

Deno.test("session: zero-length and 4,000,000-byte messages", async () => {
  const [a, b] = await sessionPair();
  const big = new Uint8Array(4_000_000).map((_, i) => (i * 7) & 0xff);
  const w = a.writable.getWriter();
  const r = b.readable.getReader();
  const sent = w.write({ type: "block", payload: big });
  await w.write(msg("getaddr"));
  await w.write(msg("verack"));
  await sent;
  const got1 = (await r.read()).value!;
  assert.equal(got1.type, "block");
  assert.deepEqual(got1.payload, big);
  assert.deepEqual((await r.read()).value, msg("getaddr"));
  assert.deepEqual((await r.read()).value, msg("verack"));
  await a.close();
  await b.closed;
});

Deno.test("session: decoys before the version packet and after it are dropped", async () => {
  const [a, b] = await sessionPair(
    { decoys: [0, 1, 1000], shaping: randomDecoys({ probability: 1, maxSize: 64 }) },
    { decoys: [3] },
  );
  assert.equal(b.handshake.decoysReceived, 3);
  assert.equal(a.handshake.decoysReceived, 1);
  assert.deepEqual(a.handshake.decoysSent, [0, 1, 1000]);
  const w = a.writable.getWriter(), r = b.readable.getReader();
  for (let i = 0; i < 10; i++) await w.write(msg("inv", i));
  for (let i = 0; i < 10; i++) assert.deepEqual((await r.read()).value, msg("inv", i));
  assert.equal(a.stats.decoysSent, 10);
  assert.equal(b.stats.decoysReceived, 10);
  await a.close();
});

Deno.test("session: rekeying across 224-packet boundaries (injected interval 3)", async () => {
  const [a, b] = await sessionPair({ rekeyInterval: 3 }, { rekeyInterval: 3 });
  const w = a.writable.getWriter(), r = b.readable.getReader();
  for (let i = 0; i < 20; i++) await w.write(msg("inv", i));
  for (let i = 0; i < 20; i++) assert.deepEqual((await r.read()).value, msg("inv", i));
  await a.close();
  // mismatched intervals break at the first rekey
  const [c, d] = await sessionPair({ rekeyInterval: 3 }, {});
  const cw = c.writable.getWriter(), dr = d.readable.getReader();
  for (let i = 0; i < 4; i++) cw.write(msg("inv", i)).catch(() => {});
  // Close the sender so a garbled length that looks small cannot leave the reader waiting.
  const closing = c.close();
  assert.deepEqual((await dr.read()).value, msg("inv", 0));
  // the wrong key shows first as a bad tag, a nonsense length, or a stream that ends mid-packet
  const error = await (async () => {
    for (;;) if ((await dr.read()).done) return undefined;
  })().catch((e) => e);
  assert.ok(
    error instanceof Bip324Error &&
      ["DECRYPTION", "OVERSIZED", "UNEXPECTED_EOF"].includes(error.code),
    String(error),
  );
  await closing;
});

Deno.test("session: caller layers can be inserted at every point", async () => {
  const seen: Record<string, number> = { wire: 0, packets: 0, contents: 0, messages: 0 };
  const counter = <T>(name: string): Layer<T, T> => ({
    inbound: new TransformStream<T, T>({
      transform(c, ctl) {
        seen[name]++;
        ctl.enqueue(c);
      },
    }),
    outbound: new TransformStream<T, T>(),
  });
  const [a, b] = await sessionPair({}, {
    layers: {
      wire: [counter("wire")],
      packets: [counter("packets")],
      contents: [counter("contents")],
      messages: [counter("messages")],
    },
  });
  const w = a.writable.getWriter(), r = b.readable.getReader();
  await w.write(msg("inv", 1));
  await w.write(msg("inv", 2));
  await r.read();
  await r.read();
  assert.ok(seen.wire >= 1);
  assert.equal(seen.packets, 2);
  assert.equal(seen.contents, 2);
  assert.equal(seen.messages, 2);
  await a.close();
});

Deno.test("session: a caller contents layer sees whole contents of a large message", async () => {
  // Without such a layer, large payloads are encrypted from where the caller has them; with
  // one, the layer gets complete contents (here it copies them and checks the payload).
  const payload = new Uint8Array(70_000).map((_, i) => (i * 13) & 0xff);
  const checked: boolean[] = [];
  const copying: Layer<Uint8Array, Uint8Array> = {
    inbound: {},
    outbound: {
      transform(c: Uint8Array, ctl: TransformStreamDefaultController<Uint8Array>) {
        if (c.length > 1000) checked.push(c.subarray(1).every((v, i) => v === payload[i]));
        ctl.enqueue(c.slice());
      },
    },
  };
  for (const layers of [{ contents: [copying] }, {}]) {
    const [a, b] = await sessionPair({ layers }, {});
    const w = a.writable.getWriter(), r = b.readable.getReader();
    await w.write({ type: "block", payload });
    const { value } = await r.read();
    await a.close();
    await b.closed;
    // (a boolean: node:assert's diff of two 70 kB arrays takes minutes)
    assert.ok(
      value?.payload.every((v, i) => v === payload[i]),
      `payload intact (caller layer: ${"contents" in layers})`,
    );
  }
  assert.deepEqual(checked, [true]);
});

Deno.test("session: aeadBackend pure/native/wasm/auto interoperate on the same wire", async () => {
  const pairs = [["pure", "native"], ["native", "auto"], ["auto", "pure"], ["wasm", "pure"], [
    "native",
    "wasm",
  ]] as const;
  for (const [x, y] of pairs) {
    const [a, b] = await sessionPair({ aeadBackend: x }, { aeadBackend: y });
    const w = a.writable.getWriter(), r = b.readable.getReader();
    for (const size of [0, 37, 5000, 100_000]) {
      const payload = new Uint8Array(size).map((_, i) => i * 31);
      await w.write({ type: "block", payload });
      assert.deepEqual((await r.read()).value?.payload, payload, `${x}→${y} ${size}`);
    }
    await a.close();
    await b.closed;
  }
});
