import assert from "node:assert/strict";
import { takeChannel } from "../layers/channel.ts";

Deno.test("takeChannel: a stream pair with `closed` lingers for it at most the time given, and an abort ends the linger", async () => {
  const make = () => {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    return { readable, writable, closed: new Promise<void>(() => {}) }; // never closes by itself
  };
  const timed = takeChannel(make());
  assert.equal(typeof timed.linger, "function");
  let t0 = performance.now();
  await timed.linger!(50);
  assert.ok(performance.now() - t0 >= 40, "waited for its time");
  const aborted = takeChannel(make());
  t0 = performance.now();
  const lingering = aborted.linger!(10_000);
  await aborted.abort(new Error("give up")).catch(() => {}); // (a TransformStream may say so)
  await lingering;
  assert.ok(performance.now() - t0 < 1_000, "the abort ended it");
  const plain = new TransformStream<Uint8Array, Uint8Array>();
  assert.equal(takeChannel(plain).linger, undefined, "no `closed`: no linger");
});
