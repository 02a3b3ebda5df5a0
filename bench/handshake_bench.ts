// Handshake math: `deno task bench` runs the Deno.bench cases below. Run the file directly for
// µs per side (create + decode + ECDH + HKDF, what bench:report calls `handshake_ms_per_side`)
// and per part, median (min–max) of several rounds, then the side's median in ms as JSON:
//
//   deno run -A bench/handshake_bench.ts [--baseline DIR]... [--rounds N]
//
// Each `--baseline DIR` (a checkout of another commit, e.g. made with
// `git archive <rev> layers | tar -x -C DIR`; repeat the flag for several) runs in this one
// process next to the current code, interleaved round by round so that load on the machine
// hits all alike, and the current code's medians are divided by the first baseline's.
import {
  ellswiftCreate,
  ellswiftDecode,
  ellswiftEcdhXonly,
  xswiftecInv,
} from "../layers/handshake/ellswift.ts";
import { deriveSessionKeys } from "../layers/handshake/key_schedule.ts";
import { Bip324Cipher } from "../layers/packet_cipher.ts";

const privA = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const privB = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const aux = new Uint8Array(32).fill(7);
const ellA = ellswiftCreate(privA, aux), ellB = ellswiftCreate(privB, aux);
const u = ellA.subarray(0, 32), x = ellswiftDecode(ellB);

Deno.bench("ellswiftCreate", { group: "handshake parts" }, () => {
  ellswiftCreate(privA, aux);
});
Deno.bench("ellswiftDecode", { group: "handshake parts" }, () => {
  ellswiftDecode(ellB);
});
Deno.bench("xswiftecInv (one case)", { group: "handshake parts" }, () => {
  xswiftecInv(u, x, 5);
});
Deno.bench("ellswiftEcdhXonly (decode + ECDH)", { group: "handshake parts" }, () => {
  ellswiftEcdhXonly(ellB, privA);
});
Deno.bench("deriveSessionKeys", { group: "handshake parts" }, () => {
  deriveSessionKeys(new Uint8Array(32).fill(1), true, "mainnet");
});
Deno.bench("one side: Bip324Cipher.create + initialize", { group: "side" }, () => {
  Bip324Cipher.create().initialize(ellB, true, "mainnet");
});

/** The pieces of the handshake one implementation offers. */
interface Impl {
  name: string;
  Bip324Cipher: typeof Bip324Cipher;
  ellswiftCreate: typeof ellswiftCreate;
  ellswiftEcdhXonly: typeof ellswiftEcdhXonly;
  deriveSessionKeys: typeof deriveSessionKeys;
}

async function load(root: string, name: string): Promise<Impl> {
  const base = new URL(root.endsWith("/") ? root : root + "/", `file://${Deno.cwd()}/`);
  const ell = await import(new URL("layers/handshake/ellswift.ts", base).href);
  const ks = await import(new URL("layers/handshake/key_schedule.ts", base).href);
  const pc = await import(new URL("layers/packet_cipher.ts", base).href);
  return {
    name,
    Bip324Cipher: pc.Bip324Cipher,
    ellswiftCreate: ell.ellswiftCreate,
    ellswiftEcdhXonly: ell.ellswiftEcdhXonly,
    deriveSessionKeys: ks.deriveSessionKeys,
  };
}

/** Microseconds per call of `fn`, timed over `n` calls. */
function usPer(fn: (i: number) => void, n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return (performance.now() - t0) / n * 1000;
}

/** One round of every figure for `impl`, in µs. */
function round(impl: Impl, n: number): Record<string, number> {
  const peers = Array.from({ length: 16 }, () => impl.Bip324Cipher.create().ourEllswift);
  const keys = Array.from({ length: 16 }, (_, i) => {
    const k = new Uint8Array(32);
    crypto.getRandomValues(k);
    k[0] = 1 + i; // below the group order
    return k;
  });
  const secret = new Uint8Array(32).fill(1);
  return {
    "side (create + initialize)": usPer(
      (i) => impl.Bip324Cipher.create().initialize(peers[i & 15], true, "mainnet"),
      n,
    ),
    "Bip324Cipher.create": usPer(() => impl.Bip324Cipher.create(), n),
    "ellswiftCreate": usPer((i) => impl.ellswiftCreate(keys[i & 15]), n),
    "ellswiftEcdhXonly": usPer((i) => impl.ellswiftEcdhXonly(peers[i & 15], keys[i & 15]), n),
    "deriveSessionKeys": usPer(() => impl.deriveSessionKeys(secret, true, "mainnet"), n),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(name);
    return i < 0 ? undefined : Deno.args[i + 1];
  };
  const rounds = Number(arg("--rounds") ?? 7);
  const baselines = Deno.args.flatMap((a, i) => a === "--baseline" ? [Deno.args[i + 1]] : []);
  const impls: Impl[] = [];
  for (const dir of baselines) {
    impls.push(await load(dir, dir.replace(/\/+$/, "").split("/").pop()!));
  }
  impls.push(await load(".", "current"));
  const results = impls.map(() => [] as Record<string, number>[]);
  for (const impl of impls) round(impl, 100); // warm-up (builds any lazy tables)
  for (let r = 0; r < rounds; r++) {
    impls.forEach((impl, k) => results[k].push(round(impl, 200)));
  }
  // one row per implementation: median µs of each figure (min–max over the rounds)
  const keys = Object.keys(results[0][0]);
  const table: Record<string, Record<string, string>> = {};
  impls.forEach((impl, k) => {
    table[impl.name] = {};
    for (const key of keys) {
      const xs = results[k].map((r) => r[key]);
      table[impl.name][key] = `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${
        Math.max(...xs).toFixed(0)
      })`;
    }
  });
  console.log(`µs per call, median (min–max) of ${rounds} interleaved rounds`);
  console.table(table);
  if (impls.length > 1) {
    const ratio: Record<string, string> = {};
    for (const key of keys) {
      ratio[key] = (median(results[impls.length - 1].map((r) => r[key])) /
        median(results[0].map((r) => r[key]))).toFixed(2);
    }
    console.log(`current ÷ ${impls[0].name} (medians):`);
    console.table(ratio);
  }
  const side = median(results[impls.length - 1].map((r) => r["side (create + initialize)"]));
  console.log(JSON.stringify({ handshake_ms_per_side: Number((side / 1000).toFixed(3)) }));
}
