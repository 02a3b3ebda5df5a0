import assert from "node:assert/strict";
import { FSChaCha20Poly1305 } from "../layers/aead/aead.ts";
import { Bip324Error } from "../layers/errors.ts";
import { RefFSChaCha20Poly1305 } from "./reference.ts";

const key = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const EMPTY = new Uint8Array(0);

Deno.test("FSChaCha20Poly1305 matches the reference at packets 0..450 (boundaries 223/224/225/448)", () => {
  const fast = new FSChaCha20Poly1305(key), ref = new RefFSChaCha20Poly1305(key);
  const dec = new FSChaCha20Poly1305(key);
  for (let i = 0; i <= 450; i++) {
    const plaintext = new Uint8Array(i % 70).fill(i & 0xff);
    const aad = i === 0 ? new Uint8Array([1, 2, 3]) : EMPTY;
    const got = fast.encrypt(aad, plaintext);
    assert.deepEqual(got, ref.crypt(aad, plaintext, false), `packet ${i}`);
    assert.deepEqual(dec.decrypt(aad, got), plaintext);
  }
  assert.equal(fast.packetCounter, 451);
});

Deno.test("FSChaCha20Poly1305: the key actually changes at 224", () => {
  const a = new FSChaCha20Poly1305(key), b = new FSChaCha20Poly1305(key);
  for (let i = 0; i < 224; i++) a.encrypt(EMPTY, EMPTY);
  // b stays in epoch 0; a is now in epoch 1 with a new key: packet 224 differs from
  // a fresh cipher's packet 0 even though the per-epoch index is 0 for both.
  assert.notDeepEqual(a.encrypt(EMPTY, new Uint8Array(8)), b.encrypt(EMPTY, new Uint8Array(8)));
});

Deno.test("FSChaCha20Poly1305: in-place encrypt and decrypt", () => {
  const enc = new FSChaCha20Poly1305(key), dec = new FSChaCha20Poly1305(key);
  const buf = new Uint8Array(21);
  buf.set([1, 2, 3, 4, 5]);
  enc.encrypt(EMPTY, buf.subarray(0, 5), buf);
  assert.notDeepEqual([...buf.subarray(0, 5)], [1, 2, 3, 4, 5]);
  dec.decrypt(EMPTY, buf, buf);
  assert.deepEqual([...buf.subarray(0, 5)], [1, 2, 3, 4, 5]);
});

Deno.test("FSChaCha20Poly1305: bad tag and short input → Bip324Error DECRYPTION", () => {
  const enc = new FSChaCha20Poly1305(key), dec = new FSChaCha20Poly1305(key);
  const ct = enc.encrypt(EMPTY, new Uint8Array([1]));
  ct[0] ^= 0x80;
  assert.throws(
    () => dec.decrypt(EMPTY, ct),
    (e) => e instanceof Bip324Error && e.code === "DECRYPTION",
  );
  assert.throws(() => dec.decrypt(EMPTY, new Uint8Array(15)), Bip324Error);
  assert.throws(() => enc.encrypt(EMPTY, new Uint8Array(4), new Uint8Array(8)), RangeError);
});

Deno.test("FSChaCha20Poly1305 with keyStorage: same packets across a rekey, key only there, wiped by destroy", () => {
  const storage = new Uint8Array(40).fill(0xaa);
  const shared = new FSChaCha20Poly1305(key, 224, { backend: "pure", keyStorage: storage });
  const own = new FSChaCha20Poly1305(key, 224, { backend: "pure" });
  for (let i = 0; i < 230; i++) {
    const plain = Uint8Array.of(i & 0xff, 1, 2);
    assert.deepEqual(shared.encrypt(EMPTY, plain), own.encrypt(EMPTY, plain), `packet ${i}`);
  }
  assert.ok(storage.subarray(32).every((b) => b === 0xaa), "past its 32 bytes: untouched");
  assert.ok(!storage.subarray(0, 32).every((b) => b === 0), "holds the (rekeyed) key");
  shared.destroy();
  assert.ok(storage.subarray(0, 32).every((b) => b === 0), "wiped");
  assert.throws(
    () => new FSChaCha20Poly1305(key, 224, { keyStorage: new Uint8Array(31) }),
    RangeError,
  );
});
