/**
 * In-memory transport: two linked byte pairs, for tests, simulations and
 * benchmarks. What one end writes, the other reads.
 *
 * @module
 */

type BytePair = ReadableWritablePair<Uint8Array, Uint8Array>;

/** Options for {@linkcode memoryPair}. */
export interface MemoryPairOptions {
  /**
   * Copy each chunk on its way across (default `true`), so neither end can
   * see the other modify a buffer it has handed over, as with a real socket.
   */
  copy?: boolean;
  /** Chunks buffered in each direction before writes wait. Default 16. */
  highWaterMark?: number;
}

/** One direction: a readable and a writable sharing one queue of `hwm` chunks. */
function direction(
  options: MemoryPairOptions,
): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> } {
  const copy = options.copy ?? true;
  const hwm = options.highWaterMark ?? 16;
  if (!Number.isInteger(hwm) || hwm < 1) {
    throw new RangeError(`highWaterMark must be an integer ≥ 1, got ${hwm}`);
  }
  let reader!: ReadableStreamDefaultController<Uint8Array>;
  let writer!: WritableStreamDefaultController;
  let space: (() => void) | undefined; // a write waiting for the reader to drain
  const readable = new ReadableStream<Uint8Array>({
    start: (c) => void (reader = c),
    pull: () => {
      space?.();
      space = undefined;
    },
    cancel: (reason) => {
      writer.error(reason ?? new Error("the other end stopped reading"));
      space?.();
      space = undefined;
    },
  }, { highWaterMark: hwm });
  const writable = new WritableStream<Uint8Array>({
    start: (c) => void (writer = c),
    write: (chunk) => {
      reader.enqueue(copy ? chunk.slice() : chunk);
      if ((reader.desiredSize ?? 0) <= 0) return new Promise<void>((r) => (space = r));
    },
    close: () => reader.close(),
    abort: (reason) => reader.error(reason),
  });
  return { readable, writable };
}

/**
 * Two connected byte pairs: `[a, b]` where `a.writable` feeds `b.readable`
 * and `b.writable` feeds `a.readable`. Closing a writable ends the other
 * side's readable; aborting it errors that readable.
 *
 * @example
 * ```ts
 * import { memoryPair } from "@bip324/bip324";
 * const [a, b] = memoryPair();
 * const w = a.writable.getWriter();
 * w.write(new Uint8Array([1, 2]));
 * const { value } = await b.readable.getReader().read();
 * console.assert(value?.[1] === 2);
 * ```
 */
export function memoryPair(
  options: MemoryPairOptions = {},
): [ReadableWritablePair<Uint8Array, Uint8Array>, ReadableWritablePair<Uint8Array, Uint8Array>] {
  const ab = direction(options);
  const ba = direction(options);
  // Marked as in-process (not a socket): sessions over it need not yield for fairness.
  const mark = (pair: ReadableWritablePair<Uint8Array, Uint8Array>) =>
    Object.assign(pair, { [IN_PROCESS]: true });
  return [
    mark({ readable: ba.readable, writable: ab.writable }),
    mark({ readable: ab.readable, writable: ba.writable }),
  ];
}

/** Set on in-process byte pairs (see `layers/session/fairness.ts`). */
const IN_PROCESS = Symbol.for("bip324.inProcess");
