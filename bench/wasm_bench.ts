// AEAD backends head to head: one seal + one open of the same message per iteration, with
// WasmAead (all JS <-> WebAssembly copies included), PureAead and NativeAead (node:crypto).
//
//   deno bench bench/wasm_bench.ts             (Deno.bench, all sizes)
//   deno bench bench/wasm_bench.ts --filter 38  (one size)
//   deno task bench:wasm [reps]                 (tight loops, repetitions, medians)
//
// Deno.bench times each call separately, which adds its own overhead at ~1 µs; the script mode
// runs each backend in a tight loop for ~200 ms per size, in a process of its own (a call site
// that has seen several backends slows them all), backends taking turns so that the noise of a
// shared machine falls on all of them alike, and prints min/median/max.
//
// Sizes are plaintext bytes; 38 B is a typical small BIP324 packet body (header + 37 bytes), 1 MiB
// a bulk message; the sizes between locate the crossovers for the "auto" thresholds. The key and
// nonce change every iteration, as they do packet to packet on the wire.
import type { AeadBackend } from "../layers/crypto/aead_types.ts";
import { PureAead } from "../layers/crypto/pure_aead.ts";
import { NativeAead, nativeAeadAvailable } from "../layers/crypto/native_aead.ts";
import { WasmAead, wasmAeadAvailable } from "../layers/crypto/wasm_aead.ts";

const SIZES = [38, 256, 1024, 2048, 4096, 8192, 16384, 65536, 1 << 20];
const EMPTY = new Uint8Array(0);

const backends: AeadBackend[] = [
  ...(wasmAeadAvailable() ? [new WasmAead()] : []),
  new PureAead(),
  ...(nativeAeadAvailable() ? [new NativeAead()] : []),
];

function label(size: number): string {
  return size >= 1 << 20 ? `${size >> 20} MiB` : size >= 1024 ? `${size >> 10} KiB` : `${size} B`;
}

/** One seal + open of a `size`-byte message with `aead`, the nonce changing per call. */
function roundTrip(aead: AeadBackend, size: number): () => void {
  const plaintext = Uint8Array.from({ length: size }, (_, i) => (i * 131) & 0xff);
  const key = Uint8Array.from({ length: 32 }, (_, i) => i * 3 + 1);
  const nonce = new Uint8Array(12);
  const sealed = new Uint8Array(size + 16), opened = new Uint8Array(size);
  let n = 0;
  return () => {
    nonce[0] = n;
    nonce[1] = n >> 8;
    n++;
    aead.seal(key, nonce, EMPTY, plaintext, sealed);
    if (!aead.open(key, nonce, EMPTY, sealed, opened)) throw new Error("open failed");
  };
}

/** Seal+open per second of `fn`, looping for about `ms` milliseconds. */
function rate(fn: () => void, ms: number): number {
  let calls = 0, batch = 1;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    batch = Math.min(batch * 2, 4096);
    now = performance.now();
  }
  return calls / ((now - start) / 1000);
}

/** Child process: one backend, every size once; prints {size label: rate}. */
function measureOne(name: string): void {
  const aead = backends.find((b) => b.name === name);
  if (aead === undefined) throw new Error(`no backend ${name} here`);
  const out: Record<string, number> = {};
  for (const size of SIZES) {
    const fn = roundTrip(aead, size);
    rate(fn, 60); // warm up
    out[label(size)] = rate(fn, 200);
  }
  console.log(JSON.stringify(out));
}

/**
 * Each repetition runs every backend in its own process (so no call site sees two backends),
 * the backends taking turns; prints min/median/max per size and backend.
 */
async function runScript(reps: number): Promise<void> {
  const rates: Record<string, Record<string, number[]>> = {};
  for (let r = 0; r < reps; r++) {
    for (const b of backends) {
      const child = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-env", import.meta.filename!, "--one", b.name],
        stderr: "inherit",
      }).output();
      if (!child.success) throw new Error(`child for ${b.name} failed`);
      const got = JSON.parse(new TextDecoder().decode(child.stdout)) as Record<string, number>;
      for (const [size, v] of Object.entries(got)) ((rates[size] ??= {})[b.name] ??= []).push(v);
    }
  }
  const fmt = (v: number) => v >= 100 ? Math.round(v).toLocaleString("en") : v.toFixed(1);
  console.log(
    `seal+open per second, ${reps} repetitions (one process per backend and repetition): ` +
      "min / median / max, then MB/s of plaintext and µs per seal+open at the median",
  );
  const summary: Record<string, Record<string, number>> = {};
  for (const size of SIZES) {
    for (const [name, v] of Object.entries(rates[label(size)])) {
      const sorted = [...v].sort((a, b) => a - b), med = sorted[sorted.length >> 1];
      (summary[label(size)] ??= {})[name] = Math.round(med);
      console.log(
        `${label(size).padStart(7)} ${name.padEnd(7)} ${fmt(sorted[0]).padStart(10)} ${
          fmt(med).padStart(10)
        } ${fmt(sorted[sorted.length - 1]).padStart(10)}   ${
          (med * size / 1e6).toFixed(1).padStart(7)
        } MB/s   ${(1e6 / med).toFixed(2).padStart(9)} µs`,
      );
    }
  }
  console.log(JSON.stringify(summary));
}

if (import.meta.main) {
  if (Deno.args[0] === "--one") measureOne(Deno.args[1]);
  else await runScript(Number(Deno.args[0] ?? 5));
} else {
  registerBenches();
}

function registerBenches(): void {
  for (const size of SIZES) {
    for (const aead of backends) {
      Deno.bench(
        `${label(size)} seal+open [${aead.name}]`,
        { group: label(size), baseline: aead.name === "pure" },
        roundTrip(aead, size),
      );
    }
  }
}
