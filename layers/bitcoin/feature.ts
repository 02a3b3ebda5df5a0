/**
 * The BIP434 `feature` message: a `featureid` (a CompactSize-prefixed
 * string of 4..80 printable ASCII bytes) and its `featuredata` (a
 * CompactSize-prefixed byte vector of at most 512 bytes), nothing else.
 *
 * Peers send it between `version` and `verack` to announce or negotiate
 * P2P features; on a v2 connection it travels as short ID 37 (Bitcoin
 * Core's default table). The negotiation rules live in `peerHandshake`.
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";
import { compactSizeLen, malformed, Reader, Writer } from "./wire.ts";

/** The first protocol version that speaks BIP434 (`feature` goes only to peers at or above it). */
export const FEATURE_VERSION = 70017;
/** The shortest `featureid`, in bytes (BIP434: "BIPx"). */
export const MIN_FEATURE_ID_LENGTH = 4;
/** The longest `featureid`, in bytes. */
export const MAX_FEATURE_ID_LENGTH = 80;
/** The longest `featuredata`, in bytes. */
export const MAX_FEATURE_DATA_LENGTH = 512;

/** The payload of `feature` (BIP434). */
export interface FeaturePayload {
  /** The feature's globally unique identifier: 4..80 printable ASCII characters (0x20..0x7e). */
  featureId: string;
  /** Feature-specific data, at most {@linkcode MAX_FEATURE_DATA_LENGTH} bytes (may be empty). */
  featureData: Uint8Array;
}

function isPrintable(c: number): boolean {
  return c >= 0x20 && c <= 0x7e;
}

/**
 * Returns `id` if it is a valid `featureid` (a string of 4..80 printable
 * ASCII characters); throws `TypeError` (not a string, or a character
 * outside 0x20..0x7e) or `RangeError` (length) naming `name`.
 *
 * @example
 * ```ts
 * import { checkFeatureId } from "@bip324/bip324/bitcoin";
 * console.assert(checkFeatureId("BIP434v1") === "BIP434v1");
 * try {
 *   checkFeatureId("BIP");
 * } catch (e) {
 *   console.assert(e instanceof RangeError);
 * }
 * ```
 */
export function checkFeatureId(id: unknown, name = "featureId"): string {
  if (typeof id !== "string") throw new TypeError(`${name} must be a string, got ${typeof id}`);
  if (id.length < MIN_FEATURE_ID_LENGTH || id.length > MAX_FEATURE_ID_LENGTH) {
    throw new RangeError(
      `${name} must be ${MIN_FEATURE_ID_LENGTH}..${MAX_FEATURE_ID_LENGTH} characters, got ${id.length}`,
    );
  }
  for (let i = 0; i < id.length; i++) {
    if (!isPrintable(id.charCodeAt(i))) {
      throw new TypeError(
        `${name} must be printable ASCII (0x20..0x7e), got ${JSON.stringify(id)}`,
      );
    }
  }
  return id;
}

/**
 * Encodes a `feature` payload: CompactSize length and bytes of the
 * `featureid`, then CompactSize length and bytes of the `featuredata`.
 *
 * @example
 * ```ts
 * import { encodeFeature } from "@bip324/bip324/bitcoin";
 * const payload = encodeFeature({ featureId: "BIP434v1", featureData: new Uint8Array([1]) });
 * console.assert(payload.length === 1 + 8 + 1 + 1 && payload[0] === 8 && payload[9] === 1);
 * ```
 */
export function encodeFeature(value: FeaturePayload): Uint8Array {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`feature must be an object, got ${value === null ? "null" : typeof value}`);
  }
  const id = checkFeatureId(value.featureId, "feature.featureId");
  const data = checkBytes("feature.featureData", value.featureData);
  if (data.length > MAX_FEATURE_DATA_LENGTH) {
    throw new RangeError(
      `feature.featureData must be at most ${MAX_FEATURE_DATA_LENGTH} bytes, got ${data.length}`,
    );
  }
  const w = new Writer(1 + id.length + compactSizeLen(BigInt(data.length)) + data.length);
  w.compactSize(BigInt(id.length));
  for (let i = 0; i < id.length; i++) w.u8(id.charCodeAt(i));
  w.compactSize(BigInt(data.length));
  w.bytes(data);
  return w.out;
}

/**
 * Decodes a `feature` payload exactly: a canonical CompactSize `featureid`
 * length of 4..80, printable ASCII bytes, a canonical CompactSize
 * `featuredata` length of at most 512, and no trailing bytes. Anything else
 * throws {@linkcode Bip324Error} `MALFORMED_MESSAGE` (origin `"peer"`)
 * naming the field. The data is copied.
 *
 * @example
 * ```ts
 * import { decodeFeature } from "@bip324/bip324/bitcoin";
 * const f = decodeFeature(new Uint8Array([4, 0x42, 0x49, 0x50, 0x39, 0]));
 * console.assert(f.featureId === "BIP9" && f.featureData.length === 0);
 * ```
 */
export function decodeFeature(payload: Uint8Array): FeaturePayload {
  checkBytes("payload", payload);
  const r = new Reader(payload);
  const idLength = r.size("feature.featureid", MAX_FEATURE_ID_LENGTH);
  if (idLength < MIN_FEATURE_ID_LENGTH) {
    throw malformed(
      "feature.featureid",
      `length ${idLength} is below the minimum of ${MIN_FEATURE_ID_LENGTH}`,
    );
  }
  const idBytes = r.view(idLength, "feature.featureid");
  if (!idBytes.every(isPrintable)) throw malformed("feature.featureid", "not printable ASCII");
  const featureId = String.fromCharCode(...idBytes);
  const dataLength = r.size("feature.featuredata", MAX_FEATURE_DATA_LENGTH);
  const featureData = r.bytes(dataLength, "feature.featuredata");
  r.end("feature");
  return { featureId, featureData };
}
