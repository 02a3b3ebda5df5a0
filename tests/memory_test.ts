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
