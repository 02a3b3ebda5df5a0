// The Deno connection pair: driven directly as a channel by sessions, its streams built on
// first use; writes in order; closing waits for the writes in flight.
import assert from "node:assert/strict";
import { connPair } from "../transports/deno_conn.ts";
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
