import assert from "node:assert/strict";
import { Point } from "@noble/secp256k1";
import { baseMultiplyX, baseMultiplyXComb, G_X, G_Y } from "../layers/crypto/secp256k1_base.ts";
import { N } from "../layers/crypto/secp256k1_xonly.ts";
import { randomBytes, toHex } from "../layers/bytes.ts";

const big = (b: Uint8Array) => BigInt("0x" + toHex(b));
const nobleX = (k: bigint) => Point.BASE.multiply(k).toAffine().x;

Deno.test("G_X, G_Y are the base point", () => {
  assert.deepEqual(Point.BASE.toAffine(), { x: G_X, y: G_Y });
});

Deno.test("baseMultiplyX matches @noble/secp256k1 on edge and random scalars", () => {
  const scalars = [1n, 2n, 3n, 127n, 128n, 129n, 255n, 256n, 257n, 511n, 2n ** 248n, 2n ** 255n];
  for (const k of [1n, 2n, 3n, 255n, 256n, 2n ** 128n]) scalars.push(N - k);
  for (let i = 0; i < 200; i++) scalars.push(big(randomBytes(32)) % (N - 1n) + 1n);
  for (const k of scalars) assert.equal(baseMultiplyX(k), nobleX(k), k.toString(16));
});

Deno.test("baseMultiplyX: the last addition's candidates; d = 255 degenerates and falls back", () => {
  const degenerate: bigint[] = [];
  for (let d = 129n; d <= 255n; d += 2n) {
    const k = d * 2n ** 249n - N;
    for (const s of [k, N - k]) {
      const comb = baseMultiplyXComb(s);
      if (comb === null) degenerate.push(s);
      else assert.equal(comb, nobleX(s), s.toString(16));
      assert.equal(baseMultiplyX(s), nobleX(s), s.toString(16));
    }
  }
  const k = 255n * 2n ** 249n - N;
  assert.deepEqual(degenerate, [k, N - k]);
});

Deno.test("baseMultiplyX rejects scalars outside 1..n-1", () => {
  for (const k of [0n, -1n, N, N + 1n]) {
    assert.throws(() => baseMultiplyX(k), RangeError);
    assert.throws(() => baseMultiplyXComb(k), RangeError);
  }
});
