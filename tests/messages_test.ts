import assert from "node:assert/strict";
import { fromHex, toHex } from "../layers/bytes.ts";
import { Bip324Error } from "../layers/errors.ts";
import {
  type AddrV2Entry,
  BIP155_ADDRESS_LENGTH,
  BIP155_NETWORK,
  decodeAddrV2,
  decodeCompactSize,
  decodeFeeFilter,
  decodeMessage,
  decodePayload,
  decodePing,
  decodePong,
  decodeVersion,
  encodeAddrV2,
  encodeCompactSize,
  encodeFeeFilter,
  encodeMessage,
  encodePayload,
  encodePing,
  encodeVersion,
  ipFromString,
  ipToString,
  isKnownMessageType,
  KNOWN_MESSAGE_TYPES,
  MAX_ADDR_TO_SEND,
  MAX_COMPACT_SIZE,
  NODE_BLOOM,
  NODE_COMPACT_FILTERS,
  NODE_NETWORK,
  NODE_NETWORK_LIMITED,
  NODE_P2P_V2,
  NODE_WITNESS,
  type VersionPayload,
} from "../layers/bitcoin/mod.ts";

/** Asserts that `fn` throws MALFORMED_MESSAGE (origin peer) with exactly `message`. */
function assertMalformed(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Bip324Error, `expected Bip324Error, got ${e}`);
    assert.equal(e.code, "MALFORMED_MESSAGE");
    assert.equal(e.origin, "peer");
    assert.equal(e.message, message);
    return true;
  });
}

function cat(...parts: (number[] | Uint8Array)[]): Uint8Array {
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

const ascii = (s: string) => [...new TextEncoder().encode(s)];

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

const SAMPLE_VERSION: VersionPayload = {
  protocolVersion: 70016,
  services: NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED | NODE_P2P_V2,
  timestamp: 0x65432100n,
  addrRecv: { services: 0n, ip: ipFromString("1.2.3.4"), port: 8333 },
  addrFrom: { services: NODE_NETWORK, ip: ipFromString("::"), port: 0 },
  nonce: 0x0123456789abcdefn,
  userAgent: "/Satoshi:27.0.0/",
  startHeight: 840000,
  relay: true,
};

/** The same version payload, written out field by field from the protocol docs. */
const SAMPLE_VERSION_BYTES = cat(
  [0x80, 0x11, 0x01, 0x00], // version 70016 = 0x00011180, int32 LE
  [0x09, 0x0c, 0, 0, 0, 0, 0, 0], // services 1 | 8 | 1024 | 2048 = 0x0c09, uint64 LE
  [0x00, 0x21, 0x43, 0x65, 0, 0, 0, 0], // timestamp 0x65432100, int64 LE
  [0, 0, 0, 0, 0, 0, 0, 0], // addr_recv.services
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4], // addr_recv.ip ::ffff:1.2.3.4
  [0x20, 0x8d], // addr_recv.port 8333, BIG-endian
  [1, 0, 0, 0, 0, 0, 0, 0], // addr_from.services
  new Uint8Array(16), // addr_from.ip ::
  [0, 0], // addr_from.port
  [0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01], // nonce, uint64 LE
  [16], // user agent length (CompactSize)
  ascii("/Satoshi:27.0.0/"),
  [0x40, 0xd1, 0x0c, 0x00], // start height 840000 = 0x0cd140, int32 LE
  [1], // relay
);

Deno.test("messages: version matches a hand-built byte layout, both ways", () => {
  assert.equal(SAMPLE_VERSION_BYTES.length, 4 + 8 + 8 + 26 + 26 + 8 + 1 + 16 + 4 + 1);
  assert.deepEqual(encodeVersion(SAMPLE_VERSION), SAMPLE_VERSION_BYTES);
  assert.deepEqual(decodeVersion(SAMPLE_VERSION_BYTES), SAMPLE_VERSION);
  assert.deepEqual(encodePayload("version", SAMPLE_VERSION), SAMPLE_VERSION_BYTES);
  assert.deepEqual(decodePayload("version", SAMPLE_VERSION_BYTES), SAMPLE_VERSION);
});

Deno.test("messages: version extremes round trip (signed fields, max uint64, long UA)", () => {
  const v: VersionPayload = {
    ...SAMPLE_VERSION,
    protocolVersion: -1,
    services: (1n << 64n) - 1n,
    timestamp: -(1n << 63n),
    nonce: (1n << 64n) - 1n,
    userAgent: "x".repeat(256),
    startHeight: -(2 ** 31),
    relay: false,
    addrRecv: { services: 1n << 63n, ip: ipFromString("2001:db8::1"), port: 65535 },
  };
  const bytes = encodeVersion(v);
  assert.deepEqual([...bytes.subarray(80, 83)], [0xfd, 0x00, 0x01]); // 256 as CompactSize
  assert.deepEqual(decodeVersion(bytes), v);
  assert.equal(bytes[bytes.length - 1], 0);
});

Deno.test("messages: version relay byte — missing means true, as in Bitcoin Core", () => {
  const withoutRelay = SAMPLE_VERSION_BYTES.subarray(0, SAMPLE_VERSION_BYTES.length - 1);
  assert.equal(decodeVersion(withoutRelay).relay, true);
  const relayFalse = SAMPLE_VERSION_BYTES.slice();
  relayFalse[relayFalse.length - 1] = 0;
  assert.equal(decodeVersion(relayFalse).relay, false);
  relayFalse[relayFalse.length - 1] = 2; // Core reads any non-zero byte as true
  assert.equal(decodeVersion(relayFalse).relay, true);
  // bytes after the relay flag are ignored (Core ignores them too)
  assert.deepEqual(decodeVersion(cat(SAMPLE_VERSION_BYTES, [9, 9, 9])), SAMPLE_VERSION);
});

Deno.test("messages: a truncated version names the field it stops in", () => {
  // [end offset (exclusive), field] in wire order, up to the start height
  const fields: [number, string][] = [
    [4, "version.version"],
    [12, "version.services"],
    [20, "version.timestamp"],
    [28, "version.addr_recv.services"],
    [44, "version.addr_recv.ip"],
    [46, "version.addr_recv.port"],
    [54, "version.addr_from.services"],
    [70, "version.addr_from.ip"],
    [72, "version.addr_from.port"],
    [80, "version.nonce"],
    [97, "version.user_agent"],
    [101, "version.start_height"],
  ];
  let f = 0;
  for (let cut = 0; cut < 101; cut++) {
    while (cut >= fields[f][0]) f++;
    assertMalformed(
      () => decodeVersion(SAMPLE_VERSION_BYTES.subarray(0, cut)),
      `${fields[f][1]}: truncated`,
    );
  }
  assert.equal(decodeVersion(SAMPLE_VERSION_BYTES.subarray(0, 101)).relay, true);
});

Deno.test("messages: version user agent limits and non-canonical length", () => {
  const head = SAMPLE_VERSION_BYTES.subarray(0, 80);
  const tail = [0, 0, 0, 0, 1];
  assertMalformed(
    () => decodeVersion(cat(head, [0xfd, 0x01, 0x01], new Uint8Array(257), tail)),
    "version.user_agent: 257 exceeds the maximum of 256",
  );
  // a huge announced length fails on the limit, not on a giant allocation
  assertMalformed(
    () => decodeVersion(cat(head, fromHex("ffffffffffffffffff"))),
    "version.user_agent: 18446744073709551615 exceeds the maximum of 256",
  );
  assertMalformed(
    () => decodeVersion(cat(head, [0xfd, 0x05, 0x00], ascii("hello"), tail)),
    "version.user_agent: non-canonical CompactSize",
  );
  const ok = decodeVersion(cat(head, [0xfd, 0x00, 0x01], new Uint8Array(256).fill(0x61), tail));
  assert.equal(ok.userAgent, "a".repeat(256));
  // invalid UTF-8 is replaced, not rejected (Core sanitizes rather than rejects)
  assert.equal(decodeVersion(cat(head, [2, 0xff, 0x41], tail)).userAgent, "\ufffdA");
});

Deno.test("messages: version encode checks name the field", () => {
  const bad = (patch: Record<string, unknown>, error: typeof TypeError, text: string) =>
    assert.throws(
      () => encodeVersion({ ...SAMPLE_VERSION, ...patch } as VersionPayload),
      (e: unknown) => e instanceof error && e.message.includes(text),
    );
  bad({ protocolVersion: 2 ** 31 }, RangeError, "version.version");
  bad({ services: 1 }, TypeError, "version.services");
  bad({ services: -1n }, RangeError, "version.services");
  bad({ timestamp: 1n << 63n }, RangeError, "version.timestamp");
  bad({ addrRecv: { services: 0n, ip: new Uint8Array(4), port: 1 } }, RangeError, "addr_recv.ip");
  bad(
    { addrFrom: { services: 0n, ip: new Uint8Array(16), port: 65536 } },
    RangeError,
    "addr_from.port",
  );
  bad({ addrFrom: null }, TypeError, "version.addr_from");
  bad({ nonce: 1n << 64n }, RangeError, "version.nonce");
  bad({ userAgent: "é".repeat(129) }, RangeError, "version.user_agent");
  bad({ userAgent: 5 }, TypeError, "version.user_agent");
  bad({ startHeight: 0.5 }, TypeError, "version.start_height");
  bad({ relay: 1 }, TypeError, "version.relay");
});

// ---------------------------------------------------------------------------
// empty messages, ping, pong, feefilter

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

const IPV4_ENTRY: AddrV2Entry = {
  time: 0x66000000,
  services: NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED,
  networkId: BIP155_NETWORK.IPV4,
  addr: new Uint8Array([1, 2, 3, 4]),
  port: 8333,
};

const IPV4_ENTRY_BYTES = cat(
  [0x00, 0x00, 0x00, 0x66], // time, uint32 LE
  [0xfd, 0x09, 0x04], // services 0x409 as CompactSize
  [1], // network: IPv4
  [4, 1, 2, 3, 4], // address length and bytes
  [0x20, 0x8d], // port 8333, big-endian
);

Deno.test("messages: addrv2 matches a hand-built byte layout, both ways", () => {
  const payload = cat([1], IPV4_ENTRY_BYTES);
  assert.deepEqual(encodeAddrV2({ addresses: [IPV4_ENTRY] }), payload);
  assert.deepEqual(decodeAddrV2(payload), { addresses: [IPV4_ENTRY] });
  assert.deepEqual(decodeAddrV2(new Uint8Array([0])), { addresses: [] });
});

Deno.test("messages: addrv2 round trips every network and unknown IDs", () => {
  const addresses: AddrV2Entry[] = [];
  for (const [id, length] of Object.entries(BIP155_ADDRESS_LENGTH)) {
    addresses.push({
      time: 0xffffffff,
      services: (1n << 64n) - 1n,
      networkId: Number(id),
      addr: new Uint8Array(length).map((_, i) => i + 1),
      port: Number(id),
    });
  }
  addresses.push({ time: 0, services: 0n, networkId: 0x42, addr: new Uint8Array(3), port: 0 });
  addresses.push({ time: 1, services: 1n, networkId: 0, addr: new Uint8Array(512), port: 1 });
  const payload = encodePayload("addrv2", { addresses });
  assert.deepEqual(decodePayload("addrv2", payload), { addresses });
  // the services CompactSize is not limited to MAX_COMPACT_SIZE
  assert.deepEqual([...payload.subarray(5, 14)], new Array(9).fill(0xff));
  // 1000 entries are fine
  const many = { addresses: new Array(MAX_ADDR_TO_SEND).fill(IPV4_ENTRY) };
  assert.equal(decodeAddrV2(encodeAddrV2(many)).addresses.length, MAX_ADDR_TO_SEND);
});

Deno.test("messages: malformed addrv2 names the field", () => {
  assertMalformed(() => decodeAddrV2(new Uint8Array(0)), "addrv2.count: truncated");
  assertMalformed(
    () => decodeAddrV2(fromHex("fde903")),
    "addrv2.count: 1001 exceeds the maximum of 1000",
  );
  assertMalformed(() => decodeAddrV2(fromHex("fd0300")), "addrv2.count: non-canonical CompactSize");
  // a count of 1000 with no entries fails on the first entry, immediately
  assertMalformed(() => decodeAddrV2(fromHex("fde803")), "addrv2[0].time: truncated");
  const entry = (bytes: number[]) => cat([2], IPV4_ENTRY_BYTES, bytes);
  assertMalformed(() => decodeAddrV2(entry([0, 0])), "addrv2[1].time: truncated");
  assertMalformed(() => decodeAddrV2(entry([0, 0, 0, 0])), "addrv2[1].services: truncated");
  assertMalformed(
    () => decodeAddrV2(entry([0, 0, 0, 0, 0xfd, 1, 0])),
    "addrv2[1].services: non-canonical CompactSize",
  );
  assertMalformed(() => decodeAddrV2(entry([0, 0, 0, 0, 1])), "addrv2[1].network_id: truncated");
  assertMalformed(() => decodeAddrV2(entry([0, 0, 0, 0, 1, 1])), "addrv2[1].addr: truncated");
  assertMalformed(
    () => decodeAddrV2(entry([0, 0, 0, 0, 1, 1, 5, 1, 2, 3, 4, 5, 0, 0])),
    "addrv2[1].addr: length 5 is invalid for network 1 (must be 4)",
  );
  for (const [id, length] of Object.entries(BIP155_ADDRESS_LENGTH)) {
    assertMalformed(
      () => decodeAddrV2(entry([0, 0, 0, 0, 1, Number(id), length - 1])),
      `addrv2[1].addr: length ${length - 1} is invalid for network ${id} (must be ${length})`,
    );
  }
  assertMalformed(
    () => decodeAddrV2(entry([0, 0, 0, 0, 1, 0x42, 0xfd, 0x01, 0x02])),
    "addrv2[1].addr: 513 exceeds the maximum of 512",
  );
  assertMalformed(
    () => decodeAddrV2(entry([0, 0, 0, 0, 1, 1, 4, 1, 2])),
    "addrv2[1].addr: truncated",
  );
  assertMalformed(
    () => decodeAddrV2(entry([0, 0, 0, 0, 1, 1, 4, 1, 2, 3, 4, 0])),
    "addrv2[1].port: truncated",
  );
  assertMalformed(
    () => decodeAddrV2(cat([1], IPV4_ENTRY_BYTES, [0])),
    "addrv2: 1 unexpected trailing bytes",
  );
});

Deno.test("messages: addrv2 encode checks name the field", () => {
  const bad = (entry: Record<string, unknown>, error: typeof TypeError, text: string) =>
    assert.throws(
      () => encodeAddrV2({ addresses: [IPV4_ENTRY, { ...IPV4_ENTRY, ...entry } as AddrV2Entry] }),
      (e: unknown) => e instanceof error && e.message.includes(text),
    );
  bad({ addr: new Uint8Array(16) }, RangeError, "addrv2[1].addr");
  bad({ networkId: 256 }, RangeError, "addrv2[1].network_id");
  bad({ networkId: 99, addr: new Uint8Array(513) }, RangeError, "addrv2[1].addr");
  bad({ time: -1 }, RangeError, "addrv2[1].time");
  bad({ services: 1 }, TypeError, "addrv2[1].services");
  bad({ port: 70000 }, RangeError, "addrv2[1].port");
  assert.throws(
    () => encodeAddrV2({ addresses: new Array(1001).fill(IPV4_ENTRY) }),
    /at most 1000 entries/,
  );
  assert.throws(() => encodeAddrV2({} as never), /addrv2.addresses must be an array/);
});

// ---------------------------------------------------------------------------
// generic dispatch

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
