// Soak test: many concurrent BIP324 sessions over TCP on 127.0.0.1, then a flood of hostile
// connections alongside honest ones; with --hostile, issue 14's hostile figures after that.
//
//   deno task soak                  full size (1,000 sessions × 100 messages; 1,000 hostile
//                                   + 100 honest), well under 10 minutes
//   deno task soak --size=short     50 × 20; 200 hostile + 10 honest (tests/soak_test.ts)
//   deno task soak --json           print the report as one JSON line at the end
//   deno task soak --hostile        then every figure of issue 14's table, each with its bound
//                                   (from bench/soak/budgets.ts) and PASS/FAIL; the last line
//                                   is one JSON object with every figure
//   options: --sessions=N --messages=M --hostile-slots=H --honest=K --limit-s=S --seed=X
//   diagnostics (load phase): --read-ahead=BYTES --gc-every=MS --aead=auto|pure|native|wasm
//
// The phases: bench/soak/load.ts (load), bench/soak/flood.ts (hostile flood), memory sampling
// in bench/soak/memory.ts, the figures in bench/soak/figures.ts and bench/hostile/.
//
// Memory: heap and RSS at the start, the peak (sampled every 250 ms) and the end, after all
// sessions have closed and a full GC, for the load phase and for the whole run. The load
// phase's peak must stay within the per-connection budget × sessions (and issue 14's goal),
// its end and the run's end within 256 MiB of their start. V8's gc() needs
// --v8-flags=--expose-gc: when it is missing (as with `deno task soak`), the script re-runs
// itself with the flag (set BIP324_SOAK_NO_REEXEC=1 to measure without a GC instead).
//
// Bounded: every loop has a count limit, every phase and the whole run a time limit; over it,
// the run prints what it has and exits with status 2. Integrity or memory failures, or a
// hostile figure over its bound, exit with status 1.
//
// File descriptors: phase 1 holds 2 × N sockets (both ends are in this process), phase 2
// about 2 × (H + K). The run checks `ulimit -n` first and refuses to start if it is too low.
import { parseArgs } from "./soak/config.ts";
import { figuresJson, formatFigures, formatReport } from "./soak/report.ts";
import { runSoak } from "./soak/run.ts";
import { hostileFigures } from "./soak/figures.ts";
import { gcAvailable } from "./soak/memory.ts";

export type { SoakConfig } from "./soak/config.ts";
export { FULL, SHORT } from "./soak/config.ts";
export type { SoakReport } from "./soak/run.ts";
export { runSoak } from "./soak/run.ts";
export type { MemoryFigures } from "./soak/memory.ts";

if (import.meta.main) {
  if (!gcAvailable && !Deno.env.get("BIP324_SOAK_NO_REEXEC")) {
    // Re-run with V8's gc() exposed, so the end-of-run memory is measured after a full GC.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", import.meta.filename!, ...Deno.args],
      env: { BIP324_SOAK_NO_REEXEC: "1" },
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    Deno.exit((await child.status).code);
  }
  const { config, json, hostile } = parseArgs(Deno.args);
  // The hostile figures take about two minutes more.
  const hardLimit = config.timeLimitMs + 60_000 + (hostile ? 5 * 60_000 : 0);
  const hardStop = setTimeout(() => {
    console.error(`soak: hard time limit (${hardLimit} ms) exceeded, aborting`);
    Deno.exit(2);
  }, hardLimit);
  Deno.unrefTimer(hardStop);
  const report = await runSoak(config);
  console.log(formatReport(report));
  if (json) console.log(JSON.stringify(report));
  if (report.timedOut) Deno.exit(2);
  let figuresPass = true;
  if (hostile) {
    const log = (line: string) => console.error(line);
    const figures = await hostileFigures(report, log);
    console.log(formatFigures(figures));
    console.log(figuresJson(figures));
    figuresPass = figures.every((f) => f.verdict === "PASS");
  }
  Deno.exit(report.failures.length === 0 && figuresPass ? 0 : 1);
}
