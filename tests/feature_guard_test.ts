// featureGuard: BIP434 features after verack, dropped or rejected.
import assert from "node:assert/strict";
import { encodeFeature, featureGuard, peerHandshake } from "../layers/bitcoin/mod.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";
import { Bip324Error } from "../layers/errors.ts";
import { isCode, readAll, sessionPair, within } from "./helpers.ts";

const TIMEOUT = 10_000;
const msg = (type: string, payload: Uint8Array = new Uint8Array()): Message => ({ type, payload });
const feature = (id: string) =>
  msg("feature", encodeFeature({ featureId: id, featureData: new Uint8Array() }));

Deno.test("featureGuard: drops features after verack (default: verack already seen)", async () => {
  const ignored: Message[] = [];
  const input = [msg("inv"), feature("BIP1111"), msg("ping"), feature("BIP2222")];
  const out = await readAll(
    ReadableStream.from(input).pipeThrough(
      new TransformStream(featureGuard({ onIgnored: (m) => ignored.push(m) })),
    ),
  );
  assert.deepEqual(out.map((m) => m.type), ["inv", "ping"]);
  assert.deepEqual(ignored, [feature("BIP1111"), feature("BIP2222")]);
});

Deno.test("featureGuard: with verackSeen false, features pass until a verack has", async () => {
  const input = [msg("version"), feature("BIP1111"), msg("verack"), feature("BIP2222"), msg("tx")];
  const out = await readAll(
    ReadableStream.from(input).pipeThrough(
      new TransformStream(featureGuard({ verackSeen: false })),
    ),
  );
  assert.deepEqual(out, [msg("version"), feature("BIP1111"), msg("verack"), msg("tx")]);
});

Deno.test("featureGuard: disconnect fails with UNEXPECTED_MESSAGE", async () => {
  const out = ReadableStream.from([msg("inv"), feature("BIP1111"), msg("tx")])
    .pipeThrough(new TransformStream(featureGuard({ afterVerack: "disconnect" })));
  const reader = out.getReader();
  assert.equal((await reader.read()).value?.type, "inv");
  await assert.rejects(reader.read(), (e) => {
    assert.ok(e instanceof Bip324Error);
    assert.equal(e.code, "UNEXPECTED_MESSAGE");
    assert.equal(e.origin, "peer");
    return true;
  });
  assert.throws(
    () => new TransformStream(featureGuard({ afterVerack: "warn" as "ignore" })),
    TypeError,
  );
});

Deno.test("featureGuard: on a session after peerHandshake, a late feature closes it", async () => {
  const [a, b] = await sessionPair();
  try {
    await within(Promise.all([peerHandshake(a), peerHandshake(b)]), TIMEOUT, "handshakes");
    const guarded = b.readable.pipeThrough(
      new TransformStream(featureGuard({ afterVerack: "disconnect" })),
    );
    const w = a.writable.getWriter();
    await w.write(msg("inv", new Uint8Array([1])));
    await w.write(feature("BIP1111"));
    const r = guarded.getReader();
    assert.deepEqual(
      (await within(r.read(), TIMEOUT, "inv")).value,
      msg("inv", new Uint8Array([1])),
    );
    await assert.rejects(within(r.read(), TIMEOUT, "late feature"), isCode("UNEXPECTED_MESSAGE"));
    // the guard's failure cancels the session's readable: both ends close
    await within(b.closed, TIMEOUT, "guarded session closed");
    await within(a.closed, TIMEOUT, "peer sees the close");
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("featureGuard: as a session messages layer, under peerHandshake", async () => {
  const guard = () => ({
    inbound: new TransformStream(featureGuard({ verackSeen: false })),
    outbound: new TransformStream<Message, Message>(),
  });
  const [a, b] = await sessionPair({ layers: { messages: [guard()] } });
  try {
    const [info] = await within(
      Promise.all([
        peerHandshake(a),
        peerHandshake(b, { features: [{ approach: "advertise", id: "BIP1111" }] }),
      ]),
      TIMEOUT,
      "handshakes",
    );
    // the feature before verack reached peerHandshake through the guard
    assert.deepEqual(info.features.map((f) => f.featureId), ["BIP1111"]);
    const w = b.writable.getWriter();
    await w.write(feature("BIP2222"));
    await w.write(msg("tx", new Uint8Array([2])));
    const r = a.readable.getReader();
    // the late feature was dropped by the layer: the tx is next
    assert.deepEqual((await within(r.read(), TIMEOUT, "tx")).value, msg("tx", new Uint8Array([2])));
    r.releaseLock();
    w.releaseLock();
  } finally {
    await a.close();
    await b.close();
  }
});
