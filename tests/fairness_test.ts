import assert from "node:assert/strict";
import { FAIR_SHARE, FAIR_SLICE_MS, sliceOver } from "../layers/session/fairness.ts";

Deno.test("fairness: a turn is due only once a slice has passed since the last one", () => {
  assert.ok(FAIR_SHARE > 0 && FAIR_SLICE_MS > 0);
  const now = performance.now();
  assert.equal(sliceOver(now), false, "just had a turn");
  assert.equal(sliceOver(now + 10), false, "(a time after now)");
  assert.equal(sliceOver(now - FAIR_SLICE_MS - 1), true, "a whole slice ago");
  assert.equal(sliceOver(0), true, "never had one");
});
