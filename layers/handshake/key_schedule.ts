/**
 * The BIP324 key schedule: HKDF-SHA256 over the ECDH secret, salted with
 * `bitcoin_v2_shared_secret` + network magic, yields four cipher keys, two
 * garbage terminators and the session id.
 *
 * @module
 */

import { HmacSha256, sha256ScratchForTests } from "../crypto/sha256.ts";
import { checkBytes, wipe } from "../bytes.ts";
import { magicView, type Network } from "../bitcoin/network.ts";

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
const LABELS = {
  sessionId: encoder.encode("session_id"),
  initiatorL: encoder.encode("initiator_L"),
  initiatorP: encoder.encode("initiator_P"),
  responderL: encoder.encode("responder_L"),
  responderP: encoder.encode("responder_P"),
  terminators: encoder.encode("garbage_terminators"),
} as const;
/** HKDF-Expand's block counter: every output is one 32-byte block, T(1). */
const BLOCK_ONE = Uint8Array.of(1);

/**
 * Every intermediate the key schedule holds, shared by all calls: each call
 * is synchronous and ends (returning or throwing) with both buffers zeroed.
 */
const SCRATCH = {
  /** HKDF-Extract's pseudorandom key. */
  prk: new Uint8Array(32),
  /** Both garbage terminators, before they are split. */
  terminators: new Uint8Array(2 * GARBAGE_TERMINATOR_LEN),
} as const;

/** The one MAC of this module, keyed per call (salt, then PRK) and wiped before each call ends. */
const mac = new HmacSha256();
/** The salt: `bitcoin_v2_shared_secret` || network magic (public). */
const salt = new Uint8Array(SALT_PREFIX.length + 4);
salt.set(SALT_PREFIX);

/**
 * The key schedule's scratch buffers (see `SCRATCH`, and the MAC's), for
 * tests that check they are zero after every call. Not part of the public API.
 */
export function keyScheduleScratchForTests(): readonly Uint8Array[] {
  return [...Object.values(SCRATCH), ...mac.buffersForTests(), ...sha256ScratchForTests()];
}

/** A {@linkcode SessionKeys} of fresh zeroed buffers, to pass as `out`. */
export function emptySessionKeys(): SessionKeys {
  return {
    sessionId: new Uint8Array(32),
    sendLengthKey: new Uint8Array(32),
    sendPacketKey: new Uint8Array(32),
    recvLengthKey: new Uint8Array(32),
    recvPacketKey: new Uint8Array(32),
    sendGarbageTerminator: new Uint8Array(GARBAGE_TERMINATOR_LEN),
    recvGarbageTerminator: new Uint8Array(GARBAGE_TERMINATOR_LEN),
  };
}

function checkOut(out: SessionKeys): SessionKeys {
  if (typeof out !== "object" || out === null) throw new TypeError("out must be a SessionKeys");
  const keyNames = [
    "sessionId",
    "sendLengthKey",
    "sendPacketKey",
    "recvLengthKey",
    "recvPacketKey",
  ];
  for (const name of keyNames as (keyof SessionKeys)[]) checkBytes(`out.${name}`, out[name], 32);
  checkBytes("out.sendGarbageTerminator", out.sendGarbageTerminator, GARBAGE_TERMINATOR_LEN);
  checkBytes("out.recvGarbageTerminator", out.recvGarbageTerminator, GARBAGE_TERMINATOR_LEN);
  return out;
}

/**
 * Derives the session keys from the 32-byte ECDH secret (the output of
 * `v2Ecdh`). `initiating` picks which direction's keys we send with.
 *
 * With `out`, the keys are written into its (caller-owned) buffers and `out`
 * is returned, so the caller can wipe them when done; otherwise new buffers
 * are allocated. HKDF's pseudorandom key and the unsplit terminators are
 * zeroed before this returns or throws.
 *
 * @example
 * ```ts
 * import { deriveSessionKeys } from "@bip324/bip324/cipher";
 * const a = deriveSessionKeys(new Uint8Array(32), true, "regtest");
 * const b = deriveSessionKeys(new Uint8Array(32), false, "regtest");
 * console.assert(a.sendPacketKey.every((v, i) => v === b.recvPacketKey[i]));
 * ```
 */
export function deriveSessionKeys(
  ecdhSecret: Uint8Array,
  initiating: boolean,
  network: Network | Uint8Array = "mainnet",
  out?: SessionKeys,
): SessionKeys {
  checkBytes("ecdhSecret", ecdhSecret, 32);
  if (typeof initiating !== "boolean") throw new TypeError("initiating must be a boolean");
  salt.set(magicView(network), SALT_PREFIX.length);
  const keys = out === undefined ? emptySessionKeys() : checkOut(out);
  const { prk, terminators } = SCRATCH;
  try {
    mac.setKey(salt).macInto(prk, ecdhSecret); // HKDF-Extract(salt, ikm)
    mac.setKey(prk);
    const expand = (label: Uint8Array, into: Uint8Array) => mac.macInto(into, label, BLOCK_ONE);
    expand(LABELS.sessionId, keys.sessionId);
    expand(LABELS.initiatorL, initiating ? keys.sendLengthKey : keys.recvLengthKey);
    expand(LABELS.initiatorP, initiating ? keys.sendPacketKey : keys.recvPacketKey);
    expand(LABELS.responderL, initiating ? keys.recvLengthKey : keys.sendLengthKey);
    expand(LABELS.responderP, initiating ? keys.recvPacketKey : keys.sendPacketKey);
    expand(LABELS.terminators, terminators);
    const initiatorTerminator = terminators.subarray(0, GARBAGE_TERMINATOR_LEN);
    const responderTerminator = terminators.subarray(GARBAGE_TERMINATOR_LEN);
    keys.sendGarbageTerminator.set(initiating ? initiatorTerminator : responderTerminator);
    keys.recvGarbageTerminator.set(initiating ? responderTerminator : initiatorTerminator);
    return keys;
  } catch (error) {
    wipe(...Object.values(keys));
    throw error;
  } finally {
    wipe(prk, terminators);
    mac.wipe();
  }
}
