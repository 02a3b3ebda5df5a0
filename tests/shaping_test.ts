import assert from "node:assert/strict";
import { randomDecoys } from "../layers/shaping.ts";
import { prng } from "./helpers.ts";

Deno.test("randomDecoys: probability and size bounds", () => {
  const policy = randomDecoys({ probability: 0.25, maxSize: 50, random: prng(3) });
  let decoys = 0;
  for (let i = 0; i < 4000; i++) {
    const d = policy(10);
    if (d) {
      assert.equal(d.length, 1);
      assert.ok(d[0] >= 0 && d[0] <= 50);
      decoys++;
    }
  }
  assert.ok(decoys > 800 && decoys < 1200, `about a quarter, got ${decoys}`);
  assert.equal(randomDecoys({ probability: 0 })(1), undefined);
  assert.throws(() => randomDecoys({ probability: 2 }), RangeError);
  assert.throws(() => randomDecoys({ maxSize: -1 }), RangeError);
});
