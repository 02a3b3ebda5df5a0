import assert from "node:assert/strict";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import {
  initWasmAead,
  WasmAead,
  wasmAeadAvailable,
  wasmAeadMemory,
} from "../layers/crypto/wasm_aead.ts";
import { PureAead } from "../layers/crypto/pure_aead.ts";
import { compileAeadWasm, readSources } from "../layers/crypto/wasm/build.ts";
import { FSChaCha20Poly1305 } from "../layers/aead/aead.ts";
import { FSChaCha20 } from "../layers/length/length_cipher.ts";
import { fromHex, randomBytes, toHex } from "../layers/bytes.ts";
import { hex, readVectors } from "./vectors.ts";
import { AEAD_WASM_BASE64 } from "../layers/crypto/wasm/aead_wasm.ts";
import { runInWorker, sealWith } from "./helpers.ts";

const EMPTY = new Uint8Array(0);
const wasm = new WasmAead();
const pure = new PureAead();
/** Secret scratch at the start of module memory (layers/crypto/wasm/src/layout.ts). */
const SCRATCH = 512;
/** Start of the message region. */
const DATA = 512;
/** Piece size of the sliced path (wasm_aead.ts). */
const PIECE = 65536;
/** Largest text that goes through in one call with empty AAD: 128 KiB - DATA - tag. */
const ONE_CALL_MAX = 131072 - DATA - 16;

const RFC_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const SUNSCREEN = new TextEncoder().encode(
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for " +
    "the future, sunscreen would be it.",
);

Deno.test("wasm backend is available under Deno, also after the async init", async () => {
  assert.equal(wasmAeadAvailable(), true);
  assert.equal(await initWasmAead(), true);
  assert.equal(wasm.name, "wasm");
});

Deno.test("wasm: RFC 8439 2.8.2 AEAD vector, out of place and in place", () => {
  const key = fromHex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const nonce = fromHex("070000004041424344454647");
  const aad = fromHex("50515253c0c1c2c3c4c5c6c7");
  const expected = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6" +
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36" +
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
    "3ff4def08e4b7a9de576d26586cec64b6116" + "1ae10b594f09e26a7e902ecbd0600691";
  assert.equal(toHex(sealWith(wasm, key, nonce, aad, SUNSCREEN)), expected);
  const box = new Uint8Array(SUNSCREEN.length + 16);
  box.set(SUNSCREEN);
  wasm.seal(key, nonce, aad, box.subarray(0, SUNSCREEN.length), box);
  assert.equal(toHex(box), expected);
  assert.equal(wasm.open(key, nonce, aad, box, box), true);
  assert.deepEqual(box.subarray(0, SUNSCREEN.length), SUNSCREEN);
});

Deno.test("wasm: the AEAD text keystream starts at block 1 (RFC 8439 2.3.2 block, 2.4.2 encryption)", () => {
  // 2.3.2: block 1 under nonce 000000090000004a00000000, serialized; sealing zeros exposes it
  const block = sealWith(
    wasm,
    RFC_KEY,
    fromHex("000000090000004a00000000"),
    EMPTY,
    new Uint8Array(64),
  );
  assert.equal(
    toHex(block.subarray(0, 64)),
    "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e" +
      "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
  );
  // 2.4.2: the sunscreen text from counter 1
  const sealed = sealWith(wasm, RFC_KEY, fromHex("000000000000004a00000000"), EMPTY, SUNSCREEN);
  assert.equal(
    toHex(sealed.subarray(0, SUNSCREEN.length)),
    "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b" +
      "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8" +
      "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736" +
      "5af90bbf74a35be6b40b8eedf2785e42874d",
  );
});

/** A build of the same sources that also exports the raw Poly1305 (`polyMac`). */
async function polyBuild(): Promise<(key: Uint8Array, msg: Uint8Array) => Uint8Array> {
  const sources = await readSources();
  sources["aead.ts"] += '\nexport { polyMac } from "./poly1305";\n';
  const bytes = await compileAeadWasm(sources);
  const x = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>))
    .exports as {
      memory: WebAssembly.Memory;
      polyMac(k: number, p: number, n: number, o: number): void;
    };
  const mem = new Uint8Array(x.memory.buffer);
  return (key, msg) => {
    mem.set(key, 0);
    mem.set(msg, DATA);
    x.polyMac(0, DATA, msg.length, 48);
    return mem.slice(48, 64);
  };
}

Deno.test("wasm Poly1305: RFC 8439 2.5.2, extreme limbs, and @noble/ciphers for lengths 0..300", async () => {
  const mac = await polyBuild();
  const key = fromHex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
  const msg = new TextEncoder().encode("Cryptographic Forum Research Group");
  assert.equal(toHex(mac(key, msg)), "a8061dc1305136c6c22b8baf0c0127a9");
  const ones = new Uint8Array(32).fill(0xff);
  for (const length of [0, 1, 15, 16, 17, 64, 255, 4096, 100_000]) {
    for (const fill of [0x00, 0xff, 0xfe, 0x01]) {
      const m = new Uint8Array(length).fill(fill);
      assert.deepEqual(mac(ones, m), poly1305(m, ones), `ones key, ${length}×${fill}`);
      const rOnly = new Uint8Array(32).fill(0xff, 0, 16);
      assert.deepEqual(mac(rOnly, m), poly1305(m, rOnly));
      const sOnly = new Uint8Array(32).fill(0xff, 16);
      assert.deepEqual(mac(sOnly, m), poly1305(m, sOnly));
    }
  }
  // RFC 8439 A.3 #5-#6 style: h reaches p and 2^130 - 1 exactly
  const r2 = fromHex("0200000000000000000000000000000000000000000000000000000000000000");
  assert.equal(toHex(mac(r2, new Uint8Array(16).fill(0xff))), "03000000000000000000000000000000");
  const s = fromHex("02000000000000000000000000000000ffffffffffffffffffffffffffffffff");
  assert.equal(
    toHex(mac(s, fromHex("02000000000000000000000000000000"))),
    "03000000000000000000000000000000",
  );
  for (let length = 0; length <= 300; length++) {
    const k = randomBytes(32), m = randomBytes(length);
    assert.deepEqual(mac(k, m), poly1305(m, k), `length ${length}`);
  }
});

Deno.test("wasm matches PureAead for every length 0..600 with AAD, out of place and in place", () => {
  for (let length = 0; length <= 600; length++) {
    const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes((length * 7) % 45);
    const plaintext = randomBytes(length);
    const expected = sealWith(pure, key, nonce, aad, plaintext);
    const label = `length ${length}, aad ${aad.length}`;
    assert.deepEqual(sealWith(wasm, key, nonce, aad, plaintext), expected, label);
    // in place, at an odd offset inside a larger buffer
    const box = new Uint8Array(length + 16 + 5);
    const body = box.subarray(3, 3 + length + 16);
    body.set(plaintext);
    wasm.seal(key, nonce, aad, body.subarray(0, length), body);
    assert.deepEqual(body, expected, `${label} in place`);
    assert.equal(wasm.open(key, nonce, aad, body, body), true, label);
    assert.deepEqual(body.subarray(0, length), plaintext, `${label} open in place`);
    assert.equal(box[0] | box[1] | box[2] | box[box.length - 2] | box[box.length - 1], 0);
  }
});

Deno.test("wasm matches PureAead around the one-call limit, piece boundaries, 1 MiB and 4 MiB", () => {
  const cases: [number, number][] = [
    [ONE_CALL_MAX - 1, 0],
    [ONE_CALL_MAX, 0],
    [ONE_CALL_MAX + 1, 0], // the first sliced size
    [ONE_CALL_MAX - 16, 1], // AAD padded to 16 bytes takes a block of the region
    [ONE_CALL_MAX - 15, 1],
    [PIECE * 2 - 1, 3],
    [PIECE * 2, 16],
    [PIECE * 2 + 1, 17],
    [100, PIECE + 1], // AAD larger than a piece
    [PIECE * 3 + 7, 200_000], // both sliced
    [1 << 20, 13],
    [4 << 20, 0],
  ];
  for (const [length, aadLength] of cases) {
    const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(aadLength);
    const plaintext = randomBytes(length);
    const expected = sealWith(pure, key, nonce, aad, plaintext);
    const label = `length ${length}, aad ${aadLength}`;
    assert.ok(toHex(sealWith(wasm, key, nonce, aad, plaintext)) === toHex(expected), label);
    const back = new Uint8Array(length);
    assert.equal(wasm.open(key, nonce, aad, expected, back), true, label);
    assert.ok(back.every((v, i) => v === plaintext[i]), label);
    // in place, both ways
    const box = new Uint8Array(length + 16);
    box.set(plaintext);
    wasm.seal(key, nonce, aad, box.subarray(0, length), box);
    assert.ok(box.every((v, i) => v === expected[i]), `${label} in place`);
    assert.equal(wasm.open(key, nonce, aad, box, box), true);
    assert.ok(
      box.subarray(0, length).every((v, i) => v === plaintext[i]),
      `${label} open in place`,
    );
  }
});

Deno.test("wasm: a bad tag, AAD or ciphertext returns false and leaves out untouched", () => {
  for (const length of [0, 1, 37, 64, 65, 5000, ONE_CALL_MAX + 1, 1 << 20]) {
    const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(4);
    const sealed = sealWith(wasm, key, nonce, aad, randomBytes(length));
    for (const flip of [length + 15, length, length - 1, 0]) {
      if (flip < 0 || flip >= sealed.length) continue;
      const bad = sealed.slice();
      bad[flip] ^= 0x01;
      const out = new Uint8Array(length).fill(0xee);
      assert.equal(wasm.open(key, nonce, aad, bad, out), false, `${length} flip ${flip}`);
      assert.ok(out.every((v) => v === 0xee), `${length}: out untouched`);
      // in place: the ciphertext stays as it was
      const copy = bad.slice();
      assert.equal(wasm.open(key, nonce, aad, copy, copy), false);
      assert.ok(copy.every((v, i) => v === bad[i]), `${length}: in-place buffer untouched`);
    }
    assert.equal(wasm.open(key, nonce, randomBytes(4), sealed, new Uint8Array(length)), false);
    const otherKey = key.slice();
    otherKey[31] ^= 0x80;
    assert.equal(wasm.open(otherKey, nonce, aad, sealed, new Uint8Array(length)), false);
    assert.equal(wasm.open(key, nonce, aad, sealed.subarray(0, 15), EMPTY), false);
    // and the right inputs still open after all that
    assert.equal(wasm.open(key, nonce, aad, sealed, new Uint8Array(length)), true);
  }
});

Deno.test("wasm: no key material or plaintext left in module memory after a call; wipe() zeroes all", () => {
  const mem = wasmAeadMemory();
  const scratchIsZero = () => mem.subarray(0, SCRATCH).every((v) => v === 0);
  for (const length of [0, 38, 64, 65, 1000, ONE_CALL_MAX + 1]) {
    const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(3);
    const plaintext = new Uint8Array(length).fill(0xa5);
    const sealed = sealWith(wasm, key, nonce, aad, plaintext);
    assert.ok(scratchIsZero(), `after seal ${length}`);
    assert.equal(wasm.open(key, nonce, aad, sealed, new Uint8Array(length)), true);
    assert.ok(scratchIsZero(), `after open ${length}`);
    // A run of 8 plaintext bytes would be left plaintext (ciphertext makes one by chance
    // with odds of 2^-64 per place; two in a row came up 1 in ~1,000 runs).
    const region = mem.subarray(DATA);
    const run = (i: number) => region.subarray(i, i + 8).every((v) => v === 0xa5);
    assert.ok(!region.some((_, i) => region[i] === 0xa5 && run(i)), `plaintext gone ${length}`);
    const bad = sealed.slice();
    bad[0] ^= 1;
    assert.equal(wasm.open(key, nonce, aad, bad, new Uint8Array(length)), false);
    assert.ok(scratchIsZero(), `after failed open ${length}`);
  }
  assert.ok(mem.some((v) => v !== 0)); // the last ciphertext is still there …
  wasm.wipe();
  assert.ok(mem.every((v) => v === 0)); // … until wipe()
  // and the backend works as before afterwards
  const key = randomBytes(32), nonce = randomBytes(12), pt = randomBytes(50);
  assert.deepEqual(sealWith(wasm, key, nonce, EMPTY, pt), sealWith(pure, key, nonce, EMPTY, pt));
});

Deno.test("wasm: instances share one module and do not disturb each other", () => {
  const a = new WasmAead(), b = new WasmAead();
  const key = randomBytes(32), nonce = randomBytes(12), pt = randomBytes(100);
  const fromA = sealWith(a, key, nonce, EMPTY, pt);
  b.wipe();
  assert.deepEqual(sealWith(b, key, nonce, EMPTY, pt), fromA);
  assert.equal(a.open(key, nonce, EMPTY, fromA, new Uint8Array(100)), true);
});

Deno.test("wasm: arguments are checked and named, before anything is written", () => {
  const k = new Uint8Array(32), n = new Uint8Array(12);
  assert.throws(() => wasm.seal(new Uint8Array(16), n, EMPTY, EMPTY, new Uint8Array(16)), {
    name: "RangeError",
    message: /key/,
  });
  assert.throws(() => wasm.seal(k, new Uint8Array(8), EMPTY, EMPTY, new Uint8Array(16)), {
    name: "RangeError",
    message: /nonce/,
  });
  assert.throws(() => wasm.seal(k, n, EMPTY, new Uint8Array(4), new Uint8Array(19)), {
    name: "RangeError",
    message: /out/,
  });
  assert.throws(() => wasm.open(k, n, EMPTY, new Uint8Array(20), new Uint8Array(3)), {
    name: "RangeError",
    message: /out/,
  });
  // deno-lint-ignore no-explicit-any
  assert.throws(() => wasm.seal(k, n, "aad" as any, EMPTY, new Uint8Array(16)), {
    name: "TypeError",
    message: /aad/,
  });
  // deno-lint-ignore no-explicit-any
  assert.throws(() => wasm.open(k, n, EMPTY, [1, 2] as any, new Uint8Array(0)), TypeError);
  assert.ok(wasmAeadMemory().subarray(0, SCRATCH).every((v) => v === 0));
});

Deno.test("packet_encoding_test_vectors.csv through FSChaCha20Poly1305 on the wasm backend", () => {
  const rows = readVectors("packet_encoding_test_vectors.csv");
  assert.equal(rows.length, 7);
  for (const row of rows) {
    const label = `row in_idx=${row.in_idx}`;
    const initiating = row.in_initiating === "1";
    const lengthKey = hex(initiating ? row.mid_initiator_l : row.mid_responder_l);
    const packetKey = hex(initiating ? row.mid_initiator_p : row.mid_responder_p);
    const options = { backend: new WasmAead() };
    const sendLength = new FSChaCha20(lengthKey), recvLength = new FSChaCha20(lengthKey);
    const send = new FSChaCha20Poly1305(packetKey, 224, options);
    const recv = new FSChaCha20Poly1305(packetKey, 224, options);
    assert.equal(send.backendName, "wasm");
    const header = new Uint8Array(3);
    for (let i = 0; i < Number(row.in_idx); i++) {
      sendLength.encryptLength(0, header);
      const dummy = send.encrypt(EMPTY, Uint8Array.of(0));
      assert.equal(recvLength.decryptLength(header), 0);
      assert.deepEqual(recv.decrypt(EMPTY, dummy), Uint8Array.of(0));
    }
    const contents = new Uint8Array(
      hex(row.in_contents).length * Number(row.in_multiply),
    );
    const unit = hex(row.in_contents);
    for (let i = 0; i < contents.length; i += unit.length) contents.set(unit, i);
    const aad = hex(row.in_aad);
    const ignore = row.in_ignore === "1";
    const plaintext = new Uint8Array(1 + contents.length);
    plaintext[0] = ignore ? 0x80 : 0;
    plaintext.set(contents, 1);
    const packet = new Uint8Array(3 + plaintext.length + 16);
    sendLength.encryptLength(contents.length, packet, 0);
    send.encrypt(aad, plaintext, packet.subarray(3));
    if (row.out_ciphertext !== "") {
      assert.equal(toHex(packet), row.out_ciphertext, label);
    } else {
      assert.ok(toHex(packet).endsWith(row.out_ciphertext_endswith), label);
    }
    assert.equal(recvLength.decryptLength(packet), contents.length, label);
    const opened = recv.decrypt(aad, packet.subarray(3));
    assert.equal(opened[0], plaintext[0], label);
    assert.ok(toHex(opened.subarray(1)) === toHex(contents), label);
  }
});

/** Runs `initWasmAead` with a host-compiled module in a fresh realm (a Worker). */
async function initInWorker(bytes: Uint8Array): Promise<{ init: boolean; sealed: string }> {
  const url = new URL("../layers/crypto/wasm_aead.ts", import.meta.url).href;
  const code = `import { initWasmAead, WasmAead } from ${JSON.stringify(url)};
    self.onmessage = async (e) => {
      const init = await initWasmAead(new WebAssembly.Module(e.data));
      const out = new Uint8Array(16);
      new WasmAead().seal(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(0), out);
      self.postMessage({ init, sealed: Array.from(out, (b) => b.toString(16).padStart(2, "0")).join("") });
    };`;
  return await runInWorker(code, bytes) as { init: boolean; sealed: string };
}

Deno.test("initWasmAead(module): a host-compiled module is used only if it passes the self-test", async () => {
  const expected = toHex(sealWith(pure, new Uint8Array(32), new Uint8Array(12), EMPTY, EMPTY));
  const good = Uint8Array.from(atob(AEAD_WASM_BASE64), (c) => c.charCodeAt(0));
  assert.deepEqual(await initInWorker(good), { init: true, sealed: expected });
  // a module with the same exports that computes something else is refused, and the
  // backend falls back to compiling its own module
  const sources = await readSources();
  sources["chacha20.ts"] = sources["chacha20.ts"].replace("0x61707865", "0x61707866");
  const bad = await compileAeadWasm(sources);
  assert.deepEqual(await initInWorker(bad), { init: false, sealed: expected });
});
