import assert from "node:assert/strict";
import { chacha20 } from "@noble/ciphers/chacha.js";
import { ChaCha20, chachaBlock } from "../layers/crypto/chacha20.ts";
import { fromHex, randomBytes, toHex } from "../layers/bytes.ts";

const RFC_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const SUNSCREEN = new TextEncoder().encode(
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for " +
    "the future, sunscreen would be it.",
);

function noble(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number): Uint8Array {
  return chacha20(key, nonce, data, new Uint8Array(data.length), counter);
}

Deno.test("ChaCha20: RFC 8439 2.3.2 block function", () => {
  // deno-fmt-ignore
  const state = Uint32Array.of(
    0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
    0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c,
    0x13121110, 0x17161514, 0x1b1a1918, 0x1f1e1d1c,
    0x00000001, 0x09000000, 0x4a000000, 0x00000000,
  );
  const out = new Uint32Array(16);
  chachaBlock(state, out);
  // deno-fmt-ignore
  const expected = [
    0xe4e7f110, 0x15593bd1, 0x1fdd0f50, 0xc47120a3,
    0xc7f4d1c7, 0x0368c033, 0x9aaa2204, 0x4e6cd4c3,
    0x466482d2, 0x09aa9f07, 0x05d7c214, 0xa2028bd9,
    0xd19c12b5, 0xb94e16de, 0xe883d0cb, 0x4e3c50a2,
  ];
  assert.deepEqual([...out], expected);
  // the same block through the class, serialized
  const c = new ChaCha20();
  c.setKey(RFC_KEY);
  c.setNonce(fromHex("000000090000004a00000000"));
  c.counter = 1;
  const bytes = new Uint8Array(64);
  c.keystream(bytes, 0, 64);
  assert.equal(
    toHex(bytes),
    "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e" +
      "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
  );
  assert.equal(c.counter, 2);
});

Deno.test("ChaCha20: RFC 8439 2.4.2 encryption, also in place", () => {
  const expected = "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b" +
    "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8" +
    "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736" +
    "5af90bbf74a35be6b40b8eedf2785e42874d";
  const c = new ChaCha20();
  c.setKey(RFC_KEY);
  c.setNonce(fromHex("000000000000004a00000000"));
  c.counter = 1;
  const out = new Uint8Array(SUNSCREEN.length);
  c.xor(SUNSCREEN, 0, out, 0, SUNSCREEN.length);
  assert.equal(toHex(out), expected);
  c.setNonceWords(0, 0x4a000000, 0);
  c.counter = 1;
  c.xor(out, 0, out, 0, out.length);
  assert.deepEqual(out, SUNSCREEN);
});

Deno.test("ChaCha20 matches @noble/ciphers for every length 0..300, 511..513, 1000 and 1 MiB", () => {
  const c = new ChaCha20();
  const lengths = [...Array.from({ length: 301 }, (_, i) => i), 511, 512, 513, 1000, 1 << 20];
  for (const length of lengths) {
    const key = randomBytes(32), nonce = randomBytes(12), data = randomBytes(length);
    const counter = length % 3 === 0 ? 0 : (length * 7919) % 1000;
    c.setKey(key);
    c.setNonce(nonce);
    c.counter = counter;
    // at an offset inside larger buffers, and in place
    const input = new Uint8Array(length + 10);
    input.set(data, 5);
    const out = new Uint8Array(length + 7);
    c.xor(input, 5, out, 3, length);
    const expected = noble(key, nonce, data, counter);
    assert.deepEqual(out.subarray(3, 3 + length), expected, `length ${length}`);
    assert.equal(c.counter, counter + Math.ceil(length / 64));
    c.counter = counter;
    c.xor(input, 5, input, 5, length);
    assert.deepEqual(input.subarray(5, 5 + length), expected, `in place, length ${length}`);
    c.counter = counter;
    const ks = new Uint8Array(length);
    c.keystream(ks, 0, length);
    assert.deepEqual(ks, noble(key, nonce, new Uint8Array(length), counter));
  }
});

Deno.test("ChaCha20: counter limits and argument checks", () => {
  const c = new ChaCha20();
  c.setKey(RFC_KEY);
  c.counter = 0xffffffff;
  const out = new Uint8Array(128);
  c.keystream(out, 0, 64); // the very last block is fine
  const state = new Uint32Array(16), block = new Uint32Array(16);
  state.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
  for (let i = 0; i < 8; i++) state[4 + i] = new DataView(RFC_KEY.buffer).getUint32(4 * i, true);
  state[12] = 0xffffffff;
  chachaBlock(state, block);
  const serialized = new Uint8Array(64);
  for (let i = 0; i < 16; i++) new DataView(serialized.buffer).setUint32(4 * i, block[i], true);
  assert.deepEqual(out.subarray(0, 64), serialized);
  c.counter = 0xffffffff;
  assert.throws(() => c.keystream(out, 0, 65), RangeError);
  assert.throws(() => (c.counter = 2 ** 32), { name: "RangeError", message: /counter/ });
  assert.throws(() => c.setKey(new Uint8Array(31)), { name: "RangeError", message: /key/ });
  assert.throws(() => c.setNonce(new Uint8Array(8)), { name: "RangeError", message: /nonce/ });
});
