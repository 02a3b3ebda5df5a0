/**
 * Large buffers the application handed back ({@linkcode recycle}), for the
 * next large packet any session in this thread builds or receives.
 *
 * Allocating a fresh buffer of a MiB costs more than sealing into it (the
 * allocator zeroes it, the kernel maps fresh pages), and a session hands
 * every message it receives to the application in a buffer of its own. A
 * receiver that is done with a large payload can give its buffer back, and
 * the next large packet is sealed or received into it instead.
 *
 * The pool holds {@linkcode POOL_SLOTS} buffers at most, and holds them only
 * weakly: memory the application gave back is still freed at the next
 * garbage collection if no session took it by then. A buffer is handed out
 * for a packet of between 3/4 of its size and its size, and the bytes behind
 * the packet are zeroed, so no view of it shows what it held before.
 *
 * @module
 */

/** Buffers smaller than this are not kept (allocating them is cheap). */
export const RECYCLE_FROM = 64 * 1024;
/** Buffers kept at most. */
export const POOL_SLOTS = 8;
/** A buffer's bytes around the payload that may go with it (the packet's framing). */
const FRAMING_SLACK = 64;

const slots: (WeakRef<ArrayBuffer> | undefined)[] = [];
/** Buffers in the pool (so one given back twice is kept once). */
const pooled = new WeakSet<ArrayBuffer>();
/** Buffers handed out by the pool → the size of the view at their start that was used. */
const issued = new WeakMap<ArrayBuffer, number>();

/**
 * Gives back the buffer of a received message's payload once the application
 * is done with it (optional): the next large packet a session in this thread
 * sends or receives is built in it instead of in a new allocation, which for
 * messages of a MiB saves about a tenth of their cost. After the call,
 * `payload` and every view of its buffer belong to the library again: do not
 * read or write them (as after `free`). A payload it cannot reuse (under
 * 64 KiB, sharing its buffer with other data, in shared or resizable memory)
 * is left alone; returns whether it was taken. At most 8 buffers are kept,
 * and only until the next garbage collection. Throws `TypeError` for a
 * `payload` that is not a `Uint8Array`.
 *
 * @example
 * ```ts
 * import { memoryPair, openSession, recycle } from "@bip324/bip324";
 *
 * const [x, y] = memoryPair();
 * const [alice, bob] = await Promise.all([
 *   openSession(x, { role: "initiator" }),
 *   openSession(y, { role: "responder" }),
 * ]);
 * const reader = bob.readable.getReader();
 * await alice.send("block", new Uint8Array(1 << 20));
 * const { value } = await reader.read();
 * // … parse value.payload, then:
 * console.assert(recycle(value!.payload));
 * await alice.close();
 * await bob.closed;
 * ```
 */
export function recycle(payload: Uint8Array): boolean {
  if (!(payload instanceof Uint8Array)) throw new TypeError("payload must be a Uint8Array");
  return recycleBuffer(payload);
}

/** {@linkcode recycle} without the argument check. */
function recycleBuffer(payload: Uint8Array): boolean {
  const buffer = payload.buffer;
  if (!(buffer instanceof ArrayBuffer)) return false; // shared memory is never ours to reuse
  const size = buffer.byteLength;
  const used = issued.get(buffer) ?? size;
  if (
    size < RECYCLE_FROM || payload.byteOffset + payload.byteLength > used ||
    used - payload.byteLength > FRAMING_SLACK ||
    (buffer as { resizable?: boolean }).resizable === true || pooled.has(buffer)
  ) return false;
  let free = -1;
  for (let i = 0; i < POOL_SLOTS; i++) {
    const kept = slots[i]?.deref();
    if (kept === undefined || kept.byteLength === 0) {
      free = i;
      break;
    }
  }
  if (free < 0) return false;
  slots[free] = new WeakRef(buffer);
  pooled.add(buffer);
  return true;
}

/**
 * A view of `size` bytes at the start of a pooled buffer of at most 4/3 of
 * `size` (its bytes after the view zeroed), or `undefined`.
 */
export function takeBuffer(size: number): Uint8Array | undefined {
  for (let i = 0; i < slots.length; i++) {
    const ref = slots[i];
    if (ref === undefined) continue;
    const buffer = ref.deref();
    if (buffer === undefined || buffer.byteLength === 0) {
      slots[i] = undefined;
      continue;
    }
    const length = buffer.byteLength;
    if (length < size || length * 3 > size * 4) continue;
    slots[i] = undefined;
    pooled.delete(buffer);
    const whole = new Uint8Array(buffer);
    issued.set(buffer, size);
    if (length === size) return whole;
    whole.fill(0, size);
    return whole.subarray(0, size);
  }
  return undefined;
}

/** Forgets every pooled buffer (for tests). */
export function emptyPool(): void {
  slots.length = 0;
}
