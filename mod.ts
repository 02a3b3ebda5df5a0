/**
 * BIP324 — Bitcoin's version 2 P2P encrypted transport — for Deno, edge
 * runtimes and browsers.
 *
 * The library is a stack of small layers. Each has a pure, synchronous core
 * (testable with the BIP's vectors) and, where data flows, a Web Streams
 * wrapper:
 *
 * - handshake: ElligatorSwift keys, x-only ECDH, the HKDF key schedule;
 * - length cipher (FSChaCha20) and packet AEAD (FSChaCha20Poly1305), which
 *   share the 224-packet rekey schedule;
 * - aliasing: message types ↔ one-byte short IDs.
 *
 * {@linkcode connect} / {@linkcode listen} (TCP), {@linkcode connectWebSocket} /
 * {@linkcode listenWebSocket} and {@linkcode openSession} (any byte pair, e.g.
 * {@linkcode memoryPair}) give a {@linkcode Session}: a readable and a
 * writable of `{ type, payload }` messages. {@linkcode Bip324Cipher} drives
 * the whole packet cipher directly, with the same shape as Bitcoin Core's
 * `BIP324Cipher`.
 *
 * @example A session over TCP
 * ```ts ignore
 * import { connect } from "@bip324/bip324";
 *
 * const session = await connect({ hostname: "127.0.0.1", port: 18444, network: "regtest" });
 * console.log("session id", session.sessionId);
 * const writer = session.writable.getWriter();
 * await writer.write({ type: "ping", payload: new Uint8Array(8) });
 * for await (const message of session.readable) console.log(message.type);
 * ```
 *
 * @example Two peers agree on a session and exchange one packet
 * ```ts
 * import { Bip324Cipher } from "@bip324/bip324";
 *
 * const initiator = Bip324Cipher.create();
 * const responder = Bip324Cipher.create();
 * initiator.initialize(responder.ourEllswift, true, "regtest");
 * responder.initialize(initiator.ourEllswift, false, "regtest");
 *
 * const packet = initiator.encrypt(new TextEncoder().encode("hello"));
 * const length = responder.decryptLength(packet.subarray(0, 3));
 * const { contents } = responder.decrypt(packet.subarray(3, 3 + length + 17));
 * console.log(new TextDecoder().decode(contents)); // "hello"
 * ```
 *
 * @module
 */

export { Bip324Error } from "./layers/errors.ts";
export type { Bip324ErrorCode, Bip324ErrorOptions, Bip324ErrorOrigin } from "./layers/errors.ts";
export {
  Bip324Cipher,
  decryptPacket,
  encryptPacket,
  HEADER_LEN,
  IGNORE_BIT,
  MAX_CONTENTS_LENGTH,
  PACKET_OVERHEAD,
} from "./layers/packet_cipher.ts";
export type { DecryptedPacket, DirectionalCiphers } from "./layers/packet_cipher.ts";
export {
  ellswiftCreate,
  ellswiftDecode,
  ellswiftEcdhXonly,
  taggedHash,
  v2Ecdh,
  xswiftecInv,
} from "./layers/handshake/ellswift.ts";
export { deriveSessionKeys, GARBAGE_TERMINATOR_LEN } from "./layers/handshake/key_schedule.ts";
export type { SessionKeys } from "./layers/handshake/key_schedule.ts";
export { FSChaCha20, LENGTH_FIELD_LEN } from "./layers/length_cipher.ts";
export { FSChaCha20Poly1305, TAG_LEN } from "./layers/aead.ts";
export { REKEY_INTERVAL, RekeySchedule } from "./layers/rekeying.ts";
export {
  BIP324_SHORT_IDS,
  checkMessageType,
  DEFAULT_MESSAGE_TYPES,
  MESSAGE_TYPE_LEN,
  MessageTypeTable,
  PROPOSED_SHORT_IDS,
} from "./layers/aliasing.ts";
export type { Message } from "./layers/aliasing.ts";
export { DEFAULT_PORT, NETWORK_MAGIC, networkMagic, networkName } from "./layers/network.ts";
export type { Network } from "./layers/network.ts";
export { bytesEqual, fromHex, toHex } from "./layers/bytes.ts";

// Sessions, layers and transports
export { openSession, Session } from "./layers/session.ts";
export type {
  ExtraLayers,
  HandshakeInfo,
  OpenSessionOptions,
  SessionOptions,
  SessionStats,
} from "./layers/session.ts";
export {
  DEFAULT_MAX_MESSAGE_SIZE,
  ELLSWIFT_LEN,
  Handshake,
  MAX_GARBAGE_LEN,
} from "./layers/handshake/handshake.ts";
export type {
  HandshakeOptions,
  HandshakeResult,
  HandshakeState,
  Role,
} from "./layers/handshake/handshake.ts";
export { DEFAULT_HANDSHAKE_TIMEOUT, performHandshake } from "./layers/handshake/driver.ts";
export type { BytePair, HandshakeDriverOptions } from "./layers/handshake/driver.ts";
export { pipeline, prepend, stack } from "./layers/pipeline.ts";
export type { Duplex, Layer } from "./layers/pipeline.ts";
export { LengthDecoderStream, LengthEncoderStream, lengthLayer } from "./layers/length_stream.ts";
export type { LengthDecoderOptions, LengthLayerOptions } from "./layers/length_stream.ts";
export { AeadDecryptStream, AeadEncryptStream, aeadLayer } from "./layers/aead_stream.ts";
export type {
  AeadDecryptOptions,
  AeadEncryptOptions,
  AeadLayerOptions,
} from "./layers/aead_stream.ts";
export { AliasDecoderStream, AliasEncoderStream, aliasingLayer } from "./layers/aliasing_stream.ts";
export type { AliasingOptions } from "./layers/aliasing_stream.ts";
export { randomDecoys } from "./layers/shaping.ts";
export type { RandomDecoyOptions, ShapingPolicy } from "./layers/shaping.ts";
export { acceptSessions, DEFAULT_MAX_PENDING_HANDSHAKES } from "./layers/listener.ts";
export type { AcceptOptions, IncomingConnection, SessionListener } from "./layers/listener.ts";
export { ByteQueue } from "./layers/byte_queue.ts";
export { memoryPair } from "./transports/memory.ts";
export type { MemoryPairOptions } from "./transports/memory.ts";
export { connect, connectTcp, connPair, listen, listenTcp } from "./transports/tcp.ts";
export type { ConnectOptions, ListenOptions, TcpAddress } from "./transports/tcp.ts";
export {
  connectWebSocket,
  listenWebSocket,
  upgradeToPair,
  webSocketPair,
} from "./transports/websocket.ts";
export type {
  ConnectWebSocketOptions,
  ListenWebSocketOptions,
  WebSocketPairOptions,
} from "./transports/websocket.ts";

// Bitcoin P2P messages and the v1 transport framing
export * from "./layers/messages.ts";
export * from "./layers/v1_framing.ts";
export { openV1Session, V1DecoderStream, V1EncoderStream, v1Layer } from "./layers/v1_stream.ts";
export type { OpenV1SessionOptions, V1LayerOptions } from "./layers/v1_stream.ts";
export { peerHandshake, pingPeer, PROTOCOL_VERSION } from "./layers/peer_handshake.ts";
export type { PeerHandshakeOptions, PeerInfo } from "./layers/peer_handshake.ts";
export type { SessionInit } from "./layers/session.ts";
export type { Stack } from "./layers/pipeline.ts";
export { V2Decoder, V2Encoder } from "./layers/v2_fused.ts";
export type { V2DecoderOptions, V2EncoderOptions } from "./layers/v2_fused.ts";
export type { FusedCodec } from "./layers/session.ts";
export type { FSChaCha20Poly1305Options } from "./layers/aead.ts";
export {
  AUTO_NATIVE_MIN,
  createAeadBackend,
  nativeAeadAvailable,
} from "./layers/crypto/backend.ts";
export type { AeadBackend, AeadBackendKind } from "./layers/crypto/backend.ts";
export type { Bip324CipherOptions } from "./layers/packet_cipher.ts";
