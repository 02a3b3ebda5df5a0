/**
 * Bitcoin P2P message payloads, the generic entry: encode and decode the
 * messages a transport needs to bring a connection up and keep it alive
 * (`version`, `verack`, `sendaddrv2`, `wtxidrelay`, `sendheaders`, `ping`,
 * `pong`, `feefilter`, `addrv2`, BIP434 `feature`) by type, and dispatch a
 * `{ type, payload }` message to its typed form. Each payload's codec lives
 * in its own file (`version.ts`, `small_messages.ts`, `addrv2.ts`,
 * `feature.ts`, built on `compact_size.ts` and `addresses.ts`).
 *
 * The codecs are pure and synchronous. Decoders face hostile input: they
 * read each byte once, check every length against a limit before using it,
 * and throw `Bip324Error` `MALFORMED_MESSAGE` (origin `"peer"`)
 * whose message names the field, e.g. `version.user_agent: truncated`.
 * Encoders check their arguments and throw `TypeError`/`RangeError` naming
 * the field.
 *
 * Where the protocol documentation and deployed behaviour differ, the codecs
 * follow Bitcoin Core:
 *
 * - a `version` without the trailing relay byte means `relay = true`; bytes
 *   after the relay byte are ignored;
 * - CompactSize must use the shortest encoding and, when it is a length or a
 *   count, stay at or below `MAX_COMPACT_SIZE`;
 * - `addrv2` addresses of a known network must have that network's length;
 *   unknown network IDs are kept (with their bytes) rather than rejected.
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";
import type { Message } from "../aliasing/aliasing.ts";
import { type AddrV2Payload, decodeAddrV2, encodeAddrV2 } from "./addrv2.ts";
import { decodeFeature, encodeFeature, type FeaturePayload } from "./feature.ts";
import {
  decodeEmpty,
  decodeFeeFilter,
  decodePing,
  decodePong,
  type EmptyPayload,
  encodeFeeFilter,
  encodePing,
  encodePong,
  type FeeFilterPayload,
  type PingPayload,
} from "./small_messages.ts";
import { decodeVersion, encodeVersion, type VersionPayload } from "./version.ts";
import { checkObject } from "./wire.ts";

export type { Message } from "../aliasing/aliasing.ts";

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
  /** `feature` (BIP434) */
  feature: FeaturePayload;
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
  "feature",
]);

/**
 * Whether this module knows how to encode and decode `type`.
 *
 * @example
 * ```ts
 * import { isKnownMessageType } from "@bip324/bip324/bitcoin";
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
    case "feature":
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
 * import { encodePayload } from "@bip324/bip324/bitcoin";
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
    case "feature":
      return encodeFeature(v as FeaturePayload);
    default:
      return checkBytes(`${type}.raw`, checkObject(type, v).raw);
  }
}

/**
 * Decodes the payload of a message: typed objects for the known types,
 * `{ raw }` (a view of `payload`, not copied) for any other type. Malformed
 * payloads of known types throw `Bip324Error` `MALFORMED_MESSAGE`
 * naming the field; empty messages (`verack`, …) must be empty.
 *
 * @example
 * ```ts
 * import { decodePayload } from "@bip324/bip324/bitcoin";
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
    case "feature":
      out = decodeFeature(payload);
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
 * import { decodeMessage } from "@bip324/bip324/bitcoin";
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
 * import { encodeMessage } from "@bip324/bip324/bitcoin";
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
