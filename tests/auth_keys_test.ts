// Identity key helpers for private authentication (what `listen --identity` / `cat --accept` parse).
import assert from "node:assert/strict";
import {
  generateIdentity,
  parsePrivateKey,
  parsePublicKey,
  parsePublicKeys,
  PRIVATE_KEY_LEN,
  PUBLIC_KEY_LEN,
  publicKeyOf,
} from "../layers/auth/mod.ts";
import { toHex } from "../layers/bytes.ts";

const G = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
const TWO_G = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";
const N_HEX = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

Deno.test("auth keys: private keys are 64 hex digits of a scalar 1..n-1 (a key file)", () => {
  assert.equal(PRIVATE_KEY_LEN, 32);
  const one = "00".repeat(31) + "01";
  assert.deepEqual(parsePrivateKey(one), new Uint8Array([...new Uint8Array(31), 1]));
  assert.equal(toHex(parsePrivateKey(`  ${one.toUpperCase()}\n`)), one);
  assert.equal(toHex(publicKeyOf(parsePrivateKey(one))), G);
  const two = "00".repeat(31) + "02";
  assert.equal(toHex(publicKeyOf(parsePrivateKey(two))), TWO_G);
  for (
    const bad of [
      "",
      "01",
      "00".repeat(32),
      N_HEX,
      "zz".repeat(32),
      one + "00",
      `0x${one.slice(2)}`,
    ]
  ) {
    assert.throws(
      () => parsePrivateKey(bad),
      (e: unknown) => e instanceof TypeError || e instanceof RangeError,
      JSON.stringify(bad),
    );
  }
  // an error never repeats the key
  const secret = "ab".repeat(31) + "zz";
  assert.throws(
    () => parsePrivateKey(secret),
    (e: unknown) => !(e as Error).message.includes("abab"),
  );
  assert.throws(
    () => parsePrivateKey(N_HEX),
    (e: unknown) => !(e as Error).message.includes("ffff"),
  );
  assert.throws(() => parsePrivateKey(5 as unknown as string), TypeError);
});

Deno.test("auth keys: public keys are 33-byte compressed SEC1 points in hex", () => {
  assert.equal(PUBLIC_KEY_LEN, 33);
  assert.equal(toHex(parsePublicKey(G)), G);
  assert.equal(toHex(parsePublicKey(` ${G.toUpperCase()} `)), G);
  const odd = "03" + G.slice(2);
  assert.equal(parsePublicKey(odd)[0], 3);
  const notOnCurve = "02" + "00".repeat(31) + "05"; // x = 5: x³ + 7 = 132 is not a square mod p
  for (
    const bad of ["", G.slice(2), "04" + G.slice(2), G + "00", notOnCurve, "02" + "ff".repeat(32)]
  ) {
    assert.throws(() => parsePublicKey(bad), TypeError, bad);
  }
});

Deno.test("auth keys: comma-separated public keys, duplicates once, bad entries named", () => {
  assert.deepEqual(parsePublicKeys(G).map(toHex), [G]);
  assert.deepEqual(parsePublicKeys(`${G}, ${TWO_G},${G.toUpperCase()}`).map(toHex), [G, TWO_G]);
  assert.throws(() => parsePublicKeys(`${G},`), /public key 2 of 2/);
  assert.throws(() => parsePublicKeys(""), /public key 1 of 1/);
  assert.throws(() => parsePublicKeys(`${G},nope,${TWO_G}`), /public key 2 of 3/);
});

Deno.test("auth keys: generateIdentity makes a fresh, consistent pair", () => {
  const a = generateIdentity(), b = generateIdentity();
  assert.equal(a.privateKey.length, 32);
  assert.deepEqual(publicKeyOf(a.privateKey), a.publicKey);
  assert.notDeepEqual(a.privateKey, b.privateKey);
  assert.deepEqual(parsePublicKey(toHex(a.publicKey)), a.publicKey);
  assert.deepEqual(parsePrivateKey(toHex(a.privateKey)), a.privateKey);
  assert.throws(() => publicKeyOf(new Uint8Array(32)), RangeError);
  assert.throws(() => publicKeyOf(new Uint8Array(31)), RangeError);
});
