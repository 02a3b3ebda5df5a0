import assert from "node:assert/strict";
import { xswiftecFraction, xswiftecInvBig } from "../layers/crypto/secp256k1_swiftec.ts";
import { inv, isValidXFraction, mod, P } from "../layers/crypto/secp256k1_field.ts";
import { randomBytes, toHex } from "../layers/bytes.ts";

const big = (b: Uint8Array) => BigInt("0x" + toHex(b));
const decode = (u: bigint, t: bigint) => {
  const [n, d] = xswiftecFraction(u, t);
  return mod(n * inv(d));
};

Deno.test("xswiftecFraction: every (u, t), remapped ones included, gives a valid x fraction", () => {
  const inputs: [bigint, bigint][] = [[0n, 0n], [0n, 1n], [1n, 0n], [P, P], [P - 1n, 1n]];
  for (let i = 0; i < 200; i++) inputs.push([big(randomBytes(32)), big(randomBytes(32))]);
  for (const [u, t] of inputs) {
    const [n, d] = xswiftecFraction(u, t);
    assert.notEqual(mod(d), 0n);
    assert.ok(isValidXFraction(n, d), `${u}, ${t}`);
  }
});

Deno.test("xswiftecInvBig: every solution decodes back to x; about a quarter of the cases have one", () => {
  let found = 0, tried = 0;
  for (let i = 0; i < 60; i++) {
    const x = decode(big(randomBytes(32)), big(randomBytes(32)));
    const u = mod(big(randomBytes(32))) || 1n;
    for (let c = 0; c < 8; c++, tried++) {
      const t = xswiftecInvBig(x, u, c);
      if (t === null) continue;
      found++;
      assert.ok(t >= 0n && t < P);
      assert.equal(decode(u, t), x, `case ${c}`);
    }
  }
  assert.ok(found > tried / 8 && found < tried / 2, `${found} of ${tried}`);
});
