/**
 * The shapes a protocol hands to `Session`: its handshake facts, running
 * counts, the options every session takes, and the layers of its one stage
 * per direction.
 *
 * @module
 */

import type { Role } from "../handshake/handshake.ts";
import type { Network } from "../bitcoin/network.ts";

/** Handshake facts, for display and diagnostics. */
export interface HandshakeInfo {
  /** Garbage bytes we sent. */
  garbageSent: number;
  /** Garbage bytes the peer sent. */
  garbageReceived: number;
  /** Contents lengths of the decoys we sent during the handshake. */
  decoysSent: number[];
  /** Decoys the peer sent before its version packet. */
  decoysReceived: number;
}

/** Running counts for a session. */
export interface SessionStats {
  /** Decoy packets received and dropped after the handshake. */
  decoysReceived: number;
  /** Decoy packets sent after the handshake. */
  decoysSent: number;
  /** Messages dropped because their type was malformed or unknown. */
  messagesDropped: number;
}

/** Options every session takes, whatever its protocol. */
export interface SessionBaseOptions {
  /** Close the session after this many ms without inbound bytes. Default: never. */
  idleTimeout?: number;
  /**
   * Milliseconds `close()` takes at most: to send what was written (what is
   * still unsent then is dropped, and `closeReason` is `TIMEOUT`), then, over
   * TCP, to read on to the peer's end (so that unread bytes do not reset the
   * connection). Default 5,000.
   */
  closeTimeout?: number;
  /**
   * Payload bytes of decoded messages the session reads ahead of the
   * application (so it notices the peer closing even while nobody reads).
   * Default 256 KiB; one larger message is still read, but nothing after it.
   */
  readAhead?: number;
}

const DEFAULT_CLOSE_TIMEOUT = 5_000;
const DEFAULT_READ_AHEAD = 256 * 1024;

/** `closeTimeout` and `readAhead` with their defaults; `RangeError` for a bad one. */
export function sessionLimits(
  options: SessionBaseOptions,
): { closeTimeout: number; readAhead: number } {
  const closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
  if (!(closeTimeout >= 0)) {
    throw new RangeError(`closeTimeout must be ≥ 0 ms, got ${closeTimeout}`);
  }
  const readAhead = options.readAhead ?? DEFAULT_READ_AHEAD;
  if (!(readAhead >= 0)) throw new RangeError(`readAhead must be ≥ 0 bytes, got ${readAhead}`);
  return { closeTimeout, readAhead };
}

/** The transformers of one session, per direction, as its protocol builds them. */
export interface SessionStack {
  /** Bottom-up: from transport bytes to messages. */
  // deno-lint-ignore no-explicit-any
  inbound: Transformer<any, any>[];
  /** Top-down: from messages to transport bytes. */
  // deno-lint-ignore no-explicit-any
  outbound: Transformer<any, any>[];
  /**
   * Whether every outbound stage below the messages is the library's own, so
   * a packet buffer from `alloc` is referenced by nothing else once it reaches
   * the transport (it may then be handed over or reused). Default `false`.
   */
  ownBuffers?: boolean;
}

/** What a protocol hands to {@linkcode Session} to build a session. */
export interface SessionInit {
  /** 2 for BIP324, 1 for the legacy protocol. */
  transportVersion: 1 | 2;
  /** Our role. */
  role: Role;
  /** The network. */
  network: Network | Uint8Array;
  /** Session id (empty for v1). */
  sessionId: Uint8Array;
  /** The peer's version packet contents (empty for v1). */
  peerVersionContents: Uint8Array;
  /** Handshake figures (zeros for v1). */
  handshake: HandshakeInfo;
  /** Bytes already read from the transport that belong to the session's stream. */
  leftover: Uint8Array;
  /** Builds the layers; `alloc` gives packet buffers inside the transport's next write. */
  stack: (context: { stats: SessionStats; alloc: (size: number) => Uint8Array }) => SessionStack;
  /** Wipes the session's keys. */
  destroy: () => void;
}
