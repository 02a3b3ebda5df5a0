// Session.send and the writable it builds only when used.
import assert from "node:assert/strict";
import { concat, isCode, msg, sessionPair, within } from "./helpers.ts";
import { openSession } from "../layers/session/open.ts";
import { memoryPair } from "../transports/memory.ts";
import { performHandshake } from "../layers/handshake/driver.ts";
import { encryptPacket } from "../layers/packet_cipher.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";

async function read(reader: ReadableStreamDefaultReader<Message>, n: number): Promise<Message[]> {
  const got: Message[] = [];
  for (let i = 0; i < n; i++) got.push((await within(reader.read(), 2000, "read")).value!);
  return got;
}

Deno.test("send: needs no WritableStream until the writable is used", async () => {
  const [a, b] = await sessionPair();
  const real = globalThis.WritableStream;
  let built = 0;
  globalThis.WritableStream = class extends real<unknown> {
    constructor(...args: ConstructorParameters<typeof real<unknown>>) {
      super(...args);
      built++;
    }
  } as typeof real;
  try {
    for (let i = 0; i < 20; i++) await a.send("inv", new Uint8Array([i]));
    assert.equal(built, 0, "send built a WritableStream");
    a.writable; // built on first use
    assert.equal(built, 1);
  } finally {
    globalThis.WritableStream = real;
  }
  const got = await read(b.readable.getReader(), 20);
  assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => msg("inv", i)));
  await a.close();
  await b.closed;
});

Deno.test("send: in order with writes through the writable, and refused while a writer holds it", async () => {
  const [a, b] = await sessionPair();
  const sent = [a.send("inv", Uint8Array.of(1)), a.send("inv", Uint8Array.of(2))];
  await Promise.all(sent);
  const w = a.writable.getWriter();
  await w.write(msg("inv", 3));
  await assert.rejects(a.send("inv", Uint8Array.of(9)), TypeError); // the lock is taken
  w.releaseLock();
  await a.send("inv", Uint8Array.of(4));
  assert.deepEqual(await read(b.readable.getReader(), 4), [1, 2, 3, 4].map((i) => msg("inv", i)));
  await a.close();
  await b.closed;
});

Deno.test("send: a caller mistake rejects with TypeError and the session goes on", async () => {
  const [a, b] = await sessionPair();
  await assert.rejects(a.send("a-type-too-long!", new Uint8Array(1)), TypeError);
  await assert.rejects(a.send("bad\u0001", new Uint8Array(1)), TypeError);
  assert.throws(() => a.send(7 as unknown as string), TypeError);
  assert.throws(() => a.send("inv", [1] as unknown as Uint8Array), TypeError);
  assert.equal(a.isOpen, true);
  await a.send("inv", Uint8Array.of(5));
  assert.deepEqual(await read(b.readable.getReader(), 1), [msg("inv", 5)]);
  await a.close();
  await b.closed;
});

Deno.test("send and a writable first used after the end reject with CLOSED", async () => {
  // A clean close: send refuses, and so does a writable built afterwards.
  const [a, b] = await sessionPair();
  await a.close();
  await assert.rejects(a.send("inv"), isCode("CLOSED"));
  await assert.rejects(a.writable.getWriter().write(msg("inv")), isCode("CLOSED"));
  await b.closed;

  // A failure (a bad tag from the peer): the writable built afterwards is errored with CLOSED,
  // whose cause is the failure, as one built before it would have been.
  const [x, y] = memoryPair();
  const [raw, session] = await Promise.all([
    performHandshake(x, { role: "initiator", network: "regtest" }),
    openSession(y, { role: "responder", network: "regtest" }),
  ]);
  const bad = encryptPacket(raw.cipher.ciphers, new Uint8Array([14, 4]));
  bad[bad.length - 1] ^= 1;
  await x.writable.getWriter().write(concat([bad]));
  await within(session.closed, 2000, "session fails");
  assert.equal(session.closeReason?.code, "DECRYPTION");
  const writer = session.writable.getWriter();
  await assert.rejects(writer.write(msg("inv")), (error: unknown) => {
    assert.ok(isCode("CLOSED")(error));
    assert.equal((error as { cause?: { code?: string } }).cause?.code, "DECRYPTION");
    return true;
  });
  writer.releaseLock();
  await assert.rejects(session.send("inv"), isCode("CLOSED"));
});

Deno.test("send: messages sent just before close() still go out", async () => {
  const [a, b] = await sessionPair();
  const sends = Array.from({ length: 50 }, (_, i) => a.send("inv", Uint8Array.of(i)));
  const closing = a.close(); // not awaited sends, then close at once
  const got = await read(b.readable.getReader(), 50);
  await Promise.all(sends);
  await closing;
  assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => msg("inv", i)));
  await b.closed;
});

Deno.test("send: when the peer stops reading, sends wait for backpressure and then go out in order", async () => {
  const [x, y] = memoryPair({ highWaterMark: 1 });
  const [a, b] = await Promise.all([
    openSession(x, { role: "initiator", network: "regtest" }),
    openSession(y, { role: "responder", network: "regtest", readAhead: 0 }),
  ]);
  let settled = 0;
  const payload = (i: number) => new Uint8Array(1024).fill(i & 0xff);
  const sends = Array.from(
    { length: 2000 },
    (_, i) => a.send("inv", payload(i)).then(() => settled++),
  );
  // Nobody reads b: the transport fills up and the later sends are still waiting.
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(settled < 2000, `all ${settled} sends resolved with nobody reading`);
  const reader = b.readable.getReader();
  const got = await read(reader, 2000);
  await within(Promise.all(sends), 2000, "sends");
  assert.equal(settled, 2000);
  got.forEach((m, i) => {
    if (m.type !== "inv" || m.payload.length !== 1024 || m.payload[0] !== (i & 0xff)) {
      assert.fail(`message ${i} out of order or damaged`);
    }
  });
  await a.close();
  assert.equal((await within(reader.read(), 2000, "end")).done, true); // b reads the end
  await b.closed;
});

Deno.test("send: a send from inside a caller's outbound layer goes out after the message being written", async () => {
  const sender: { session?: Awaited<ReturnType<typeof openSession>> } = {};
  const replies: Promise<void>[] = [];
  const echoLayer = {
    outbound: {
      transform(m: Message, c: TransformStreamDefaultController<Message>) {
        if (m.payload[0] === 1) replies.push(sender.session!.send("inv", Uint8Array.of(2)));
        c.enqueue(m);
      },
    },
  };
  const [x, y] = memoryPair();
  const [a, b] = await Promise.all([
    openSession(x, { role: "initiator", network: "regtest", layers: { messages: [echoLayer] } }),
    openSession(y, { role: "responder", network: "regtest" }),
  ]);
  sender.session = a;
  await a.send("inv", Uint8Array.of(1));
  await a.send("inv", Uint8Array.of(3));
  await Promise.all(replies);
  assert.deepEqual(await read(b.readable.getReader(), 3), [1, 2, 3].map((i) => msg("inv", i)));
  await a.close();
  await b.closed;
});

Deno.test("send and write while close() drains: delivered, or refused with CLOSED — never a TypeError", async () => {
  const outcomes = new Set<string>();
  for (let hops = 0; hops < 40; hops++) {
    for (const via of ["send", "writer"] as const) {
      const [a, b] = await sessionPair();
      const reader = b.readable.getReader();
      const writer = via === "writer" ? a.writable.getWriter() : undefined;
      const closing = a.close();
      for (let i = 0; i < hops; i++) await null;
      let outcome: string;
      try {
        await (writer ? writer.write(msg("inv", 7)) : a.send("inv", Uint8Array.of(7)));
        outcome = "delivered";
      } catch (error) {
        assert.ok(isCode("CLOSED")(error), `${via} after ${hops} hops: ${error}`);
        outcome = "refused";
      }
      await within(closing, 2000, "close");
      const got: Message[] = [];
      for (;;) {
        const { value, done } = await within(reader.read(), 2000, "read");
        if (done) break;
        got.push(value);
      }
      assert.deepEqual(got, outcome === "delivered" ? [msg("inv", 7)] : [], `${via}, ${hops} hops`);
      outcomes.add(outcome);
      await b.closed;
    }
  }
  assert.deepEqual([...outcomes].sort(), ["delivered", "refused"]); // both windows were hit
});

Deno.test("send: sends waiting for a peer that never reads settle with CLOSED once close() gives up", async () => {
  const [a, b] = await sessionPair({ closeTimeout: 100 });
  const outcomes: string[] = [];
  const sends = Array.from({ length: 40 }, () =>
    a.send("inv", new Uint8Array(20_000)).then(
      () => outcomes.push("ok"),
      (error) => outcomes.push(isCode("CLOSED")(error) ? "CLOSED" : String(error)),
    ));
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(outcomes.length < 40, "some sends wait: b never reads");
  await within(a.close(), 2000, "close");
  await within(Promise.all(sends), 2000, "every send settles");
  assert.ok(outcomes.includes("CLOSED"), outcomes.join());
  assert.ok(outcomes.every((o) => o === "ok" || o === "CLOSED"), outcomes.join());
  // Not a clean close: the messages dropped are named (before, closeReason was undefined).
  assert.equal(a.closeReason?.code, "TIMEOUT");
  assert.equal(a.closeReason?.origin, "local");
  await b.close();
});

Deno.test("writable: writer.abort() while a write waits on backpressure ends the session at once", async () => {
  const [a, b] = await sessionPair();
  const writer = a.writable.getWriter();
  let inflight: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < 200; i++) {
    inflight = writer.write({ type: "block", payload: new Uint8Array(65_536) }).catch((e) => e);
    const waiting = await Promise.race([
      inflight.then(() => false),
      new Promise((r) => setTimeout(() => r(true), 20)),
    ]);
    if (waiting) break; // b never reads: this write waits for room
  }
  await within(writer.abort(new Error("stop")), 2000, "abort");
  assert.ok(isCode("CLOSED")(await within(inflight, 2000, "the write in flight")));
  await within(a.closed, 2000, "closed");
  assert.equal(a.isOpen, false);
  await b.close();
});

Deno.test("send: after the writable was closed or aborted, sends reject with CLOSED", async () => {
  for (const end of ["close", "abort", "abort with a reason"] as const) {
    const [a, b] = await sessionPair();
    const writer = a.writable.getWriter();
    if (end === "close") await writer.close();
    else await writer.abort(end === "abort" ? undefined : "my reason").catch(() => {});
    writer.releaseLock();
    await within(a.closed, 2000, "closed");
    await assert.rejects(a.send("inv", Uint8Array.of(1)), isCode("CLOSED"), end);
    await b.close();
  }
});

Deno.test("send: once close() was called, a send is refused with CLOSED; earlier ones arrive", async () => {
  const [a, b] = await sessionPair();
  const before = [a.send("ping", new Uint8Array([1])), a.send("ping", new Uint8Array([2]))];
  const closing = a.close();
  const late = a.send("ping", new Uint8Array([3]));
  await assert.rejects(late, isCode("CLOSED"));
  await Promise.all(before);
  const got: number[] = [];
  for await (const m of b.readable) got.push(m.payload[0]);
  assert.deepEqual(got, [1, 2]);
  await closing;
  assert.equal(a.closeReason, undefined);
});
