import assert from "node:assert/strict";
import { fromHex } from "../layers/bytes.ts";
import {
  type AddrV2Entry,
  BIP155_ADDRESS_LENGTH,
  decodeAddrV2,
  decodePayload,
  encodeAddrV2,
  encodePayload,
  MAX_ADDR_TO_SEND,
} from "../layers/bitcoin/mod.ts";
import { assertMalformed, cat, IPV4_ENTRY, IPV4_ENTRY_BYTES } from "./message_helpers.ts";

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
