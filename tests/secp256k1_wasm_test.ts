import assert from "node:assert/strict";
import { Point } from "@noble/secp256k1";
import {
  baseMultiplyXFast,
  ecWasmAvailable,
  ecWasmDecided,
  ecWasmScratchForTests,
  initEcWasm,
  isSquareFast,
  powP34Fast,
  sqrtFast,
  sqrtRatioFast,
  xOnlyMultiplyFast,
} from "../layers/crypto/secp256k1_wasm.ts";
import { LAMBDA, N, xOnlyMultiply } from "../layers/crypto/secp256k1_xonly.ts";
import { baseMultiplyX } from "../layers/crypto/secp256k1_base.ts";
import {
  inv,
  isSquare,
  mod,
  P,
  powP34,
  sqrt,
  sqrtRatio,
} from "../layers/crypto/secp256k1_field.ts";
import { compileEcWasm, readEcSources } from "../layers/crypto/wasm/build.ts";
import { EC_WASM_BASE64 } from "../layers/crypto/wasm/secp256k1_wasm.ts";
import { randomBytes, toHex } from "../layers/bytes.ts";
import { runInWorker } from "./helpers.ts";

const big = (b: Uint8Array) => BigInt("0x" + toHex(b));
const randomScalar = () => big(randomBytes(32)) % (N - 1n) + 1n;
const randomField = () => big(randomBytes(32)) % P;
const nmod = (a: bigint) => ((a % N) + N) % N;
const G = Point.BASE.toAffine();
const scratchIsZero = () => ecWasmScratchForTests()!.every((b) => b === 0);

Deno.test("the module is in use in Deno", () => {
  assert.equal(ecWasmAvailable(), true);
  assert.equal(ecWasmDecided(), true);
  assert.ok(ecWasmScratchForTests() !== undefined);
});

// The field arithmetic on its own: a build of the same sources that also exports the field
// functions, driven on limbs written straight into its memory.
interface FieldExports {
  memory: WebAssembly.Memory;
  feMul(r: number, a: number, b: number): void;
  feSqr(r: number, a: number): void;
  feAdd(r: number, a: number, b: number): void;
  feSub(r: number, a: number, b: number): void;
  feNeg(r: number, a: number): void;
  feMulSmall(r: number, a: number, k: bigint): void;
  feNormalize(r: number, a: number): void;
  feFromWords(r: number, w: number): void;
  feToWords(w: number, a: number): void;
}

const fieldBuild = (async () => {
  const sources = await readEcSources();
  sources["ec.ts"] += `\nexport { feMul, feSqr, feAdd, feSub, feNeg, feMulSmall, feNormalize, ` +
    `feFromWords, feToWords } from "./ec_field";\n`;
  const bytes = await compileEcWasm(sources);
  return new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>))
    .exports as unknown as FieldExports;
})();

/** The weak bound: limbs 0-8 at most 2²⁶ + 2¹⁵, limb 9 below 2²². */
const M26 = (1 << 26) - 1, X = (1 << 26) + (1 << 15), TOP = (1 << 22) - 1;
const A = 3000, B = 3040, R = 3080, W = 3120;

/** The value of ten limbs. */
const valueOf = (limbs: ArrayLike<number>) =>
  Array.from(limbs).reduceRight((v, l) => (v << 26n) + BigInt(l), 0n);

/** Limbs of v (below 2²⁶⁰), the natural way. */
function limbsOf(v: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; i < 10; i++, v >>= 26n) out.push(Number(v & BigInt(M26)));
  return out;
}

/** Weakly reduced inputs: random, and the extremes of the bound (every limb at its maximum). */
function weakInputs(): number[][] {
  const cases: number[][] = [
    [X, X, X, X, X, X, X, X, X, TOP],
    [M26, M26, M26, M26, M26, M26, M26, M26, M26, TOP],
    new Array(10).fill(0),
    limbsOf(P),
    limbsOf(P - 1n),
    limbsOf(P + 1n),
    limbsOf((1n << 256n) - 1n),
    limbsOf(1n),
    [X, 0, X, 0, X, 0, X, 0, X, TOP],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, TOP],
  ];
  for (let i = 0; i < 300; i++) {
    const l = Array.from({ length: 10 }, () => Math.floor(Math.random() * (X + 1)));
    l[9] = Math.floor(Math.random() * (TOP + 1));
    if (i % 3 === 0) {
      for (let j = 0; j < 10; j++) {
        if (Math.random() < 0.5) {
          l[j] = j === 9 ? TOP : X;
        }
      }
    }
    cases.push(l);
  }
  return cases;
}

function assertWeak(limbs: Uint32Array, label: string): void {
  for (let i = 0; i < 9; i++) assert.ok(limbs[i] <= X, `${label}: limb ${i} = ${limbs[i]}`);
  assert.ok(limbs[9] <= TOP, `${label}: limb 9 = ${limbs[9]}`);
}

Deno.test("field: every operation agrees with bigints and stays weakly reduced, at the bounds too", async () => {
  const x = await fieldBuild;
  const mem = new Uint32Array(x.memory.buffer);
  const put = (at: number, l: number[]) => mem.set(l, at >> 2);
  const out = () => mem.subarray(R >> 2, (R >> 2) + 10);
  const inputs = weakInputs();
  for (let i = 0; i < inputs.length; i++) {
    const a = inputs[i], b = inputs[(i * 7 + 3) % inputs.length];
    const va = valueOf(a), vb = valueOf(b);
    const ops: [string, () => void, bigint][] = [
      ["mul", () => x.feMul(R, A, B), va * vb],
      ["sqr", () => x.feSqr(R, A), va * va],
      ["add", () => x.feAdd(R, A, B), va + vb],
      ["sub", () => x.feSub(R, A, B), va - vb],
      ["neg", () => x.feNeg(R, A), -va],
      ["mul8", () => x.feMulSmall(R, A, 8n), 8n * va],
    ];
    for (const [name, run, expected] of ops) {
      put(A, a);
      put(B, b);
      run();
      assertWeak(out(), `${name} #${i}`);
      assert.equal(mod(valueOf(out())), mod(expected), `${name} #${i}`);
    }
    // in place: r = a
    put(A, a);
    put(B, b);
    x.feMul(A, A, B);
    assert.equal(mod(valueOf(mem.subarray(A >> 2, (A >> 2) + 10))), mod(va * vb));
    // normalization: the unique representative, limbs canonical, and the word round trip
    put(A, a);
    x.feNormalize(R, A);
    assert.deepEqual(Array.from(out()), limbsOf(mod(va)), `normalize #${i}`);
    x.feToWords(W, R);
    const words = mem.subarray(W >> 2, (W >> 2) + 8);
    assert.equal(words.reduceRight((v, w) => (v << 32n) | BigInt(w), 0n), mod(va));
    x.feFromWords(B, W);
    assert.deepEqual(Array.from(mem.subarray(B >> 2, (B >> 2) + 10)), limbsOf(mod(va)));
  }
});

Deno.test("field: long chains of products never leave the bound", async () => {
  const x = await fieldBuild;
  const mem = new Uint32Array(x.memory.buffer);
  mem.set([X, M26, X, M26, X, M26, X, M26, X, TOP], A >> 2);
  let expected = valueOf(mem.subarray(A >> 2, (A >> 2) + 10));
  mem.set(limbsOf(P - 2n), B >> 2);
  for (let i = 0; i < 2000; i++) {
    if (i % 3 === 0) x.feSub(A, A, B), expected -= P - 2n;
    else if (i % 3 === 1) x.feMul(A, A, B), expected *= P - 2n;
    else x.feSqr(A, A), expected *= expected;
    expected = mod(expected);
    const limbs = mem.subarray(A >> 2, (A >> 2) + 10);
    assertWeak(limbs, `step ${i}`);
    assert.equal(mod(valueOf(limbs)), expected, `step ${i}`);
  }
});

Deno.test("x-only multiplication: the module agrees with the bigint path", () => {
  for (let i = 0; i < 100; i++) {
    const k = randomScalar(), xd = randomField() || 1n, xn = mod(G.x * xd);
    assert.equal(xOnlyMultiplyFast(xn, xd, k), xOnlyMultiply(xn, xd, k), k.toString(16));
    assert.ok(scratchIsZero());
  }
  for (const k of [1n, 2n, 3n, N - 1n, N - 2n, 2n ** 128n, 2n ** 255n, LAMBDA]) {
    assert.equal(xOnlyMultiplyFast(G.x, 1n, k), Point.BASE.multiply(k).toAffine().x);
  }
  // an input that is not reduced, and xd = p - 1
  assert.equal(xOnlyMultiplyFast(G.x + P, 1n, 5n), xOnlyMultiply(G.x, 1n, 5n));
  assert.equal(xOnlyMultiplyFast(P - G.x, P - 1n, 7n), xOnlyMultiply(G.x, 1n, 7n));
  for (const k of [0n, N, -1n]) assert.throws(() => xOnlyMultiplyFast(G.x, 1n, k), RangeError);
  assert.throws(() => xOnlyMultiplyFast(G.x, P, 5n), RangeError);
  assert.ok(scratchIsZero());
});

Deno.test("x-only multiplication: every exceptional GLV candidate, −22λ through the fallback", () => {
  for (let b = -31n; b <= 31n; b += 2n) {
    const ks = [nmod(b * LAMBDA), nmod(2n * b * LAMBDA)];
    for (let a = -31n; a <= 31n; a += 2n) ks.push(nmod(2n * a + b * LAMBDA));
    for (const k of ks) assert.equal(xOnlyMultiplyFast(G.x, 1n, k), xOnlyMultiply(G.x, 1n, k));
  }
  const k = nmod(-22n * LAMBDA);
  assert.equal(xOnlyMultiplyFast(G.x, 1n, k), Point.BASE.multiply(k).toAffine().x);
  assert.ok(scratchIsZero());
});

Deno.test("fixed-base multiplication: the module agrees with noble, the two degenerate scalars too", () => {
  const scalars = [
    1n,
    2n,
    3n,
    127n,
    128n,
    255n,
    256n,
    257n,
    2n ** 248n,
    2n ** 255n,
    N - 1n,
    N - 2n,
  ];
  for (let i = 0; i < 100; i++) scalars.push(randomScalar());
  for (let d = 129n; d <= 255n; d += 2n) {
    const k = d * 2n ** 249n - N;
    scalars.push(k, N - k);
  }
  for (const k of scalars) {
    assert.equal(baseMultiplyXFast(k), Point.BASE.multiply(k).toAffine().x, k.toString(16));
    assert.ok(scratchIsZero());
  }
  for (const k of [0n, N, -1n]) assert.throws(() => baseMultiplyXFast(k), RangeError);
  assert.equal(baseMultiplyXFast(5n), baseMultiplyX(5n));
});

Deno.test("square roots: the module's exponentiation agrees with the bigint chain", () => {
  const values = [0n, 1n, 2n, 4n, 7n, P - 1n, P - 2n, P + 3n, -5n, 2n ** 255n];
  for (let i = 0; i < 100; i++) values.push(randomField());
  for (const a of values) {
    assert.equal(powP34Fast(a), powP34(a), a.toString(16));
    assert.equal(sqrtFast(a), sqrt(a), a.toString(16));
    const d = randomField() || 1n;
    assert.equal(sqrtRatioFast(a, d), sqrtRatio(a, d));
    const r = sqrtFast(mod(a * a));
    assert.ok(r !== null && (r * r) % P === mod(a * a));
  }
  assert.equal(sqrtRatioFast(2n, 9n), sqrt(mod(2n * inv(9n))));
  assert.ok(scratchIsZero());
});

const inWorker = (code: string) => runInWorker(code);

const glueUrl = new URL("../layers/crypto/secp256k1_wasm.ts", import.meta.url).href;
const ellswiftUrl = new URL("../layers/handshake/ellswift.ts", import.meta.url).href;

Deno.test("without WebAssembly the bigint path runs, with the same results", async () => {
  const k = 0x1234567890abcdefn;
  const result = await inWorker(`
    delete globalThis.WebAssembly;
    const m = await import(${JSON.stringify(glueUrl)});
    const e = await import(${JSON.stringify(ellswiftUrl)});
    const a = new Uint8Array(32).fill(3), b = new Uint8Array(32).fill(4), aux = new Uint8Array(32);
    const ea = e.ellswiftCreate(a, aux), eb = e.ellswiftCreate(b, aux);
    const s1 = e.v2Ecdh(a, eb, ea, true), s2 = e.v2Ecdh(b, ea, eb, false);
    postMessage({
      available: m.ecWasmAvailable(),
      init: await m.initEcWasm(),
      x: m.xOnlyMultiplyFast(${G.x}n, 1n, ${k}n).toString(16),
      base: m.baseMultiplyXFast(${k}n).toString(16),
      agree: s1.every((v, i) => v === s2[i]),
      ea: Array.from(ea).join(","),
    });`);
  const aux = new Uint8Array(32);
  const { ellswiftCreate } = await import(ellswiftUrl);
  assert.deepEqual(result, {
    available: false,
    init: false,
    x: Point.BASE.multiply(k).toAffine().x.toString(16),
    base: Point.BASE.multiply(k).toAffine().x.toString(16),
    agree: true,
    ea: Array.from(ellswiftCreate(new Uint8Array(32).fill(3), aux)).join(","),
  });
});

Deno.test("initEcWasm(module): a host-compiled module is used only if it passes the self-test", async () => {
  const good = Uint8Array.from(atob(EC_WASM_BASE64), (c) => c.charCodeAt(0));
  const sources = await readEcSources();
  // one wrong constant in β: every GLV result changes
  sources["ec.ts"] = sources["ec.ts"].replace("0x26afa40", "0x26afa41");
  const bad = await compileEcWasm(sources);
  for (const [bytes, expected] of [[good, true], [bad, false]] as const) {
    const result = await inWorker(`
      const m = await import(${JSON.stringify(glueUrl)});
      const compiled = new WebAssembly.Module(new Uint8Array([${bytes.join(",")}]));
      // refuse synchronous compilation, as some browsers' main threads do
      const Original = WebAssembly.Module;
      WebAssembly.Module = function () { throw new RangeError("sync compile refused"); };
      const before = m.ecWasmAvailable();
      WebAssembly.Module = Original;
      const init = await m.initEcWasm(compiled);
      postMessage({ before, init, after: m.ecWasmAvailable(), x: m.xOnlyMultiplyFast(${G.x}n, 1n, 2n).toString(16) });`);
    assert.deepEqual(result, {
      before: false,
      init: expected,
      after: expected,
      x: Point.BASE.multiply(2n).toAffine().x.toString(16),
    });
  }
  // the module as shipped passes with nothing given
  assert.equal(await initEcWasm(), true);
});

const modUrl = new URL("../mod.ts", import.meta.url).href;

Deno.test("a handshake compiles the module asynchronously where synchronous compilation is refused", async () => {
  const result = await inWorker(`
    // refuse synchronous compilation, as some browsers' main threads do
    WebAssembly.Module = function () { throw new RangeError("sync compile refused"); };
    const m = await import(${JSON.stringify(glueUrl)});
    const { memoryPair, openSession } = await import(${JSON.stringify(modUrl)});
    const decidedBefore = m.ecWasmDecided();
    const [x, y] = memoryPair();
    const [a, b] = await Promise.all([
      openSession(x, { role: "initiator", network: "regtest" }),
      openSession(y, { role: "responder", network: "regtest" }),
    ]);
    const same = a.sessionId.every((v, i) => v === b.sessionId[i]);
    await a.close();
    await b.closed;
    postMessage({ decidedBefore, available: m.ecWasmAvailable(), same });`);
  assert.deepEqual(result, { decidedBefore: false, available: true, same: true });
});

Deno.test("a module whose fixed-base table comes out wrong is caught on loading; the bigint table serves", async () => {
  const sources = await readEcSources();
  // a broken copy of the table (y stored as x): GLV and the exponentiation are unaffected
  const broken = sources["ec.ts"].replace(
    "feFromWords(at + 40, IN_Y);",
    "feFromWords(at + 40, IN_X);",
  );
  assert.notEqual(broken, sources["ec.ts"]);
  const bad = await compileEcWasm({ ...sources, "ec.ts": broken });
  const k = 0x1234567890abcdef1234567890abcdefn;
  const outcome = await inWorker(`
    const m = await import(${JSON.stringify(glueUrl)});
    const compiled = await WebAssembly.compile(new Uint8Array([${bad.join(",")}]));
    const init = await m.initEcWasm(compiled);
    postMessage({ init, x: m.baseMultiplyXFast(${k}n).toString(16), again: m.baseMultiplyXFast(3n).toString(16) });`);
  assert.deepEqual(outcome, {
    init: true,
    x: Point.BASE.multiply(k).toAffine().x.toString(16),
    again: Point.BASE.multiply(3n).toAffine().x.toString(16),
  });
});

Deno.test("square test: the module's Jacobi symbol agrees with the bigint one", () => {
  const values = [
    0n,
    1n,
    2n,
    3n,
    4n,
    7n,
    9n,
    P - 1n,
    P - 2n,
    P,
    P + 7n,
    -7n,
    2n ** 64n,
    2n ** 255n,
  ];
  for (let i = 0; i < 64; i++) values.push(2n ** BigInt(i * 4), P - 2n ** BigInt(i * 4));
  for (let i = 0; i < 2000; i++) values.push(randomField());
  let squares = 0;
  for (const a of values) {
    const expected = isSquare(a);
    assert.equal(isSquareFast(a), expected, a.toString(16));
    if (expected) squares++;
    // every square is one
    assert.equal(isSquareFast(mod(a * a)), true);
  }
  assert.ok(squares > 900 && squares < 1200, `${squares} squares`); // about half
  assert.ok(scratchIsZero());
});
