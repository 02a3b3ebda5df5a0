// bench/soak/budgets.ts: every default it states is still the one the library's source sets,
// SECURITY.md shows each limit with that default and each budget's total, the budgets add up,
// and the figures' verdicts follow their bounds.
import assert from "node:assert/strict";
import {
  defaultBudgets,
  GOALS,
  limit,
  LIMITS,
  loadBounds,
  pendingHandshakeBudget,
  sessionBudget,
  shown,
  size,
  tighter,
} from "../bench/soak/budgets.ts";
import { figuresJson, judge } from "../bench/soak/report.ts";

const ROOT = new URL("../", import.meta.url);

/** Evaluates a constant expression of the sources: integers (with `_`), `*`, `<<`, `**`. */
function evaluate(expr: string): number {
  const text = expr.replaceAll("_", "").trim();
  assert.match(text, /^[\d\s*<]+$/, `not a constant expression: ${expr}`);
  const shifts = text.split("<<").map((part) =>
    part.split(/(?<!\*)\*(?!\*)/).map((factor) => {
      const [b, e] = factor.split("**").map((x) => Number(x.trim()));
      return e === undefined ? b : b ** e;
    }).reduce((a, b) => a * b, 1)
  );
  return shifts.reduce((a, b) => a * 2 ** b);
}

Deno.test("evaluate: the forms the sources use", () => {
  assert.equal(evaluate("64 * 1024"), 65536);
  assert.equal(evaluate("4 << 20"), 4 * 2 ** 20);
  assert.equal(evaluate("20 * 60_000"), 1_200_000);
  assert.equal(evaluate("2 ** 10"), 1024);
  assert.equal(evaluate("4_000_013"), 4_000_013);
});

Deno.test("budgets: every default is the one the library's source sets", async () => {
  const keys = new Set<string>();
  for (const l of LIMITS) {
    assert.ok(!keys.has(l.key), `duplicate key ${l.key}`);
    keys.add(l.key);
    const source = await Deno.readTextFile(new URL(l.file, ROOT));
    const found = new RegExp(l.find).exec(source);
    assert.ok(found, `${l.key}: /${l.find}/ not found in ${l.file}`);
    assert.equal(evaluate(found[1]), l.value, `${l.key}: ${l.file} says ${found[1]}`);
  }
});

Deno.test("budgets: SECURITY.md lists every limit with its default, and every budget", async () => {
  const text = await Deno.readTextFile(new URL("SECURITY.md", ROOT));
  const section = text.slice(text.indexOf("## Limits"), text.indexOf("## The v1 → v2 proxy"));
  assert.ok(section.length > 0, "SECURITY.md has a Limits section");
  const rows = section.split("\n").filter((line) => line.startsWith("|"))
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
  for (const l of LIMITS) {
    const row = rows.find((cells) => cells[0] === l.what);
    assert.ok(row, `SECURITY.md has no row for "${l.what}"`);
    assert.equal(row[1], shown(l), `SECURITY.md's default for "${l.what}"`);
    assert.equal(row[2], `\`${l.file}\``, `SECURITY.md's source for "${l.what}"`);
  }
  const budgets = section.slice(section.indexOf("### The per-connection budget"));
  const totals = budgets.split("\n").filter((line) => line.startsWith("|"))
    .map((line) => line.split("|")[2]?.trim());
  for (const b of defaultBudgets()) {
    assert.ok(
      totals.includes(size(b.total)),
      `SECURITY.md's budgets lack ${b.name} (${size(b.total)})`,
    );
  }
});

Deno.test("budgets: totals are their terms; real messages and version packets cost, decoys not", () => {
  for (const b of defaultBudgets()) {
    assert.equal(b.total, b.terms.reduce((a, t) => a + t.bytes, 0), b.name);
    assert.ok(b.terms.every((t) => t.bytes >= 0 && t.what.length > 0), b.name);
  }
  const small = sessionBudget(64 * 1024).total, big = sessionBudget().total;
  assert.ok(small < big, "a smaller message bound gives a smaller budget");
  // 5 × the message (the one being gathered, the one larger read-ahead message, two packets
  // in flight/queued and one waiting) on top of the fixed buffers.
  assert.ok(big - small > 4 * (limit("maxMessageSize") - 64 * 1024));
  const decoys = pendingHandshakeBudget().total;
  assert.equal(pendingHandshakeBudget(1_000_000).total - decoys, 1_000_000 + 17);
  assert.ok(decoys < 256 * 1024, `a pending handshake with decoys holds ${decoys} B`);
});

Deno.test("budgets: a bound is the tighter of goal and budget; verdicts follow it", () => {
  assert.deepEqual(tighter(64, 80, "x").value, 64);
  assert.deepEqual(tighter(64, 40, "x").value, 40);
  const load = loadBounds(1000, 64 * 1024, 50);
  assert.equal(load.peak.value, GOALS.peakRssMib, "1,000 sessions: the issue's goal is tighter");
  assert.equal(load.end.value, 50 + GOALS.endRssGrowthMib);
  const small = loadBounds(10, 64 * 1024, 50);
  assert.ok(small.peak.value < GOALS.peakRssMib, "10 sessions: the budget is tighter");
  assert.match(small.peak.basis, /2 × 10 ×/);

  const pass = judge("a", 10, { value: 10, basis: "b" }, "");
  const fail = judge("b", 10.1, { value: 10, basis: "b" }, "");
  assert.equal(pass.verdict, "PASS");
  assert.equal(fail.verdict, "FAIL");
  assert.equal(judge("c", false, undefined, "").verdict, "FAIL");
  assert.equal(judge("d", true, undefined, "").verdict, "PASS");
  const line = JSON.parse(figuresJson([pass, fail]));
  assert.equal(line.a, 10);
  assert.deepEqual(line.verdicts, { a: "PASS", b: "FAIL" });
  assert.equal(line.pass, false);
  assert.equal(JSON.parse(figuresJson([pass])).pass, true);
});
