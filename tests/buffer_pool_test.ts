import assert from "node:assert/strict";
import { emptyPool, recycle as recycleBuffer, takeBuffer } from "../layers/buffer_pool.ts";
import { aeadDecryptor } from "../layers/aead/aead_layer.ts";
import { FSChaCha20Poly1305 } from "../layers/aead/aead.ts";
import { FRAGMENT_STARTS } from "../layers/chunk_marks.ts";
import { connect, listen, recycle, type Session } from "../mod.ts";
import { prng, sessionPair } from "./helpers.ts";

const K = 1024;

function random(n: number, seed: number): Uint8Array {
  const next = prng(seed);
  return Uint8Array.from({ length: n }, () => next() & 0xff);
}

Deno.test("buffer pool: only a large, whole, unshared, plain buffer is kept, and once", () => {
  emptyPool();
  assert.equal(recycleBuffer(new Uint8Array(64 * K - 1)), false, "small");
  assert.equal(recycleBuffer(new Uint8Array(200 * K).subarray(0, 100 * K)), false, "shared");
  assert.equal(recycleBuffer(new Uint8Array(new SharedArrayBuffer(100 * K))), false);
  const resizable = new ArrayBuffer(100 * K, { maxByteLength: 200 * K });
  assert.equal(recycleBuffer(new Uint8Array(resizable)), false, "resizable");
  // the framing of a packet may go with the payload
  const framed = new Uint8Array(100 * K + 40).subarray(20, 100 * K + 20);
  assert.equal(recycleBuffer(framed), true);
  assert.equal(recycleBuffer(framed), false, "already kept");
  assert.equal(takeBuffer(100 * K + 40)?.buffer, framed.buffer);
  assert.equal(takeBuffer(100 * K + 40), undefined, "taken once");
});

Deno.test("buffer pool: a buffer serves 3/4 of its size up to its size, the rest zeroed", () => {
  emptyPool();
  const old = new Uint8Array(100_000).fill(0xee);
  assert.equal(recycleBuffer(old), true);
  assert.equal(takeBuffer(100_001), undefined, "too small for it");
  assert.equal(takeBuffer(74_999), undefined, "too large for that");
  const view = takeBuffer(80_000)!;
  assert.equal(view.buffer, old.buffer);
  assert.equal(view.length, 80_000);
  assert.ok(new Uint8Array(old.buffer, 80_000).every((b) => b === 0), "nothing old shows");
  // once used for 80,000 bytes, a payload of those may bring it back
  assert.equal(recycleBuffer(view.subarray(0, 79_990)), true);
  assert.equal(takeBuffer(80_000)?.buffer, old.buffer);
});

Deno.test("buffer pool: at most 8 are kept; a detached one is skipped", () => {
  emptyPool();
  const kept = Array.from({ length: 9 }, () => new Uint8Array(70 * K));
  assert.deepEqual(kept.map(recycleBuffer), [...Array(8).fill(true), false]);
  emptyPool();
  const moved = new Uint8Array(70 * K);
  assert.equal(recycleBuffer(moved), true);
  moved.buffer.transfer(); // the caller broke the contract: its buffer is gone
  assert.equal(takeBuffer(70 * K), undefined);
});

Deno.test("buffer pool: a streamed packet body is gathered in a recycled buffer", async () => {
  emptyPool();
  const key = new Uint8Array(32).fill(9);
  const contents = random(300_000, 1);
  const plain = new Uint8Array(1 + contents.length);
  plain.set(contents, 1);
  const body = new FSChaCha20Poly1305(key).encrypt(new Uint8Array(0), plain);
  const old = new Uint8Array(body.length);
  assert.equal(recycleBuffer(old), true);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += 10_000) pieces.push(body.slice(i, i + 10_000));
  FRAGMENT_STARTS.set(pieces[0], body.length);
  const out = ReadableStream.from(pieces).pipeThrough(
    new TransformStream(aeadDecryptor(new FSChaCha20Poly1305(key))),
  );
  const { value } = await out.getReader().read();
  assert.equal(value!.buffer, old.buffer);
  assert.deepEqual(value, contents);
});

Deno.test("recycle(): the next large message is sealed in the buffer given back", async () => {
  emptyPool();
  const [alice, bob] = await sessionPair();
  const reader = bob.readable.getReader();
  const first = random(1 << 20, 2), second = random(1 << 20, 3);
  await alice.send("block", first);
  const got = (await reader.read()).value!;
  assert.deepEqual(got.payload, first);
  assert.equal(recycle(got.payload), true);
  assert.equal(recycle(new Uint8Array(10)), false);
  assert.throws(() => recycle("x" as unknown as Uint8Array), TypeError);
  await alice.send("block", second);
  const next = (await reader.read()).value!;
  assert.equal(next.payload.buffer, got.payload.buffer, "built in the recycled buffer");
  assert.deepEqual(next.payload, second);
  assert.equal(next.type, "block");
  reader.releaseLock();
  await alice.close();
  await bob.closed;
});

Deno.test("recycle(): over TCP the next large message is read into it", async () => {
  emptyPool();
  const listener = listen({ hostname: "127.0.0.1", port: 0, network: "regtest" });
  const accepted = listener[Symbol.asyncIterator]().next();
  const alice = await connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
    network: "regtest",
  });
  const bob = (await accepted).value as Session;
  const reader = bob.readable.getReader();
  const sizes = [1_000_000, 900_000, 1_000_000, 1_100_000];
  const buffers: ArrayBufferLike[] = [];
  for (const [i, size] of sizes.entries()) {
    const payload = random(size, 10 + i);
    await alice.send("block", payload);
    const got = (await reader.read()).value!;
    assert.deepEqual(got.payload, payload, `message ${i}`);
    buffers.push(got.payload.buffer);
    recycle(got.payload);
  }
  assert.equal(buffers[1], buffers[0], "the second message landed in the first one's buffer");
  assert.equal(buffers[2], buffers[0], "given back again, at its full size");
  assert.notEqual(buffers[3], buffers[0], "a larger packet than it held cannot use it");
  reader.releaseLock();
  await alice.close();
  await bob.closed;
  await listener.close();
});
