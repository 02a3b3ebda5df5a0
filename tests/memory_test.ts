import assert from "node:assert/strict";
import { memoryPair } from "../transports/memory.ts";

Deno.test("memoryPair: bytes cross in both directions, copied by default", async () => {
  const [a, b] = memoryPair();
  const chunk = new Uint8Array([1, 2, 3]);
  const w = a.writable.getWriter();
  await w.write(chunk);
  const got = (await b.readable.getReader().read()).value!;
  assert.deepEqual(got, chunk);
  assert.notEqual(got, chunk);
  const bw = b.writable.getWriter();
  await bw.write(new Uint8Array([9]));
  assert.deepEqual((await a.readable.getReader().read()).value, new Uint8Array([9]));
});

Deno.test("memoryPair: copy: false hands the same buffer over; close ends the peer's readable", async () => {
  const [a, b] = memoryPair({ copy: false });
  const chunk = new Uint8Array([1]);
  const w = a.writable.getWriter();
  await w.write(chunk);
  const r = b.readable.getReader();
  assert.equal((await r.read()).value, chunk);
  await w.close();
  assert.equal((await r.read()).done, true);
});

Deno.test("memoryPair: writes wait at highWaterMark chunks until the reader drains", async () => {
  const [a, b] = memoryPair({ highWaterMark: 2 });
  const w = a.writable.getWriter();
  await w.write(new Uint8Array([1]));
  let second = false;
  const pending = w.write(new Uint8Array([2])).then(() => (second = true));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(second, false, "the second chunk fills the queue: its write waits");
  const r = b.readable.getReader();
  assert.deepEqual((await r.read()).value, new Uint8Array([1]));
  await pending;
  assert.equal(second, true);
  assert.deepEqual((await r.read()).value, new Uint8Array([2]));
});

Deno.test("memoryPair: cancelling a readable fails the other end's writes; abort errors reads", async () => {
  const [a, b] = memoryPair();
  const reason = new Error("stop");
  await b.readable.cancel(reason);
  const w = a.writable.getWriter();
  await assert.rejects(w.write(new Uint8Array([1])), (e) => e === reason);
  const bw = b.writable.getWriter();
  const ar = a.readable.getReader();
  await bw.abort(new Error("gone"));
  await assert.rejects(ar.read(), /gone/);
});

Deno.test("memoryPair: a session takes the ends directly; the streams then show locked", async () => {
  const { openSession } = await import("../layers/session/open.ts");
  const [x, y] = memoryPair();
  const [s1, s2] = await Promise.all([
    openSession(x, { role: "initiator" }),
    openSession(y, { role: "responder" }),
  ]);
  assert.equal(x.readable.locked, true);
  assert.equal(x.writable.locked, true);
  await s1.send("ping", new Uint8Array(8));
  const r = s2.readable.getReader();
  assert.equal((await r.read()).value?.type, "ping");
  await s1.close();
  assert.equal((await r.read()).done, true);
  await s2.closed;
});

Deno.test("memoryPair: a pair whose streams were used is read through them by a session", async () => {
  const { openSession } = await import("../layers/session/open.ts");
  const [x, y] = memoryPair();
  // Touching the streams first hands them out: the session then locks them with a reader
  // and a writer, as with any other byte pair.
  assert.equal(x.readable.locked, false);
  assert.equal(x.writable.locked, false);
  const [s1, s2] = await Promise.all([
    openSession(x, { role: "initiator" }),
    openSession(y, { role: "responder" }),
  ]);
  assert.equal(x.readable.locked, true);
  await s2.send("pong", new Uint8Array(8));
  assert.equal((await s1.readable.getReader().read()).value?.type, "pong");
  await Promise.all([s1.close(), s2.closed]);
});

Deno.test("memoryPair: a chunk written as handed over crosses without a copy; others are copied", async () => {
  const { takeChannel } = await import("../layers/channel.ts");
  const [a, b] = memoryPair();
  const out = takeChannel(a), into = takeChannel(b);
  const kept = new Uint8Array([1, 2, 3]), given = new Uint8Array([4, 5, 6]);
  await out.write(kept);
  await out.write(given, true);
  const first = (await into.read()).value!, second = (await into.read()).value!;
  assert.deepEqual(first, kept);
  assert.notEqual(first.buffer, kept.buffer, "copied: the writer may still change it");
  assert.equal(second, given, "handed over: the same bytes, no copy");
});

Deno.test("memoryPair: writes waiting for room are refused when the writer aborts", async () => {
  const { takeChannel } = await import("../layers/channel.ts");
  const [a] = memoryPair({ highWaterMark: 2 });
  const out = takeChannel(a);
  const settled: string[] = [];
  const writes = [1, 2, 3].map((i) =>
    out.write(Uint8Array.of(i)).then(() => settled.push("ok"), (e) => settled.push(String(e)))
  );
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(settled, ["ok"], "the second and third wait: nobody reads");
  const waitingReady = out.ready.then(() => "ready", (e) => String(e));
  await out.abort(new Error("gone"));
  await Promise.all(writes);
  assert.deepEqual(settled, ["ok", "Error: gone", "Error: gone"]);
  assert.equal(await waitingReady, "Error: gone");
});

Deno.test("memoryPair: after the other end ended and stopped reading, a write is refused only once our reader read that end", async () => {
  const [x, y] = memoryPair();
  const yw = y.writable.getWriter();
  await yw.write(Uint8Array.of(1, 2));
  await yw.close();
  await y.readable.cancel(new Error("y is done"));
  const xw = x.writable.getWriter(), xr = x.readable.getReader();
  let refused = false;
  const write = xw.write(Uint8Array.of(9)).catch((e) => {
    refused = true;
    return e;
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(refused, false, "not while y's bytes and end wait for our reader");
  assert.deepEqual((await xr.read()).value, Uint8Array.of(1, 2));
  assert.equal((await xr.read()).done, true);
  assert.equal(((await write) as Error).message, "y is done");
  assert.equal(refused, true);
});
