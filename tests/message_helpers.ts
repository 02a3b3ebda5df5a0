// Shared by the Bitcoin message codec tests.
import assert from "node:assert/strict";
import { Bip324Error } from "../layers/errors.ts";
import {
  type AddrV2Entry,
  BIP155_NETWORK,
  ipFromString,
  NODE_NETWORK,
  NODE_NETWORK_LIMITED,
  NODE_P2P_V2,
  NODE_WITNESS,
  type VersionPayload,
} from "../layers/bitcoin/mod.ts";

/** Asserts that `fn` throws MALFORMED_MESSAGE (origin peer) with exactly `message`. */
export function assertMalformed(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Bip324Error, `expected Bip324Error, got ${e}`);
    assert.equal(e.code, "MALFORMED_MESSAGE");
    assert.equal(e.origin, "peer");
    assert.equal(e.message, message);
    return true;
  });
}

export function cat(...parts: (number[] | Uint8Array)[]): Uint8Array {
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

export const ascii = (s: string) => [...new TextEncoder().encode(s)];

/** A version payload used across the codec tests. */
export const SAMPLE_VERSION: VersionPayload = {
  protocolVersion: 70016,
  services: NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED | NODE_P2P_V2,
  timestamp: 0x65432100n,
  addrRecv: { services: 0n, ip: ipFromString("1.2.3.4"), port: 8333 },
  addrFrom: { services: NODE_NETWORK, ip: ipFromString("::"), port: 0 },
  nonce: 0x0123456789abcdefn,
  userAgent: "/Satoshi:27.0.0/",
  startHeight: 840000,
  relay: true,
};

/** The same version payload, written out field by field from the protocol docs. */
export const SAMPLE_VERSION_BYTES = cat(
  [0x80, 0x11, 0x01, 0x00], // version 70016 = 0x00011180, int32 LE
  [0x09, 0x0c, 0, 0, 0, 0, 0, 0], // services 1 | 8 | 1024 | 2048 = 0x0c09, uint64 LE
  [0x00, 0x21, 0x43, 0x65, 0, 0, 0, 0], // timestamp 0x65432100, int64 LE
  [0, 0, 0, 0, 0, 0, 0, 0], // addr_recv.services
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4], // addr_recv.ip ::ffff:1.2.3.4
  [0x20, 0x8d], // addr_recv.port 8333, BIG-endian
  [1, 0, 0, 0, 0, 0, 0, 0], // addr_from.services
  new Uint8Array(16), // addr_from.ip ::
  [0, 0], // addr_from.port
  [0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01], // nonce, uint64 LE
  [16], // user agent length (CompactSize)
  ascii("/Satoshi:27.0.0/"),
  [0x40, 0xd1, 0x0c, 0x00], // start height 840000 = 0x0cd140, int32 LE
  [1], // relay
);

export const IPV4_ENTRY: AddrV2Entry = {
  time: 0x66000000,
  services: NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED,
  networkId: BIP155_NETWORK.IPV4,
  addr: new Uint8Array([1, 2, 3, 4]),
  port: 8333,
};

export const IPV4_ENTRY_BYTES = cat(
  [0x00, 0x00, 0x00, 0x66], // time, uint32 LE
  [0xfd, 0x09, 0x04], // services 0x409 as CompactSize
  [1], // network: IPv4
  [4, 1, 2, 3, 4], // address length and bytes
  [0x20, 0x8d], // port 8333, big-endian
);
