/**
 * The cryptographic cores of BIP324, pure and synchronous, each usable on
 * its own and checked against the BIP's vectors:
 *
 * - {@linkcode Bip324Cipher}: one side's whole packet cipher (Core's shape);
 *   {@linkcode encryptPacket} / {@linkcode decryptPacket} for single packets;
 * - ElligatorSwift and x-only ECDH ({@linkcode ellswiftCreate},
 *   {@linkcode ellswiftDecode}, {@linkcode xswiftecInv}, {@linkcode v2Ecdh}),
 *   whose point arithmetic runs in a WebAssembly module where one may be
 *   compiled ({@linkcode ecWasmAvailable}, {@linkcode initEcWasm}) and on
 *   `bigint`s elsewhere, with identical results;
 * - the HKDF key schedule ({@linkcode deriveSessionKeys});
 * - {@linkcode FSChaCha20} (lengths) and {@linkcode FSChaCha20Poly1305}
 *   (packets), which share the 224-packet {@linkcode RekeySchedule};
 * - the pluggable ChaCha20-Poly1305 backends ({@linkcode createAeadBackend}).
 *
 * @example Encrypting a length and a packet by hand
 * ```ts
 * import { FSChaCha20, FSChaCha20Poly1305 } from "@bip324/bip324/cipher";
 *
 * const key = new Uint8Array(32);
 * const lengthOut = new FSChaCha20(key), lengthIn = new FSChaCha20(key);
 * const field = new Uint8Array(3);
 * lengthOut.encryptLength(5, field);
 * console.assert(lengthIn.decryptLength(field) === 5);
 *
 * const sealer = new FSChaCha20Poly1305(key), opener = new FSChaCha20Poly1305(key);
 * const box = sealer.encrypt(new Uint8Array(0), new Uint8Array([0, 1, 2, 3, 4, 5]));
 * console.assert(opener.decrypt(new Uint8Array(0), box)[5] === 5);
 * ```
 *
 * @module
 */

export {
  Bip324Cipher,
  decryptPacket,
  encryptPacket,
  HEADER_LEN,
  IGNORE_BIT,
  MAX_CONTENTS_LENGTH,
  PACKET_OVERHEAD,
} from "./packet_cipher.ts";
export type { Bip324CipherOptions, DecryptedPacket, DirectionalCiphers } from "./packet_cipher.ts";
export {
  ellswiftCreate,
  ellswiftDecode,
  ellswiftEcdhXonly,
  taggedHash,
  v2Ecdh,
  xswiftecInv,
} from "./handshake/ellswift.ts";
export { deriveSessionKeys, GARBAGE_TERMINATOR_LEN } from "./handshake/key_schedule.ts";
export type { SessionKeys } from "./handshake/key_schedule.ts";
export { FSChaCha20, LENGTH_FIELD_LEN } from "./length/length_cipher.ts";
export { FSChaCha20Poly1305, StreamingOpen, TAG_LEN } from "./aead/aead.ts";
export type { FSChaCha20Poly1305Options } from "./aead/aead.ts";
export { REKEY_INTERVAL, RekeySchedule } from "./rekeying.ts";
export {
  AUTO_NATIVE_MIN,
  AUTO_WASM_MAX,
  createAeadBackend,
  nativeAeadAvailable,
  wasmAeadAvailable,
} from "./crypto/backend.ts";
export { initWasmAead } from "./crypto/wasm_aead.ts";
export { ecWasmAvailable, ecWasmBytes, initEcWasm } from "./crypto/secp256k1_wasm.ts";
export type { AeadBackend, AeadBackendKind } from "./crypto/backend.ts";
export { Bip324Error } from "./errors.ts";
