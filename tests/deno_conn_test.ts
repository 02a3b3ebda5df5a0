// The Deno connection pair: driven directly as a channel by sessions, its streams built on
// first use; writes in order; closing waits for the writes in flight.
import assert from "node:assert/strict";
import { connPair, keptReadBuffers } from "../transports/deno_conn.ts";
import { takeChannel } from "../layers/channel.ts";

async function loopback(): Promise<{ a: Deno.Conn; b: Deno.Conn; stop: () => void }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  return { a, b, stop: () => listener.close() };
}

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  const out = new Uint8Array(parts.reduce((t, p) => t + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("connPair: a channel writes in order and close waits for the writes in flight", async () => {
  const { a, b, stop } = await loopback();
  const pair = connPair(a);
  const channel = takeChannel(pair);
  assert.equal(pair.readable.locked, true, "taken as a channel: the streams show locked");
  const chunks = Array.from({ length: 50 }, (_, i) => new Uint8Array(3000).fill(i));
  for (const c of chunks) channel.write(c); // not awaited: they queue in order
  assert.ok((channel.desiredSize ?? 1) <= 0, "writes in flight: backpressure");
  const got = readAll(b);
  await channel.close();
  const bytes = await got;
  assert.equal(bytes.length, 150_000);
  for (let i = 0; i < 50; i++) assert.equal(bytes[i * 3000 + 2999], i);
  await assert.rejects(channel.write(new Uint8Array(1)), TypeError);
  b.close();
  stop();
});

Deno.test("connPair: reads are copies sized to what arrived; EOF is done; cancel closes", async () => {
  const { a, b, stop } = await loopback();
  const pair = connPair(a);
  const channel = takeChannel(pair);
  await b.write(new Uint8Array([1, 2, 3]));
  const first = await channel.read();
  assert.deepEqual(first.value, new Uint8Array([1, 2, 3]));
  assert.equal(first.value!.buffer.byteLength, 3, "a copy of its own, not a view of the buffer");
  b.close();
  assert.equal((await channel.read()).done, true);
  await channel.cancel();
  assert.equal((await channel.read()).done, true, "reads after close end, they do not throw");
  stop();
});

Deno.test("connPair: streams used first are what a session gets; a released channel frees them", async () => {
  const { a, b, stop } = await loopback();
  const pair = connPair(a);
  const channel = takeChannel(pair);
  channel.release();
  const writer = pair.writable.getWriter(); // after release, the streams are free to use
  await writer.write(new Uint8Array([7]));
  const buf = new Uint8Array(4);
  assert.equal(await b.read(buf), 1);
  writer.releaseLock();
  // Now that the streams are in use, a channel goes through them (reader and writer).
  const viaStreams = takeChannel(pair);
  assert.equal(pair.writable.locked, true);
  await viaStreams.write(new Uint8Array([8]));
  assert.equal(await b.read(buf), 1);
  assert.equal(buf[0], 8);
  viaStreams.release();
  pair.close();
  b.close();
  stop();
});

/** A connection whose reads the test answers: it sees each read's buffer and fills some of it. */
function scriptedConn() {
  const reads: { buffer: Uint8Array; answer: (n: number | null) => void }[] = [];
  let waiting: (() => void) | undefined;
  const conn = {
    read: (buffer: Uint8Array) =>
      new Promise<number | null>((answer) => {
        reads.push({ buffer, answer });
        waiting?.();
      }),
    write: (p: Uint8Array) => Promise.resolve(p.length),
    close: () => {},
    remoteAddr: {},
    readable: new ReadableStream<Uint8Array>(),
    writable: new WritableStream<Uint8Array>(),
  };
  const pair = connPair(conn);
  const channel = takeChannel(pair);
  /** One read through the channel, answered with `fill` bytes (`"full"`: the whole buffer):
   * the buffer it read into (freed by now, if the channel let go of it) and its length then. */
  const step = async (fill: number | "full"): Promise<{ buffer: ArrayBuffer; length: number }> => {
    const reading = channel.read();
    if (reads.length === 0) await new Promise<void>((r) => (waiting = r));
    const { buffer, answer } = reads.shift()!;
    const length = buffer.length;
    const n = fill === "full" ? length : fill;
    answer(n);
    const got = await reading;
    assert.equal(got.value!.length, n, "each read is handed on");
    assert.equal(got.value!.buffer.byteLength, n, "as a copy of its own");
    return { buffer: buffer.buffer as ArrayBuffer, length };
  };
  return { pair, step };
}

Deno.test("connPair: read buffers grow in a burst and go back to 512 B after it", async () => {
  const { pair, step } = scriptedConn();
  assert.equal((await step(100)).length, 512, "a quiet connection reads into 512 bytes");
  const burst = [];
  for (let i = 0; i < 3; i++) burst.push(await step("full"));
  burst.push(await step(10));
  assert.deepEqual(burst.map((b) => b.length), [512, 1024, 2048, 4096], "each full read doubles");
  if ("transfer" in ArrayBuffer.prototype) {
    assert.equal(burst[1].buffer.byteLength, 0, "an outgrown buffer is freed at once");
    assert.equal(burst[3].buffer.byteLength, 0, "so is one under 64 KiB when its burst ends");
  }
  assert.equal(burst[0].buffer.byteLength, 512, "the small one stays");
  assert.equal((await step(10)).length, 512, "after the burst: the small buffer again");
  await step("full");
  assert.equal((await step(10)).length, 1024, "the next burst grows again");
  assert.equal(keptReadBuffers().connections, 0, "nothing kept under 64 KiB");
  pair.close();
});

Deno.test("connPair: a read buffer grown to 64 KiB serves the next burst, and goes after a quiet second", async () => {
  const { pair, step } = scriptedConn();
  let read = await step("full");
  while (read.length < 64 * 1024) read = await step("full");
  assert.equal((await step("full")).length, 64 * 1024, "64 KiB at most");
  const kept = (await step(10)).buffer;
  assert.equal((await step(10)).length, 512);
  await step("full");
  assert.equal((await step(10)).buffer, kept, "the next burst reads into the same 64 KiB buffer");
  assert.deepEqual(keptReadBuffers(), { connections: 1, sweeping: true });
  await new Promise((r) => setTimeout(r, 2_100)); // the sweep runs every second
  if ("transfer" in ArrayBuffer.prototype) assert.equal(kept.byteLength, 0, "freed by the sweep");
  await step("full");
  const after = await step(10);
  assert.equal(after.length, 1024, "after a quiet second the burst starts over");
  assert.deepEqual(keptReadBuffers(), { connections: 0, sweeping: false }, "the sweep stopped");
  // Another kept buffer, then close: it goes at once, and so does the sweep's timer.
  read = after;
  while (read.length < 64 * 1024) read = await step("full");
  const last = (await step(10)).buffer;
  assert.deepEqual(keptReadBuffers(), { connections: 1, sweeping: true });
  pair.close();
  assert.deepEqual(keptReadBuffers(), { connections: 0, sweeping: false });
  if ("transfer" in ArrayBuffer.prototype) assert.equal(last.byteLength, 0, "freed on close");
});
