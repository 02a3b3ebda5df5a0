/**
 * The handshake's options, result and limits, and how our garbage is made:
 * the data {@linkcode Handshake} in `handshake.ts` is configured with and
 * hands back.
 *
 * @module
 */

import { checkBytes, randomBytes } from "../bytes.ts";
import type { Network } from "../bitcoin/network.ts";
import type { Bip324Cipher } from "../packet_cipher.ts";
import type { AeadBackend, AeadBackendKind } from "../crypto/backend.ts";

/**
 * Version packet contents kept for `peerVersionContents`; longer ones are
 * authenticated as they stream in and dropped (BIP324 receivers ignore them).
 */
export const MAX_KEPT_VERSION_CONTENTS = 4096;

/** Largest garbage a peer may send before its terminator. */
export const MAX_GARBAGE_LEN = 4095;
/** Bytes of an ElligatorSwift public key on the wire. */
export const ELLSWIFT_LEN = 64;
/** Bitcoin Core's largest packet contents: 1 + 12 (type) + 4,000,000 (payload). */
export const DEFAULT_MAX_MESSAGE_SIZE = 4_000_013;

/** Which end of the connection we are. */
export type Role = "initiator" | "responder";

/** The machine's state (see the module doc). */
export type HandshakeState = "prefix" | "key" | "garbage" | "version" | "done";

/** Options for {@linkcode Handshake}. */
export interface HandshakeOptions {
  /** Initiator (we connected) or responder (we accepted). */
  role: Role;
  /** The network, which must match the peer's. Default `"mainnet"`. */
  network?: Network | Uint8Array;
  /**
   * Garbage to send after our key: a length (random bytes of that length), the
   * bytes themselves, or omitted for a random length uniform in 0..4095.
   */
  garbage?: number | Uint8Array;
  /** Contents lengths of decoy packets to send before our version packet. Default none. */
  decoys?: readonly number[];
  /** Contents of our version packet. Default empty (this protocol version). */
  versionContents?: Uint8Array;
  /** Largest packet contents accepted from the peer. Default 4,000,013 (Bitcoin Core). */
  maxMessageSize?: number;
  /** Our key pair; default a fresh random one. For tests and vectors. */
  cipher?: Bip324Cipher;
  /** Packets per key; fixed at 224 on the wire. Only for tests against peers that agree. */
  rekeyInterval?: number;
  /** Packet AEAD implementation: `"auto"` (default), `"pure"`, `"native"` or a custom backend. */
  aeadBackend?: AeadBackendKind | AeadBackend;
}

/** What a finished handshake hands to the session. */
export interface HandshakeResult {
  /** Our role. */
  role: Role;
  /** The initialized cipher (the session takes its ciphers over). */
  cipher: Bip324Cipher;
  /** 32-byte session id, equal on both ends. */
  sessionId: Uint8Array;
  /**
   * The peer's version packet contents (empty today; reserved for upgrades).
   * Contents over {@linkcode MAX_KEPT_VERSION_CONTENTS} bytes are authenticated
   * but not kept: then this is empty.
   */
  peerVersionContents: Uint8Array;
  /** Bytes received after the peer's version packet: the start of the session's stream. */
  leftover: Uint8Array;
  /** How many garbage bytes we sent. */
  garbageSent: number;
  /** Contents lengths of the decoys we sent. */
  decoysSent: number[];
  /** How many garbage bytes the peer sent. */
  garbageReceived: number;
  /** How many decoy packets the peer sent before its version packet. */
  decoysReceived: number;
}

/** Our garbage: random of a random length 0..4095 by default, or as given. */
export function makeGarbage(garbage: number | Uint8Array | undefined): Uint8Array {
  if (garbage === undefined) {
    const r = new Uint16Array(1);
    crypto.getRandomValues(r);
    return randomBytes(r[0] % (MAX_GARBAGE_LEN + 1));
  }
  if (typeof garbage === "number") {
    if (!Number.isInteger(garbage) || garbage < 0 || garbage > MAX_GARBAGE_LEN) {
      throw new RangeError(`garbage must be a length 0..${MAX_GARBAGE_LEN}, got ${garbage}`);
    }
    return randomBytes(garbage);
  }
  checkBytes("garbage", garbage);
  if (garbage.length > MAX_GARBAGE_LEN) {
    throw new RangeError(`garbage must be at most ${MAX_GARBAGE_LEN} bytes, got ${garbage.length}`);
  }
  return garbage.slice();
}
