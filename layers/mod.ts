/**
 * The protocol layers. Each has a pure synchronous core and is exposed as a
 * pair of standard Web Streams `Transformer`s (a {@linkcode Layer}), so
 * `new TransformStream(layer.inbound)` is that layer as an independent
 * stream, and {@linkcode compose} chains any of them into one stage:
 *
 * | layer | inbound | outbound |
 * | --- | --- | --- |
 * | length (FSChaCha20) | {@linkcode lengthDecoder} | {@linkcode lengthEncoder} |
 * | AEAD (FSChaCha20Poly1305, decoys) | {@linkcode aeadDecryptor} | {@linkcode aeadEncryptor} |
 * | shaping (decoy policy) | — | {@linkcode shapingLayer} |
 * | aliasing (short IDs) | {@linkcode aliasDecoder} | {@linkcode aliasEncoder} |
 * | v1 framing | {@linkcode v1Decoder} | {@linkcode v1Encoder} |
 *
 * The handshake is the sans-I/O {@linkcode Handshake} state machine with its
 * async driver {@linkcode performHandshake}; rekeying is the
 * {@linkcode RekeySchedule} both ciphers share (in `@bip324/bip324/cipher`).
 *
 * @example The v2 outbound and inbound stages, composed by hand
 * ```ts
 * import {
 *   aeadDecryptor, aeadEncryptor, aliasDecoder, aliasEncoder, compose, lengthDecoder, lengthEncoder,
 * } from "@bip324/bip324/layers";
 * import { Bip324Cipher } from "@bip324/bip324";
 *
 * const a = Bip324Cipher.create(), b = Bip324Cipher.create();
 * a.initialize(b.ourEllswift, true);
 * b.initialize(a.ourEllswift, false);
 * const send = compose(aliasEncoder(), aeadEncryptor(a.ciphers.sendPacket), lengthEncoder(a.ciphers.sendLength));
 * const receive = compose(lengthDecoder(b.ciphers.recvLength), aeadDecryptor(b.ciphers.recvPacket), aliasDecoder());
 * const out = ReadableStream.from([{ type: "ping", payload: new Uint8Array(8) }])
 *   .pipeThrough(new TransformStream(send))
 *   .pipeThrough(new TransformStream(receive));
 * const { value } = await out.getReader().read();
 * console.assert(value?.type === "ping");
 * ```
 *
 * @module
 */

export type { CallerLayer, Layer } from "./layer.ts";
export type { Allocator } from "./chunk_marks.ts";
export { compose, streamTransformer } from "./session/compose.ts";
export {
  DEFAULT_MAX_MESSAGE_SIZE,
  ELLSWIFT_LEN,
  Handshake,
  MAX_GARBAGE_LEN,
  MAX_KEPT_VERSION_CONTENTS,
} from "./handshake/handshake.ts";
export type {
  HandshakeOptions,
  HandshakeResult,
  HandshakeState,
  Role,
} from "./handshake/handshake.ts";
export { DEFAULT_HANDSHAKE_TIMEOUT, performHandshake } from "./handshake/driver.ts";
export type { HandshakeDriverOptions } from "./handshake/driver.ts";
export { lengthDecoder, lengthEncoder, lengthLayer } from "./length/length_layer.ts";
export type {
  LengthDecoderOptions,
  LengthEncoderOptions,
  LengthLayerOptions,
} from "./length/length_layer.ts";
export { aeadDecryptor, aeadEncryptor, aeadLayer } from "./aead/aead_layer.ts";
export type {
  AeadDecryptorOptions,
  AeadEncryptorOptions,
  AeadLayerOptions,
} from "./aead/aead_layer.ts";
export { aliasDecoder, aliasEncoder, aliasingLayer } from "./aliasing/aliasing_layer.ts";
export type { AliasEncoderOptions, AliasingOptions } from "./aliasing/aliasing_layer.ts";
export {
  BIP324_SHORT_IDS,
  BIP434_SHORT_IDS,
  checkMessageType,
  CORE_SHORT_IDS,
  DEFAULT_MESSAGE_TYPES,
  MESSAGE_TYPE_LEN,
  MessageTypeTable,
  PROPOSED_SHORT_IDS,
} from "./aliasing/aliasing.ts";
export type { Message } from "./aliasing/aliasing.ts";
export { randomDecoys, shapingLayer } from "./shaping.ts";
export type { RandomDecoyOptions, ShapingLayerOptions, ShapingPolicy } from "./shaping.ts";
export { v1Decoder, v1Encoder, v1Layer } from "./v1/v1_layer.ts";
export type { V1LayerOptions } from "./v1/v1_layer.ts";
export {
  encodeV1Message,
  MAX_PROTOCOL_MESSAGE_LENGTH,
  V1_CHECKSUM_LEN,
  V1_COMMAND_LEN,
  V1_HEADER_LEN,
  v1Checksum,
  V1Decoder,
} from "./v1/v1_framing.ts";
export type { V1DecoderOptions } from "./v1/v1_framing.ts";
