/**
 * Bitcoin P2P message payloads: encode and decode the handful of messages a
 * transport needs to bring a connection up and keep it alive (`version`,
 * `verack`, `sendaddrv2`, `wtxidrelay`, `sendheaders`, `ping`, `pong`,
 * `feefilter`, `addrv2`), plus the CompactSize integer they are built from.
 *
 * The codec is pure and synchronous. Decoders face hostile input: they read
 * each byte once, check every length against a limit before using it, and
 * throw {@linkcode Bip324Error} `MALFORMED_MESSAGE` (origin `"peer"`) whose
 * message names the field, e.g. `version.user_agent: truncated`. Encoders
 * check their arguments and throw `TypeError`/`RangeError` naming the field.
 *
 * Where the protocol documentation and deployed behaviour differ, this module
 * follows Bitcoin Core:
 *
 * - a `version` without the trailing relay byte means `relay = true` (Core's
 *   default, and BIP37's "if missing"); any non-zero relay byte means `true`;
 *   bytes after the relay byte are ignored, as Core ignores them (new fields
 *   have always been appended at the end);
 * - CompactSize must use the shortest encoding and, when it is a length or a
 *   count, stay at or below {@linkcode MAX_COMPACT_SIZE};
 * - `addrv2` addresses of a known network must have that network's length;
 *   unknown network IDs are kept (with their bytes) rather than rejected.
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";
import { Bip324Error } from "../errors.ts";
import type { Message } from "../aliasing/aliasing.ts";

export type { Message } from "../aliasing/aliasing.ts";

// ---------------------------------------------------------------------------
// Constants

/** No services. */
export const NODE_NONE: bigint = 0n;
/** `NODE_NETWORK`: serves the full block chain. */
export const NODE_NETWORK: bigint = 1n;
/** `NODE_BLOOM` (BIP111): serves BIP37 bloom-filtered connections. */
export const NODE_BLOOM: bigint = 1n << 2n;
/** `NODE_WITNESS` (BIP144): serves witness data. */
export const NODE_WITNESS: bigint = 1n << 3n;
/** `NODE_COMPACT_FILTERS` (BIP157): serves compact block filters. */
export const NODE_COMPACT_FILTERS: bigint = 1n << 6n;
/** `NODE_NETWORK_LIMITED` (BIP159): serves the last 288 blocks. */
export const NODE_NETWORK_LIMITED: bigint = 1n << 10n;
/** `NODE_P2P_V2` (BIP324): accepts the v2 encrypted transport. */
export const NODE_P2P_V2: bigint = 1n << 11n;

/** Bitcoin Core's `MAX_SIZE`: the largest CompactSize accepted as a length or count. */
export const MAX_COMPACT_SIZE = 0x02000000;
/** Bitcoin Core's `MAX_SUBVERSION_LENGTH`: the longest `version` user agent, in bytes. */
export const MAX_USER_AGENT_LENGTH = 256;
/** Bitcoin Core's `MAX_ADDR_TO_SEND`: the most entries in one `addrv2` message. */
export const MAX_ADDR_TO_SEND = 1000;
/** BIP155's `MAX_ADDRV2_SIZE`: the longest address in an `addrv2` entry, in bytes. */
export const MAX_ADDRV2_SIZE = 512;

/** BIP155 network IDs. */
export const BIP155_NETWORK: Readonly<{
  IPV4: 1;
  IPV6: 2;
  TORV2: 3;
  TORV3: 4;
  I2P: 5;
  CJDNS: 6;
}> = Object.freeze({ IPV4: 1, IPV6: 2, TORV2: 3, TORV3: 4, I2P: 5, CJDNS: 6 });

/**
 * The address length BIP155 requires for each known network ID. TorV2 (10
 * bytes) is deprecated: Bitcoin Core still parses it and then ignores it.
 */
export const BIP155_ADDRESS_LENGTH: Readonly<Record<number, number>> = Object.freeze({
  1: 4,
  2: 16,
  3: 10,
  4: 32,
  5: 32,
  6: 16,
});

// ---------------------------------------------------------------------------
// Types

/** A network address as the `version` message carries it (no time field). */
export interface VersionAddress {
  /** Service flags of the address (uint64). */
  services: bigint;
  /** 16-byte IPv6 address; IPv4 is IPv4-mapped (`::ffff:a.b.c.d`). See {@linkcode ipToString}. */
  ip: Uint8Array;
  /** TCP port, 0..65535 (big-endian on the wire). */
  port: number;
}

/** The `version` message. */
export interface VersionPayload {
  /** Protocol version (int32), e.g. 70016. */
  protocolVersion: number;
  /** Our service flags (uint64). */
  services: bigint;
  /** UNIX time in seconds (int64). */
  timestamp: bigint;
  /** The address of the node receiving this message, as seen by the sender. */
  addrRecv: VersionAddress;
  /** The sender's address (Bitcoin Core sends zeros and ignores it). */
  addrFrom: VersionAddress;
  /** Random nonce (uint64) that detects connections to self. */
  nonce: bigint;
  /** User agent (BIP14), at most {@linkcode MAX_USER_AGENT_LENGTH} bytes of UTF-8. */
  userAgent: string;
  /** The sender's best block height (int32). */
  startHeight: number;
  /** BIP37 relay flag: whether the peer wants transactions announced. */
  relay: boolean;
}

/** The (empty) payload of `verack`, `sendaddrv2`, `wtxidrelay` and `sendheaders`. */
export type EmptyPayload = Record<string, never>;

/** The payload of `ping` and `pong`. */
export interface PingPayload {
  /** 64-bit nonce that the `pong` echoes. */
  nonce: bigint;
}

/** The payload of `feefilter` (BIP133). */
export interface FeeFilterPayload {
  /** Minimum fee rate in satoshis per 1000 virtual bytes (int64). */
  feeRate: bigint;
}

/** One entry of an `addrv2` message (BIP155). */
export interface AddrV2Entry {
  /** When the address was last seen, UNIX seconds (uint32). */
  time: number;
  /** Service flags (uint64, sent as a CompactSize). */
  services: bigint;
  /** BIP155 network ID (see {@linkcode BIP155_NETWORK}); unknown IDs are kept. */
  networkId: number;
  /** The address bytes; their length is fixed for each known network. */
  addr: Uint8Array;
  /** TCP port, 0..65535 (big-endian on the wire). */
  port: number;
}

/** The payload of `addrv2` (BIP155). */
export interface AddrV2Payload {
  /** At most {@linkcode MAX_ADDR_TO_SEND} entries. */
  addresses: AddrV2Entry[];
}

/** The payload of any message this module does not know: the bytes, untouched. */
export interface RawPayload {
  /** The payload bytes (not copied). */
  raw: Uint8Array;
}

/** The decoded payload type of each message type this module knows. */
export interface PayloadTypes {
  /** `version` */
  version: VersionPayload;
  /** `verack` */
  verack: EmptyPayload;
  /** `sendaddrv2` (BIP155) */
  sendaddrv2: EmptyPayload;
  /** `wtxidrelay` (BIP339) */
  wtxidrelay: EmptyPayload;
  /** `sendheaders` (BIP130) */
  sendheaders: EmptyPayload;
  /** `ping` */
  ping: PingPayload;
  /** `pong` */
  pong: PingPayload;
  /** `feefilter` (BIP133) */
  feefilter: FeeFilterPayload;
  /** `addrv2` (BIP155) */
  addrv2: AddrV2Payload;
}

/** A message type this module encodes and decodes. */
export type KnownMessageType = keyof PayloadTypes;

/** Every payload {@linkcode decodePayload} may return. */
export type AnyPayload = PayloadTypes[KnownMessageType] | RawPayload;

/**
 * The payload type for message type `T`: the typed object for a known type,
 * {@linkcode RawPayload} for any other literal type, and
 * {@linkcode AnyPayload} when `T` is just `string`.
 */
export type PayloadFor<T extends string> = string extends T ? AnyPayload
  : T extends KnownMessageType ? PayloadTypes[T]
  : RawPayload;

/** A decoded message of a known type; `known` and then `type` discriminate. */
export type KnownMessage = {
  [K in KnownMessageType]: { known: true; type: K; value: PayloadTypes[K] };
}[KnownMessageType];

/** A message of a type this module does not know, with its payload untouched. */
export interface UnknownMessage {
  /** Always `false`. */
  known: false;
  /** The message type. */
  type: string;
  /** The payload bytes (not copied). */
  raw: Uint8Array;
}

/** The result of {@linkcode decodeMessage}: narrow on `known`, then on `type`. */
export type DecodedMessage = KnownMessage | UnknownMessage;

/** Every message type this module knows. */
export const KNOWN_MESSAGE_TYPES: readonly KnownMessageType[] = Object.freeze([
  "version",
  "verack",
  "sendaddrv2",
  "wtxidrelay",
  "sendheaders",
  "ping",
  "pong",
  "feefilter",
  "addrv2",
]);

// ---------------------------------------------------------------------------
// Reading (hostile input)

function malformed(field: string, problem: string): Bip324Error {
  return new Bip324Error("MALFORMED_MESSAGE", `${field}: ${problem}`, { origin: "peer" });
}

/** A cursor over a payload; every read names its field and checks bounds first. */
class Reader {
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

// ---------------------------------------------------------------------------
// Writing (caller input)

const MAX_U64 = (1n << 64n) - 1n;

function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${name} must be in ${min}..${max}, got ${value}`);
  }
  return value;
}

function checkBig(name: string, value: unknown, min: bigint, max: bigint): bigint {
  if (typeof value !== "bigint") {
    throw new TypeError(`${name} must be a bigint, got ${typeof value}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${name} must be in ${min}..${max}, got ${value}`);
  }
  return value;
}

function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`${name} must be an object, got ${value === null ? "null" : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** Writes into a buffer whose size the caller computed up front. */
class Writer {
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

function compactSizeLen(v: bigint): number {
  return v < 0xfdn ? 1 : v <= 0xffffn ? 3 : v <= 0xffff_ffffn ? 5 : 9;
}

// ---------------------------------------------------------------------------
// CompactSize

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
 * import { encodeCompactSize } from "./messages.ts";
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
 * import { decodeCompactSize } from "./messages.ts";
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

// ---------------------------------------------------------------------------
// Addresses

function isIpv4Mapped(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/**
 * Formats a 16-byte address: dotted quad for IPv4-mapped addresses
 * (`::ffff:a.b.c.d` → `"a.b.c.d"`), RFC 5952 IPv6 text otherwise.
 *
 * @example
 * ```ts
 * import { ipFromString, ipToString } from "./messages.ts";
 * console.assert(ipToString(ipFromString("1.2.3.4")) === "1.2.3.4");
 * console.assert(ipToString(ipFromString("2001:DB8:0:0:0:0:0:1")) === "2001:db8::1");
 * ```
 */
export function ipToString(ip: Uint8Array): string {
  checkBytes("ip", ip, 16);
  if (isIpv4Mapped(ip)) return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip[i] << 8) | ip[i + 1]);
  // RFC 5952: compress the first longest run of two or more zero groups.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    groups.slice(from, to).map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseHexGroups(text: string): number[] | undefined {
  if (text === "") return [];
  const out: number[] = [];
  for (const g of text.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  // An embedded IPv4 tail ("::ffff:1.2.3.4") stands for the last two groups.
  let tail: number[] = [];
  let head = text;
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.indexOf(".", lastColon) >= 0) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    head = text.slice(0, lastColon + 1);
    // keep "::" intact ("::1.2.3.4" → head "::"); drop a single trailing ":"
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  let groups: number[];
  if (halves.length === 1) {
    const all = parseHexGroups(halves[0]);
    if (!all || all.length + tail.length !== 8) return undefined;
    groups = all;
  } else if (halves.length === 2) {
    const left = parseHexGroups(halves[0]);
    const right = parseHexGroups(halves[1]);
    if (!left || !right) return undefined;
    const zeros = 8 - left.length - right.length - tail.length;
    if (zeros < 1) return undefined;
    groups = [...left, ...new Array<number>(zeros).fill(0), ...right];
  } else {
    return undefined;
  }
  groups.push(...tail);
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >>> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  return out;
}

/**
 * Parses an IPv4 dotted quad (into its IPv4-mapped form) or IPv6 text into
 * the 16-byte form `version` carries. Throws `TypeError` on anything else
 * (no brackets, zone IDs or leading zeros in IPv4 parts).
 *
 * @example
 * ```ts
 * import { ipFromString } from "./messages.ts";
 * const ip = ipFromString("127.0.0.1");
 * console.assert(ip[10] === 0xff && ip[11] === 0xff && ip[12] === 127);
 * console.assert(ipFromString("::1")[15] === 1);
 * ```
 */
export function ipFromString(text: string): Uint8Array {
  if (typeof text !== "string") throw new TypeError(`ip must be a string, got ${typeof text}`);
  const v4 = text.includes(":") ? undefined : parseIpv4(text);
  if (v4) {
    const out = new Uint8Array(16);
    out[10] = 0xff;
    out[11] = 0xff;
    out.set(v4, 12);
    return out;
  }
  const v6 = text.includes(":") ? parseIpv6(text) : undefined;
  if (!v6) throw new TypeError(`ip must be an IPv4 or IPv6 address, got ${JSON.stringify(text)}`);
  return v6;
}

// ---------------------------------------------------------------------------
// version

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

function readVersionAddress(r: Reader, field: string): VersionAddress {
  const services = r.u64le(`${field}.services`);
  const ip = r.bytes(16, `${field}.ip`);
  const port = r.u16be(`${field}.port`);
  return { services, ip, port };
}

function checkVersionAddress(name: string, value: unknown): VersionAddress {
  const a = checkObject(name, value);
  return {
    services: checkBig(`${name}.services`, a.services, 0n, MAX_U64),
    ip: checkBytes(`${name}.ip`, a.ip, 16),
    port: checkInt(`${name}.port`, a.port, 0, 0xffff),
  };
}

function writeVersionAddress(w: Writer, a: VersionAddress): void {
  w.u64le(a.services);
  w.bytes(a.ip);
  w.u16be(a.port);
}

/**
 * Encodes a `version` payload, always including the relay byte.
 *
 * @example
 * ```ts
 * import { decodeVersion, encodeVersion, ipFromString, NODE_NETWORK } from "./messages.ts";
 * const addr = { services: 0n, ip: ipFromString("::"), port: 0 };
 * const payload = encodeVersion({
 *   protocolVersion: 70016, services: NODE_NETWORK, timestamp: 1700000000n,
 *   addrRecv: addr, addrFrom: addr, nonce: 42n, userAgent: "/demo:0.1/",
 *   startHeight: 0, relay: true,
 * });
 * console.assert(decodeVersion(payload).userAgent === "/demo:0.1/");
 * ```
 */
export function encodeVersion(value: VersionPayload): Uint8Array {
  const v = checkObject("version", value);
  const protocolVersion = checkInt("version.version", v.protocolVersion, -(2 ** 31), 2 ** 31 - 1);
  const services = checkBig("version.services", v.services, 0n, MAX_U64);
  const timestamp = checkBig("version.timestamp", v.timestamp, -(1n << 63n), (1n << 63n) - 1n);
  const addrRecv = checkVersionAddress("version.addr_recv", v.addrRecv);
  const addrFrom = checkVersionAddress("version.addr_from", v.addrFrom);
  const nonce = checkBig("version.nonce", v.nonce, 0n, MAX_U64);
  if (typeof v.userAgent !== "string") {
    throw new TypeError(`version.user_agent must be a string, got ${typeof v.userAgent}`);
  }
  const ua = utf8Encoder.encode(v.userAgent);
  if (ua.length > MAX_USER_AGENT_LENGTH) {
    throw new RangeError(
      `version.user_agent must be at most ${MAX_USER_AGENT_LENGTH} bytes, got ${ua.length}`,
    );
  }
  const startHeight = checkInt("version.start_height", v.startHeight, -(2 ** 31), 2 ** 31 - 1);
  if (typeof v.relay !== "boolean") {
    throw new TypeError(`version.relay must be a boolean, got ${typeof v.relay}`);
  }
  const uaLen = BigInt(ua.length);
  const w = new Writer(4 + 8 + 8 + 26 + 26 + 8 + compactSizeLen(uaLen) + ua.length + 4 + 1);
  w.u32le(protocolVersion);
  w.u64le(services);
  w.u64le(timestamp);
  writeVersionAddress(w, addrRecv);
  writeVersionAddress(w, addrFrom);
  w.u64le(nonce);
  w.compactSize(uaLen);
  w.bytes(ua);
  w.u32le(startHeight);
  w.u8(v.relay ? 1 : 0);
  return w.out;
}

/**
 * Decodes a `version` payload. Every field up to the start height is
 * required (all peers since protocol 209 send them); a missing relay byte
 * means `relay = true`, as in Bitcoin Core; bytes after it are ignored.
 * The user agent is decoded as UTF-8, invalid sequences replaced by U+FFFD.
 *
 * @example
 * ```ts
 * import { decodeVersion } from "./messages.ts";
 * try {
 *   decodeVersion(new Uint8Array(10));
 * } catch (e) {
 *   console.assert((e as Error).message === "version.services: truncated");
 * }
 * ```
 */
export function decodeVersion(payload: Uint8Array): VersionPayload {
  checkBytes("payload", payload);
  const r = new Reader(payload);
  const protocolVersion = r.i32le("version.version");
  const services = r.u64le("version.services");
  const timestamp = r.i64le("version.timestamp");
  const addrRecv = readVersionAddress(r, "version.addr_recv");
  const addrFrom = readVersionAddress(r, "version.addr_from");
  const nonce = r.u64le("version.nonce");
  const uaLen = r.size("version.user_agent", MAX_USER_AGENT_LENGTH);
  const userAgent = utf8Decoder.decode(r.view(uaLen, "version.user_agent"));
  const startHeight = r.i32le("version.start_height");
  const relay = r.remaining === 0 ? true : r.u8("version.relay") !== 0;
  return {
    protocolVersion,
    services,
    timestamp,
    addrRecv,
    addrFrom,
    nonce,
    userAgent,
    startHeight,
    relay,
  };
}

// ---------------------------------------------------------------------------
// ping, pong, feefilter, empty messages

function encodeNonce(type: "ping" | "pong", value: PingPayload): Uint8Array {
  const v = checkObject(type, value);
  const nonce = checkBig(`${type}.nonce`, v.nonce, 0n, MAX_U64);
  const w = new Writer(8);
  w.u64le(nonce);
  return w.out;
}

function decodeNonce(type: "ping" | "pong", payload: Uint8Array): PingPayload {
  checkBytes("payload", payload);
  const r = new Reader(payload);
  const nonce = r.u64le(`${type}.nonce`);
  r.end(type);
  return { nonce };
}

/**
 * Encodes a `ping` payload: the nonce as 8 little-endian bytes.
 *
 * @example
 * ```ts
 * import { encodePing } from "./messages.ts";
 * console.assert(encodePing({ nonce: 1n })[0] === 1);
 * ```
 */
export function encodePing(value: PingPayload): Uint8Array {
  return encodeNonce("ping", value);
}

/**
 * Decodes a `ping` payload (exactly 8 bytes; BIP31 pings without a nonce
 * predate protocol 60001 and are rejected as truncated).
 *
 * @example
 * ```ts
 * import { decodePing } from "./messages.ts";
 * console.assert(decodePing(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0])).nonce === 2n);
 * ```
 */
export function decodePing(payload: Uint8Array): PingPayload {
  return decodeNonce("ping", payload);
}

/**
 * Encodes a `pong` payload (the nonce of the `ping` it answers).
 *
 * @example
 * ```ts
 * import { encodePong } from "./messages.ts";
 * console.assert(encodePong({ nonce: 1n << 56n })[7] === 1);
 * ```
 */
export function encodePong(value: PingPayload): Uint8Array {
  return encodeNonce("pong", value);
}

/**
 * Decodes a `pong` payload (exactly 8 bytes).
 *
 * @example
 * ```ts
 * import { decodePong } from "./messages.ts";
 * console.assert(decodePong(new Uint8Array(8)).nonce === 0n);
 * ```
 */
export function decodePong(payload: Uint8Array): PingPayload {
  return decodeNonce("pong", payload);
}

/**
 * Encodes a `feefilter` payload: the fee rate as a little-endian int64.
 *
 * @example
 * ```ts
 * import { encodeFeeFilter } from "./messages.ts";
 * console.assert(encodeFeeFilter({ feeRate: 1000n })[1] === 0x03);
 * ```
 */
export function encodeFeeFilter(value: FeeFilterPayload): Uint8Array {
  const v = checkObject("feefilter", value);
  const feeRate = checkBig("feefilter.fee_rate", v.feeRate, -(1n << 63n), (1n << 63n) - 1n);
  const w = new Writer(8);
  w.u64le(feeRate);
  return w.out;
}

/**
 * Decodes a `feefilter` payload (exactly 8 bytes). The rate is signed and
 * not range-checked: Bitcoin Core ignores values outside its money range.
 *
 * @example
 * ```ts
 * import { decodeFeeFilter } from "./messages.ts";
 * console.assert(decodeFeeFilter(new Uint8Array([0xe8, 3, 0, 0, 0, 0, 0, 0])).feeRate === 1000n);
 * ```
 */
export function decodeFeeFilter(payload: Uint8Array): FeeFilterPayload {
  checkBytes("payload", payload);
  const r = new Reader(payload);
  const feeRate = r.i64le("feefilter.fee_rate");
  r.end("feefilter");
  return { feeRate };
}

function decodeEmpty(type: string, payload: Uint8Array): EmptyPayload {
  checkBytes("payload", payload);
  new Reader(payload).end(type);
  return {};
}

// ---------------------------------------------------------------------------
// addrv2

function checkAddrV2Entry(name: string, value: unknown): AddrV2Entry {
  const e = checkObject(name, value);
  const networkId = checkInt(`${name}.network_id`, e.networkId, 0, 255);
  const addr = checkBytes(`${name}.addr`, e.addr);
  const required = BIP155_ADDRESS_LENGTH[networkId];
  if (required !== undefined && addr.length !== required) {
    throw new RangeError(
      `${name}.addr must be ${required} bytes for network ${networkId}, got ${addr.length}`,
    );
  }
  if (addr.length > MAX_ADDRV2_SIZE) {
    throw new RangeError(`${name}.addr must be at most ${MAX_ADDRV2_SIZE} bytes`);
  }
  return {
    time: checkInt(`${name}.time`, e.time, 0, 0xffff_ffff),
    services: checkBig(`${name}.services`, e.services, 0n, MAX_U64),
    networkId,
    addr,
    port: checkInt(`${name}.port`, e.port, 0, 0xffff),
  };
}

/**
 * Encodes an `addrv2` payload (BIP155). Known networks need their exact
 * address length; at most {@linkcode MAX_ADDR_TO_SEND} entries.
 *
 * @example
 * ```ts
 * import { BIP155_NETWORK, decodeAddrV2, encodeAddrV2 } from "./messages.ts";
 * const payload = encodeAddrV2({ addresses: [{
 *   time: 1700000000, services: 9n, networkId: BIP155_NETWORK.IPV4,
 *   addr: new Uint8Array([1, 2, 3, 4]), port: 8333,
 * }] });
 * console.assert(decodeAddrV2(payload).addresses[0].port === 8333);
 * ```
 */
export function encodeAddrV2(value: AddrV2Payload): Uint8Array {
  const v = checkObject("addrv2", value);
  if (!Array.isArray(v.addresses)) {
    throw new TypeError("addrv2.addresses must be an array");
  }
  if (v.addresses.length > MAX_ADDR_TO_SEND) {
    throw new RangeError(
      `addrv2.addresses must have at most ${MAX_ADDR_TO_SEND} entries, got ${v.addresses.length}`,
    );
  }
  const entries = v.addresses.map((e, i) => checkAddrV2Entry(`addrv2[${i}]`, e));
  let size = compactSizeLen(BigInt(entries.length));
  for (const e of entries) {
    size += 4 + compactSizeLen(e.services) + 1 + compactSizeLen(BigInt(e.addr.length)) +
      e.addr.length + 2;
  }
  const w = new Writer(size);
  w.compactSize(BigInt(entries.length));
  for (const e of entries) {
    w.u32le(e.time);
    w.compactSize(e.services);
    w.u8(e.networkId);
    w.compactSize(BigInt(e.addr.length));
    w.bytes(e.addr);
    w.u16be(e.port);
  }
  return w.out;
}

/**
 * Decodes an `addrv2` payload (BIP155): the count is checked against
 * {@linkcode MAX_ADDR_TO_SEND} before any entry is read; known networks
 * must carry their exact address length, any address at most
 * {@linkcode MAX_ADDRV2_SIZE} bytes; no trailing bytes.
 *
 * @example
 * ```ts
 * import { decodeAddrV2 } from "./messages.ts";
 * console.assert(decodeAddrV2(new Uint8Array([0])).addresses.length === 0);
 * ```
 */
export function decodeAddrV2(payload: Uint8Array): AddrV2Payload {
  checkBytes("payload", payload);
  const r = new Reader(payload);
  const count = r.size("addrv2.count", MAX_ADDR_TO_SEND);
  const addresses: AddrV2Entry[] = [];
  for (let i = 0; i < count; i++) {
    const field = `addrv2[${i}]`;
    const time = r.u32le(`${field}.time`);
    const services = r.compactSize(`${field}.services`, undefined);
    const networkId = r.u8(`${field}.network_id`);
    const length = r.size(`${field}.addr`, MAX_ADDRV2_SIZE);
    const required = BIP155_ADDRESS_LENGTH[networkId];
    if (required !== undefined && length !== required) {
      throw malformed(
        `${field}.addr`,
        `length ${length} is invalid for network ${networkId} (must be ${required})`,
      );
    }
    const addr = r.bytes(length, `${field}.addr`);
    const port = r.u16be(`${field}.port`);
    addresses.push({ time, services, networkId, addr, port });
  }
  r.end("addrv2");
  return { addresses };
}

// ---------------------------------------------------------------------------
// Generic

/**
 * Whether this module knows how to encode and decode `type`.
 *
 * @example
 * ```ts
 * import { isKnownMessageType } from "./messages.ts";
 * console.assert(isKnownMessageType("ping") && !isKnownMessageType("tx"));
 * ```
 */
export function isKnownMessageType(type: string): type is KnownMessageType {
  switch (type) {
    case "version":
    case "verack":
    case "sendaddrv2":
    case "wtxidrelay":
    case "sendheaders":
    case "ping":
    case "pong":
    case "feefilter":
    case "addrv2":
      return true;
    default:
      return false;
  }
}

function checkType(type: unknown): string {
  if (typeof type !== "string") throw new TypeError(`type must be a string, got ${typeof type}`);
  return type;
}

/**
 * Encodes the payload of a message: typed objects for the known types
 * ({@linkcode PayloadTypes}), `{ raw }` for any other type (returned as is,
 * not copied).
 *
 * @example
 * ```ts
 * import { encodePayload } from "./messages.ts";
 * console.assert(encodePayload("verack", {}).length === 0);
 * console.assert(encodePayload("ping", { nonce: 7n })[0] === 7);
 * console.assert(encodePayload("tx", { raw: new Uint8Array([1, 2]) }).length === 2);
 * ```
 */
export function encodePayload<T extends string>(type: T, value: PayloadFor<T>): Uint8Array {
  checkType(type);
  const v = value as unknown;
  switch (type) {
    case "version":
      return encodeVersion(v as VersionPayload);
    case "verack":
    case "sendaddrv2":
    case "wtxidrelay":
    case "sendheaders":
      checkObject(type, v);
      return new Uint8Array(0);
    case "ping":
      return encodePing(v as PingPayload);
    case "pong":
      return encodePong(v as PingPayload);
    case "feefilter":
      return encodeFeeFilter(v as FeeFilterPayload);
    case "addrv2":
      return encodeAddrV2(v as AddrV2Payload);
    default:
      return checkBytes(`${type}.raw`, checkObject(type, v).raw);
  }
}

/**
 * Decodes the payload of a message: typed objects for the known types,
 * `{ raw }` (a view of `payload`, not copied) for any other type. Malformed
 * payloads of known types throw {@linkcode Bip324Error} `MALFORMED_MESSAGE`
 * naming the field; empty messages (`verack`, …) must be empty.
 *
 * @example
 * ```ts
 * import { decodePayload } from "./messages.ts";
 * const ping = decodePayload("ping", new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0]));
 * console.assert(ping.nonce === 7n);
 * const tx = decodePayload("tx", new Uint8Array([1, 2]));
 * console.assert(tx.raw.length === 2);
 * ```
 */
export function decodePayload<T extends string>(type: T, payload: Uint8Array): PayloadFor<T> {
  checkType(type);
  let out: AnyPayload;
  switch (type) {
    case "version":
      out = decodeVersion(payload);
      break;
    case "verack":
    case "sendaddrv2":
    case "wtxidrelay":
    case "sendheaders":
      out = decodeEmpty(type, payload);
      break;
    case "ping":
      out = decodePing(payload);
      break;
    case "pong":
      out = decodePong(payload);
      break;
    case "feefilter":
      out = decodeFeeFilter(payload);
      break;
    case "addrv2":
      out = decodeAddrV2(payload);
      break;
    default:
      out = { raw: checkBytes("payload", payload) };
  }
  return out as PayloadFor<T>;
}

/**
 * Decodes a `{ type, payload }` message into a {@linkcode DecodedMessage}
 * for dispatch: check `known`, then switch on `type`.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "./messages.ts";
 * const msg = decodeMessage({ type: "pong", payload: new Uint8Array(8) });
 * if (msg.known && msg.type === "pong") console.assert(msg.value.nonce === 0n);
 * ```
 */
export function decodeMessage(message: Message): DecodedMessage {
  const m = checkObject("message", message);
  const type = checkType(m.type);
  const payload = checkBytes("message.payload", m.payload);
  if (!isKnownMessageType(type)) return { known: false, type, raw: payload };
  return { known: true, type, value: decodePayload(type, payload) } as KnownMessage;
}

/**
 * Encodes a {@linkcode DecodedMessage} back into a `{ type, payload }` message.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./messages.ts";
 * const m = encodeMessage({ known: true, type: "ping", value: { nonce: 1n } });
 * console.assert(m.type === "ping" && m.payload.length === 8);
 * ```
 */
export function encodeMessage(message: DecodedMessage): Message {
  const m = checkObject("message", message);
  const type = checkType(m.type);
  if (m.known === true) {
    if (!isKnownMessageType(type)) throw new TypeError(`message.type "${type}" is not known`);
    return { type, payload: encodePayload(type, m.value as PayloadFor<typeof type>) };
  }
  return { type, payload: checkBytes("message.raw", m.raw) };
}
