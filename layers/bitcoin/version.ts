/**
 * The `version` message payload. Where the protocol documentation and
 * deployed behaviour differ, this follows Bitcoin Core: a `version` without
 * the trailing relay byte means `relay = true` (Core's default, and BIP37's
 * "if missing"); any non-zero relay byte means `true`; bytes after the relay
 * byte are ignored, as Core ignores them (new fields have always been
 * appended at the end).
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";
import {
  checkVersionAddress,
  readVersionAddress,
  type VersionAddress,
  writeVersionAddress,
} from "./addresses.ts";
import {
  checkBig,
  checkInt,
  checkObject,
  compactSizeLen,
  MAX_U64,
  Reader,
  Writer,
} from "./wire.ts";

/** Bitcoin Core's `MAX_SUBVERSION_LENGTH`: the longest `version` user agent, in bytes. */
export const MAX_USER_AGENT_LENGTH = 256;

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

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * Encodes a `version` payload, always including the relay byte.
 *
 * @example
 * ```ts
 * import { decodeVersion, encodeVersion, ipFromString, NODE_NETWORK } from "@bip324/bip324/bitcoin";
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
 * import { decodeVersion } from "@bip324/bip324/bitcoin";
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
