import assert from "node:assert/strict";
import { inv, isSquare, mod, P, sqrt } from "../layers/crypto/secp256k1_field.ts";
import { randomBytes, toHex } from "../layers/bytes.ts";

const big = (b: Uint8Array) => BigInt("0x" + toHex(b));
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  for (b = mod(b); e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
  return r;
}
/** Elements of every size, powers of two and their neighbours, and values near p. */
function samples(count: number): bigint[] {
  const out = [1n, 2n, 3n, 4n, 7n, P - 1n, P - 2n, (P + 1n) / 2n, 2n ** 255n, P - 2n ** 32n];
  for (let k = 1n; k < 256n; k += 7n) out.push(2n ** k - 1n, 2n ** k, 2n ** k + 1n);
  for (let i = 0; i < count; i++) {
    const bits = BigInt(1 + (i % 256));
    out.push(mod(big(randomBytes(32)) % (1n << bits)) || 1n);
  }
  return out;
}

Deno.test("inv (Lehmer) is the inverse for elements of every size", () => {
  for (const a of samples(5000)) {
    const r = inv(a);
    assert.ok(r >= 0n && r < P);
    assert.equal((r * a) % P, 1n, a.toString(16));
  }
  for (const a of samples(50)) assert.equal(inv(a), pow(a, P - 2n));
  assert.equal(inv(-1n), P - 1n);
  assert.throws(() => inv(0n), RangeError);
  assert.throws(() => inv(P), RangeError);
});

Deno.test("isSquare agrees with Euler's criterion for elements of every size", () => {
  let squares = 0;
  for (const a of samples(1500)) {
    const expected = pow(a, (P - 1n) / 2n) === 1n;
    assert.equal(isSquare(a), expected, a.toString(16));
    assert.equal(isSquare(P - a), !expected, `p - ${a.toString(16)}`); // -1 is not a square
    assert.equal(sqrt(a) !== null, expected);
    if (expected) squares++;
  }
  assert.ok(squares > 500);
  assert.equal(isSquare(0n), true);
  assert.equal(isSquare(P), true);
  for (const a of samples(200)) assert.equal(isSquare((a * a) % P), true);
});
