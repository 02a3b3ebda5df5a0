import assert from "node:assert/strict";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import {
  type AeadBackend,
  type AeadBackendKind,
  AutoAead,
  createAeadBackend,
  findNativeCrypto,
  NativeAead,
  nativeAeadAvailable,
  PureAead,
  wasmAeadAvailable,
} from "../layers/crypto/backend.ts";
import { AUTO_WASM_MAX } from "../layers/crypto/backend.ts";
import { sealPartsWith } from "../layers/crypto/aead_types.ts";
import { FSChaCha20Poly1305 } from "../layers/aead/aead.ts";
import { FSChaCha20 } from "../layers/length/length_cipher.ts";
import { Bip324Error } from "../layers/errors.ts";
import { fromHex, randomBytes, toHex } from "../layers/bytes.ts";
import { RefFSChaCha20Poly1305 } from "./reference.ts";
import { hex, readVectors } from "./vectors.ts";

const KINDS: AeadBackendKind[] = [
  "pure",
  "auto",
  ...(nativeAeadAvailable() ? ["native" as const] : []),
];
const EMPTY = new Uint8Array(0);

Deno.test("node:crypto chacha20-poly1305 is detected under Deno without a static import", () => {
  assert.equal(nativeAeadAvailable(), true);
  assert.ok(findNativeCrypto(globalThis) !== null);
  assert.equal(createAeadBackend("native").name, "native");
  assert.equal(new AutoAead().usesNative, true);
  // Set where this file is run again without the FFI permission (tests/openssl_ffi_test.ts).
  const expected = Deno.env.get("BIP324_EXPECT_NATIVE_SOURCE");
  if (expected !== undefined) {
    assert.equal((createAeadBackend("native") as NativeAead).source, expected);
  }
});

Deno.test("native detection fails closed: no process, no module, a throwing or broken module", () => {
  assert.equal(findNativeCrypto({}), null);
  assert.equal(findNativeCrypto({ process: {} }), null);
  assert.equal(findNativeCrypto({ process: { getBuiltinModule: () => undefined } }), null);
  const boom = () => {
    throw new Error("no such module");
  };
  assert.equal(findNativeCrypto({ process: { getBuiltinModule: boom } }), null);
  // a "crypto" whose cipher is wrong: fails the self-test
  const real = findNativeCrypto(globalThis)!;
  const broken = {
    createCipheriv: (a: string, k: Uint8Array, iv: Uint8Array, o: object) =>
      real.createCipheriv(a, k.map((b) => b ^ 1), iv, o),
    createDecipheriv: real.createDecipheriv,
  };
  assert.equal(findNativeCrypto({ process: { getBuiltinModule: () => broken } }), null);
  const rejecting = { createCipheriv: boom, createDecipheriv: boom };
  assert.equal(findNativeCrypto({ process: { getBuiltinModule: () => rejecting } }), null);
});

Deno.test("RFC 8439 2.8.2 AEAD vector with every backend", () => {
  const key = fromHex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const nonce = fromHex("070000004041424344454647");
  const aad = fromHex("50515253c0c1c2c3c4c5c6c7");
  const plaintext = new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for " +
      "the future, sunscreen would be it.",
  );
  const ciphertext = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6" +
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36" +
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
    "3ff4def08e4b7a9de576d26586cec64b6116";
  const tag = "1ae10b594f09e26a7e902ecbd0600691";
  for (const kind of KINDS) {
    const b = createAeadBackend(kind);
    const out = new Uint8Array(plaintext.length + 16);
    b.seal(key, nonce, aad, plaintext, out);
    assert.equal(toHex(out), ciphertext + tag, kind);
    const back = new Uint8Array(plaintext.length);
    assert.equal(b.open(key, nonce, aad, out, back), true, kind);
    assert.deepEqual(back, plaintext, kind);
  }
});

Deno.test("every backend matches @noble/ciphers for lengths 0..300, 511..1025, around 64 KiB steps and 1 MiB", () => {
  const lengths = [
    ...Array.from({ length: 301 }, (_, i) => i),
    511,
    512,
    513,
    1023,
    1024,
    1025,
    65_535, // the native backend works in 64 KiB steps: either side of a step boundary
    65_536,
    65_537,
    200_003,
    1 << 20,
  ];
  const backends = KINDS.map((k) => createAeadBackend(k));
  for (const length of lengths) {
    const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(length % 41);
    const plaintext = randomBytes(length);
    const expected = chacha20poly1305(key, nonce, aad).encrypt(plaintext);
    for (const b of backends) {
      const label = `${b.name} length ${length}`;
      const out = new Uint8Array(length + 16);
      b.seal(key, nonce, aad, plaintext, out);
      assert.deepEqual(out, expected, label);
      // in place, at an odd offset inside a larger buffer
      const box = new Uint8Array(length + 16 + 5);
      const body = box.subarray(3, 3 + length + 16);
      body.set(plaintext);
      b.seal(key, nonce, aad, body.subarray(0, length), body);
      assert.deepEqual(body, expected, `${label} in place`);
      assert.equal(b.open(key, nonce, aad, body, body), true, label);
      assert.deepEqual(body.subarray(0, length), plaintext, `${label} open in place`);
    }
  }
});

Deno.test("sealParts (and the copying fallback) equals seal of head + tail, in place and not", () => {
  const backends = [...KINDS, ...(wasmAeadAvailable() ? ["wasm" as const] : [])]
    .map((k) => createAeadBackend(k));
  // Large tails behind heads on both sides of 128-byte strides: the native backend seals a short
  // piece of the tail first, so that its long update starts on a stride (see openssl_ffi.ts).
  const strides = [[2, 4096], [2, 4095], [127, 5000], [128, 4096], [129, 70_001], [300, 8192]];
  for (
    const [h, t] of [
      [0, 0],
      [1, 0],
      [0, 5],
      [1, 16_384],
      [2, 63],
      [13, 64],
      [14, 65_537],
      ...strides,
    ]
  ) {
    const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(h % 3);
    const head = randomBytes(h), tail = randomBytes(t);
    const whole = new Uint8Array(h + t);
    whole.set(head);
    whole.set(tail, h);
    const expected = chacha20poly1305(key, nonce, aad).encrypt(whole);
    for (const b of backends) {
      const label = `${b.name} head ${h} tail ${t}`;
      // Native and auto seal the parts where they are; pure and wasm copy them together.
      assert.equal(typeof b.sealParts === "function", b.name === "native" || b.name === "auto");
      const out = new Uint8Array(h + t + 16 + 3).fill(0xee);
      sealPartsWith(b, key, nonce, aad, head, tail, out.subarray(1));
      assert.deepEqual(out.subarray(1, 1 + h + t + 16), expected, label);
      assert.equal(out[0], 0xee, `${label}: nothing before out`);
      assert.equal(out[h + t + 17], 0xee, `${label}: nothing after the tag`);
      const box = new Uint8Array(h + t + 16);
      box.set(head);
      sealPartsWith(b, key, nonce, aad, box.subarray(0, h), tail, box);
      assert.deepEqual(box, expected, `${label} head in place`);
    }
  }
  assert.throws(
    () => createAeadBackend("auto").sealParts!(EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY),
    (e: unknown) => e instanceof TypeError || e instanceof RangeError,
  );
  assert.throws(
    () =>
      sealPartsWith(
        new PureAead(),
        randomBytes(32),
        randomBytes(12),
        EMPTY,
        EMPTY,
        randomBytes(4),
        new Uint8Array(19),
      ),
    /out must be at least 20 bytes/,
  );
});

Deno.test("every backend: a bad tag, AAD or ciphertext returns false and leaves out untouched", () => {
  for (const kind of KINDS) {
    const b = createAeadBackend(kind);
    for (const length of [0, 1, 37, 5000, 200_003]) {
      const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(4);
      const sealed = new Uint8Array(length + 16);
      b.seal(key, nonce, aad, randomBytes(length), sealed);
      for (const flip of [length + 15, length, 0]) {
        if (flip >= sealed.length) continue;
        const bad = sealed.slice();
        bad[flip] ^= 0x01;
        const out = new Uint8Array(length).fill(0xee);
        assert.equal(b.open(key, nonce, aad, bad, out), false, `${kind} ${length} flip ${flip}`);
        assert.ok(out.every((v) => v === 0xee), `${kind}: out untouched`);
      }
      assert.equal(b.open(key, nonce, randomBytes(4), sealed, new Uint8Array(length)), false);
      assert.equal(b.open(key, nonce, aad, sealed.subarray(0, 15), new Uint8Array(0)), false);
    }
  }
});

Deno.test("backend arguments are checked and named", () => {
  for (const kind of KINDS) {
    const b = createAeadBackend(kind);
    const k = new Uint8Array(32), n = new Uint8Array(12);
    assert.throws(() => b.seal(new Uint8Array(16), n, EMPTY, EMPTY, new Uint8Array(16)), {
      name: "RangeError",
      message: /key/,
    });
    assert.throws(() => b.seal(k, new Uint8Array(8), EMPTY, EMPTY, new Uint8Array(16)), {
      name: "RangeError",
      message: /nonce/,
    });
    assert.throws(() => b.seal(k, n, EMPTY, new Uint8Array(4), new Uint8Array(19)), {
      name: "RangeError",
      message: /out/,
    });
    // deno-lint-ignore no-explicit-any
    assert.throws(() => b.seal(k, n, "aad" as any, EMPTY, new Uint8Array(16)), {
      name: "TypeError",
      message: /aad/,
    });
  }
  // deno-lint-ignore no-explicit-any
  assert.throws(() => createAeadBackend("fast" as any), { name: "TypeError", message: /backend/ });
  assert.throws(
    () => new FSChaCha20Poly1305(new Uint8Array(32), 224, { backend: "turbo" as "pure" }),
    TypeError,
  );
});

Deno.test("FSChaCha20Poly1305 with each forced backend matches the reference at packets 0..450", () => {
  const key = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
  for (const backend of KINDS) {
    const enc = new FSChaCha20Poly1305(key, 224, { backend });
    const dec = new FSChaCha20Poly1305(key, 224, { backend });
    assert.equal(enc.backendName, backend);
    const ref = new RefFSChaCha20Poly1305(key);
    for (let i = 0; i <= 450; i++) {
      // mostly small, sometimes past the auto threshold
      const size = i % 50 === 7 ? 5000 + i : i % 70;
      const plaintext = new Uint8Array(size).fill(i & 0xff);
      const aad = i % 100 === 0 ? new Uint8Array([1, 2, 3]) : EMPTY;
      const got = enc.encrypt(aad, plaintext);
      assert.deepEqual(got, ref.crypt(aad, plaintext, false), `${backend} packet ${i}`);
      assert.deepEqual(dec.decrypt(aad, got), plaintext);
    }
  }
});

Deno.test("FSChaCha20Poly1305: a bad tag throws Bip324Error DECRYPTION with every backend", () => {
  const key = new Uint8Array(32).fill(9);
  for (const backend of KINDS) {
    for (const size of [1, 37, 9000]) {
      const enc = new FSChaCha20Poly1305(key, 224, { backend });
      const dec = new FSChaCha20Poly1305(key, 224, { backend });
      const ct = enc.encrypt(EMPTY, new Uint8Array(size).fill(1));
      ct[ct.length - 1] ^= 0x80;
      const out = new Uint8Array(size);
      assert.throws(
        () => dec.decrypt(EMPTY, ct, out),
        (e) => e instanceof Bip324Error && e.code === "DECRYPTION",
        `${backend} ${size}`,
      );
      assert.ok(out.every((v) => v === 0), "no unauthenticated plaintext is released");
      assert.equal(dec.packetCounter, 1, "the failed packet still counts");
    }
  }
});

Deno.test("FSChaCha20Poly1305 accepts a custom AeadBackend object", () => {
  const inner = new PureAead();
  let calls = 0;
  const custom: AeadBackend = {
    name: "custom",
    seal: (k, n, a, p, o) => (calls++, inner.seal(k, n, a, p, o)),
    open: (k, n, a, c, o) => (calls++, inner.open(k, n, a, c, o)),
  };
  const key = new Uint8Array(32).fill(4);
  const enc = new FSChaCha20Poly1305(key, 224, { backend: custom });
  const dec = new FSChaCha20Poly1305(key, 224, { backend: new NativeAead() });
  assert.equal(enc.backendName, "custom");
  assert.deepEqual(
    dec.decrypt(EMPTY, enc.encrypt(EMPTY, Uint8Array.of(5, 6))),
    Uint8Array.of(5, 6),
  );
  assert.equal(calls, 1);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new FSChaCha20Poly1305(key, 224, { backend: {} as any }), TypeError);
});

Deno.test("packet_encoding_test_vectors.csv through FSChaCha20 + FSChaCha20Poly1305, each backend forced", () => {
  const rows = readVectors("packet_encoding_test_vectors.csv");
  for (const backend of KINDS) {
    for (const row of rows) {
      const label = `${backend} row in_idx=${row.in_idx}`;
      const initiating = row.in_initiating === "1";
      const lengthKey = hex(initiating ? row.mid_initiator_l : row.mid_responder_l);
      const packetKey = hex(initiating ? row.mid_initiator_p : row.mid_responder_p);
      const sendLength = new FSChaCha20(lengthKey),
        sendPacket = new FSChaCha20Poly1305(packetKey, 224, { backend });
      const recvLength = new FSChaCha20(lengthKey),
        recvPacket = new FSChaCha20Poly1305(packetKey, 224, { backend });
      const seal = (contents: Uint8Array, aad: Uint8Array, ignore: boolean): Uint8Array => {
        const packet = new Uint8Array(3 + 1 + contents.length + 16);
        const body = packet.subarray(3);
        body[0] = ignore ? 0x80 : 0;
        body.set(contents, 1);
        sendPacket.encrypt(aad, body.subarray(0, 1 + contents.length), body); // in place
        sendLength.encryptLength(contents.length, packet, 0);
        return packet;
      };
      for (let i = 0; i < Number(row.in_idx); i++) {
        const dummy = seal(EMPTY, EMPTY, false);
        assert.equal(recvLength.decryptLength(dummy), 0);
        recvPacket.decrypt(EMPTY, dummy.subarray(3));
      }
      const contents = new Uint8Array(hex(row.in_contents).length * Number(row.in_multiply));
      const unit = hex(row.in_contents);
      for (let i = 0; i < contents.length; i += unit.length) contents.set(unit, i);
      const aad = hex(row.in_aad), ignore = row.in_ignore === "1";
      const packet = seal(contents, aad, ignore);
      if (row.out_ciphertext !== "") assert.equal(toHex(packet), row.out_ciphertext, label);
      else {
        const tail = row.out_ciphertext_endswith;
        assert.equal(toHex(packet.subarray(packet.length - tail.length / 2)), tail, label);
      }
      assert.equal(recvLength.decryptLength(packet), contents.length);
      const plain = recvPacket.decrypt(aad, packet.subarray(3));
      assert.equal((plain[0] & 0x80) !== 0, ignore);
      assert.deepEqual(plain.subarray(1), contents, label);
    }
  }
});

Deno.test("the AEAD and length cipher module graphs import no node: built-in statically", async () => {
  for (
    const entry of [
      "layers/aead/aead.ts",
      "layers/length/length_cipher.ts",
      "layers/crypto/backend.ts",
    ]
  ) {
    const url = new URL(`../${entry}`, import.meta.url);
    const { stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", url.pathname],
      stdout: "piped",
      stderr: "null",
    }).output();
    const info = JSON.parse(new TextDecoder().decode(stdout));
    const specifiers: string[] = info.modules.map((m: { specifier: string }) => m.specifier);
    assert.ok(specifiers.length > 3, entry);
    assert.deepEqual(specifiers.filter((s) => s.startsWith("node:")), [], entry);
  }
});

Deno.test("FSChaCha20Poly1305.destroy() wipes its backend's shared scratch; the backend works on after it", () => {
  // A backend of our own, so the check sees exactly the state this cipher used.
  const backend = new PureAead();
  let wiped = 0;
  const watched: AeadBackend = {
    name: "watched",
    seal: (...a) => backend.seal(...a),
    open: (...a) => backend.open(...a),
    wipe: () => {
      wiped++;
      backend.wipe();
    },
  };
  const key = new Uint8Array(32).fill(0x42);
  const sender = new FSChaCha20Poly1305(key, 224, { backend: watched });
  const receiver = new FSChaCha20Poly1305(key, 224, { backend: watched });
  for (let i = 0; i < 3; i++) {
    receiver.decrypt(new Uint8Array(0), sender.encrypt(new Uint8Array(0), new Uint8Array(40)));
  }
  sender.destroy();
  assert.equal(wiped, 1);
  // After wipe() the backend still works (state is rebuilt per call) and gives the same bytes.
  const a = new FSChaCha20Poly1305(key, 224, { backend: new PureAead() });
  const b = new FSChaCha20Poly1305(key, 224, { backend: watched });
  assert.deepEqual(
    a.encrypt(new Uint8Array(0), new Uint8Array([1, 2, 3])),
    b.encrypt(new Uint8Array(0), new Uint8Array([1, 2, 3])),
  );
});

Deno.test("auto: wasm below AUTO_WASM_MAX where available, native from there; wasm kind by name", () => {
  const auto = new AutoAead();
  assert.equal(auto.small, wasmAeadAvailable() ? "wasm" : "pure");
  assert.equal(createAeadBackend("wasm").name, "wasm");
  assert.equal(createAeadBackend("wasm"), createAeadBackend("wasm")); // one shared instance
  // auto agrees byte for byte with pure at every size class it routes differently
  const key = new Uint8Array(32).fill(9), nonce = new Uint8Array(12).fill(3);
  for (const n of [0, 38, AUTO_WASM_MAX - 1, AUTO_WASM_MAX, 100_000]) {
    const plain = new Uint8Array(n).map((_, i) => i * 7);
    const a = new Uint8Array(n + 16), b = new Uint8Array(n + 16);
    auto.seal(key, nonce, new Uint8Array(0), plain, a);
    new PureAead().seal(key, nonce, new Uint8Array(0), plain, b);
    assert.deepEqual(a, b, `size ${n}`);
  }
  assert.throws(() => createAeadBackend("turbo" as never), TypeError);
});
