/**
 * The `addrv2` message (BIP155). Addresses of a known network must have that
 * network's length; unknown network IDs are kept (with their bytes) rather
 * than rejected, as Bitcoin Core does.
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";
import {
  checkBig,
  checkInt,
  checkObject,
  compactSizeLen,
  malformed,
  MAX_U64,
  Reader,
  Writer,
} from "./wire.ts";

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
 * import { BIP155_NETWORK, decodeAddrV2, encodeAddrV2 } from "@bip324/bip324/bitcoin";
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
 * import { decodeAddrV2 } from "@bip324/bip324/bitcoin";
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
