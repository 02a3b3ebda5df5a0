import assert from "node:assert/strict";
import { HmacSha256, Sha256, sha256ScratchForTests } from "../layers/crypto/sha256.ts";
import { randomBytes, toHex } from "../layers/bytes.ts";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

const text = (s: string) => new TextEncoder().encode(s);
const digest = (...parts: Uint8Array[]) => {
  const h = new Sha256(), out = new Uint8Array(32);
  for (const p of parts) h.update(p);
  h.digestInto(out);
  return toHex(out);
};
const webSha = async (m: Uint8Array) =>
  toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(m))));
const webHmac = async (key: Uint8Array, m: Uint8Array) => {
  if (key.length === 0) return toHex(hmac(sha256, key, m)); // Web Crypto refuses empty keys
  const k = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", k, new Uint8Array(m))));
};
const allZero = (bufs: Uint8Array[]) => bufs.every((b) => b.every((v) => v === 0));

Deno.test("SHA-256: FIPS 180-4 examples", () => {
  assert.equal(
    digest(text("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(
    digest(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    digest(new Uint8Array(1_000_000).fill(0x61)),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("SHA-256 matches Web Crypto for every length 0..300, split anywhere", async () => {
  for (let len = 0; len <= 300; len++) {
    const m = randomBytes(len), a = Math.floor(Math.random() * (len + 1));
    const b = a + Math.floor(Math.random() * (len - a + 1));
    const expected = await webSha(m);
    assert.equal(digest(m), expected, `length ${len}`);
    assert.equal(digest(m.subarray(0, a), m.subarray(a, b), m.subarray(b)), expected, `${len}`);
  }
});

Deno.test("SHA-256: save/restore continues after a whole-block prefix; save refuses a partial one", async () => {
  const prefix = randomBytes(128), rest = randomBytes(77), out = new Uint8Array(32);
  const state = new Sha256().update(prefix).save();
  const h = new Sha256();
  for (let i = 0; i < 2; i++) {
    h.restore(state).update(rest).digestInto(out);
    assert.equal(toHex(out), await webSha(new Uint8Array([...prefix, ...rest])));
  }
  const into = { h: new Uint32Array(8), length: 0 };
  assert.equal(new Sha256().update(prefix).save(into), into);
  assert.deepEqual(into, state);
  assert.throws(() => new Sha256().update(randomBytes(10)).save(), RangeError);
});

Deno.test("HMAC-SHA256 matches Web Crypto for short, block-sized and long keys; re-keying", async () => {
  const mac = new HmacSha256(), out = new Uint8Array(32);
  for (const keyLength of [0, 1, 32, 63, 64, 65, 100, 200]) {
    const key = randomBytes(keyLength);
    mac.setKey(key);
    for (const len of [0, 1, 33, 55, 56, 64, 65, 150]) {
      const m = randomBytes(len), cut = len >> 1;
      mac.macInto(out, m.subarray(0, cut), m.subarray(cut));
      assert.equal(toHex(out), await webHmac(key, m), `key ${keyLength}, message ${len}`);
    }
  }
  const key = randomBytes(32), m = randomBytes(40);
  new HmacSha256(key).macInto(out, m);
  assert.equal(toHex(out), await webHmac(key, m));
});

Deno.test("SHA-256 and HMAC zero their state, partial block and the shared schedule", () => {
  const h = new Sha256().update(randomBytes(100));
  assert.ok(!allZero(h.buffersForTests()));
  h.digestInto(new Uint8Array(32));
  assert.ok(allZero(h.buffersForTests()));
  assert.ok(allZero(sha256ScratchForTests()));
  const h2 = new Sha256().update(randomBytes(10));
  h2.wipe();
  assert.ok(allZero(h2.buffersForTests()));

  const mac = new HmacSha256(randomBytes(32));
  mac.macInto(new Uint8Array(32), randomBytes(20));
  const buffers = mac.buffersForTests();
  assert.ok(!allZero(buffers)); // the keyed states remain until wipe()
  assert.ok(allZero(buffers.slice(2))); // scratch and the running hash are already zero
  mac.wipe();
  assert.ok(allZero(mac.buffersForTests()));
  assert.ok(allZero(new HmacSha256().buffersForTests()));
  assert.ok(allZero(sha256ScratchForTests()));
});
