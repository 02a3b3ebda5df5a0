// `deno task bench:runtimes`: the small-message and 1 MiB session figures of bench:report,
// measured in Deno, Node.js (22, 24 and 26 from npm, and the machine's own if older) and Bun,
// each running the same npm build (bench/runtimes_peer.mjs), one after the other in one run.
// Prints a table, then as its very last line one JSON object with each figure and its ratio to
// Deno (goal ≥ 0.67), plus small messages written with `await session.send()` (no
// WritableStream: the library's own path without the runtime's streams on the writing side);
// for Node.js also the 1 MiB ratio to Deno without FFI, where both use node:crypto; and each
// runtime's stream floor (`stream_floor_ns`: one backpressured `WritableStream` write plus one
// `ReadableStream` read, without the library) with the small-message ratio once that floor is
// taken out of both sides (`*_small_ratio_library_only`: the library's own time per message).
// Runtimes take turns for ROUNDS rounds and each keeps its best figure, so load from other
// processes on the machine skews the ratios less.
import { npmBuild, runtimes } from "../tests/runtimes/tools.ts";

interface Figures {
  small_msgs_per_s: number;
  /** The same small messages, each written with `await session.send()` (no WritableStream). */
  send_small_msgs_per_s: number;
  bulk_mb_per_s: number;
  /** ns per message that the runtime's own streams cost (see runtimes_peer.mjs). */
  stream_floor_ns: number;
}

async function measure(bin: string, args: string[], cwd: string): Promise<Figures> {
  const out = await new Deno.Command(bin, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (!out.success) {
    throw new Error(`${bin} failed: ${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text);
}

const ROUNDS = 3;
const dir = await npmBuild();
const script = `${dir}/runtimes_peer.mjs`;
const contenders = [
  { name: "deno", bin: Deno.execPath(), args: ["run", "-A", script], version: Deno.version.deno },
  // Without the FFI permission Deno's native AEAD is node:crypto, like Node.js's: the baseline for
  // `*_bulk_ratio_same_backend`.
  {
    name: "deno_noffi",
    bin: Deno.execPath(),
    args: ["run", "-A", "--deny-ffi", script],
    version: `${Deno.version.deno}, --deny-ffi`,
  },
  ...(await runtimes()).map((r) => ({
    name: r.name,
    bin: r.bin,
    args: [script],
    version: r.version,
  })),
];
const results: Record<string, Figures & { version: string }> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const c of contenders) {
    const f = await measure(c.bin, c.args, dir);
    const best = results[c.name];
    results[c.name] = {
      small_msgs_per_s: Math.max(best?.small_msgs_per_s ?? 0, f.small_msgs_per_s),
      send_small_msgs_per_s: Math.max(best?.send_small_msgs_per_s ?? 0, f.send_small_msgs_per_s),
      bulk_mb_per_s: Math.max(best?.bulk_mb_per_s ?? 0, f.bulk_mb_per_s),
      stream_floor_ns: Math.min(best?.stream_floor_ns ?? Infinity, f.stream_floor_ns),
      version: c.version,
    };
  }
}

const base = results.deno;
const summary: Record<string, number | string> = {};
console.log(
  `bip324 bench:runtimes (npm build, in-memory session pair, one way, best of ${ROUNDS})`,
);
console.log(
  `  ${"runtime".padEnd(10)} ${"small msg/s".padStart(12)} ${"ratio".padStart(6)} ${
    "send() msg/s".padStart(13)
  } ${"ratio".padStart(6)} ${"1 MiB MB/s".padStart(11)} ${"ratio".padStart(6)} ${
    "streams ns".padStart(11)
  }`,
);
/** The library's own ns per small message: the whole, less what the runtime's streams cost. */
const libraryNs = (r: Figures) => 1e9 / r.small_msgs_per_s - r.stream_floor_ns;
for (const [name, r] of Object.entries(results)) {
  const smallRatio = r.small_msgs_per_s / base.small_msgs_per_s;
  const sendRatio = r.send_small_msgs_per_s / base.send_small_msgs_per_s;
  const bulkRatio = r.bulk_mb_per_s / base.bulk_mb_per_s;
  console.log(
    `  ${`${name}`.padEnd(10)} ${r.small_msgs_per_s.toLocaleString("en").padStart(12)} ${
      smallRatio.toFixed(2).padStart(6)
    } ${r.send_small_msgs_per_s.toLocaleString("en").padStart(13)} ${
      sendRatio.toFixed(2).padStart(6)
    } ${String(r.bulk_mb_per_s).padStart(11)} ${bulkRatio.toFixed(2).padStart(6)} ${
      String(r.stream_floor_ns).padStart(11)
    }   (${r.version})`,
  );
  summary[`${name}_small_msgs_per_s`] = r.small_msgs_per_s;
  summary[`${name}_send_small_msgs_per_s`] = r.send_small_msgs_per_s;
  summary[`${name}_bulk_mb_per_s`] = r.bulk_mb_per_s;
  summary[`${name}_stream_floor_ns`] = r.stream_floor_ns;
  if (name !== "deno") {
    summary[`${name}_small_ratio`] = Math.round(smallRatio * 100) / 100;
    summary[`${name}_send_small_ratio`] = Math.round(sendRatio * 100) / 100;
    summary[`${name}_bulk_ratio`] = Math.round(bulkRatio * 100) / 100;
    summary[`${name}_small_ratio_library_only`] = Math.round(libraryNs(base) / libraryNs(r) * 100) /
      100;
  }
  if (name.startsWith("node")) {
    const same = r.bulk_mb_per_s / results.deno_noffi.bulk_mb_per_s;
    summary[`${name}_bulk_ratio_same_backend`] = Math.round(same * 100) / 100;
  }
}
console.log(JSON.stringify(summary));
