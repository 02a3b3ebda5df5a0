/**
 * The Bitcoin application layer above the transport: P2P message payload
 * codecs, the `version`/`verack` exchange ({@linkcode peerHandshake}),
 * {@linkcode pingPeer}, and the networks (magic bytes, default ports).
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

export * from "./messages.ts";
export { peerHandshake, pingPeer, PROTOCOL_VERSION } from "./peer_handshake.ts";
export type { PeerHandshakeOptions, PeerInfo } from "./peer_handshake.ts";
export { DEFAULT_PORT, NETWORK_MAGIC, networkMagic, networkName } from "./network.ts";
export type { Network } from "./network.ts";
