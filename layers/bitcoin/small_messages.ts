/**
 * The small fixed-size payloads: `ping`, `pong` (a nonce), `feefilter` (a
 * fee rate), and the empty ones (`verack`, `sendaddrv2`, `wtxidrelay`,
 * `sendheaders`).
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";
import { checkBig, checkObject, MAX_U64, Reader, Writer } from "./wire.ts";

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
 * import { encodePing } from "@bip324/bip324/bitcoin";
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
 * import { decodePing } from "@bip324/bip324/bitcoin";
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
 * import { encodePong } from "@bip324/bip324/bitcoin";
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
 * import { decodePong } from "@bip324/bip324/bitcoin";
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
 * import { encodeFeeFilter } from "@bip324/bip324/bitcoin";
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
 * import { decodeFeeFilter } from "@bip324/bip324/bitcoin";
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

/** Checks that an empty message is empty. Internal. */
export function decodeEmpty(type: string, payload: Uint8Array): EmptyPayload {
  checkBytes("payload", payload);
  new Reader(payload).end(type);
  return {};
}
