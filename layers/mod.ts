/**
 * The protocol layers, each a pure synchronous core exposed as a standard
 * Web Streams `Transformer`, plus the handshake state machine and its driver.
 *
 * @module
 */

export {
  DEFAULT_MAX_MESSAGE_SIZE,
  ELLSWIFT_LEN,
  Handshake,
  MAX_GARBAGE_LEN,
} from "./handshake/handshake.ts";
export type {
  HandshakeOptions,
  HandshakeResult,
  HandshakeState,
  Role,
} from "./handshake/handshake.ts";
export { DEFAULT_HANDSHAKE_TIMEOUT, performHandshake } from "./handshake/driver.ts";
export type { HandshakeDriverOptions } from "./handshake/driver.ts";
export { pipeline, prepend, stack } from "./session/pipeline.ts";
export type { Duplex, Layer, Stack } from "./session/pipeline.ts";
export { LengthDecoderStream, LengthEncoderStream, lengthLayer } from "./length/length_layer.ts";
export type { LengthDecoderOptions, LengthLayerOptions } from "./length/length_layer.ts";
export { AeadDecryptStream, AeadEncryptStream, aeadLayer } from "./aead/aead_layer.ts";
export type {
  AeadDecryptOptions,
  AeadEncryptOptions,
  AeadLayerOptions,
} from "./aead/aead_layer.ts";
export {
  AliasDecoderStream,
  AliasEncoderStream,
  aliasingLayer,
} from "./aliasing/aliasing_layer.ts";
export type { AliasingOptions } from "./aliasing/aliasing_layer.ts";
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
export { randomDecoys } from "./shaping.ts";
export type { RandomDecoyOptions, ShapingPolicy } from "./shaping.ts";
export { V1DecoderStream, V1EncoderStream, v1Layer } from "./v1/v1_layer.ts";
export type { V1LayerOptions } from "./v1/v1_layer.ts";
export * from "./v1/v1_framing.ts";
export { REKEY_INTERVAL, RekeySchedule } from "./rekeying.ts";
