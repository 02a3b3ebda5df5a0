// The Bun-on-Linux native backend (layers/crypto/openssl_ffi.ts): libcrypto through bun:ffi.
// Under Deno, `bun:ffi` is played by an adapter over Deno.dlopen, so the same class runs on the
// machine's real libcrypto here; `deno task test:runtimes` runs it in Bun itself.
import assert from "node:assert/strict";
import { findOpenSslFfi, OpenSslAead } from "../layers/crypto/openssl_ffi.ts";
import { PureAead } from "../layers/crypto/pure_aead.ts";
import { systemLibcrypto } from "./helpers.ts";

type Signature = { args: readonly string[]; returns: string };

/** `bun:ffi`'s dlopen, played by Deno.dlopen: handles as pointers, byte arrays as buffers. */
function denoDlopen(name: string, signatures: Record<string, Signature>) {
  const deno: Record<string, Deno.ForeignFunction> = {};
  for (const [fn, sig] of Object.entries(signatures)) {
    const handles = fn.endsWith("Init_ex") ? 3 : 1; // ctx (and cipher, engine) come first
    deno[fn] = {
      parameters: sig.args.map((a, i) => a === "i32" ? "i32" : i < handles ? "pointer" : "buffer"),
      result: sig.returns === "i32" ? "i32" : "pointer",
    };
  }
  return Deno.dlopen(name, deno);
}

/** A Bun-shaped scope whose bun:ffi is `dlopen`. */
function bunScope(dlopen: (name: string, s: Record<string, Signature>) => unknown): object {
  return { Bun: {}, process: { platform: "linux", getBuiltinModule: () => ({ dlopen }) } };
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => i * seed + 3);

Deno.test("openssl ffi: absent (with a reason) off Bun, off Linux, without bun:ffi or libcrypto", () => {
  assert.equal(findOpenSslFfi({}), "not Bun");
  assert.match(
    findOpenSslFfi({ Bun: {}, process: { platform: "darwin" } }) as string,
    /Linux only/,
  );
  assert.equal(
    findOpenSslFfi({ Bun: {}, process: { platform: "linux", getBuiltinModule: () => undefined } }),
    "no bun:ffi",
  );
  const missing = findOpenSslFfi(bunScope((name) => {
    throw new Error(`${name}: cannot open shared object file`);
  }));
  assert.equal(typeof missing, "string");
  assert.match(missing as string, /libcrypto\.so\.3.*libcrypto\.so\.1\.1/);
});

Deno.test("openssl ffi: a library whose cipher does not agree with the pure backend is refused", () => {
  const broken = bunScope(() => ({
    symbols: new Proxy({}, { get: () => () => 1 }), // every call "succeeds", nothing is computed
  }));
  assert.match(findOpenSslFfi(broken) as string, /failed the self-test/);
});

Deno.test("openssl ffi: on this machine's libcrypto, agrees with the pure backend at every size, in place and not; a bad tag leaves out untouched", () => {
  const found = findOpenSslFfi(bunScope(denoDlopen));
  if (!systemLibcrypto()) {
    assert.match(found as string, /no usable libcrypto/);
    return;
  }
  assert.ok(found instanceof OpenSslAead, String(found));
  const ffi = found as OpenSslAead, pure = new PureAead();
  assert.equal(ffi.name, "native");
  const lengths = [...Array.from({ length: 300 }, (_, i) => i), 4095, 4096, 65_537, 1 << 20];
  for (const length of lengths) {
    const key = bytes(32, length + 1), nonce = bytes(12, length + 7);
    const aad = bytes(length % 9, 5), plaintext = bytes(length, 13);
    const expected = new Uint8Array(length + 16), got = new Uint8Array(length + 16);
    pure.seal(key, nonce, aad, plaintext, expected);
    ffi.seal(key, nonce, aad, plaintext, got);
    assert.deepEqual(got, expected, `seal ${length}`);
    const inPlace = plaintext.slice();
    const box = new Uint8Array(length + 16);
    box.set(inPlace);
    ffi.seal(key, nonce, aad, box.subarray(0, length), box);
    assert.deepEqual(box, expected, `seal in place ${length}`);

    const out = new Uint8Array(length);
    assert.ok(ffi.open(key, nonce, aad, expected, out), `open ${length}`);
    assert.deepEqual(out, plaintext, `open ${length}`);
    const buf = expected.slice();
    assert.ok(ffi.open(key, nonce, aad, buf, buf), `open in place ${length}`);
    assert.deepEqual(buf.subarray(0, length), plaintext, `open in place ${length}`);

    // Tampered tag, ciphertext or AAD: false, `out` untouched (in place: the ciphertext stays).
    const tampered = [
      [expected.slice(), aad],
      [expected.slice(), Uint8Array.of(...aad, 1)],
    ] as const;
    tampered[0][0][length + 15] ^= 0x80;
    if (length > 0) tampered[1][0][length - 1] ^= 1;
    for (const [sealed, withAad] of tampered) {
      const fresh = new Uint8Array(length).fill(0xee);
      assert.equal(ffi.open(key, nonce, withAad, sealed, fresh), false, `bad open ${length}`);
      assert.ok(fresh.every((v) => v === 0xee), `${length}: out untouched`);
      const copy = sealed.slice();
      assert.equal(ffi.open(key, nonce, withAad, copy, copy), false, `bad open in place ${length}`);
      assert.deepEqual(copy, sealed, `${length}: in-place buffer restored`);
    }
  }
});

Deno.test("openssl ffi: argument checks name the argument, like every backend", () => {
  const found = findOpenSslFfi(bunScope(denoDlopen));
  if (!(found instanceof OpenSslAead)) return assert.ok(!systemLibcrypto());
  const ok = new Uint8Array(32), nonce = new Uint8Array(12), e = new Uint8Array(0);
  assert.throws(() => found.seal(new Uint8Array(31), nonce, e, e, new Uint8Array(16)), /key/);
  assert.throws(() => found.seal(ok, new Uint8Array(11), e, e, new Uint8Array(16)), /nonce/);
  assert.throws(() => found.seal(ok, nonce, e, new Uint8Array(4), new Uint8Array(19)), RangeError);
  assert.equal(found.open(ok, nonce, e, new Uint8Array(15), new Uint8Array(0)), false);
});
