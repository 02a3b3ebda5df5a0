import assert from "node:assert/strict";
import { Point } from "@noble/secp256k1";
import {
  BETA,
  GLV_BASIS,
  glvSplit,
  LAMBDA,
  N,
  xOnlyMultiply,
  xOnlyMultiplyGlv,
  xOnlyMultiplyPlain,
} from "../layers/crypto/secp256k1_xonly.ts";
import { mod, P } from "../layers/crypto/secp256k1_field.ts";
import { randomBytes, toHex } from "../layers/bytes.ts";

const big = (b: Uint8Array) => BigInt("0x" + toHex(b));
const randomScalar = () => big(randomBytes(32)) % (N - 1n) + 1n;
const nmod = (a: bigint) => ((a % N) + N) % N;
const abs = (a: bigint) => a < 0n ? -a : a;
const G = Point.BASE.toAffine();

Deno.test("β and λ are matching non-trivial cube roots of unity", () => {
  assert.equal((BETA * BETA % P) * BETA % P, 1n);
  assert.equal((LAMBDA * LAMBDA % N) * LAMBDA % N, 1n);
  assert.notEqual(BETA, 1n);
  assert.notEqual(LAMBDA, 1n);
  for (const k of [1n, 2n, randomScalar()]) {
    const p = Point.BASE.multiply(k).toAffine(),
      q = Point.BASE.multiply(nmod(k * LAMBDA)).toAffine();
    assert.deepEqual(q, { x: (p.x * BETA) % P, y: p.y });
  }
});

Deno.test("GLV basis: re-derived by the extended Euclidean algorithm on (n, λ)", () => {
  // remainders r = s·n + t·λ give lattice vectors (r, −t); Gallant–Lambert–Vanstone pick them around √n
  const rs = [N, LAMBDA], ts = [0n, 1n];
  while (rs[rs.length - 1] !== 0n) {
    const i = rs.length - 1, q = rs[i - 1] / rs[i];
    rs.push(rs[i - 1] - q * rs[i]);
    ts.push(ts[i - 1] - q * ts[i]);
  }
  let l = 0;
  for (let i = 0; i < rs.length; i++) if (rs[i] * rs[i] >= N) l = i;
  const [a1, b1, a2, b2] = GLV_BASIS;
  assert.deepEqual([a1, b1], [rs[l + 1], -ts[l + 1]]);
  // the second vector is the shorter of (r_l, −t_l) and (r_{l+2}, −t_{l+2})
  const norm = (x: bigint, y: bigint) => x * x + y * y;
  const second = norm(rs[l], ts[l]) <= norm(rs[l + 2], ts[l + 2]) ? l : l + 2;
  assert.deepEqual([a2, b2], [rs[second], -ts[second]]);
  assert.equal(nmod(a1 + b1 * LAMBDA), 0n);
  assert.equal(nmod(a2 + b2 * LAMBDA), 0n);
  assert.equal(a1 * b2 - a2 * b1, N);
  // parities the split relies on
  assert.deepEqual([a1 & 1n, b1 & 1n, a2 & 1n, b2 & 1n], [1n, 1n, 1n, 0n]);
});

Deno.test("glvSplit: k ≡ k1 + k2·λ, both odd, both below 2^129", () => {
  const scalars = [1n, 2n, 3n, N - 1n, N - 2n, LAMBDA, N - LAMBDA, 2n ** 128n, 2n ** 255n];
  for (let i = 0; i < 2000; i++) scalars.push(randomScalar());
  for (const k of scalars) {
    const [k1, k2] = glvSplit(k);
    assert.equal(nmod(k1 + k2 * LAMBDA - k), 0n);
    assert.equal(k1 & 1n, 1n);
    assert.equal(k2 & 1n, 1n);
    assert.ok(abs(k1) < 2n ** 129n && abs(k2) < 2n ** 129n, k.toString(16));
  }
});

Deno.test("x-only multiplication (GLV, plain, combined) matches @noble/secp256k1", () => {
  const scalars = [1n, 2n, 3n, 15n, 16n, 17n, 31n, 32n, 33n, 2n ** 128n, 2n ** 252n, 2n ** 255n];
  for (const k of [1n, 2n, 15n, 16n, 17n, 30n, 2n ** 128n]) scalars.push(N - k);
  scalars.push(LAMBDA, N - LAMBDA, nmod(LAMBDA * LAMBDA));
  for (let i = 0; i < 25; i++) scalars.push(randomScalar());
  for (const k of scalars) {
    const pub = Point.BASE.multiply(randomScalar()).toAffine();
    const expected = Point.fromAffine(pub).multiply(k).toAffine().x;
    const d = mod(big(randomBytes(32))) || 1n;
    const label = `k = ${k.toString(16)}`;
    assert.equal(xOnlyMultiplyGlv(mod(pub.x * d), d, k), expected, label);
    assert.equal(xOnlyMultiplyPlain(mod(pub.x * d), d, k), expected, label);
    assert.equal(xOnlyMultiply(pub.x, 1n, k), expected, label);
  }
});

Deno.test("GLV: every candidate exceptional scalar; only −22λ degenerates, and falls back", () => {
  const x = G.x, degenerate: bigint[] = [];
  for (let b = -31n; b <= 31n; b += 2n) {
    const ks = [nmod(b * LAMBDA), nmod(2n * b * LAMBDA)];
    for (let a = -31n; a <= 31n; a += 2n) ks.push(nmod(2n * a + b * LAMBDA));
    for (const k of ks) {
      const glv = xOnlyMultiplyGlv(x, 1n, k);
      if (glv === null) degenerate.push(k);
      else assert.equal(glv, xOnlyMultiplyPlain(x, 1n, k), k.toString(16));
    }
  }
  assert.deepEqual(degenerate, [nmod(-22n * LAMBDA)]);
  const k = degenerate[0];
  assert.equal(xOnlyMultiply(x, 1n, k), Point.BASE.multiply(k).toAffine().x);
});

Deno.test("x-only multiplication rejects bad scalars and a zero denominator", () => {
  for (const f of [xOnlyMultiply, xOnlyMultiplyGlv, xOnlyMultiplyPlain]) {
    assert.throws(() => f(1n, 1n, 0n), RangeError);
    assert.throws(() => f(1n, 1n, N), RangeError);
    assert.throws(() => f(G.x, P, 5n), RangeError);
  }
});
