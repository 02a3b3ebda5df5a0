/**
 * 16-byte network addresses as `version` carries them: text conversion
 * ({@linkcode ipToString}, {@linkcode ipFromString}) and the
 * {@linkcode VersionAddress} record.
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";
import { checkBig, checkInt, checkObject, MAX_U64, type Reader, type Writer } from "./wire.ts";

/** A network address as the `version` message carries it (no time field). */
export interface VersionAddress {
  /** Service flags of the address (uint64). */
  services: bigint;
  /** 16-byte IPv6 address; IPv4 is IPv4-mapped (`::ffff:a.b.c.d`). See {@linkcode ipToString}. */
  ip: Uint8Array;
  /** TCP port, 0..65535 (big-endian on the wire). */
  port: number;
}

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
 * import { ipFromString, ipToString } from "@bip324/bip324/bitcoin";
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
 * import { ipFromString } from "@bip324/bip324/bitcoin";
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

/** Reads a `version` address (services, IPv6, big-endian port). Internal. */
export function readVersionAddress(r: Reader, field: string): VersionAddress {
  const services = r.u64le(`${field}.services`);
  const ip = r.bytes(16, `${field}.ip`);
  const port = r.u16be(`${field}.port`);
  return { services, ip, port };
}

/** Checks a caller's `version` address. Internal. */
export function checkVersionAddress(name: string, value: unknown): VersionAddress {
  const a = checkObject(name, value);
  return {
    services: checkBig(`${name}.services`, a.services, 0n, MAX_U64),
    ip: checkBytes(`${name}.ip`, a.ip, 16),
    port: checkInt(`${name}.port`, a.port, 0, 0xffff),
  };
}

/** Writes a `version` address (26 bytes). Internal. */
export function writeVersionAddress(w: Writer, a: VersionAddress): void {
  w.u64le(a.services);
  w.bytes(a.ip);
  w.u16be(a.port);
}
