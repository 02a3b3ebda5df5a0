import assert from "node:assert/strict";
import { compose, streamTransformer } from "../layers/session/compose.ts";
import { readAll } from "./helpers.ts";

const map = (f: (n: number) => number): Transformer<number, number> => ({
  transform: (n, c) => c.enqueue(f(n)),
});

function run<O>(input: unknown[], t: Transformer<unknown, O>): Promise<O[]> {
  return readAll(ReadableStream.from(input).pipeThrough(new TransformStream(t)));
}

Deno.test("compose: stages apply in order, each enqueue straight into the next", async () => {
  assert.deepEqual(await run([1, 2, 3], compose(map((n) => n * 10), map((n) => n + 1))), [
    11,
    21,
    31,
  ]);
  // one input may fan out to many outputs and many inputs to none
  const split: Transformer<number, number> = {
    transform(n, c) {
      for (let i = 0; i < n; i++) c.enqueue(n);
    },
  };
  assert.deepEqual(await run([0, 2, 1], compose(split, map((n) => -n))), [-2, -2, -1]);
  // synchronous chains never return a promise from transform
  const t = compose<number, number>(map((n) => n));
  const out: number[] = [];
  await t.start!({ enqueue: (n: number) => out.push(n) } as never);
  assert.equal(t.transform!(5, {} as never), undefined);
  assert.deepEqual(out, [5]);
  // an empty transformer passes chunks through
  assert.deepEqual(await run([1], compose({}, {})), [1]);
});

Deno.test("compose: an async stage keeps order and holds back only the stages after it", async () => {
  const slow: Transformer<number, number> = {
    async transform(n, c) {
      await new Promise((r) => setTimeout(r, (5 - n) * 2));
      c.enqueue(n);
    },
  };
  assert.deepEqual(await run([1, 2, 3, 4], compose(map((n) => n), slow, map((n) => n * 2))), [
    2,
    4,
    6,
    8,
  ]);
});

Deno.test("compose: a whole TransformStream works as a stage (one stream hop)", async () => {
  const upper = new TransformStream<number, number>({ transform: (n, c) => c.enqueue(n + 100) });
  const got = await run(
    [1, 2, 3],
    compose(map((n) => n * 2), streamTransformer(upper), map((n) => -n)),
  );
  assert.deepEqual(got, [-102, -104, -106]);
  assert.throws(() => streamTransformer({} as never), TypeError);
});

Deno.test("compose: flush runs in order, after earlier stages delivered everything", async () => {
  const log: string[] = [];
  const tail = (name: string): Transformer<string, string> => ({
    transform: (s, c) => c.enqueue(`${s}>${name}`),
    flush(c) {
      log.push(`flush ${name}`);
      c.enqueue(`end-${name}`);
    },
  });
  const got = await run(["x"], compose(tail("a"), tail("b")));
  assert.deepEqual(got, ["x>a>b", "end-a>b", "end-b"]);
  assert.deepEqual(log, ["flush a", "flush b"]);
});

Deno.test("compose: an error fails the stage; what was delivered before it stays", async () => {
  const failAt3: Transformer<number, number> = {
    transform(n, c) {
      if (n === 3) throw new Error("boom at 3");
      c.enqueue(n);
    },
  };
  const seen: number[] = [];
  const stream = ReadableStream.from([1, 2, 3, 4]).pipeThrough(
    new TransformStream(compose(failAt3)),
  );
  await assert.rejects(
    (async () => {
      for await (const n of stream) seen.push(n);
    })(),
    /boom at 3/,
  );
  assert.deepEqual(seen, [1, 2]);
  // controller.error() from a stage, and a rejecting async stage
  await assert.rejects(
    run([1], compose({ transform: (_n, c) => c.error(new Error("err")) })),
    /err/,
  );
  await assert.rejects(
    run([1], compose({ transform: () => Promise.reject(new Error("async")) })),
    /async/,
  );
});

Deno.test("compose: terminate() flushes later stages and ends the stream", async () => {
  const stopAt2: Transformer<number, number> = {
    transform(n, c) {
      if (n === 2) return c.terminate();
      c.enqueue(n);
    },
  };
  const later: Transformer<number, number> = {
    transform: (n, c) => c.enqueue(n),
    flush: (c) => c.enqueue(99),
  };
  const source = new ReadableStream<number>({
    start(c) {
      [1, 2, 3].forEach((n) => c.enqueue(n));
    },
  });
  const got = await readAll(source.pipeThrough(new TransformStream(compose(stopAt2, later))));
  assert.deepEqual(got, [1, 99]);
});

Deno.test("compose: argument checks name the transformer", () => {
  assert.throws(() => compose(null as never), /transformers\[0\]/);
  assert.throws(() => compose({}, { transform: 5 } as never), /transformers\[1\]\.transform/);
});
