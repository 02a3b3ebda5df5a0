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

function direction(options: MemoryPairOptions): TransformStream<Uint8Array, Uint8Array> {
  const copy = options.copy ?? true;
  const hwm = options.highWaterMark ?? 16;
  return new TransformStream<Uint8Array, Uint8Array>(
    copy ? { transform: (chunk, c) => c.enqueue(chunk.slice()) } : {},
    { highWaterMark: hwm },
    { highWaterMark: hwm },
  );
}

/**
 * Two connected byte pairs: `[a, b]` where `a.writable` feeds `b.readable`
 * and `b.writable` feeds `a.readable`. Closing a writable ends the other
 * side's readable; aborting it errors that readable.
 *
 * @example
 * ```ts
 * import { memoryPair } from "./memory.ts";
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
