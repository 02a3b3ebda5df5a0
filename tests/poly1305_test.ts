import assert from "node:assert/strict";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { Poly1305 } from "../layers/crypto/poly1305.ts";
import { fromHex, randomBytes, toHex } from "../layers/bytes.ts";

function mac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const p = new Poly1305();
  p.init(key);
  p.update(msg, 0, msg.length);
  const tag = new Uint8Array(16);
  p.finish(tag, 0);
  return tag;
}

Deno.test("Poly1305: RFC 8439 2.5.2", () => {
  const key = fromHex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
  const msg = new TextEncoder().encode("Cryptographic Forum Research Group");
  assert.equal(toHex(mac(key, msg)), "a8061dc1305136c6c22b8baf0c0127a9");
});

Deno.test("Poly1305 matches @noble/ciphers for every length 0..300 and 1 MiB", () => {
  for (const length of [...Array.from({ length: 301 }, (_, i) => i), 1 << 20]) {
    const key = randomBytes(32), msg = randomBytes(length);
    assert.deepEqual(mac(key, msg), poly1305(msg, key), `length ${length}`);
  }
});

Deno.test("Poly1305: extreme limbs (all-ones keys and messages, h near p)", () => {
  const ones = new Uint8Array(32).fill(0xff);
  for (const length of [0, 1, 15, 16, 17, 64, 255, 4096]) {
    for (const fill of [0x00, 0xff, 0xfe, 0x01]) {
      const msg = new Uint8Array(length).fill(fill);
      assert.deepEqual(mac(ones, msg), poly1305(msg, ones), `ones key, ${length}×${fill}`);
      const rOnly = new Uint8Array(32).fill(0xff, 0, 16);
      assert.deepEqual(mac(rOnly, msg), poly1305(msg, rOnly));
      const sOnly = new Uint8Array(32).fill(0xff, 16);
      assert.deepEqual(mac(sOnly, msg), poly1305(msg, sOnly));
    }
  }
  // RFC 8439 A.3 #5-#6 style: h reaches p and 2^130 - 1 exactly
  const r2 = fromHex("0200000000000000000000000000000000000000000000000000000000000000");
  const ff = new Uint8Array(16).fill(0xff);
  assert.equal(toHex(mac(r2, ff)), "03000000000000000000000000000000");
  const s = fromHex("02000000000000000000000000000000ffffffffffffffffffffffffffffffff");
  assert.equal(
    toHex(mac(s, fromHex("02000000000000000000000000000000"))),
    "03000000000000000000000000000000",
  );
});

Deno.test("Poly1305: incremental updates, pad() and lengths() equal one-shot", () => {
  const p = new Poly1305();
  for (let trial = 0; trial < 200; trial++) {
    const key = randomBytes(32);
    const a = randomBytes(trial % 37), c = randomBytes((trial * 13) % 300);
    // AEAD layout: a || pad16 || c || pad16 || le64(|a|) || le64(|c|)
    const pad = (n: number) => (16 - (n % 16)) % 16;
    const flat = new Uint8Array(a.length + pad(a.length) + c.length + pad(c.length) + 16);
    flat.set(a, 0);
    flat.set(c, a.length + pad(a.length));
    const view = new DataView(flat.buffer);
    view.setBigUint64(flat.length - 16, BigInt(a.length), true);
    view.setBigUint64(flat.length - 8, BigInt(c.length), true);
    p.init(key);
    // feed in random pieces
    for (let i = 0; i < a.length;) {
      const n = Math.min(a.length - i, 1 + ((trial * 7 + i) % 20));
      p.update(a, i, n);
      i += n;
    }
    p.pad();
    for (let i = 0; i < c.length;) {
      const n = Math.min(c.length - i, 1 + ((trial * 3 + i) % 40));
      p.update(c, i, n);
      i += n;
    }
    p.pad();
    p.lengths(a.length, c.length);
    const tag = new Uint8Array(20);
    p.finish(tag, 2);
    assert.deepEqual(tag.subarray(2, 18), poly1305(flat, key), `trial ${trial}`);
  }
  assert.throws(() => p.init(new Uint8Array(16)), { name: "RangeError", message: /key/ });
});
