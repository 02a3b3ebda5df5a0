// The WebAssembly AEAD's SIMD paths against the pure backend and @noble/ciphers: the four-way
// Poly1305 (runs of 256+ bytes of full blocks, layers/crypto/wasm/src/poly1305_simd.ts) and both
// ChaCha20 bulk layouts (column-wise, row-wise pairs: `tune`), at every length up to 300 bytes
// and around the 16/64-byte, SIMD-threshold and 64 KiB piece boundaries, plus failing tags.
import assert from "node:assert/strict";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { WasmAead } from "../layers/crypto/wasm_aead.ts";
import { PureAead } from "../layers/crypto/pure_aead.ts";
import { AEAD_WASM_BASE64 } from "../layers/crypto/wasm/aead_wasm.ts";
import { compileAeadWasm, readSources } from "../layers/crypto/wasm/build.ts";
import { randomBytes, toHex } from "../layers/bytes.ts";
import { sealWith } from "./helpers.ts";

const wasm = new WasmAead();
const pure = new PureAead();
/** Start of the module's message region (layers/crypto/wasm/src/layout.ts). */
const DATA = 512;

/** Lengths around every multiple of 64 up to 1.2 KiB, the 64 KiB pieces, and 1 MiB. */
function boundaryLengths(): number[] {
  const out = new Set<number>();
  for (let base = 64; base <= 1216; base += 64) {
    for (const d of [-17, -16, -15, -1, 0, 1, 15, 16, 17, 48]) out.add(base + d);
  }
  for (const base of [65536, 131072 - DATA - 16, 2 * 65536, 3 * 65536]) {
    for (const d of [-64, -17, -16, -1, 0, 1, 16, 63, 64]) out.add(base + d);
  }
  out.add(1 << 20);
  out.add((1 << 20) + 13);
  return [...out].filter((n) => n >= 0).sort((a, b) => a - b);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Seals with both backends, checks they agree, opens with wasm; returns the sealed box. */
function roundTrip(length: number, aadLength: number, label: string): Uint8Array {
  const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(aadLength);
  const plaintext = randomBytes(length);
  const expected = sealWith(pure, key, nonce, aad, plaintext);
  assert.ok(same(sealWith(wasm, key, nonce, aad, plaintext), expected), `${label}: seal`);
  const back = new Uint8Array(length);
  assert.equal(wasm.open(key, nonce, aad, expected, back), true, `${label}: open`);
  assert.ok(same(back, plaintext), `${label}: plaintext`);
  return expected;
}

Deno.test("wasm = pure for every length 0..300, AAD of 0, 13 and 0..300 bytes", () => {
  for (let length = 0; length <= 300; length++) {
    roundTrip(length, 0, `length ${length}`);
    roundTrip(length, 13, `length ${length}, aad 13`);
    roundTrip(length, 300 - length, `length ${length}, aad ${300 - length}`);
  }
});

Deno.test("wasm = pure around 16/64-byte, SIMD-run and 64 KiB piece boundaries and 1 MiB", () => {
  for (const length of boundaryLengths()) {
    for (const aadLength of [0, 1, 256, 257]) {
      if (length > 70_000 && aadLength !== 0 && aadLength !== 257) continue;
      roundTrip(length, aadLength, `length ${length}, aad ${aadLength}`);
    }
  }
});

Deno.test("wasm: a flipped bit anywhere (SIMD run, scalar tail, tag, AAD) fails and writes nothing", () => {
  for (const length of [255, 256, 257, 320, 1000, 4096 + 17, 65536 + 5, 1 << 20]) {
    const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(300);
    const box = sealWith(wasm, key, nonce, aad, randomBytes(length));
    for (const at of [0, 17, 63, 64, 255, length - 1, length, length + 15]) {
      if (at < 0 || at >= box.length) continue;
      for (const bit of [0x01, 0x80]) {
        const bad = box.slice();
        bad[at] ^= bit;
        const out = new Uint8Array(length).fill(0xa5);
        assert.equal(wasm.open(key, nonce, aad, bad, out), false, `${length}: byte ${at}`);
        assert.ok(out.every((v) => v === 0xa5), `${length}: out untouched`);
      }
    }
    for (const at of [0, 255, 299]) {
      const badAad = aad.slice();
      badAad[at] ^= 0x40;
      assert.equal(wasm.open(key, nonce, badAad, box, new Uint8Array(length)), false);
    }
    assert.equal(wasm.open(key, nonce, aad, box, new Uint8Array(length)), true);
  }
});

/** The shipped module, instantiated on its own, with its raw one-call seal/open. */
function rawModule(rows: number) {
  const bytes = Uint8Array.from(atob(AEAD_WASM_BASE64), (c) => c.charCodeAt(0));
  const x = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>))
    .exports as {
      memory: WebAssembly.Memory;
      tune(rows: number): void;
      seal(aad: number, aadLen: number, p: number, len: number): void;
      open(aad: number, aadLen: number, p: number, len: number): number;
    };
  x.tune(rows);
  const mem = new Uint8Array(x.memory.buffer);
  return {
    seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array {
      mem.set(key, 0);
      mem.set(nonce, 32);
      mem.set(aad, DATA);
      const p = DATA + ((aad.length + 15) & ~15);
      mem.set(pt, p);
      x.seal(DATA, aad.length, p, pt.length);
      return mem.slice(p, p + pt.length + 16);
    },
    open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, box: Uint8Array) {
      mem.set(key, 0);
      mem.set(nonce, 32);
      mem.set(aad, DATA);
      const p = DATA + ((aad.length + 15) & ~15);
      mem.set(box, p);
      const n = box.length - 16;
      return x.open(DATA, aad.length, p, n) === 1 ? mem.slice(p, p + n) : null;
    },
  };
}

Deno.test("both ChaCha20 bulk layouts (tune 0: columns, 1: row-wise pairs) equal pure", () => {
  const layouts = [rawModule(0), rawModule(1)];
  const lengths = [...Array.from({ length: 300 }, (_, i) => i), 511, 512, 513, 1000, 4097, 60_000];
  for (const length of lengths) {
    const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(length % 37);
    const pt = randomBytes(length);
    const expected = sealWith(pure, key, nonce, aad, pt);
    for (const [i, m] of layouts.entries()) {
      const box = m.seal(key, nonce, aad, pt);
      assert.ok(same(box, expected), `layout ${i}, length ${length}`);
      assert.ok(same(m.open(key, nonce, aad, box)!, pt), `layout ${i}, open ${length}`);
      box[length >> 1] ^= 1;
      assert.equal(m.open(key, nonce, aad, box), null, `layout ${i}, bad ${length}`);
    }
  }
});

Deno.test("wasm Poly1305 (raw): the four-way path against @noble/ciphers, random and extreme keys", async () => {
  const sources = await readSources();
  sources["aead.ts"] += '\nexport { polyMac } from "./poly1305";\n';
  const x = new WebAssembly.Instance(
    new WebAssembly.Module((await compileAeadWasm(sources)) as Uint8Array<ArrayBuffer>),
  ).exports as {
    memory: WebAssembly.Memory;
    polyMac(k: number, p: number, n: number, o: number): void;
  };
  const mem = new Uint8Array(x.memory.buffer);
  const mac = (key: Uint8Array, msg: Uint8Array) => {
    mem.set(key, 0);
    mem.set(msg, DATA);
    x.polyMac(0, DATA, msg.length, 48);
    return toHex(mem.slice(48, 64));
  };
  const keys = [
    new Uint8Array(32).fill(0xff), // r at its clamped maximum, s all ones
    new Uint8Array(32).fill(0xff, 0, 16),
    Uint8Array.from({ length: 32 }, (_, i) => (i < 16 ? 0x0f : 0)),
  ];
  const lengths = [240, 255, 256, 257, 271, 272, 319, 320, 321, 1023, 1024, 1040, 9000, 65536];
  for (const length of lengths) {
    for (const key of [...keys, randomBytes(32), randomBytes(32)]) {
      for (const m of [randomBytes(length), new Uint8Array(length).fill(0xff)]) {
        assert.equal(mac(key, m), toHex(poly1305(m, key)), `length ${length}`);
      }
    }
  }
  for (let length = 256; length <= 700; length++) {
    const key = randomBytes(32), m = randomBytes(length);
    assert.equal(mac(key, m), toHex(poly1305(m, key)), `random, length ${length}`);
  }
});
