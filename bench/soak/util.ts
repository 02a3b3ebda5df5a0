// Small helpers shared by the soak's phases: waiting, counting, a semaphore, time limits.
import { Bip324Error } from "../../layers/errors.ts";

export const MIB = 1 << 20;
export const KIB = 1 << 10;

export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, ms));

/** Thrown when the run's time limit is reached: the run reports what it has and exits 2. */
export class Deadline extends Error {
  constructor(what: string) {
    super(`time limit reached during ${what}`);
  }
}

/** A counting semaphore. */
export class Gate {
  #free: number;
  #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  async take(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((r) => this.#waiting.push(r));
  }
  give(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

/** Adds one to `table[key]`. */
export function count(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

/** A failure's `Bip324Error` code, or `untyped <name>` for anything else. */
export function codeOf(e: unknown): string {
  return e instanceof Bip324Error ? e.code : `untyped ${e instanceof Error ? e.name : typeof e}`;
}

/** SHA-256 as hex (WebCrypto copies `bytes` at the call). */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  let s = "";
  for (const b of d) s += b.toString(16).padStart(2, "0");
  return s;
}

/** `ulimit -n`, or undefined where it cannot be read. */
export async function fdLimit(): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stdout: "piped" })
      .output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    return Number.isFinite(n) ? n : undefined; // "unlimited" → NaN → undefined
  } catch {
    return undefined;
  }
}

/** `promise`, or a {@linkcode Deadline} rejection once `deadlineAt` (performance.now()) passes. */
export function boundedBy<T>(deadlineAt: number, p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const d = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Deadline(what)),
      Math.max(0, deadlineAt - performance.now()),
    );
    Deno.unrefTimer(timer);
  });
  return Promise.race([p, d]).finally(() => clearTimeout(timer));
}

/** `n` bytes as MiB with one decimal. */
export const mib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`;
