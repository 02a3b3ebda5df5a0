/**
 * {@linkcode compose}: chains Web Streams `Transformer`s into one
 * `Transformer`, so that `new TransformStream(compose(a, b, c))` behaves like
 * `a`, `b` and `c` piped one after another, in one stream stage.
 *
 * Each chunk a transformer enqueues goes straight into the next transformer's
 * `transform`, in the same call: synchronous layers cost one function call per
 * chunk, no promise and no queue. A transformer that returns a promise (or a
 * whole `TransformStream`, adapted with {@linkcode streamTransformer}) holds
 * back only the stages after it: later chunks queue in front of it, in order,
 * and the composed `transform` returns a promise until the chain is idle again,
 * which is how backpressure reaches the writer.
 *
 * Errors: a transformer that throws, or calls `controller.error()`, errors the
 * composed stage; whatever the stages before it had already enqueued further
 * down stays delivered. `terminate()` from a stage flushes the stages after it
 * and terminates the composed stage. `flush` runs every stage's `flush` in
 * order, each after the stages before it have delivered everything.
 *
 * @module
 */

/** The controller a composed stage hands each transformer. */
type StageController = TransformStreamDefaultController<unknown>;

interface Stage {
  transformer: Transformer<unknown, unknown>;
  controller: StageController;
  /** Chunks waiting while this stage's last transform is still running. */
  queue: unknown[];
  /** Settles when this stage's running transform (and its queue) is done. */
  busy: Promise<void> | undefined;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" &&
    typeof (value as { then?: unknown }).then === "function";
}

/**
 * Composes transformers into one. The first transformer receives what is
 * written; what the last one enqueues is the composed stage's output.
 *
 * @example Two synchronous layers in one TransformStream
 * ```ts
 * import { compose } from "@bip324/bip324/layers";
 *
 * const double: Transformer<number, number> = { transform: (n, c) => c.enqueue(n * 2) };
 * const plusOne: Transformer<number, number> = { transform: (n, c) => c.enqueue(n + 1) };
 * const out = ReadableStream.from([1, 2, 3]).pipeThrough(new TransformStream(compose(double, plusOne)));
 * const seen: number[] = [];
 * for await (const n of out) seen.push(n);
 * console.assert(seen.join() === "3,5,7");
 * ```
 */
// deno-lint-ignore no-explicit-any
export function compose<I = any, O = any>(
  // deno-lint-ignore no-explicit-any
  ...transformers: Transformer<any, any>[]
): Transformer<I, O> {
  for (const [i, t] of transformers.entries()) {
    if (t === null || typeof t !== "object") {
      throw new TypeError(`transformers[${i}] must be a Transformer object`);
    }
    if (t.transform !== undefined && typeof t.transform !== "function") {
      throw new TypeError(`transformers[${i}].transform must be a function`);
    }
  }
  let outer: TransformStreamDefaultController<O> | undefined;
  let failure: { error: unknown } | undefined;
  let terminated = false;
  /** After a stage calls terminate(), chunks for it and the stages before it are dropped. */
  let stoppedThrough = -1;
  /** Async work in flight (transforms that returned promises). */
  const inflight = new Set<Promise<void>>();
  const stages: Stage[] = [];

  const fail = (error: unknown) => {
    if (failure) return;
    failure = { error };
    try {
      outer?.error(error);
    } catch { /* already errored or closed */ }
  };

  const deliver = (index: number, chunk: unknown): void => {
    if (failure) throw failure.error;
    if (terminated || index <= stoppedThrough) return;
    if (index === stages.length) {
      outer!.enqueue(chunk as O);
      return;
    }
    const stage = stages[index];
    if (stage.busy !== undefined) {
      stage.queue.push(chunk);
      return;
    }
    run(stage, chunk);
  };

  const run = (stage: Stage, chunk: unknown): void => {
    const transform = stage.transformer.transform;
    const result = transform === undefined
      ? stage.controller.enqueue(chunk)
      : transform.call(stage.transformer, chunk, stage.controller);
    if (isThenable(result)) wait(stage, result);
  };

  const wait = (stage: Stage, pending: PromiseLike<unknown>): void => {
    const done: Promise<void> = Promise.resolve(pending).then(
      () => {
        inflight.delete(done);
        stage.busy = undefined;
        try {
          while (stage.queue.length > 0 && stage.busy === undefined && !failure) {
            run(stage, stage.queue.shift());
          }
        } catch (error) {
          fail(error);
        }
      },
      (error) => {
        inflight.delete(done);
        stage.busy = undefined;
        fail(error);
      },
    );
    stage.busy = done;
    inflight.add(done);
  };

  /** Resolves once no stage has work in flight (or rejects with the failure). */
  const idle = async (): Promise<void> => {
    while (inflight.size > 0) await Promise.all([...inflight]);
    if (failure) throw failure.error;
  };

  /** Runs the flush of stages `from`.. in order, each after the earlier ones are idle. */
  const flushFrom = async (from: number): Promise<void> => {
    for (let i = from; i < stages.length; i++) {
      await idle();
      const flush = stages[i].transformer.flush;
      if (flush !== undefined) await flush.call(stages[i].transformer, stages[i].controller);
    }
    await idle();
  };

  transformers.forEach((transformer, index) => {
    const controller: StageController = {
      get desiredSize() {
        return outer?.desiredSize ?? null;
      },
      enqueue: (chunk?: unknown) => deliver(index + 1, chunk),
      error: (reason?: unknown) => fail(reason),
      terminate: () => {
        if (terminated || failure || stoppedThrough >= index) return;
        stoppedThrough = index;
        flushFrom(index + 1).then(() => {
          terminated = true;
          outer?.terminate();
        }, fail);
      },
    };
    stages.push({ transformer, controller, queue: [], busy: undefined });
  });

  return {
    async start(controller) {
      outer = controller;
      for (const stage of stages) {
        const start = stage.transformer.start;
        if (start !== undefined) await start.call(stage.transformer, stage.controller);
      }
    },
    transform(chunk) {
      if (stoppedThrough >= 0) return;
      deliver(0, chunk);
      if (inflight.size > 0) return idle();
    },
    flush() {
      return flushFrom(0);
    },
  };
}

/**
 * Adapts a whole `TransformStream` (or any readable/writable pair) as a
 * transformer, so it can sit among composed transformers. Unlike a
 * synchronous transformer it costs one stream hop per chunk: its output
 * reaches the next stage asynchronously, in order.
 *
 * @example
 * ```ts
 * import { compose, streamTransformer } from "@bip324/bip324/layers";
 *
 * const upper = new TransformStream<string, string>({ transform: (s, c) => c.enqueue(s.toUpperCase()) });
 * const out = ReadableStream.from(["a", "b"])
 *   .pipeThrough(new TransformStream(compose(streamTransformer(upper))));
 * const seen: string[] = [];
 * for await (const s of out) seen.push(s);
 * console.assert(seen.join() === "A,B");
 * ```
 */
export function streamTransformer<I, O>(
  stream: ReadableWritablePair<O, I>,
): Transformer<I, O> {
  if (
    stream === null || typeof stream !== "object" ||
    !(stream.readable instanceof ReadableStream) || !(stream.writable instanceof WritableStream)
  ) {
    throw new TypeError("stream must have a ReadableStream readable and a WritableStream writable");
  }
  const writer = stream.writable.getWriter();
  let pump: Promise<void> | undefined;
  return {
    start(controller) {
      const reader = stream.readable.getReader();
      pump = (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            controller.enqueue(value);
          }
        } catch (error) {
          controller.error(error);
        }
      })();
      pump.catch(() => {});
    },
    transform(chunk) {
      return writer.write(chunk);
    },
    async flush() {
      await writer.close();
      await pump;
    },
  };
}
