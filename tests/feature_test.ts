// BIP434 `feature` payload codec.
import assert from "node:assert/strict";
import { Bip324Error } from "../layers/errors.ts";
import {
  checkFeatureId,
  decodeFeature,
  decodeMessage,
  encodeCompactSize,
  encodeFeature,
  encodeMessage,
  FEATURE_VERSION,
  MAX_FEATURE_DATA_LENGTH,
  MAX_FEATURE_ID_LENGTH,
  MIN_FEATURE_ID_LENGTH,
} from "../layers/bitcoin/mod.ts";
import { assertMalformed } from "./message_helpers.ts";

const ascii = (s: string) => [...new TextEncoder().encode(s)];
const bytes = (...parts: (number[] | Uint8Array)[]) => new Uint8Array(parts.flatMap((p) => [...p]));

Deno.test("feature: constants are BIP434's", () => {
  assert.equal(FEATURE_VERSION, 70017);
  assert.equal(MIN_FEATURE_ID_LENGTH, 4);
  assert.equal(MAX_FEATURE_ID_LENGTH, 80);
  assert.equal(MAX_FEATURE_DATA_LENGTH, 512);
});

Deno.test("feature: the wire form is CompactSize+id, CompactSize+data", () => {
  const encoded = encodeFeature({ featureId: "BIP434v2", featureData: new Uint8Array([9, 8]) });
  assert.deepEqual([...encoded], [8, ...ascii("BIP434v2"), 2, 9, 8]);
  // empty data is a single 0 byte, not omitted
  assert.deepEqual([...encodeFeature({ featureId: "BIP9", featureData: new Uint8Array() })], [
    4,
    ...ascii("BIP9"),
    0,
  ]);
  // 512 bytes of data take a three-byte CompactSize (0xfd 0x00 0x02)
  const big = encodeFeature({ featureId: "x".repeat(80), featureData: new Uint8Array(512) });
  assert.equal(big.length, 1 + 80 + 3 + 512);
  assert.deepEqual([...big.subarray(81, 84)], [0xfd, 0x00, 0x02]);
  assert.deepEqual(decodeFeature(big), {
    featureId: "x".repeat(80),
    featureData: new Uint8Array(512),
  });
});

Deno.test("feature: decode round trips at every boundary and copies the data", () => {
  for (const idLength of [4, 5, 79, 80]) {
    for (const dataLength of [0, 1, 252, 253, 511, 512]) {
      const featureId = "A~ z".repeat(20).slice(0, idLength);
      const featureData = new Uint8Array(dataLength).map((_, i) => i);
      const payload = encodeFeature({ featureId, featureData });
      const decoded = decodeFeature(payload);
      assert.deepEqual(decoded, { featureId, featureData });
      payload[payload.length - 1] ^= 0xff;
      if (dataLength > 0) assert.notEqual(decoded.featureData[dataLength - 1], payload.at(-1));
    }
  }
});

Deno.test("feature: decode rejects every malformed payload with MALFORMED_MESSAGE", () => {
  const id = ascii("BIP434");
  assertMalformed(() => decodeFeature(new Uint8Array()), "feature.featureid: truncated");
  assertMalformed(
    () => decodeFeature(bytes([3], ascii("BIP"), [0])),
    "feature.featureid: length 3 is below the minimum of 4",
  );
  assertMalformed(
    () => decodeFeature(bytes([0], [0])),
    "feature.featureid: length 0 is below the minimum of 4",
  );
  assertMalformed(
    () => decodeFeature(bytes([81], new Array(81).fill(0x41), [0])),
    "feature.featureid: 81 exceeds the maximum of 80",
  );
  assertMalformed(
    () => decodeFeature(bytes([0xfd, 6, 0], id, [0])),
    "feature.featureid: non-canonical CompactSize",
  );
  assertMalformed(() => decodeFeature(bytes([6], ascii("BIP4"))), "feature.featureid: truncated");
  for (const bad of [0x00, 0x1f, 0x7f, 0x80, 0xff]) {
    assertMalformed(
      () => decodeFeature(bytes([4], [0x42, bad, 0x50, 0x31], [0])),
      "feature.featureid: not printable ASCII",
    );
  }
  assertMalformed(() => decodeFeature(bytes([6], id)), "feature.featuredata: truncated");
  assertMalformed(() => decodeFeature(bytes([6], id, [2, 1])), "feature.featuredata: truncated");
  assertMalformed(
    () => decodeFeature(bytes([6], id, encodeCompactSize(513), new Array(513).fill(0))),
    "feature.featuredata: 513 exceeds the maximum of 512",
  );
  assertMalformed(
    () => decodeFeature(bytes([6], id, [0xfd, 1, 0], [7])),
    "feature.featuredata: non-canonical CompactSize",
  );
  assertMalformed(
    () => decodeFeature(bytes([6], id, [0], [0])),
    "feature: 1 unexpected trailing bytes",
  );
  assertMalformed(
    () => decodeFeature(bytes([6], id, [1, 5], [1, 2])),
    "feature: 2 unexpected trailing bytes",
  );
});

Deno.test("feature: encode checks its arguments, naming them", () => {
  const data = new Uint8Array();
  assert.throws(() => encodeFeature({ featureId: "BIP", featureData: data }), RangeError);
  assert.throws(() => encodeFeature({ featureId: "x".repeat(81), featureData: data }), RangeError);
  assert.throws(
    () => encodeFeature({ featureId: "BIP\n434", featureData: data }),
    /feature.featureId must be printable ASCII/,
  );
  assert.throws(() => encodeFeature({ featureId: "BIPé434", featureData: data }), TypeError);
  assert.throws(
    () => encodeFeature({ featureId: "BIP434", featureData: new Uint8Array(513) }),
    /feature.featureData must be at most 512 bytes, got 513/,
  );
  assert.throws(
    () => encodeFeature({ featureId: "BIP434", featureData: [1] as unknown as Uint8Array }),
    TypeError,
  );
  assert.throws(() => encodeFeature(null as never), TypeError);
  assert.throws(() => checkFeatureId(434), /featureId must be a string/);
  assert.equal(checkFeatureId(" ~~ "), " ~~ ");
});

Deno.test("feature: the generic codec knows `feature`", () => {
  const payload = encodeFeature({ featureId: "BIP434", featureData: new Uint8Array([1]) });
  const decoded = decodeMessage({ type: "feature", payload });
  assert.deepEqual(decoded, {
    known: true,
    type: "feature",
    value: { featureId: "BIP434", featureData: new Uint8Array([1]) },
  });
  assert.deepEqual(encodeMessage(decoded), { type: "feature", payload });
  assert.throws(
    () => decodeMessage({ type: "feature", payload: new Uint8Array([1]) }),
    (e: unknown) => e instanceof Bip324Error && e.code === "MALFORMED_MESSAGE",
  );
});
