// The soak (bench/soak.ts) at short size, inside the normal test run: 50
// concurrent TCP sessions × 20 messages of 0..64 KiB echoed and checked by
// SHA-256, then 200 hostile connections alongside 10 honest sessions. The soak
// itself fails a run whose load phase goes over the bounds of bench/soak/budgets.ts.
//
// It runs as a child process with V8's gc() exposed, so the end-of-run memory
// is measured after a full GC and in a process of its own (the test runner's
// heap would blur it). The child is killed if it overruns; the assertions are
// on counts, never on durations.
import assert from "node:assert/strict";
import type { SoakReport } from "../bench/soak.ts";

const SOAK = new URL("../bench/soak.ts", import.meta.url);
const LIMIT_MS = 90_000; // the child's own limit is 60 s; this turns a hang into a failure

Deno.test("soak (short): concurrent sessions, hostile flood, memory back within bound", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      SOAK.pathname,
      "--size=short",
      "--json",
    ],
    env: { BIP324_SOAK_NO_REEXEC: "1", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, LIMIT_MS);
  const out = await child.output();
  clearTimeout(killer);
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const context = `exit ${out.code}${out.signal ? ` (${out.signal})` : ""}\n${stdout}\n${stderr}`;
  const jsonLine = stdout.split("\n").find((l) => l.startsWith("{"));
  assert.ok(jsonLine, `no report from the soak: ${context}`);
  const report = JSON.parse(jsonLine) as SoakReport;

  assert.deepEqual(report.failures, [], context);
  assert.equal(out.code, 0, context);
  assert.ok(report.gcAvailable, "the soak ran with gc()");
  // Phase 1: every message echoed and verified, nothing lost, reordered or altered.
  const { load } = report;
  const expected = report.config.sessions * report.config.messages;
  assert.equal(load.sessionsOpenAtOnce, report.config.sessions);
  assert.equal(load.messagesSent, expected);
  assert.equal(load.messagesEchoed, expected);
  assert.equal(load.bytesEchoed, load.bytesSent);
  assert.equal(load.lost + load.reordered + load.corrupted, 0);
  assert.equal(load.cleanClientCloses, report.config.sessions);
  assert.equal(load.cleanServerCloses, report.config.sessions);
  // Phase 2: every honest peer completed during the hostile flood.
  assert.equal(report.hostile.honestCompleted, report.config.honest);
  // Every error is a typed one, in both phases.
  for (const phase of [report.load.errors, report.hostile.errors]) {
    for (const table of Object.values(phase)) {
      for (const code of Object.keys(table)) assert.ok(!code.includes("untyped"), code);
    }
  }
  // Memory after the run (and a full GC) is back within the stated bound of the start.
  const { start, end } = report.memory;
  const liveGrowth = end.heapUsed + end.external - start.heapUsed - start.external;
  assert.ok(liveGrowth <= report.config.liveBound, context);
  assert.ok(report.memory.end.rss - report.memory.start.rss <= report.config.rssBound, context);
  // The load phase's own memory: sampled (a peak at least the start), and its live memory
  // (heap + external) back near the start once every session has closed.
  const lm = report.load.memory;
  assert.ok(lm.peak.rss >= lm.start.rss && lm.peak.external >= lm.start.external);
  const loadLive = lm.end.heapUsed + lm.end.external - lm.start.heapUsed - lm.start.external;
  assert.ok(loadLive <= report.config.liveBound, context);
});
