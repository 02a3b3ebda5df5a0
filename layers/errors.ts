/**
 * The one error type this library throws for protocol and transport
 * failures (the runtime's own error, if any, is its `cause`).
 *
 * Caller mistakes (a wrong argument type or length, an unknown network, a bad
 * option) throw `TypeError` or `RangeError` at the call instead; an aborted
 * signal rejects with the signal's reason itself. A `Bip324Error` means the
 * connection failed, and its {@linkcode Bip324Error.origin} says whether the
 * peer or we were the cause.
 *
 * @module
 */

/** Machine-readable reason for a {@linkcode Bip324Error}. */
export type Bip324ErrorCode =
  /** A packet's authentication tag did not verify (tampering, wrong keys, or garbage). */
  | "DECRYPTION"
  /** More than 4095 bytes of garbage arrived without the garbage terminator. */
  | "NO_GARBAGE_TERMINATOR"
  /** The responder saw a v1 `version` message; `Bip324Error.v1Bytes` holds every byte read. */
  | "V1_PROTOCOL"
  /** The peer speaks v1 for another network (its magic differs from ours). */
  | "WRONG_NETWORK"
  /** The handshake did not finish within the configured time. */
  | "HANDSHAKE_TIMEOUT"
  /** A packet announced contents larger than the configured maximum. */
  | "OVERSIZED"
  /** A message type field was malformed (unknown ID, bad padding, non-ASCII). */
  | "INVALID_MESSAGE_TYPE"
  /** The session or stream is closed. */
  | "CLOSED"
  /** The peer closed the connection in the middle of a packet or handshake. */
  | "UNEXPECTED_EOF"
  /** The peer closed the connection right after our key: it probably only speaks v1. */
  | "V1_ONLY_PEER"
  /** The session was idle for longer than the configured idle timeout. */
  | "IDLE_TIMEOUT"
  /** A v1 message header or checksum was invalid. */
  | "V1_FRAMING"
  /** A Bitcoin P2P message payload could not be decoded. */
  | "MALFORMED_MESSAGE"
  /** A well-formed message arrived where the protocol forbids it (e.g. a BIP434 `feature` after `verack`). */
  | "UNEXPECTED_MESSAGE"
  /**
   * The peer did not answer in time (e.g. a version/verack exchange), or did
   * not take our last bytes within a session's `closeTimeout` (they were dropped).
   */
  | "TIMEOUT"
  /** The listener refused a connection because too many handshakes were in flight. */
  | "BUSY"
  /** A listener could not bind: the address (host and port) is already in use. */
  | "ADDR_IN_USE"
  /**
   * The underlying transport failed: the connection was refused, reset or
   * could not be opened (origin `"peer"`), or we could not bind or were not
   * allowed to (origin `"local"`). `cause` is the runtime's own error.
   */
  | "TRANSPORT";

/**
 * Who broke the protocol, or which end failed: `"peer"` for what the remote
 * end did or failed to do (bad bytes, a refused or reset connection, closing
 * mid-packet), `"local"` for this side (our own limits, timeouts, aborts,
 * binding a port). The same for every transport.
 */
export type Bip324ErrorOrigin = "peer" | "local";

/** Options for {@linkcode Bip324Error}. */
export interface Bip324ErrorOptions {
  /** Who broke the protocol. Defaults to `"peer"`. */
  origin?: Bip324ErrorOrigin;
  /** The underlying error, if any. */
  cause?: unknown;
  /** For `V1_PROTOCOL`: every byte already read from the peer, to replay into a v1 layer. */
  v1Bytes?: Uint8Array;
}

/**
 * A protocol failure with a machine-readable {@linkcode Bip324ErrorCode}.
 *
 * @example Telling a bad tag from other failures
 * ```ts
 * import { Bip324Error } from "@bip324/bip324";
 * const err = new Bip324Error("DECRYPTION", "packet authentication failed");
 * console.assert(err.code === "DECRYPTION" && err.origin === "peer");
 * ```
 */
export class Bip324Error extends Error {
  /** Machine-readable reason. */
  readonly code: Bip324ErrorCode;
  /** Whether the peer (`"peer"`) or this side (`"local"`) broke the protocol. */
  readonly origin: Bip324ErrorOrigin;
  /** For `V1_PROTOCOL`: every byte already read from the peer. Empty otherwise. */
  readonly v1Bytes: Uint8Array;

  /** Creates an error with a code, a human-readable message and options. */
  constructor(code: Bip324ErrorCode, message: string, options: Bip324ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "Bip324Error";
    this.code = code;
    this.origin = options.origin ?? "peer";
    this.v1Bytes = options.v1Bytes ?? new Uint8Array(0);
  }
}

/**
 * Internal: `make()` with no stack trace captured (in V8 capturing one costs
 * about 25 µs), for errors made in bulk whose trace would say nothing.
 */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
