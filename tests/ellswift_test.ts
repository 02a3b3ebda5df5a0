import assert from "node:assert/strict";
import {
  ellswiftCreate,
  ellswiftDecode,
  ellswiftEcdhXonly,
  taggedHash,
  v2Ecdh,
  xswiftecInv,
} from "../layers/handshake/ellswift.ts";
import { toHex } from "../layers/bytes.ts";
import { hex, readVectors } from "./vectors.ts";

const decodeRows = readVectors("ellswift_decode_test_vectors.csv");
const invRows = readVectors("xswiftec_inv_test_vectors.csv");

Deno.test("ellswift_decode_test_vectors.csv: all 76 rows", () => {
  assert.equal(decodeRows.length, 76);
  for (const row of decodeRows) {
    assert.equal(toHex(ellswiftDecode(hex(row.ellswift))), row.x, row.comment);
  }
});

Deno.test("xswiftec_inv_test_vectors.csv: every case of every row", () => {
  assert.ok(invRows.length >= 30);
  let solutions = 0, none = 0;
  for (const row of invRows) {
    const u = hex(row.u), x = hex(row.x);
    for (let c = 0; c < 8; c++) {
      const expected = row[`case${c}_t`];
      const t = xswiftecInv(u, x, c);
      if (expected === "") {
        assert.equal(t, null, `${row.u} case ${c}: ${row.comment}`);
        none++;
      } else {
        assert.ok(t, `${row.u} case ${c} should have a solution`);
        assert.equal(toHex(t), expected, `${row.u} case ${c}`);
        // and the solution decodes back to x
        assert.equal(toHex(ellswiftDecode(new Uint8Array([...u, ...t]))), row.x);
        solutions++;
      }
    }
  }
  assert.ok(solutions > 0 && none > 0);
});

Deno.test("ellswiftCreate: encodes the key's x, deterministic with auxRandom", () => {
  const priv = hex("61062ea5071d800bbfd59e2e8b53d47d194b095ae5a4df04936b49772ef0d4d7");
  const aux = new Uint8Array(32).fill(5);
  const a = ellswiftCreate(priv, aux);
  assert.deepEqual(a, ellswiftCreate(priv, aux));
  assert.notDeepEqual(a, ellswiftCreate(priv, new Uint8Array(32).fill(6)));
  assert.notDeepEqual(ellswiftCreate(priv), ellswiftCreate(priv));
  // x(priv·G) from the packet vector's mid_x_ours
  assert.equal(
    toHex(ellswiftDecode(a)),
    "19e965bc20fc40614e33f2f82d4eeff81b5e7516b12a5c6c0d6053527eba0923",
  );
});

Deno.test("x-only ECDH is symmetric and v2Ecdh agrees on both sides", () => {
  const a = new Uint8Array(32).fill(0x11), b = new Uint8Array(32).fill(0x22);
  const ea = ellswiftCreate(a), eb = ellswiftCreate(b);
  assert.deepEqual(ellswiftEcdhXonly(eb, a), ellswiftEcdhXonly(ea, b));
  assert.deepEqual(v2Ecdh(a, eb, ea, true), v2Ecdh(b, ea, eb, false));
  assert.notDeepEqual(v2Ecdh(a, eb, ea, true), v2Ecdh(a, eb, ea, false));
});

Deno.test("taggedHash matches SHA256(SHA256(tag)||SHA256(tag)||x)", async () => {
  const tag = new TextEncoder().encode("bip324_ellswift_xonly_ecdh");
  const th = new Uint8Array(await crypto.subtle.digest("SHA-256", tag));
  const msg = new Uint8Array([...th, ...th, 1, 2, 3]);
  const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", msg));
  assert.deepEqual(taggedHash("bip324_ellswift_xonly_ecdh", new Uint8Array([1, 2, 3])), expected);
});

Deno.test("caller mistakes throw TypeError/RangeError naming the argument", () => {
  assert.throws(() => ellswiftDecode(new Uint8Array(63)), {
    name: "RangeError",
    message: /encoding/,
  });
  // deno-lint-ignore no-explicit-any
  assert.throws(() => ellswiftDecode("x" as any), { name: "TypeError", message: /encoding/ });
  assert.throws(() => xswiftecInv(new Uint8Array(32), new Uint8Array(32), 8), RangeError);
  assert.throws(() => ellswiftCreate(new Uint8Array(32)), {
    name: "RangeError",
    message: /privateKey/,
  });
  assert.throws(() => ellswiftCreate(new Uint8Array(32).fill(0xff)), RangeError);
});
