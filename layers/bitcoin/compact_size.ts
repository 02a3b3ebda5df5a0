/**
 * CompactSize ("varint"), the variable-length integer P2P messages build
 * lengths and counts from, encoded and decoded as Bitcoin Core does: the
 * shortest encoding only and, as a length or count, at most
 * {@linkcode MAX_COMPACT_SIZE}.
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";
import {
  checkBig,
  checkInt,
  compactSizeLen,
  MAX_COMPACT_SIZE,
  MAX_U64,
  Reader,
  Writer,
} from "./wire.ts";

export { MAX_COMPACT_SIZE } from "./wire.ts";

/** The result of {@linkcode decodeCompactSize}. */
export interface DecodedCompactSize {
  /** The integer. */
  value: number;
  /** How many bytes it took (1, 3, 5 or 9). */
  length: number;
}

/** Options for {@linkcode decodeCompactSize}. */
export interface DecodeCompactSizeOptions {
  /** The largest value accepted; defaults to {@linkcode MAX_COMPACT_SIZE}. */
  max?: number;
  /** The field name used in error messages; defaults to `"compact_size"`. */
  field?: string;
}

/**
 * Encodes a CompactSize ("varint"): one byte below `0xfd`, else a `0xfd`,
 * `0xfe` or `0xff` marker and a 2-, 4- or 8-byte little-endian integer.
 *
 * @example
 * ```ts
 * import { encodeCompactSize } from "@bip324/bip324/bitcoin";
 * console.assert(encodeCompactSize(252).length === 1);
 * console.assert(encodeCompactSize(253)[0] === 0xfd);
 * ```
 */
export function encodeCompactSize(value: number | bigint): Uint8Array {
  const v = typeof value === "number"
    ? BigInt(checkInt("value", value, 0, Number.MAX_SAFE_INTEGER))
    : checkBig("value", value, 0n, MAX_U64);
  const w = new Writer(compactSizeLen(v));
  w.compactSize(v);
  return w.out;
}

/**
 * Decodes a CompactSize at `offset`, as Bitcoin Core does: the shortest
 * encoding only, and at most `options.max` (default
 * {@linkcode MAX_COMPACT_SIZE}). Truncated, non-canonical or oversized
 * values throw {@linkcode Bip324Error} `MALFORMED_MESSAGE`.
 *
 * @example
 * ```ts
 * import { decodeCompactSize } from "@bip324/bip324/bitcoin";
 * const { value, length } = decodeCompactSize(new Uint8Array([0xfd, 0x00, 0x01]));
 * console.assert(value === 256 && length === 3);
 * ```
 */
export function decodeCompactSize(
  bytes: Uint8Array,
  offset = 0,
  options: DecodeCompactSizeOptions = {},
): DecodedCompactSize {
  checkBytes("bytes", bytes);
  checkInt("offset", offset, 0, bytes.length);
  const max = options.max ?? MAX_COMPACT_SIZE;
  checkInt("options.max", max, 0, Number.MAX_SAFE_INTEGER);
  const reader = new Reader(bytes.subarray(offset));
  const value = Number(reader.compactSize(options.field ?? "compact_size", max));
  return { value, length: bytes.length - offset - reader.remaining };
}
