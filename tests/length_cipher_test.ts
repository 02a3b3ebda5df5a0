import assert from "node:assert/strict";
import { FSChaCha20, FSCHACHA20_STATE_LEN } from "../layers/length/length_cipher.ts";
import { RefFSChaCha20 } from "./reference.ts";

const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7);

Deno.test("FSChaCha20 matches the spec-literal reference through packets 0..1000", () => {
  const fast = new FSChaCha20(key), ref = new RefFSChaCha20(key);
  for (let i = 0; i <= 1000; i++) {
    const length = (i * 2654435761) % 0x1000000;
    const field = new Uint8Array([length & 0xff, (length >> 8) & 0xff, length >> 16]);
    const expected = ref.crypt(field);
    const out = new Uint8Array(3);
    fast.encryptLength(length, out);
    assert.deepEqual(out, expected, `packet ${i}`);
  }
});

Deno.test("FSChaCha20: encrypt/decrypt agree with the reference at 223, 224, 225, 448", () => {
  const enc = new FSChaCha20(key), dec = new FSChaCha20(key), ref = new RefFSChaCha20(key);
  const fields = new Map<number, Uint8Array>();
  for (let i = 0; i <= 448; i++) {
    const out = new Uint8Array(3);
    enc.encryptLength(i, out);
    assert.deepEqual(out, ref.crypt(new Uint8Array([i & 0xff, i >> 8, 0])), `packet ${i}`);
    assert.equal(dec.decryptLength(out), i);
    fields.set(i, out);
  }
  assert.equal(enc.chunkCounter, 449);
  // a new key after 224: the same plaintext length encrypts differently at 0 and 224
  const fresh = new FSChaCha20(key), at0 = new Uint8Array(3);
  fresh.encryptLength(224, at0);
  assert.notDeepEqual(at0, fields.get(224));
});

Deno.test("FSChaCha20: arbitrary chunk sizes match the reference", () => {
  // Non-3-byte chunks never occur on the wire; on rekey, leftover keystream is dropped as
  // Bitcoin Core does (see tests/reference.ts).
  const fast = new FSChaCha20(key, 5), ref = new RefFSChaCha20(key, 5);
  for (let i = 0; i < 40; i++) {
    const chunk = new Uint8Array((i * 37) % 200).fill(i);
    assert.deepEqual(fast.crypt(chunk), ref.crypt(chunk), `chunk ${i}`);
  }
});

Deno.test("FSChaCha20: argument checks and destroy()", () => {
  assert.throws(() => new FSChaCha20(new Uint8Array(16)), { name: "RangeError", message: /key/ });
  const c = new FSChaCha20(key);
  assert.throws(() => c.crypt(new Uint8Array(4), new Uint8Array(3)), RangeError);
  c.destroy();
  const other = new FSChaCha20(key);
  assert.notDeepEqual(c.crypt(new Uint8Array(3)), other.crypt(new Uint8Array(3)));
});

Deno.test("FSChaCha20 in caller storage: same stream, state kept only there, wiped by destroy", () => {
  const storage = new Uint8Array(FSCHACHA20_STATE_LEN + 8).fill(0xaa);
  const shared = new FSChaCha20(key, 224, storage), own = new FSChaCha20(key);
  for (let i = 0; i < 500; i++) { // across two rekeys
    const field = Uint8Array.of(i & 0xff, i >> 8, 7);
    assert.deepEqual(shared.crypt(field), own.crypt(field), `chunk ${i}`);
  }
  assert.ok(
    storage.subarray(FSCHACHA20_STATE_LEN).every((b) => b === 0xaa),
    "past its region: untouched",
  );
  shared.destroy();
  assert.ok(storage.subarray(0, FSCHACHA20_STATE_LEN).every((b) => b === 0), "its region wiped");
  assert.throws(
    () => new FSChaCha20(key, 224, new Uint8Array(FSCHACHA20_STATE_LEN - 1)),
    RangeError,
  );
  assert.throws(() => new FSChaCha20(key, 224, [] as unknown as Uint8Array), TypeError);
});
