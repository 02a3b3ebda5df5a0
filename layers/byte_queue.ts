/**
 * A growable FIFO of bytes for parsers that receive arbitrary chunks: append
 * at the end, look at and consume from the front. Appending copies the chunk
 * once; consuming only moves an index, and the storage is compacted lazily,
 * so total work stays linear in the bytes that pass through.
 *
 * @module
 */

/**
 * FIFO byte buffer.
 *
 * @example
 * ```ts
 * import { ByteQueue } from "./byte_queue.ts";
 * const q = new ByteQueue();
 * q.push(new Uint8Array([1, 2, 3]));
 * q.push(new Uint8Array([4]));
 * console.assert(q.length === 4 && q.peek(2)[1] === 2);
 * console.assert(q.take(3)[2] === 3 && q.length === 1);
 * ```
 */
export class ByteQueue {
  #buf: Uint8Array;
  #start = 0;
  #end = 0;

  /**
   * Creates an empty queue with `capacity` bytes preallocated (default 0:
   * storage is allocated on the first push, so idle parsers cost nothing).
   */
  constructor(capacity = 0) {
    this.#buf = new Uint8Array(capacity);
  }

  /** Bytes currently queued. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Appends a copy of `chunk`. */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.#end + n > this.#buf.length) this.#makeRoom(n);
    this.#buf.set(chunk, this.#end);
    this.#end += n;
  }

  /** A view of the first `n` queued bytes (valid until the next `push`). */
  peek(n: number = this.length): Uint8Array {
    if (n > this.length) throw new RangeError(`only ${this.length} bytes queued, asked ${n}`);
    return this.#buf.subarray(this.#start, this.#start + n);
  }

  /** The byte at `index` from the front. */
  at(index: number): number {
    return this.#buf[this.#start + index];
  }

  /** Removes the first `n` bytes and returns them as a new array. */
  take(n: number): Uint8Array {
    const out = this.peek(n).slice();
    this.skip(n);
    return out;
  }

  /** Removes the first `n` bytes. */
  skip(n: number): void {
    if (n > this.length) throw new RangeError(`only ${this.length} bytes queued, asked ${n}`);
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /** Removes and returns everything queued. */
  drain(): Uint8Array {
    return this.take(this.length);
  }

  /** Zeroes the storage and empties the queue. */
  clear(): void {
    this.#buf.fill(0);
    this.#start = this.#end = 0;
  }

  #makeRoom(n: number): void {
    const live = this.#end - this.#start;
    if (live + n <= this.#buf.length && this.#start >= this.#buf.length / 2) {
      this.#buf.copyWithin(0, this.#start, this.#end); // compact: at most once per half-buffer consumed
    } else {
      let capacity = Math.max(256, this.#buf.length * 2);
      while (capacity < live + n) capacity *= 2;
      const next = new Uint8Array(capacity);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf.fill(0);
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = live;
  }
}
