/**
 * Giving freed memory back after a wave of sessions.
 *
 * A session's buffers live outside the JavaScript heap, in the C allocator.
 * When many sessions end, glibc's allocator keeps the pages they used (free,
 * but still counted in the process's RSS) wherever a small live allocation
 * pins them: after 1,000 sessions have come and gone, a process can hold
 * hundreds of MiB that nothing uses. `malloc_trim(0)` hands those pages back
 * to the kernel. A listener calls it once a wave has ebbed — its open
 * sessions fell to a quarter of their peak, at least {@linkcode WAVE_MIN}
 * fewer — where the runtime can reach glibc: Deno on Linux with the FFI
 * permission already granted (queried, never prompted). Elsewhere (Node.js,
 * Bun, whose JavaScript heap has allocators of its own, browsers, workers,
 * musl) nothing happens. The call blocks for about 10 ms per 100 MiB
 * released (measured: 41 ms for 366 MiB) and only touches memory that is
 * already free.
 *
 * @module
 */

/** Sessions a wave must shed before the listener releases memory. */
export const WAVE_MIN = 32;

/** The slice of `Deno` used here. */
interface DenoFfi {
  dlopen(name: string, symbols: object): { symbols: unknown };
  permissions?: { querySync?(descriptor: { name: "ffi" }): { state: string } };
  build?: { os?: string };
}

let trim: (() => void) | null | undefined;
let releases = 0;

/** Internal, for tests: how many times memory was released in this process. */
export function releaseCount(): number {
  return releases;
}

/** glibc's malloc_trim through Deno's FFI, or null where there is none (see the module doc). */
export function findMallocTrim(scope: object = globalThis): (() => void) | null {
  const deno = (scope as { Deno?: DenoFfi }).Deno;
  if (typeof deno?.dlopen !== "function" || deno.build?.os !== "linux") return null;
  try {
    if (deno.permissions?.querySync?.({ name: "ffi" }).state !== "granted") return null;
    const c = deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    }).symbols as { malloc_trim(pad: bigint): number };
    return () => void c.malloc_trim(0n);
  } catch {
    return null; // no glibc (musl has no malloc_trim), or the library cannot be loaded
  }
}

/**
 * Asks the C allocator to return free pages to the kernel, where it can be
 * reached (see the module doc); returns whether it could.
 */
export function releaseFreedMemory(): boolean {
  if (trim === undefined) trim = findMallocTrim();
  if (trim === null) return false;
  trim();
  releases++;
  return true;
}

/**
 * Watches a count of open sessions and releases memory when it has fallen to
 * a quarter of its peak since the last release, at least
 * {@linkcode WAVE_MIN} sessions fewer.
 */
export class WaveWatcher {
  #peak = 0;
  readonly #release: () => unknown;
  /** Releases with `release` (default {@linkcode releaseFreedMemory}). */
  constructor(release: () => unknown = releaseFreedMemory) {
    this.#release = release;
  }

  /** The count after a session opened. */
  opened(open: number): void {
    if (open > this.#peak) this.#peak = open;
  }

  /** The count after a session closed. */
  closed(open: number): void {
    if (this.#peak - open < WAVE_MIN || open * 4 > this.#peak) return;
    this.#peak = open;
    try {
      this.#release();
    } catch { /* best effort: memory stays as it was */ }
  }
}
