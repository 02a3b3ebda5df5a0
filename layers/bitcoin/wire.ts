/**
 * Internal byte cursors for the P2P payload codecs: a {@linkcode Reader}
 * for hostile input (every read names its field, checks bounds first and
 * throws {@linkcode Bip324Error} `MALFORMED_MESSAGE` with origin `"peer"`),
 * a {@linkcode Writer} for buffers sized up front, and argument checks that
 * throw `TypeError`/`RangeError` naming the field. Not part of the public API.
 *
 * @module
 */

import { Bip324Error } from "../errors.ts";

/** Bitcoin Core's `MAX_SIZE`: the largest CompactSize accepted as a length or count. */
export const MAX_COMPACT_SIZE = 0x02000000;

/** The largest uint64. */
export const MAX_U64: bigint = (1n << 64n) - 1n;

/** A `MALFORMED_MESSAGE` error (origin `"peer"`) reading `field: problem`. */
export function malformed(field: string, problem: string): Bip324Error {
  return new Bip324Error("MALFORMED_MESSAGE", `${field}: ${problem}`, { origin: "peer" });
}

/** A cursor over a payload; every read names its field and checks bounds first. */
export class Reader {
  #bytes: Uint8Array;
  #pos = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  #take(n: number, field: string): number {
    if (this.#bytes.length - this.#pos < n) throw malformed(field, "truncated");
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(field: string): number {
    return this.#bytes[this.#take(1, field)];
  }

  u16be(field: string): number {
    const at = this.#take(2, field);
    return (this.#bytes[at] << 8) | this.#bytes[at + 1];
  }

  u32le(field: string): number {
    const b = this.#bytes;
    const at = this.#take(4, field);
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x100_0000;
  }

  i32le(field: string): number {
    const b = this.#bytes;
    const at = this.#take(4, field);
    return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
  }

  u64le(field: string): bigint {
    const lo = this.u32le(field);
    const hi = this.u32le(field);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  i64le(field: string): bigint {
    return BigInt.asIntN(64, this.u64le(field));
  }

  /** A copy of the next `n` bytes. */
  bytes(n: number, field: string): Uint8Array {
    const at = this.#take(n, field);
    return this.#bytes.slice(at, at + n);
  }

  /** A view of the next `n` bytes (valid only while the input is). */
  view(n: number, field: string): Uint8Array {
    const at = this.#take(n, field);
    return this.#bytes.subarray(at, at + n);
  }

  /** A canonical CompactSize; `max` bounds the value (pass `undefined` for none). */
  compactSize(field: string, max: number | undefined): bigint {
    const first = this.u8(field);
    let value: bigint;
    if (first < 0xfd) {
      value = BigInt(first);
    } else if (first === 0xfd) {
      const at = this.#take(2, field);
      const n = this.#bytes[at] | (this.#bytes[at + 1] << 8);
      if (n < 0xfd) throw malformed(field, "non-canonical CompactSize");
      value = BigInt(n);
    } else if (first === 0xfe) {
      const n = this.u32le(field);
      if (n < 0x1_0000) throw malformed(field, "non-canonical CompactSize");
      value = BigInt(n);
    } else {
      value = this.u64le(field);
      if (value < 0x1_0000_0000n) throw malformed(field, "non-canonical CompactSize");
    }
    if (max !== undefined && value > BigInt(max)) {
      throw malformed(field, `${value} exceeds the maximum of ${max}`);
    }
    return value;
  }

  /** A CompactSize used as a length or count, at most `max` (≤ MAX_COMPACT_SIZE). */
  size(field: string, max: number): number {
    return Number(this.compactSize(field, Math.min(max, MAX_COMPACT_SIZE)));
  }

  end(field: string): void {
    if (this.remaining !== 0) throw malformed(field, `${this.remaining} unexpected trailing bytes`);
  }
}

/** Throws unless `value` is an integer in `min..max`. */
export function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${name} must be in ${min}..${max}, got ${value}`);
  }
  return value;
}

/** Throws unless `value` is a bigint in `min..max`. */
export function checkBig(name: string, value: unknown, min: bigint, max: bigint): bigint {
  if (typeof value !== "bigint") {
    throw new TypeError(`${name} must be a bigint, got ${typeof value}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${name} must be in ${min}..${max}, got ${value}`);
  }
  return value;
}

/** Throws unless `value` is a non-null object. */
export function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`${name} must be an object, got ${value === null ? "null" : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** Writes into a buffer whose size the caller computed up front. */
export class Writer {
  readonly out: Uint8Array;
  #pos = 0;

  constructor(size: number) {
    this.out = new Uint8Array(size);
  }

  u8(v: number): void {
    this.out[this.#pos++] = v;
  }

  u16be(v: number): void {
    this.out[this.#pos++] = v >>> 8;
    this.out[this.#pos++] = v & 0xff;
  }

  u32le(v: number): void {
    this.out[this.#pos++] = v & 0xff;
    this.out[this.#pos++] = (v >>> 8) & 0xff;
    this.out[this.#pos++] = (v >>> 16) & 0xff;
    this.out[this.#pos++] = (v >>> 24) & 0xff;
  }

  u64le(v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.u32le(Number(u & 0xffff_ffffn));
    this.u32le(Number(u >> 32n));
  }

  bytes(b: Uint8Array): void {
    this.out.set(b, this.#pos);
    this.#pos += b.length;
  }

  compactSize(v: bigint): void {
    if (v < 0xfdn) {
      this.u8(Number(v));
    } else if (v <= 0xffffn) {
      this.u8(0xfd);
      this.out[this.#pos++] = Number(v) & 0xff;
      this.out[this.#pos++] = Number(v) >>> 8;
    } else if (v <= 0xffff_ffffn) {
      this.u8(0xfe);
      this.u32le(Number(v));
    } else {
      this.u8(0xff);
      this.u64le(v);
    }
  }
}

/** Bytes the CompactSize encoding of `v` takes. */
export function compactSizeLen(v: bigint): number {
  return v < 0xfdn ? 1 : v <= 0xffffn ? 3 : v <= 0xffff_ffffn ? 5 : 9;
}
