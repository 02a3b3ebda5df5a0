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

import type { LandingTransformer } from "../layer.ts";

// deno-lint-ignore no-explicit-any
type AnyTransformer = Transformer<any, any>;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" &&
    typeof (value as { then?: unknown }).then === "function";
}

/**
 * One transformer of a chain, with what it is waiting on (if anything), and
 * the controller its transformer sees: `enqueue` goes straight into the next
 * stage. A small object with its methods on the prototype, so an idle chain
 * costs a few dozen bytes per stage.
 */
class Stage implements TransformStreamDefaultController<unknown> {
  readonly transformer: AnyTransformer;
  /** Chunks waiting while this stage's last transform is still running (allocated on need). */
  queue: unknown[] | undefined;
  /** Settles when this stage's running transform (and its queue) is done. */
  busy: Promise<void> | undefined;
  readonly #chain: Chain;
  readonly #index: number;
  constructor(chain: Chain, index: number, transformer: AnyTransformer) {
    this.#chain = chain;
    this.#index = index;
    this.transformer = transformer;
  }
  get desiredSize(): number | null {
    return this.#chain.outer?.desiredSize ?? null;
  }
  enqueue(chunk?: unknown): void {
    this.#chain.deliver(this.#index + 1, chunk);
  }
  error(reason?: unknown): void {
    this.#chain.fail(reason);
  }
  terminate(): void {
    this.#chain.terminateAfter(this.#index);
  }
  /**
   * Where the next stage would like its next bytes to land (see
   * {@linkcode LandingTransformer}), if anywhere.
   */
  landing(): Uint8Array | undefined {
    return this.#chain.landingAt(this.#index + 1);
  }
}

/** The state of one composed chain; its methods are the composed transformer's. */
class Chain implements Transformer<unknown, unknown> {
  outer: TransformStreamDefaultController<unknown> | undefined;
  readonly #stages: Stage[];
  #failure: { error: unknown } | undefined;
  #terminated = false;
  /** After a stage calls terminate(), chunks for it and the stages before it are dropped. */
  #stoppedThrough = -1;
  /** Async work in flight (transforms that returned promises); allocated on need. */
  #inflight: Set<Promise<void>> | undefined;

  constructor(transformers: AnyTransformer[]) {
    this.#stages = transformers.map((transformer, index) => new Stage(this, index, transformer));
  }

  start(controller: TransformStreamDefaultController<unknown>): Promise<void> | undefined {
    this.outer = controller;
    if (!this.#stages.some((s) => s.transformer.start !== undefined)) return undefined;
    return (async () => {
      for (const stage of this.#stages) {
        const start = stage.transformer.start;
        if (start !== undefined) await start.call(stage.transformer, stage);
      }
    })();
  }

  transform(chunk: unknown): Promise<void> | undefined {
    if (this.#stoppedThrough >= 0) return undefined;
    this.deliver(0, chunk);
    if (this.#inflight !== undefined && this.#inflight.size > 0) return this.#idle();
    return undefined;
  }

  flush(): Promise<void> {
    return this.#flushFrom(0);
  }

  /** The landing region of stage `index`, while nothing is queued or failed. */
  landingAt(index: number): Uint8Array | undefined {
    if (this.#failure || this.#terminated || index <= this.#stoppedThrough) return undefined;
    const stage = this.#stages[index];
    if (stage === undefined || stage.busy !== undefined) return undefined;
    const landing = (stage.transformer as LandingTransformer<unknown, unknown>).landing;
    return landing === undefined ? undefined : landing.call(stage.transformer, stage);
  }

  /** Where the composed stage's next input should land (its first stage's landing region). */
  landing(): Uint8Array | undefined {
    return this.landingAt(0);
  }

  deliver(index: number, chunk: unknown): void {
    if (this.#failure) throw this.#failure.error;
    if (this.#terminated || index <= this.#stoppedThrough) return;
    if (index === this.#stages.length) {
      this.outer!.enqueue(chunk);
      return;
    }
    const stage = this.#stages[index];
    if (stage.busy !== undefined) {
      (stage.queue ??= []).push(chunk);
      return;
    }
    this.#run(stage, chunk);
  }

  fail(error: unknown): void {
    if (this.#failure) return;
    this.#failure = { error };
    try {
      this.outer?.error(error);
    } catch { /* already errored or closed */ }
  }

  terminateAfter(index: number): void {
    if (this.#terminated || this.#failure || this.#stoppedThrough >= index) return;
    this.#stoppedThrough = index;
    this.#flushFrom(index + 1).then(() => {
      this.#terminated = true;
      this.outer?.terminate();
    }, (error) => this.fail(error));
  }

  #run(stage: Stage, chunk: unknown): void {
    const transform = stage.transformer.transform;
    const result = transform === undefined
      ? stage.enqueue(chunk)
      : transform.call(stage.transformer, chunk, stage);
    if (isThenable(result)) this.#wait(stage, result);
  }

  #wait(stage: Stage, pending: PromiseLike<unknown>): void {
    const inflight = this.#inflight ??= new Set();
    const done: Promise<void> = Promise.resolve(pending).then(
      () => {
        inflight.delete(done);
        stage.busy = undefined;
        try {
          const queue = stage.queue;
          while (queue && queue.length > 0 && stage.busy === undefined && !this.#failure) {
            this.#run(stage, queue.shift());
          }
        } catch (error) {
          this.fail(error);
        }
      },
      (error) => {
        inflight.delete(done);
        stage.busy = undefined;
        this.fail(error);
      },
    );
    stage.busy = done;
    inflight.add(done);
  }

  /** Resolves once no stage has work in flight (or rejects with the failure). */
  async #idle(): Promise<void> {
    while (this.#inflight !== undefined && this.#inflight.size > 0) {
      await Promise.all([...this.#inflight]);
    }
    if (this.#failure) throw this.#failure.error;
  }

  /** Runs the flush of stages `from`.. in order, each after the earlier ones are idle. */
  async #flushFrom(from: number): Promise<void> {
    for (let i = from; i < this.#stages.length; i++) {
      await this.#idle();
      const stage = this.#stages[i];
      const flush = stage.transformer.flush;
      if (flush !== undefined) await flush.call(stage.transformer, stage);
    }
    await this.#idle();
  }
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
  return new Chain(transformers) as Transformer<I, O>;
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
