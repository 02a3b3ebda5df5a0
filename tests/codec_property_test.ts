// Property-based tests (fast-check): every codec round trips, and every decoder fed arbitrary
// bytes succeeds or throws only Bip324Error. Bounded: numRuns is fixed per property.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Bip324Error } from "../layers/errors.ts";
import {
  DEFAULT_MESSAGE_TYPES,
  type Message,
  MessageTypeTable,
} from "../layers/aliasing/aliasing.ts";
import {
  type AddrV2Entry,
  BIP155_ADDRESS_LENGTH,
  decodeCompactSize,
  decodePayload,
  encodeCompactSize,
  encodePayload,
  KNOWN_MESSAGE_TYPES,
  MAX_ADDRV2_SIZE,
  MAX_COMPACT_SIZE,
  MAX_USER_AGENT_LENGTH,
  type VersionPayload,
} from "../layers/bitcoin/mod.ts";
import { encodeV1Message, V1Decoder } from "../layers/v1/v1_framing.ts";
import { networkMagic } from "../layers/bitcoin/network.ts";
import { concat } from "./helpers.ts";

import {
  applyMutation,
  ASCII_TYPE_CHARS,
  bytesUpTo,
  chunking,
  message,
  mutation,
  onlyBip324Error,
  record,
  split,
} from "./transcripts.ts";

// ---------------------------------------------------------------------------
// 4. Codecs: round trips, and arbitrary input to every decoder

Deno.test("property: MessageTypeTable decode(encode(m)) = m, with extra IDs too", () => {
  const extra = fc.dictionary(
    fc.integer({ min: 29, max: 255 }).map(String),
    fc.string({ unit: ASCII_TYPE_CHARS, minLength: 1, maxLength: 12 }),
    { maxKeys: 8 },
  );
  fc.assert(
    fc.property(extra, fc.array(message(300), { maxLength: 8 }), (ids, messages) => {
      const table = new MessageTypeTable(ids as Record<number, string>);
      for (const m of messages) {
        const encoded = table.encode(m);
        assert.ok(encoded.length === m.payload.length + table.typeLength(m.type));
        assert.deepEqual(table.decode(encoded), m);
        assert.deepEqual(DEFAULT_MESSAGE_TYPES.decode(DEFAULT_MESSAGE_TYPES.encode(m)), m);
      }
    }),
    { numRuns: 300 },
  );
});

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const i32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const port = fc.integer({ min: 0, max: 0xffff });
const versionAddress = record({
  services: u64,
  ip: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  port,
});
const userAgent = fc.string({ unit: "grapheme", maxLength: 64 }).filter((s) =>
  new TextEncoder().encode(s).length <= MAX_USER_AGENT_LENGTH
);

const versionPayload: fc.Arbitrary<VersionPayload> = record({
  protocolVersion: i32,
  services: u64,
  timestamp: i64,
  addrRecv: versionAddress,
  addrFrom: versionAddress,
  nonce: u64,
  userAgent,
  startHeight: i32,
  relay: fc.boolean(),
});

const addrV2Entry: fc.Arbitrary<AddrV2Entry> = fc.integer({ min: 0, max: 255 }).chain(
  (networkId) => {
    const required = BIP155_ADDRESS_LENGTH[networkId];
    return record({
      time: fc.integer({ min: 0, max: 0xffff_ffff }),
      services: u64,
      networkId: fc.constant(networkId),
      addr: required === undefined
        ? bytesUpTo(MAX_ADDRV2_SIZE)
        : fc.uint8Array({ minLength: required, maxLength: required }),
      port,
    });
  },
);

/** A known type and a valid payload value for it. */
const knownPayload: fc.Arbitrary<{ type: string; value: unknown }> = fc.oneof(
  versionPayload.map((value) => ({ type: "version", value })),
  fc.constantFrom("verack", "sendaddrv2", "wtxidrelay", "sendheaders").map((type) => ({
    type,
    value: {},
  })),
  u64.map((nonce) => ({ type: "ping", value: { nonce } })),
  u64.map((nonce) => ({ type: "pong", value: { nonce } })),
  i64.map((feeRate) => ({ type: "feefilter", value: { feeRate } })),
  fc.array(addrV2Entry, { maxLength: 20 }).map((addresses) => ({
    type: "addrv2",
    value: { addresses },
  })),
  record({
    featureId: fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 4,
      maxLength: 80,
    }),
    featureData: fc.uint8Array({ maxLength: 512 }),
  }).map((value) => ({ type: "feature", value })),
);

Deno.test("property: messages.ts decodePayload(encodePayload(x)) = x for every known type", () => {
  fc.assert(
    fc.property(knownPayload, ({ type, value }) => {
      // deno-lint-ignore no-explicit-any
      const payload = encodePayload(type, value as any);
      assert.deepEqual(decodePayload(type, payload), value);
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: CompactSize decode(encode(n)) = n", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.uint8Array({ maxLength: 8 }),
      (n, tail) => {
        const encoded = encodeCompactSize(n);
        const { value, length } = decodeCompactSize(concat([encoded, tail]), 0, {
          max: Number.MAX_SAFE_INTEGER,
        });
        assert.equal(value, n);
        assert.equal(length, encoded.length);
        if (n <= MAX_COMPACT_SIZE) assert.equal(decodeCompactSize(encoded).value, n);
      },
    ),
    { numRuns: 500 },
  );
});

const v1Type = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 12,
});

Deno.test("property: v1 framing: V1Decoder yields the encoded messages in any chunking", () => {
  const magic = networkMagic("regtest");
  fc.assert(
    fc.property(
      fc.array(record({ type: v1Type, payload: bytesUpTo(2000) }), {
        maxLength: 8,
      }),
      chunking,
      (messages, how) => {
        const wire = concat(messages.map((m) => encodeV1Message(magic, m.type, m.payload)));
        const decoder = new V1Decoder({ magic });
        const got: Message[] = [];
        for (const c of split(wire, how)) got.push(...decoder.push(c));
        decoder.finish();
        assert.equal(decoder.buffered, 0);
        assert.deepEqual(got, messages);
      },
    ),
    { numRuns: 200 },
  );
});

/** Valid encodings with one random corruption, to reach deeper than uniform noise does. */
function corrupted(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, mutation, fc.nat()).map(([bytes, m, cut]) => {
    if (bytes.length === 0) return bytes;
    const { mutated } = applyMutation(bytes, m);
    return cut % 4 === 0 ? mutated.subarray(0, cut % (mutated.length + 1)) : mutated;
  });
}

const randomInput: fc.Arbitrary<Uint8Array> = fc.oneof(
  bytesUpTo(600),
  corrupted(knownPayload.map(({ type, value }) =>
    // deno-lint-ignore no-explicit-any
    encodePayload(type, value as any)
  )),
  corrupted(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }).map((n) => encodeCompactSize(n))),
  fc.constantFrom(0xfd, 0xfe, 0xff).chain((marker) =>
    fc.uint8Array({ maxLength: 8 }).map((rest) => concat([new Uint8Array([marker]), rest]))
  ),
);

Deno.test("property: every decoder, fed arbitrary bytes, succeeds or throws only Bip324Error", () => {
  const types = [...KNOWN_MESSAGE_TYPES, "tx", "unknown"];
  fc.assert(
    fc.property(randomInput, fc.nat(), (bytes, offset) => {
      onlyBip324Error("MessageTypeTable.decode", () => DEFAULT_MESSAGE_TYPES.decode(bytes));
      for (const type of types) {
        const e = onlyBip324Error(`decodePayload(${type})`, () => decodePayload(type, bytes));
        if (e) assert.equal(e.code, "MALFORMED_MESSAGE");
      }
      const at = offset % (bytes.length + 1);
      for (const max of [undefined, 0, 252, 0xffff, MAX_COMPACT_SIZE, Number.MAX_SAFE_INTEGER]) {
        const e = onlyBip324Error("decodeCompactSize", () => decodeCompactSize(bytes, at, { max }));
        if (e) assert.equal(e.code, "MALFORMED_MESSAGE");
      }
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: V1Decoder, fed arbitrary bytes in any chunking, throws only Bip324Error", () => {
  const magic = networkMagic("regtest");
  const v1Wire = fc.array(record({ type: v1Type, payload: bytesUpTo(300) }), {
    minLength: 1,
    maxLength: 4,
  }).map((ms) => concat(ms.map((m) => encodeV1Message(magic, m.type, m.payload))));
  const input = fc.oneof(
    bytesUpTo(600),
    bytesUpTo(200).map((rest) => concat([magic, rest])),
    corrupted(v1Wire),
  );
  fc.assert(
    fc.property(input, chunking, fc.integer({ min: 0, max: 1000 }), (bytes, how, max) => {
      const decoder = new V1Decoder({ magic, maxMessageSize: max });
      let failed: Bip324Error | undefined;
      for (const c of split(bytes, how)) {
        failed = onlyBip324Error("V1Decoder.push", () => decoder.push(c));
        if (failed) break;
      }
      // the decoder never holds more than one header plus the payload limit
      assert.ok(decoder.buffered <= 24 + max);
      if (failed) {
        assert.ok(["V1_FRAMING", "OVERSIZED"].includes(failed.code), failed.code);
        // a dead decoder stays dead, with the same error
        assert.throws(() => decoder.push(new Uint8Array(1)), (e) => e === failed);
        assert.throws(() => decoder.finish(), (e) => e === failed);
      } else {
        const end = onlyBip324Error("V1Decoder.finish", () => decoder.finish());
        if (end) assert.ok(["V1_FRAMING", "OVERSIZED", "UNEXPECTED_EOF"].includes(end.code));
      }
    }),
    { numRuns: 500 },
  );
});
