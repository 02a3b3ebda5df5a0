/**
 * Large buffers the application handed back ({@linkcode recycleBuffer}), for
 * the next large packet any session in this thread builds or receives.
 * Internal; the public door is `Session.recycle`.
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
 * Takes back the buffer behind `payload` if it is a large one that holds only
 * `payload` (and a packet's framing); returns whether it was kept.
 */
export function recycleBuffer(payload: Uint8Array): boolean {
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
