import assert from "node:assert/strict";
import { type Layer, pipeline, prepend, stack } from "../layers/session/pipeline.ts";
import { readAll } from "./helpers.ts";

const mapLayer = (
  up: (n: number) => number,
  down: (n: number) => number,
): Layer<number, number> => ({
  inbound: new TransformStream({ transform: (x, c) => c.enqueue(up(x)) }),
  outbound: new TransformStream({ transform: (x, c) => c.enqueue(down(x)) }),
});

Deno.test("pipeline: layers apply bottom-up inbound and top-down outbound", async () => {
  const wire = new TransformStream<number, number>(); // loopback: what goes down comes back up
  const top = pipeline<number>(
    wire,
    mapLayer((x) => x - 1, (x) => x + 1),
    mapLayer((x) => x / 10, (x) => x * 10),
  );
  const w = top.writable.getWriter();
  const r = top.readable.getReader();
  await w.write(5); // down: *10 then +1 → 51; up: -1 then /10 → 5
  assert.equal((await r.read()).value, 5);
});

Deno.test("stack: an inbound error reaches the top and cancels the source", async () => {
  let cancelled = false;
  const source = new ReadableStream<number>({
    pull: (c) => c.enqueue(1),
    cancel: () => {
      cancelled = true;
    },
  });
  const failing: Layer<number, number> = {
    inbound: new TransformStream<number, number>({
      transform() {
        throw new Error("boom");
      },
    }),
    outbound: new TransformStream(),
  };
  const top = stack({ readable: source, writable: new WritableStream<number>() }, failing);
  await assert.rejects(top.readable.getReader().read(), /boom/);
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(cancelled);
});

Deno.test("stack: a failing transport makes writes from the top reject", async () => {
  const sink = new WritableStream<number>({
    write() {
      throw new Error("sink down");
    },
  });
  const top = stack(
    { readable: new ReadableStream<number>(), writable: sink },
    mapLayer((x) => x, (x) => x),
  );
  const w = top.writable.getWriter();
  let rejected = false;
  for (let i = 0; i < 10 && !rejected; i++) {
    await w.write(i).catch(() => (rejected = true));
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.ok(rejected);
});

Deno.test("prepend: head first, then the rest; cancel reaches the source", async () => {
  const rest = ReadableStream.from([new Uint8Array([2]), new Uint8Array([3])]);
  const all = await readAll(prepend(new Uint8Array([1]), rest));
  assert.deepEqual(all.map((c) => c[0]), [1, 2, 3]);
  let cancelled = false;
  const src = new ReadableStream<Uint8Array>({
    cancel: () => {
      cancelled = true;
    },
  });
  await prepend(new Uint8Array([1]), src).cancel();
  assert.ok(cancelled);
  const same = ReadableStream.from([new Uint8Array([1])]);
  assert.equal(prepend(new Uint8Array(0), same), same);
});
