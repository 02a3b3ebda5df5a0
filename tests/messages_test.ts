import assert from "node:assert/strict";
import { fromHex, toHex } from "../layers/bytes.ts";
import {
  decodeCompactSize,
  decodeFeeFilter,
  decodeMessage,
  decodePayload,
  decodePing,
  decodePong,
  encodeCompactSize,
  encodeFeeFilter,
  encodeMessage,
  encodePayload,
  encodePing,
  ipFromString,
  ipToString,
  isKnownMessageType,
  KNOWN_MESSAGE_TYPES,
  MAX_COMPACT_SIZE,
  NODE_BLOOM,
  NODE_COMPACT_FILTERS,
  NODE_NETWORK,
  NODE_NETWORK_LIMITED,
  NODE_P2P_V2,
  NODE_WITNESS,
} from "../layers/bitcoin/mod.ts";
import { assertMalformed, IPV4_ENTRY, SAMPLE_VERSION } from "./message_helpers.ts";

// ---------------------------------------------------------------------------
// service flags and CompactSize

Deno.test("messages: service flag values", () => {
  assert.equal(NODE_NETWORK, 1n);
  assert.equal(NODE_BLOOM, 4n);
  assert.equal(NODE_WITNESS, 8n);
  assert.equal(NODE_COMPACT_FILTERS, 64n);
  assert.equal(NODE_NETWORK_LIMITED, 1024n);
  assert.equal(NODE_P2P_V2, 2048n);
});

Deno.test("messages: CompactSize known encodings, both ways", () => {
  const vectors: [number | bigint, string][] = [
    [0, "00"],
    [1, "01"],
    [252, "fc"],
    [253, "fdfd00"],
    [0xffff, "fdffff"],
    [0x10000, "fe00000100"],
    [MAX_COMPACT_SIZE, "fe00000002"],
    [0xffffffff, "feffffffff"],
    [0x100000000, "ff0000000001000000"],
    [(1n << 64n) - 1n, "ffffffffffffffffff"],
  ];
  for (const [value, hex] of vectors) {
    assert.equal(toHex(encodeCompactSize(value)), hex, `encode ${value}`);
    if (Number(value) <= Number.MAX_SAFE_INTEGER) {
      const decoded = decodeCompactSize(fromHex(hex), 0, { max: Number.MAX_SAFE_INTEGER });
      assert.deepEqual(decoded, { value: Number(value), length: hex.length / 2 });
    }
  }
  // with an offset and trailing bytes
  assert.deepEqual(decodeCompactSize(fromHex("aafd0001bb"), 1), { value: 256, length: 3 });
});

Deno.test("messages: CompactSize rejects non-canonical, oversized and truncated input", () => {
  assertMalformed(
    () => decodeCompactSize(fromHex("fdfc00")),
    "compact_size: non-canonical CompactSize",
  );
  assertMalformed(
    () => decodeCompactSize(fromHex("fe00000000")),
    "compact_size: non-canonical CompactSize",
  );
  assertMalformed(
    () => decodeCompactSize(fromHex("feffff0000")),
    "compact_size: non-canonical CompactSize",
  );
  assertMalformed(
    () => decodeCompactSize(fromHex("ffffffffff00000000")),
    "compact_size: non-canonical CompactSize",
  );
  assertMalformed(
    () => decodeCompactSize(fromHex("fe01000002")),
    `compact_size: ${MAX_COMPACT_SIZE + 1} exceeds the maximum of ${MAX_COMPACT_SIZE}`,
  );
  assertMalformed(
    () => decodeCompactSize(fromHex("0b"), 0, { max: 10, field: "thing.count" }),
    "thing.count: 11 exceeds the maximum of 10",
  );
  for (const hex of ["", "fd", "fd00", "fe000001", "ff00000000000001"]) {
    assertMalformed(() => decodeCompactSize(fromHex(hex)), "compact_size: truncated");
  }
  assert.throws(() => encodeCompactSize(-1), RangeError);
  assert.throws(() => encodeCompactSize(1.5), TypeError);
  assert.throws(() => encodeCompactSize(1n << 64n), RangeError);
  assert.throws(() => decodeCompactSize("00" as unknown as Uint8Array), TypeError);
});

// ---------------------------------------------------------------------------
// addresses

Deno.test("messages: address text ↔ 16 bytes", () => {
  const vectors: [string, string][] = [
    ["1.2.3.4", "00000000000000000000ffff01020304"],
    ["0.0.0.0", "00000000000000000000ffff00000000"],
    ["255.255.255.255", "00000000000000000000ffffffffffff"],
    ["::", "00000000000000000000000000000000"],
    ["::1", "00000000000000000000000000000001"],
    ["2001:db8::1", "20010db8000000000000000000000001"],
    ["2001:db8:0:1:1:1:1:1", "20010db8000000010001000100010001"],
    ["2001:db8::1:0:0:1", "20010db8000000000001000000000001"], // first longest run
    ["fe80::", "fe800000000000000000000000000000"],
    ["fc00:1:2:3:4:5:6:7", "fc000001000200030004000500060007"],
    ["fd87:d87e:eb43::1", "fd87d87eeb4300000000000000000001"],
  ];
  for (const [text, hex] of vectors) {
    assert.equal(toHex(ipFromString(text)), hex, text);
    assert.equal(ipToString(fromHex(hex)), text, hex);
  }
  // other spellings parse to the same bytes
  assert.equal(toHex(ipFromString("::ffff:1.2.3.4")), "00000000000000000000ffff01020304");
  assert.equal(toHex(ipFromString("::FFFF:102:304")), "00000000000000000000ffff01020304");
  assert.equal(toHex(ipFromString("2001:DB8:0:0:0:0:0:1")), "20010db8000000000000000000000001");
  assert.equal(toHex(ipFromString("::1.2.3.4")), "00000000000000000000000001020304");
  assert.equal(toHex(ipFromString("1:2:3:4:5:6:1.2.3.4")), "00010002000300040005000601020304");
  // RFC 5952: a single zero group is not compressed
  assert.equal(ipToString(fromHex("00010000000200030004000500060007")), "1:0:2:3:4:5:6:7");
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.-4",
      ":::",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8::",
      "12345::",
      "g::",
      "[::1]",
      "fe80::1%eth0",
      "::1.2.3",
      "1.2.3.4::",
    ]
  ) {
    assert.throws(() => ipFromString(bad), TypeError, bad);
  }
  assert.throws(() => ipToString(new Uint8Array(4)), RangeError);
});

// ---------------------------------------------------------------------------
// version

Deno.test("messages: empty messages encode to nothing and reject payload bytes", () => {
  for (const type of ["verack", "sendaddrv2", "wtxidrelay", "sendheaders"] as const) {
    assert.equal(encodePayload(type, {}).length, 0);
    assert.deepEqual(decodePayload(type, new Uint8Array(0)), {});
    assertMalformed(
      () => decodePayload(type, new Uint8Array(1)),
      `${type}: 1 unexpected trailing bytes`,
    );
  }
});

Deno.test("messages: ping and pong with a known nonce", () => {
  const nonce = 0x1122334455667788n;
  const bytes = fromHex("8877665544332211");
  assert.deepEqual(encodePing({ nonce }), bytes);
  assert.deepEqual(encodePayload("pong", { nonce }), bytes);
  assert.deepEqual(decodePing(bytes), { nonce });
  assert.deepEqual(decodePong(bytes), { nonce });
  assert.deepEqual(decodePayload("ping", fromHex("ffffffffffffffff")), { nonce: (1n << 64n) - 1n });
  for (const type of ["ping", "pong"] as const) {
    assertMalformed(() => decodePayload(type, new Uint8Array(0)), `${type}.nonce: truncated`);
    assertMalformed(() => decodePayload(type, new Uint8Array(7)), `${type}.nonce: truncated`);
    assertMalformed(
      () => decodePayload(type, new Uint8Array(9)),
      `${type}: 1 unexpected trailing bytes`,
    );
    assert.throws(() => encodePayload(type, { nonce: -1n }), RangeError);
    assert.throws(
      () => encodePayload(type, { nonce: 1 as unknown as bigint }),
      /nonce must be a bigint/,
    );
  }
});

Deno.test("messages: feefilter is a signed int64", () => {
  assert.deepEqual(encodeFeeFilter({ feeRate: 1000n }), fromHex("e803000000000000"));
  assert.deepEqual(decodeFeeFilter(fromHex("e803000000000000")), { feeRate: 1000n });
  assert.deepEqual(decodeFeeFilter(fromHex("ffffffffffffffff")), { feeRate: -1n });
  assert.deepEqual(encodeFeeFilter({ feeRate: -1n }), fromHex("ffffffffffffffff"));
  assertMalformed(() => decodeFeeFilter(new Uint8Array(3)), "feefilter.fee_rate: truncated");
  assertMalformed(
    () => decodeFeeFilter(new Uint8Array(10)),
    "feefilter: 2 unexpected trailing bytes",
  );
  assert.throws(() => encodeFeeFilter({ feeRate: 1n << 63n }), /feefilter.fee_rate/);
});

// ---------------------------------------------------------------------------
// addrv2

Deno.test("messages: every known type round trips through the generic codec", () => {
  const samples: { [K in (typeof KNOWN_MESSAGE_TYPES)[number]]: unknown } = {
    version: SAMPLE_VERSION,
    verack: {},
    sendaddrv2: {},
    wtxidrelay: {},
    sendheaders: {},
    ping: { nonce: 1n },
    pong: { nonce: 2n },
    feefilter: { feeRate: 3n },
    addrv2: { addresses: [IPV4_ENTRY] },
    feature: { featureId: "BIP434v1", featureData: new Uint8Array([1, 2]) },
  };
  assert.deepEqual(Object.keys(samples).sort(), [...KNOWN_MESSAGE_TYPES].sort());
  for (const type of KNOWN_MESSAGE_TYPES) {
    assert.ok(isKnownMessageType(type));
    const value = samples[type];
    const payload = encodePayload(type as string, value as never);
    assert.deepEqual(decodePayload(type as string, payload), value, type);
    const decoded = decodeMessage({ type, payload });
    assert.deepEqual(decoded, { known: true, type, value });
    assert.deepEqual(encodeMessage(decoded), { type, payload });
  }
});

Deno.test("messages: unknown types pass through as raw bytes", () => {
  const payload = new Uint8Array([1, 2, 3]);
  const raw = decodePayload("tx", payload);
  assert.equal(raw.raw, payload); // a view, not a copy
  assert.equal(encodePayload("tx", { raw: payload }), payload);
  for (const type of ["tx", "inv", "addr", "__proto__", "constructor", "Version"]) {
    assert.ok(!isKnownMessageType(type));
    const decoded = decodeMessage({ type, payload });
    assert.deepEqual(decoded, { known: false, type, raw: payload });
    assert.deepEqual(encodeMessage(decoded), { type, payload });
  }
  // a dynamically typed dispatch narrows on `known`, then `type`
  const msg = decodeMessage({ type: "ping", payload: encodePing({ nonce: 5n }) });
  if (!msg.known) throw new Error("ping should be known");
  if (msg.type !== "ping") throw new Error("type should be ping");
  assert.equal(msg.value.nonce, 5n);
  assert.throws(() => encodePayload("tx", {} as never), /tx.raw must be a Uint8Array/);
  assert.throws(() => decodePayload(1 as unknown as string, payload), TypeError);
  assert.throws(() => encodeMessage({ known: true, type: "tx" } as never), TypeError);
});
