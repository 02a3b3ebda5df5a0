import assert from "node:assert/strict";
import { ByteQueue } from "../layers/byte_queue.ts";
import { prng } from "./helpers.ts";

Deno.test("ByteQueue: FIFO order across growth and compaction", () => {
  const q = new ByteQueue(8);
  const rand = prng(1);
  const model: number[] = [];
  let next = 0;
  for (let step = 0; step < 5000; step++) {
    if (rand() < 0.55) {
      const n = Math.floor(rand() * 40);
      const chunk = Uint8Array.from({ length: n }, () => next++ & 0xff);
      q.push(chunk);
      model.push(...chunk);
    } else if (q.length > 0) {
      const n = 1 + Math.floor(rand() * q.length);
      assert.deepEqual([...q.take(n)], model.splice(0, n));
    }
    assert.equal(q.length, model.length);
    if (q.length) assert.equal(q.at(0), model[0]);
  }
});

Deno.test("ByteQueue: peek, skip, drain, clear and bounds", () => {
  const q = new ByteQueue(4);
  q.push(new Uint8Array([1, 2, 3, 4, 5]));
  assert.deepEqual([...q.peek(2)], [1, 2]);
  q.skip(2);
  assert.deepEqual([...q.drain()], [3, 4, 5]);
  assert.equal(q.length, 0);
  assert.throws(() => q.take(1), RangeError);
  assert.throws(() => q.skip(1), RangeError);
  q.push(new Uint8Array([9]));
  q.clear();
  assert.equal(q.length, 0);
});
