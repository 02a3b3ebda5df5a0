// The native backend through libcrypto and FFI (layers/crypto/openssl_ffi.ts): Deno's own
// Deno.dlopen (used when the FFI permission is granted, as in this test task), and Bun's bun:ffi,
// played here by an adapter over Deno.dlopen so that the same class runs on the machine's real
// libcrypto; `deno task test:runtimes` runs it in Bun itself.
import assert from "node:assert/strict";
import {
  BUN_FFI_SOURCE,
  DENO_FFI_SOURCE,
  denoSignatures,
  findOpenSslFfi,
  NO_FFI,
  OpenSslAead,
} from "../layers/crypto/openssl_ffi.ts";
import { createAeadBackend } from "../layers/crypto/backend.ts";
import { PureAead } from "../layers/crypto/pure_aead.ts";
import { systemLibcrypto } from "./helpers.ts";

/** `bun:ffi`'s dlopen, played by Deno.dlopen with the library's own Deno signatures (the ones
 * it would pass are the same functions in bun:ffi's notation). */
function denoDlopen(name: string) {
  return Deno.dlopen(name, denoSignatures() as Record<string, Deno.ForeignFunction>);
}

/** A Bun-shaped scope whose bun:ffi is `dlopen`. */
function bunScope(dlopen: (name: string, s: Record<string, unknown>) => unknown): object {
  return { Bun: {}, process: { platform: "linux", getBuiltinModule: () => ({ dlopen }) } };
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => i * seed + 3);

Deno.test("openssl ffi: absent (with a reason) off Bun, off Linux, without bun:ffi or libcrypto", () => {
  assert.equal(findOpenSslFfi({}), NO_FFI);
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

Deno.test("openssl ffi: in Deno, used only on Linux with the FFI permission already granted (never prompted)", () => {
  let opened = 0;
  const deno = (os: string, state: string) => ({
    Deno: {
      build: { os },
      permissions: { querySync: () => ({ state }) },
      dlopen: () => {
        opened++;
        throw new Error("no such library");
      },
    },
  });
  assert.equal(findOpenSslFfi(deno("linux", "prompt")), NO_FFI);
  assert.equal(findOpenSslFfi(deno("linux", "denied")), NO_FFI);
  assert.equal(findOpenSslFfi(deno("darwin", "granted")), NO_FFI);
  assert.equal(opened, 0, "dlopen is not even tried");
  const missing = findOpenSslFfi(deno("linux", "granted"));
  assert.equal(opened, 2, "libcrypto.so.3, then .so.1.1");
  assert.match(missing as string, /through Deno FFI.*libcrypto\.so\.3: no such library/);
});

Deno.test("openssl ffi: this test task grants FFI, so the native backend is libcrypto through Deno's FFI", () => {
  const found = findOpenSslFfi(globalThis);
  if (!systemLibcrypto()) return assert.equal(typeof found, "string");
  assert.ok(found instanceof OpenSslAead, String(found));
  assert.equal(found.source, DENO_FFI_SOURCE);
  assert.equal((findOpenSslFfi(bunScope(denoDlopen)) as OpenSslAead).source, BUN_FFI_SOURCE);
  const native = createAeadBackend("native") as { source?: string };
  assert.equal(native.source, DENO_FFI_SOURCE);
  assert.equal((createAeadBackend("auto") as { threshold?: number }).threshold, 1024);
  // A round trip through the session-facing backend, against the pure one.
  const key = bytes(32, 9), nonce = bytes(12, 4), plaintext = bytes(5000, 7);
  const a = new Uint8Array(5016), b = new Uint8Array(5016);
  createAeadBackend("native").seal(key, nonce, new Uint8Array(0), plaintext, a);
  createAeadBackend("pure").seal(key, nonce, new Uint8Array(0), plaintext, b);
  assert.deepEqual(a, b);
});

Deno.test("openssl ffi: without the FFI permission, Deno's native backend is node:crypto", async () => {
  const backend = new URL("../layers/crypto/backend.ts", import.meta.url).href;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-config", "--allow-read", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(
    `import { createAeadBackend } from ${JSON.stringify(backend)};\n` +
      `console.log(createAeadBackend("native").source, createAeadBackend("auto").threshold);\n`,
  ));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stdout).trim(), "node:crypto 8192");
});

Deno.test("openssl ffi: without it, every backend test passes with node:crypto as the native backend", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "--no-prompt",
      "--allow-read",
      "--allow-env",
      "--allow-run",
      "tests/aead_backend_test.ts",
    ],
    cwd: new URL("../", import.meta.url),
    env: { BIP324_EXPECT_NATIVE_SOURCE: "node:crypto", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, out + new TextDecoder().decode(stderr));
  assert.match(out, /ok \| \d+ passed \| 0 failed/);
});
