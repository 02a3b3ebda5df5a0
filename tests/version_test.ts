import assert from "node:assert/strict";
import { fromHex } from "../layers/bytes.ts";
import {
  decodePayload,
  decodeVersion,
  encodePayload,
  encodeVersion,
  ipFromString,
  type VersionPayload,
} from "../layers/bitcoin/mod.ts";
import {
  ascii,
  assertMalformed,
  cat,
  SAMPLE_VERSION,
  SAMPLE_VERSION_BYTES,
} from "./message_helpers.ts";

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
