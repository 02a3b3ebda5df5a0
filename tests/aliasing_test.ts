import assert from "node:assert/strict";
import {
  BIP324_SHORT_IDS,
  BIP434_SHORT_IDS,
  checkMessageType,
  CORE_SHORT_IDS,
  DEFAULT_MESSAGE_TYPES,
  MessageTypeTable,
  PROPOSED_SHORT_IDS,
} from "../layers/aliasing/aliasing.ts";
import { Bip324Error } from "../layers/errors.ts";

const isType = (code: string) => (e: unknown) => e instanceof Bip324Error && e.code === code;

Deno.test("aliasing: every BIP324 short ID 1..28 round trips as one byte", () => {
  assert.equal(Object.keys(BIP324_SHORT_IDS).length, 28);
  for (let id = 1; id <= 28; id++) {
    const type = BIP324_SHORT_IDS[id];
    const payload = new Uint8Array([id, 0, 255]);
    const contents = DEFAULT_MESSAGE_TYPES.encode({ type, payload });
    assert.equal(contents[0], id);
    assert.equal(contents.length, 4);
    assert.deepEqual(DEFAULT_MESSAGE_TYPES.decode(contents), { type, payload });
  }
  assert.equal(DEFAULT_MESSAGE_TYPES.typeOf(18), "ping");
  assert.equal(DEFAULT_MESSAGE_TYPES.idOf("addrv2"), 28);
});

Deno.test("aliasing: types without an ID use 0x00 + 12 NUL-padded bytes", () => {
  for (const type of ["version", "verack", "sendaddrv2", "wtxidrelay", "abcdefghijkl", "a"]) {
    const contents = DEFAULT_MESSAGE_TYPES.encode({ type, payload: new Uint8Array([1]) });
    assert.equal(contents.length, 14);
    assert.equal(contents[0], 0);
    assert.equal(new TextDecoder().decode(contents.subarray(1, 1 + type.length)), type);
    assert.ok(contents.subarray(1 + type.length, 13).every((b) => b === 0));
    assert.equal(DEFAULT_MESSAGE_TYPES.decode(contents).type, type);
  }
});

Deno.test("aliasing: the long form of a short-ID type decodes to the same type", () => {
  const long = new Uint8Array(13 + 2);
  long.set(new TextEncoder().encode("getblocktxn"), 1);
  long.set([7, 8], 13);
  assert.deepEqual(DEFAULT_MESSAGE_TYPES.decode(long), {
    type: "getblocktxn",
    payload: new Uint8Array([7, 8]),
  });
});

Deno.test("aliasing: the default table is Bitcoin Core's: 1..28 and 37 feature, nothing else", () => {
  // (copies: deepEqual's type assertion would otherwise narrow the tables' types)
  assert.deepEqual({ ...CORE_SHORT_IDS }, { ...BIP324_SHORT_IDS, 37: "feature" });
  assert.deepEqual({ ...BIP434_SHORT_IDS }, { 37: "feature" });
  const assigned: number[] = [];
  for (let id = 1; id <= 255; id++) {
    const type = DEFAULT_MESSAGE_TYPES.typeOf(id);
    if (type === undefined) {
      assert.throws(
        () => DEFAULT_MESSAGE_TYPES.decode(new Uint8Array([id])),
        isType("INVALID_MESSAGE_TYPE"),
        `ID ${id}`,
      );
    } else {
      assigned.push(id);
      assert.equal(type, CORE_SHORT_IDS[id]);
    }
  }
  assert.deepEqual(assigned, [...Array.from({ length: 28 }, (_, i) => i + 1), 37]);
  // `feature` goes out as the single byte 37, and 37 comes back as `feature` (payload untouched)
  const payload = new Uint8Array([4, 0x42, 0x49, 0x50, 0x31, 0]);
  const contents = DEFAULT_MESSAGE_TYPES.encode({ type: "feature", payload });
  assert.deepEqual([...contents], [37, ...payload]);
  assert.deepEqual(DEFAULT_MESSAGE_TYPES.decode(contents), { type: "feature", payload });
  // a fresh table starts from Core's too
  assert.equal(new MessageTypeTable().idOf("feature"), 37);
  // and the long form of `feature` is accepted as well
  const long = new Uint8Array(13);
  long.set(new TextEncoder().encode("feature"), 1);
  assert.equal(DEFAULT_MESSAGE_TYPES.decode(long).type, "feature");
});

Deno.test("aliasing: a pluggable table adds proposed (utreexo) or private IDs", () => {
  assert.deepEqual(Object.keys(PROPOSED_SHORT_IDS).map(Number), [29, 30, 31, 32, 33, 34, 35, 36]);
  const table = new MessageTypeTable({ ...PROPOSED_SHORT_IDS, 250: "private" });
  for (const [id, type] of Object.entries({ ...PROPOSED_SHORT_IDS, 250: "private" })) {
    const contents = table.encode({ type, payload: new Uint8Array(0) });
    assert.deepEqual([...contents], [Number(id)]);
    assert.equal(table.decode(contents).type, type);
  }
  // the opt-in table keeps Core's IDs, 37 included
  assert.equal(table.idOf("feature"), 37);
  assert.equal(table.idOf("addrv2"), 28);
  // the default table does not know the utreexo IDs: their types go out in the long form
  assert.equal(DEFAULT_MESSAGE_TYPES.encode({ type: "uproof", payload: new Uint8Array() })[0], 0);
  for (let id = 29; id <= 36; id++) {
    assert.throws(
      () => DEFAULT_MESSAGE_TYPES.decode(new Uint8Array([id])),
      isType("INVALID_MESSAGE_TYPE"),
    );
  }
  // the BIP's own table alone (without 37) is still available as a base
  const bip324Only = new MessageTypeTable({}, BIP324_SHORT_IDS);
  assert.equal(bip324Only.idOf("feature"), undefined);
  assert.throws(() => bip324Only.decode(new Uint8Array([37])), isType("INVALID_MESSAGE_TYPE"));
  // reassigning a type moves it
  const moved = new MessageTypeTable({ 100: "ping" });
  assert.equal(moved.idOf("ping"), 100);
  assert.equal(moved.typeOf(18), undefined);
  assert.throws(() => new MessageTypeTable({ 0: "zero" }), RangeError);
  assert.throws(() => new MessageTypeTable({ 256: "big" }), RangeError);
  assert.throws(() => new MessageTypeTable({ 40: "waytoolongtype" }), TypeError);
});

Deno.test("aliasing: malformed type fields → Bip324Error INVALID_MESSAGE_TYPE", () => {
  const long = (bytes: number[]) => new Uint8Array([0, ...bytes]);
  const cases: [string, Uint8Array][] = [
    ["empty contents", new Uint8Array(0)],
    ["unknown short ID", new Uint8Array([29])],
    ["unknown short ID 255", new Uint8Array([255, 1])],
    ["too short long form", long([0x70, 0x69, 0x6e, 0x67])],
    ["non-ASCII", long([0x70, 0xc3, 0xa9, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ["control character", long([0x70, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ["non-NUL padding", long([0x70, 0, 0x69, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ["empty type", long([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
  ];
  for (const [name, contents] of cases) {
    assert.throws(
      () => DEFAULT_MESSAGE_TYPES.decode(contents),
      isType("INVALID_MESSAGE_TYPE"),
      name,
    );
  }
});

Deno.test("aliasing: caller mistakes in encode are TypeErrors", () => {
  const enc = (type: unknown, payload: unknown = new Uint8Array()) =>
  // deno-lint-ignore no-explicit-any
  () => DEFAULT_MESSAGE_TYPES.encode({ type, payload } as any);
  assert.throws(enc("thirteenchars"), TypeError);
  assert.throws(enc(""), TypeError);
  assert.throws(enc("caf\u00e9"), TypeError);
  assert.throws(enc(5), TypeError);
  assert.throws(enc("ping", [1, 2]), TypeError);
  assert.throws(() => checkMessageType("tab\there"), TypeError);
});
