import assert from "node:assert/strict";
import {
  ASC_VERSION,
  compileAeadWasm,
  compileEcWasm,
  EC_SOURCES,
  readEcSources,
  readSources,
  renderArtifact,
  renderEcArtifact,
  SOURCES,
} from "../layers/crypto/wasm/build.ts";
import {
  EC_WASM_BASE64,
  EC_WASM_SHA256,
  EC_WASM_SIZE,
} from "../layers/crypto/wasm/secp256k1_wasm.ts";
import {
  AEAD_WASM_BASE64,
  AEAD_WASM_SHA256,
  AEAD_WASM_SIZE,
} from "../layers/crypto/wasm/aead_wasm.ts";
import { toHex } from "../layers/bytes.ts";

const ARTIFACT = new URL("../layers/crypto/wasm/aead_wasm.ts", import.meta.url);

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

Deno.test("the committed aead_wasm.ts is exactly what `deno task build:wasm` makes from src/", async () => {
  const built = await compileAeadWasm();
  const committed = fromBase64(AEAD_WASM_BASE64);
  assert.equal(committed.length, AEAD_WASM_SIZE);
  assert.equal(built.length, committed.length, "module size: run `deno task build:wasm`");
  assert.ok(built.every((v, i) => v === committed[i]), "module bytes: run `deno task build:wasm`");
  assert.equal(
    await Deno.readTextFile(ARTIFACT),
    await renderArtifact(built),
    "artifact text: run `deno task build:wasm`",
  );
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", committed.slice()));
  assert.equal(toHex(digest), AEAD_WASM_SHA256);
  assert.match(await Deno.readTextFile(ARTIFACT), new RegExp(`AssemblyScript ${ASC_VERSION}`));
});

Deno.test("the build is deterministic and follows its sources", async () => {
  const sources = await readSources();
  assert.deepEqual(Object.keys(sources), [...SOURCES]);
  const a = await compileAeadWasm(sources), b = await compileAeadWasm(sources);
  assert.deepEqual(a, b);
  // a change to a source changes the module (so the artifact test above would catch it)
  const changed = { ...sources };
  changed["chacha20.ts"] = changed["chacha20.ts"].replace("0x61707865", "0x61707866");
  assert.notEqual(changed["chacha20.ts"], sources["chacha20.ts"]);
  assert.notDeepEqual(await compileAeadWasm(changed), a);
  // and a broken source fails loudly
  const broken = { ...sources, "layout.ts": sources["layout.ts"] + "\nexport const X: u32 = ;\n" };
  await assert.rejects(() => compileAeadWasm(broken), /asc failed/);
});

Deno.test("the module is small, imports nothing and has a fixed memory", () => {
  const module = new WebAssembly.Module(fromBase64(AEAD_WASM_BASE64) as Uint8Array<ArrayBuffer>);
  assert.deepEqual(WebAssembly.Module.imports(module), []);
  const exports = WebAssembly.Module.exports(module).map((e) => e.name).sort();
  for (
    const name of ["memory", "seal", "open", "begin", "absorb", "crypt", "finish", "clear", "wipe"]
  ) {
    assert.ok(exports.includes(name), name);
  }
  assert.ok(AEAD_WASM_SIZE < 12288, `${AEAD_WASM_SIZE} bytes`);
  const { memory } = new WebAssembly.Instance(module).exports as { memory: WebAssembly.Memory };
  assert.equal(memory.buffer.byteLength, 131072);
  assert.throws(() => memory.grow(1), RangeError); // maximum = initial
});

const EC_ARTIFACT = new URL("../layers/crypto/wasm/secp256k1_wasm.ts", import.meta.url);

Deno.test("the committed secp256k1_wasm.ts is exactly what `deno task build:wasm` makes from src/", async () => {
  const built = await compileEcWasm();
  const committed = fromBase64(EC_WASM_BASE64);
  assert.equal(committed.length, EC_WASM_SIZE);
  assert.deepEqual(built, committed, "module bytes: run `deno task build:wasm`");
  assert.equal(
    await Deno.readTextFile(EC_ARTIFACT),
    await renderEcArtifact(built),
    "artifact text: run `deno task build:wasm`",
  );
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", committed.slice()));
  assert.equal(toHex(digest), EC_WASM_SHA256);
  // deterministic, and it follows its sources
  const sources = await readEcSources();
  assert.deepEqual(Object.keys(sources), [...EC_SOURCES]);
  assert.deepEqual(await compileEcWasm(sources), built);
  const changed = { ...sources };
  changed["ec_field.ts"] = changed["ec_field.ts"].replace("r0 += t * 977;", "r0 += t * 976;");
  assert.notEqual(changed["ec_field.ts"], sources["ec_field.ts"]);
  assert.notDeepEqual(await compileEcWasm(changed), built);
});

Deno.test("the secp256k1 module imports nothing and has a fixed 384 KiB memory", () => {
  const module = new WebAssembly.Module(fromBase64(EC_WASM_BASE64) as Uint8Array<ArrayBuffer>);
  assert.deepEqual(WebAssembly.Module.imports(module), []);
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  for (const name of ["memory", "mulGlv", "mulBase", "setBaseEntry", "powP34", "clear"]) {
    assert.ok(exports.includes(name), name);
  }
  const { memory } = new WebAssembly.Instance(module).exports as { memory: WebAssembly.Memory };
  assert.equal(memory.buffer.byteLength, 6 * 65536);
  assert.throws(() => memory.grow(1), RangeError);
});
