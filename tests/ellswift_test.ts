import assert from "node:assert/strict";
import {
  ellswiftCreate,
  ellswiftDecode,
  ellswiftEcdhXonly,
  taggedHash,
  v2Ecdh,
  xswiftecInv,
} from "../layers/handshake/ellswift.ts";
import { randomBytes, toHex } from "../layers/bytes.ts";
import {
  inv,
  isSquare,
  isValidXFraction,
  powP34,
  sqrt,
  sqrtRatio,
} from "../layers/crypto/secp256k1_field.ts";
import { xOnlyMultiply } from "../layers/crypto/secp256k1_xonly.ts";
import { Point } from "@noble/secp256k1";
import { hex, readVectors } from "./vectors.ts";

const decodeRows = readVectors("ellswift_decode_test_vectors.csv");
const invRows = readVectors("xswiftec_inv_test_vectors.csv");

Deno.test("ellswift_decode_test_vectors.csv: all 76 rows", () => {
  assert.equal(decodeRows.length, 76);
  for (const row of decodeRows) {
    assert.equal(toHex(ellswiftDecode(hex(row.ellswift))), row.x, row.comment);
  }
});

Deno.test("xswiftec_inv_test_vectors.csv: every case of every row", () => {
  assert.ok(invRows.length >= 30);
  let solutions = 0, none = 0;
  for (const row of invRows) {
    const u = hex(row.u), x = hex(row.x);
    for (let c = 0; c < 8; c++) {
      const expected = row[`case${c}_t`];
      const t = xswiftecInv(u, x, c);
      if (expected === "") {
        assert.equal(t, null, `${row.u} case ${c}: ${row.comment}`);
        none++;
      } else {
        assert.ok(t, `${row.u} case ${c} should have a solution`);
        assert.equal(toHex(t), expected, `${row.u} case ${c}`);
        // and the solution decodes back to x
        assert.equal(toHex(ellswiftDecode(new Uint8Array([...u, ...t]))), row.x);
        solutions++;
      }
    }
  }
  assert.ok(solutions > 0 && none > 0);
});

Deno.test("ellswiftCreate: encodes the key's x, deterministic with auxRandom", () => {
  const priv = hex("61062ea5071d800bbfd59e2e8b53d47d194b095ae5a4df04936b49772ef0d4d7");
  const aux = new Uint8Array(32).fill(5);
  const a = ellswiftCreate(priv, aux);
  assert.deepEqual(a, ellswiftCreate(priv, aux));
  assert.notDeepEqual(a, ellswiftCreate(priv, new Uint8Array(32).fill(6)));
  assert.notDeepEqual(ellswiftCreate(priv), ellswiftCreate(priv));
  // x(priv·G) from the packet vector's mid_x_ours
  assert.equal(
    toHex(ellswiftDecode(a)),
    "19e965bc20fc40614e33f2f82d4eeff81b5e7516b12a5c6c0d6053527eba0923",
  );
});

Deno.test("x-only ECDH is symmetric and v2Ecdh agrees on both sides", () => {
  const a = new Uint8Array(32).fill(0x11), b = new Uint8Array(32).fill(0x22);
  const ea = ellswiftCreate(a), eb = ellswiftCreate(b);
  assert.deepEqual(ellswiftEcdhXonly(eb, a), ellswiftEcdhXonly(ea, b));
  assert.deepEqual(v2Ecdh(a, eb, ea, true), v2Ecdh(b, ea, eb, false));
  assert.notDeepEqual(v2Ecdh(a, eb, ea, true), v2Ecdh(a, eb, ea, false));
});

Deno.test("taggedHash matches SHA256(SHA256(tag)||SHA256(tag)||x)", async () => {
  const tag = new TextEncoder().encode("bip324_ellswift_xonly_ecdh");
  const th = new Uint8Array(await crypto.subtle.digest("SHA-256", tag));
  const msg = new Uint8Array([...th, ...th, 1, 2, 3]);
  const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", msg));
  assert.deepEqual(taggedHash("bip324_ellswift_xonly_ecdh", new Uint8Array([1, 2, 3])), expected);
});

Deno.test("caller mistakes throw TypeError/RangeError naming the argument", () => {
  assert.throws(() => ellswiftDecode(new Uint8Array(63)), {
    name: "RangeError",
    message: /encoding/,
  });
  // deno-lint-ignore no-explicit-any
  assert.throws(() => ellswiftDecode("x" as any), { name: "TypeError", message: /encoding/ });
  assert.throws(() => xswiftecInv(new Uint8Array(32), new Uint8Array(32), 8), RangeError);
  assert.throws(() => ellswiftCreate(new Uint8Array(32)), {
    name: "RangeError",
    message: /privateKey/,
  });
  assert.throws(() => ellswiftCreate(new Uint8Array(32).fill(0xff)), RangeError);
});

// ---- the optimized field and curve code against spec-literal BigInt and @noble/secp256k1 ----

const FP = 2n ** 256n - 2n ** 32n - 977n;
const ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const SQRT_M3 = 0xa2d2ba93507f1df233770c2a797962cc61f6d15da14ecd47d8d27ae1cd5f852n;
const fmod = (a: bigint) => ((a % FP) + FP) % FP;
function fpow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = fmod(b);
  for (; e > 0n; e >>= 1n, b = (b * b) % FP) if (e & 1n) r = (r * b) % FP;
  return r;
}
const finv = (a: bigint) => fpow(a, FP - 2n);
function fsqrt(a: bigint): bigint | null {
  const r = fpow(a, (FP + 1n) / 4n);
  return (r * r) % FP === fmod(a) ? r : null;
}
const validX = (x: bigint) => fsqrt(x * x * x + 7n) !== null;
const big = (b: Uint8Array) => BigInt("0x" + (toHex(b) || "0"));
const bytes32 = (n: bigint) => hex(n.toString(16).padStart(64, "0"));

/** XSwiftEC exactly as the BIP writes it. */
function refXswiftec(u: bigint, t: bigint): bigint {
  u = fmod(u), t = fmod(t);
  if (u === 0n) u = 1n;
  if (t === 0n) t = 1n;
  if (fmod(u ** 3n + t * t + 7n) === 0n) t = fmod(2n * t);
  const X = fmod((u ** 3n + 7n - t * t) * finv(2n * t));
  const Y = fmod((X + t) * finv(SQRT_M3 * u));
  for (
    const x of [
      fmod(u + 4n * Y * Y),
      fmod((-X * finv(Y) - u) * finv(2n)),
      fmod((X * finv(Y) - u) * finv(2n)),
    ]
  ) {
    if (validX(x)) return x;
  }
  throw new Error("unreachable");
}

/** XSwiftECInv exactly as the BIP writes it (for x on the curve). */
function refXswiftecInv(x: bigint, u: bigint, c: number): bigint | null {
  let v: bigint, s: bigint;
  if ((c & 2) === 0) {
    if (validX(fmod(-x - u))) return null;
    v = x;
    s = fmod(-(u ** 3n + 7n) * finv(u * u + u * v + v * v));
  } else {
    s = fmod(x - u);
    if (s === 0n) return null;
    const r = fsqrt(fmod(-s * (4n * (u ** 3n + 7n) + 3n * u * u * s)));
    if (r === null) return null;
    if ((c & 1) === 1 && r === 0n) return null;
    v = fmod((r * finv(s) - u) * finv(2n));
  }
  const w = fsqrt(s);
  if (w === null) return null;
  const half = finv(2n);
  const k = [fmod(-w * (u * (1n - SQRT_M3) * half + v)), fmod(w * (u * (1n + SQRT_M3) * half + v))];
  return (c & 5) === 0 ? k[0] : (c & 5) === 1 ? k[1] : (c & 5) === 4 ? fmod(-k[0]) : fmod(-k[1]);
}

Deno.test("field helpers match plain exponentiation and Fermat inversion on random elements", () => {
  for (let i = 0; i < 100; i++) {
    const a = fmod(big(randomBytes(32))), d = fmod(big(randomBytes(32))) || 1n;
    assert.equal(powP34(a), fpow(a, (FP - 3n) / 4n));
    assert.equal(sqrt(a), fsqrt(a));
    assert.equal(isSquare(a), fsqrt(a) !== null);
    assert.equal(sqrtRatio(a, d), fsqrt(fmod(a * finv(d))));
    assert.equal(finv(d), inv(d));
    assert.equal(isValidXFraction(fmod(a * d), d), validX(a));
  }
  assert.equal(isSquare(0n), true);
  assert.throws(() => inv(FP), RangeError);
});

Deno.test("ellswiftDecode and xswiftecInv match the spec-literal formulas on random inputs", () => {
  for (let i = 0; i < 60; i++) {
    const e = randomBytes(64);
    const x = refXswiftec(big(e.subarray(0, 32)), big(e.subarray(32)));
    assert.equal(toHex(ellswiftDecode(e)), x.toString(16).padStart(64, "0"));
    const u = randomBytes(32);
    for (let c = 0; c < 8; c++) {
      const expected = refXswiftecInv(x, fmod(big(u)), c);
      const got = xswiftecInv(u, bytes32(x), c);
      assert.equal(got === null ? null : big(got), expected, `case ${c}`);
    }
  }
});

Deno.test("x-only multiplication matches @noble/secp256k1 for edge and random scalars", () => {
  const scalars = [1n, 2n, 3n, 15n, 16n, 17n, 31n, 33n, 2n ** 128n, 2n ** 252n, 2n ** 255n];
  for (const k of [1n, 2n, 15n, 16n, 17n, 30n, 2n ** 128n]) scalars.push(ORDER - k);
  for (let i = 0; i < 20; i++) scalars.push(big(randomBytes(32)) % (ORDER - 1n) + 1n);
  for (const k of scalars) {
    const pub = Point.BASE.multiply(big(randomBytes(32)) % (ORDER - 1n) + 1n).toAffine();
    const expected = Point.fromAffine(pub).multiply(k).toAffine().x;
    const d = fmod(big(randomBytes(32))) || 1n;
    assert.equal(xOnlyMultiply(fmod(pub.x * d), d, k), expected, `k = ${k.toString(16)}`);
  }
  assert.throws(() => xOnlyMultiply(1n, 1n, 0n), RangeError);
  assert.throws(() => xOnlyMultiply(1n, 1n, ORDER), RangeError);
});

Deno.test("ellswiftEcdhXonly matches lift_x + @noble/secp256k1 multiplication", () => {
  for (let i = 0; i < 20; i++) {
    const theirs = randomBytes(64), priv = randomBytes(32);
    const d = big(priv);
    if (d === 0n || d >= ORDER) continue;
    const x = big(ellswiftDecode(theirs));
    const y = fsqrt(x ** 3n + 7n)!;
    const expected = Point.fromAffine({ x, y }).multiply(d).toAffine().x;
    assert.equal(big(ellswiftEcdhXonly(theirs, priv)), expected);
  }
  assert.throws(() => ellswiftEcdhXonly(new Uint8Array(63), new Uint8Array(32).fill(1)), {
    name: "RangeError",
    message: /ellswiftTheirs/,
  });
});

Deno.test("ellswiftCreate output with auxRandom is unchanged by the optimizations (pinned)", () => {
  // computed with the original straightforward implementation (commit d9aa526)
  const pinned: [string, string, string][] = [
    [
      "61062ea5071d800bbfd59e2e8b53d47d194b095ae5a4df04936b49772ef0d4d7",
      "05",
      "55a2fa04d1a4b5880562d83bc2031e747460a6d992cda03962abf548a77846ba" +
      "a26089970d9dbbca68df048ffdcb11535d1a7c895c758094ca37643ac33b1d30",
    ],
    [
      "0000000000000000000000000000000000000000000000000000000000000001",
      "00",
      "f8b1acf55e26457075ce4403ce9e3b84565914a07177c83f7746976fd610f133" +
      "1253ad15ab9a10fa5c2bb1758b7a28efc772a95a3226f1762ce28d6f014eab1b",
    ],
    [
      "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",
      "ff",
      "fedefbe811927fa1c6130cbf0654d30fdf61baac8cdee935458f68760316f9dd" +
      "53bce4f688bd1ac9c1af9706344e2f1363922f48123ac81d4f8f5ae1a9707735",
    ],
  ];
  for (const [priv, auxByte, expected] of pinned) {
    const aux = hex(auxByte.repeat(32));
    assert.equal(toHex(ellswiftCreate(hex(priv), aux)), expected, priv);
  }
});
