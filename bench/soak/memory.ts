// Memory sampling for the soak: Deno.memoryUsage() every 250 ms (the peak of each figure, and
// what the others were at the RSS peak), a settled reading after a full GC, and — to tell
// memory the process still uses from pages the C allocator keeps after they were freed —
// glibc's own accounting (mallinfo2) and malloc_trim(0), through FFI where libc allows.
import { sleep } from "./util.ts";

/** Memory figures, bytes. */
export interface MemoryFigures {
  /** Resident set size of the process. */
  rss: number;
  /** V8 heap in use. */
  heapUsed: number;
  /** Memory outside the V8 heap held by JS objects (ArrayBuffers: packets, payloads, buffers). */
  external: number;
}

/** One sample of the timeline. */
export interface MemorySample extends MemoryFigures {
  /** Ms since the sampler started. */
  at: number;
  /** V8 heap reserved (used + free pages V8 keeps). */
  heapTotal: number;
}

/** What glibc's allocator says about its heap (mallinfo2), bytes. */
export interface AllocatorFigures {
  /** Bytes in use (uordblks + hblkhd). */
  inUse: number;
  /** Free bytes glibc holds in its arenas (fordblks): resident until trimmed or reused. */
  free: number;
  /** Bytes in mmapped chunks (hblkhd). */
  mmapped: number;
  /** Total arena bytes (arena). */
  arena: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Whether V8's gc() is exposed (--v8-flags=--expose-gc). */
export const gcAvailable: boolean = gc !== undefined;

/** The process's memory now. */
export function memoryNow(): MemoryFigures {
  const m = Deno.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

/** Memory after three full GCs, 50 ms apart (no GC when gc() is not exposed). */
export async function settleMemory(): Promise<MemoryFigures> {
  for (let i = 0; i < 3; i++) {
    await sleep(50);
    gc?.();
  }
  return memoryNow();
}

/** Samples memory every `everyMs` until stopped: peaks, and the sample at the RSS peak. */
export class MemorySampler {
  readonly peak: MemoryFigures;
  /** The sample with the highest RSS. */
  atPeakRss: MemorySample;
  /** Every `keepEvery`-th sample (a coarse timeline for the report). */
  readonly timeline: MemorySample[] = [];
  #timer: ReturnType<typeof setInterval>;
  #t0 = performance.now();
  #n = 0;

  constructor(start: MemoryFigures, everyMs = 250, keepEvery = 8) {
    this.peak = { ...start };
    this.atPeakRss = { ...start, at: 0, heapTotal: Deno.memoryUsage().heapTotal };
    this.#timer = setInterval(() => {
      const m = Deno.memoryUsage();
      const sample: MemorySample = {
        at: Math.round(performance.now() - this.#t0),
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
      };
      if (m.rss > this.atPeakRss.rss) this.atPeakRss = sample;
      this.peak.rss = Math.max(this.peak.rss, m.rss);
      this.peak.heapUsed = Math.max(this.peak.heapUsed, m.heapUsed);
      this.peak.external = Math.max(this.peak.external, m.external);
      if (this.#n++ % keepEvery === 0) this.timeline.push(sample);
    }, everyMs);
    Deno.unrefTimer(this.#timer);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

interface Libc {
  symbols: {
    malloc_trim(pad: number | bigint): number;
    mallinfo2(): Uint8Array;
  };
}

let libc: Libc | null | undefined;

/** glibc through FFI, or null (not Linux/glibc, or no --allow-ffi). */
function openLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
      // struct mallinfo2: ten size_t fields
      mallinfo2: { parameters: [], result: { struct: Array(10).fill("usize") } },
    }) as unknown as Libc;
  } catch {
    libc = null;
  }
  return libc;
}

/** glibc's accounting of its heap, or undefined where it cannot be read. */
export function allocatorNow(): AllocatorFigures | undefined {
  const c = openLibc();
  if (!c) return undefined;
  const raw = c.symbols.mallinfo2();
  const v = new BigUint64Array(raw.buffer, raw.byteOffset, 10);
  // arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost
  const n = (i: number) => Number(v[i]);
  return { arena: n(0), mmapped: n(4), inUse: n(7) + n(4), free: n(8) };
}

/**
 * Asks glibc to hand every free page back to the kernel (malloc_trim(0)) and returns the
 * RSS after it, or undefined where libc is not reachable. Diagnostic: it shows how much of
 * the RSS is memory that was freed but kept by the allocator.
 */
export function trimmedRss(): number | undefined {
  const c = openLibc();
  if (!c) return undefined;
  c.symbols.malloc_trim(0n);
  return Deno.memoryUsage().rss;
}
