/**
 * The BIP324 key schedule: HKDF-SHA256 over the ECDH secret, salted with
 * `bitcoin_v2_shared_secret` + network magic, yields four cipher keys, two
 * garbage terminators and the session id.
 *
 * @module
 */

import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { checkBytes, concatBytes, wipe } from "../bytes.ts";
import { type Network, networkMagic } from "../bitcoin/network.ts";

/** Bytes of each garbage terminator. */
export const GARBAGE_TERMINATOR_LEN = 16;

/** Everything the key schedule derives, already arranged for one side of the connection. */
export interface SessionKeys {
  /** 32 bytes that identify the channel; equal on both sides. */
  sessionId: Uint8Array;
  /** Key of our outbound length cipher. */
  sendLengthKey: Uint8Array;
  /** Key of our outbound packet AEAD. */
  sendPacketKey: Uint8Array;
  /** Key of the peer's length cipher (our inbound). */
  recvLengthKey: Uint8Array;
  /** Key of the peer's packet AEAD (our inbound). */
  recvPacketKey: Uint8Array;
  /** The 16 bytes we send after our garbage. */
  sendGarbageTerminator: Uint8Array;
  /** The 16 bytes that end the peer's garbage. */
  recvGarbageTerminator: Uint8Array;
}

const encoder = new TextEncoder();
const SALT_PREFIX = encoder.encode("bitcoin_v2_shared_secret");
const info = (label: string) => encoder.encode(label);

/**
 * Derives the session keys from the 32-byte ECDH secret (the output of
 * `v2Ecdh`). `initiating` picks which direction's keys we send with.
 *
 * @example
 * ```ts
 * import { deriveSessionKeys } from "./key_schedule.ts";
 * const a = deriveSessionKeys(new Uint8Array(32), true, "regtest");
 * const b = deriveSessionKeys(new Uint8Array(32), false, "regtest");
 * console.assert(a.sendPacketKey.every((v, i) => v === b.recvPacketKey[i]));
 * ```
 */
export function deriveSessionKeys(
  ecdhSecret: Uint8Array,
  initiating: boolean,
  network: Network | Uint8Array = "mainnet",
): SessionKeys {
  checkBytes("ecdhSecret", ecdhSecret, 32);
  if (typeof initiating !== "boolean") throw new TypeError("initiating must be a boolean");
  const prk = extract(sha256, ecdhSecret, concatBytes(SALT_PREFIX, networkMagic(network)));
  const get = (label: string) => expand(sha256, prk, info(label), 32);
  const sessionId = get("session_id");
  const initiatorL = get("initiator_L");
  const initiatorP = get("initiator_P");
  const responderL = get("responder_L");
  const responderP = get("responder_P");
  const terminators = get("garbage_terminators");
  const initiatorTerminator = terminators.slice(0, GARBAGE_TERMINATOR_LEN);
  const responderTerminator = terminators.slice(GARBAGE_TERMINATOR_LEN);
  wipe(prk, terminators);
  return initiating
    ? {
      sessionId,
      sendLengthKey: initiatorL,
      sendPacketKey: initiatorP,
      recvLengthKey: responderL,
      recvPacketKey: responderP,
      sendGarbageTerminator: initiatorTerminator,
      recvGarbageTerminator: responderTerminator,
    }
    : {
      sessionId,
      sendLengthKey: responderL,
      sendPacketKey: responderP,
      recvLengthKey: initiatorL,
      recvPacketKey: initiatorP,
      sendGarbageTerminator: responderTerminator,
      recvGarbageTerminator: initiatorTerminator,
    };
}
