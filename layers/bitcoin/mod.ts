/**
 * The Bitcoin application layer above the transport: P2P message payload
 * codecs, the `version`/`verack` exchange ({@linkcode peerHandshake}) with
 * BIP434 feature negotiation, {@linkcode pingPeer}, and the networks (magic
 * bytes, default ports).
 *
 * @example Encoding and decoding a ping
 * ```ts
 * import { decodeMessage, encodeMessage } from "@bip324/bip324/bitcoin";
 *
 * const message = encodeMessage({ known: true, type: "ping", value: { nonce: 7n } });
 * const decoded = decodeMessage(message);
 * console.assert(decoded.known && decoded.type === "ping" && decoded.value.nonce === 7n);
 * ```
 *
 * @module
 */

export {
  decodeMessage,
  decodePayload,
  encodeMessage,
  encodePayload,
  isKnownMessageType,
  KNOWN_MESSAGE_TYPES,
} from "./messages.ts";
export type {
  AnyPayload,
  DecodedMessage,
  KnownMessage,
  KnownMessageType,
  Message,
  PayloadFor,
  PayloadTypes,
  RawPayload,
  UnknownMessage,
} from "./messages.ts";
export { decodeCompactSize, encodeCompactSize, MAX_COMPACT_SIZE } from "./compact_size.ts";
export type { DecodeCompactSizeOptions, DecodedCompactSize } from "./compact_size.ts";
export {
  NODE_BLOOM,
  NODE_COMPACT_FILTERS,
  NODE_NETWORK,
  NODE_NETWORK_LIMITED,
  NODE_NONE,
  NODE_P2P_V2,
  NODE_WITNESS,
} from "./services.ts";
export { ipFromString, ipToString } from "./addresses.ts";
export type { VersionAddress } from "./addresses.ts";
export { decodeVersion, encodeVersion, MAX_USER_AGENT_LENGTH } from "./version.ts";
export type { VersionPayload } from "./version.ts";
export {
  decodeFeeFilter,
  decodePing,
  decodePong,
  encodeFeeFilter,
  encodePing,
  encodePong,
} from "./small_messages.ts";
export type { EmptyPayload, FeeFilterPayload, PingPayload } from "./small_messages.ts";
export {
  BIP155_ADDRESS_LENGTH,
  BIP155_NETWORK,
  decodeAddrV2,
  encodeAddrV2,
  MAX_ADDR_TO_SEND,
  MAX_ADDRV2_SIZE,
} from "./addrv2.ts";
export type { AddrV2Entry, AddrV2Payload } from "./addrv2.ts";
export {
  checkFeatureId,
  decodeFeature,
  encodeFeature,
  FEATURE_VERSION,
  MAX_FEATURE_DATA_LENGTH,
  MAX_FEATURE_ID_LENGTH,
  MIN_FEATURE_ID_LENGTH,
} from "./feature.ts";
export type { FeaturePayload } from "./feature.ts";
export { featureMessages, negotiateFeatures } from "./feature_negotiation.ts";
export type {
  AdvertisedFeature,
  CoordinatedFeature,
  FeatureOutcome,
  FeatureRegistration,
  FeatureVersion,
  VersionedFeature,
} from "./feature_negotiation.ts";
export { featureGuard } from "./feature_guard.ts";
export type { FeatureGuardOptions } from "./feature_guard.ts";
export { MAX_PEER_FEATURES, peerHandshake, pingPeer, PROTOCOL_VERSION } from "./peer_handshake.ts";
export type { PeerHandshakeOptions, PeerInfo } from "./peer_handshake.ts";
export { DEFAULT_PORT, NETWORK_MAGIC, networkMagic, networkName } from "./network.ts";
export type { Network } from "./network.ts";
