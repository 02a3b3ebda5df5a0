/**
 * The handshake's I/O: runs a {@linkcode Handshake} over any byte pair
 * (`ReadableWritablePair<Uint8Array, Uint8Array>`), with a deadline, and
 * returns its result with the streams unlocked so a session can take them
 * over. Leftover bytes (anything after the peer's version packet) are in
 * `result.leftover`.
 *
 * @module
 */

import { Bip324Error } from "../errors.ts";
import type { BytePair } from "../bytes.ts";
import { takeChannel } from "../channel.ts";
import { Handshake, type HandshakeOptions, type HandshakeResult } from "./handshake.ts";
import { ecWasmDecided, initEcWasm } from "../crypto/secp256k1_wasm.ts";

/** Default time allowed for a whole handshake, in milliseconds (Bitcoin Core uses 20 s too). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 20_000;

/** Options for {@linkcode performHandshake}. */
export interface HandshakeDriverOptions extends HandshakeOptions {
  /** Milliseconds before giving up with `HANDSHAKE_TIMEOUT`. Default 20,000. */
  handshakeTimeout?: number;
  /**
   * Aborts the handshake: it rejects with the signal's reason itself (the
   * same object), whatever it was waiting for.
   */
  signal?: AbortSignal;
}

/**
 * Performs the handshake over `pair`. On success the pair's streams are
 * unlocked again; on failure key material is wiped, a
 * {@linkcode Bip324Error} is thrown and both streams are cancelled/aborted,
 * except for `V1_PROTOCOL`, where they are left open and unlocked so that a v1
 * transport can take over (replaying `error.v1Bytes`).
 *
 * @example Over an in-memory pair
 * ```ts
 * import { performHandshake } from "@bip324/bip324/layers";
 * const ab = new TransformStream<Uint8Array, Uint8Array>();
 * const ba = new TransformStream<Uint8Array, Uint8Array>();
 * const [a, b] = await Promise.all([
 *   performHandshake({ readable: ba.readable, writable: ab.writable }, { role: "initiator" }),
 *   performHandshake({ readable: ab.readable, writable: ba.writable }, { role: "responder" }),
 * ]);
 * console.assert(a.sessionId.every((v, i) => v === b.sessionId[i]));
 * ```
 */
export async function performHandshake(
  pair: BytePair,
  options: HandshakeDriverOptions,
): Promise<HandshakeResult> {
  const timeoutMs = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0) || timeoutMs > MAX_TIMER_MS) {
    throw new RangeError(`handshakeTimeout must be 1..${MAX_TIMER_MS} ms, got ${timeoutMs}`);
  }
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("signal must be an AbortSignal");
  }
  // The key pair is made below: compile the secp256k1 module first where that can only be done
  // asynchronously (some browsers' main threads). Once, per realm.
  if (!ecWasmDecided()) await initEcWasm();
  const machine = new Handshake(options);
  if (signal?.aborted) {
    machine.destroy();
    throw signal.reason;
  }
  const channel = takeChannel(pair);

  // One timer and one abort listener per handshake, both removed at the end. Either records
  // why we stop and cancels the reader and aborts the writer, so whatever read or write is
  // pending settles at once. Nothing races a long-lived promise: every such race would keep
  // its chunk reachable until the deadline.
  let stopped = false;
  let stopReason: unknown;
  let wake: (() => void) | undefined;
  let received = 0; // bytes read from the peer
  const stop = (reason: unknown) => {
    if (stopped) return;
    stopped = true;
    stopReason = reason;
    channel.cancel(reason).catch(() => {});
    channel.abort(reason).catch(() => {});
    wake?.();
  };
  const timer = setTimeout(() => stop(timeoutError(machine, timeoutMs, received)), timeoutMs);
  const onAbort = () => stop(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });

  // Writes are not awaited before reading: a peer that reads only after it writes must
  // never wait on us. They are awaited (in order) before we hand the streams over.
  let lastWrite: Promise<void> = Promise.resolve();
  const send = (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    lastWrite = channel.write(bytes);
    lastWrite.catch(() => {});
  };

  try {
    send(machine.start());
    // Past the first few KiB (a decoy's or a large version packet's bytes), where the
    // transport can, the peer's bytes land in one buffer of this handshake's own instead of a
    // new chunk per read: the machine keeps nothing of its input but copies, so a pending
    // handshake streaming megabytes leaves no trail of freed chunks in the allocator.
    let scratch: Uint8Array | undefined;
    while (!machine.done) {
      let bytes: Uint8Array | null;
      try {
        if (scratch === undefined && received >= SCRATCH_AFTER && channel.readInto) {
          scratch = new Uint8Array(SCRATCH_LEN);
        }
        if (scratch !== undefined) {
          const n = await channel.readInto!(scratch);
          bytes = n === null ? null : scratch.subarray(0, n);
        } else {
          const chunk = await channel.read();
          bytes = chunk.done ? null : chunk.value;
        }
      } catch (e) {
        if (stopped) throw stopReason;
        // Core reconnects with v1 however the connection ended (close or reset), as long as
        // nothing came back after our key; any other failure (a WebSocket closed with an
        // error code, a server shutting down) is a transport failure.
        if (machine.role === "initiator" && received === 0 && isReset(e)) throw v1OnlyPeer(e);
        throw transportError(e, machine, received);
      }
      if (stopped) throw stopReason;
      if (bytes === null) {
        if (machine.role === "initiator" && received === 0) throw v1OnlyPeer();
        throw eofError(machine, received);
      }
      received += bytes.length;
      send(machine.receive(bytes));
    }
    // What came after the version packet is a view of the last input: of the scratch buffer,
    // the session gets a copy.
    const result = machine.result();
    if (scratch !== undefined && result.leftover.length > 0) {
      result.leftover = result.leftover.slice();
    }
    try {
      await new Promise<void>((resolve, reject) => {
        wake = resolve;
        if (stopped) resolve();
        lastWrite.then(resolve, reject);
      });
    } catch (e) {
      if (stopped) throw stopReason;
      throw transportError(e, machine, received);
    }
    if (stopped) throw stopReason;
    channel.release();
    return result;
  } catch (error) {
    machine.destroy();
    if (error instanceof Bip324Error && error.code === "V1_PROTOCOL") {
      // Leave the connection open and unlocked: a v1 layer may take over, replaying
      // error.v1Bytes first. The caller closes the streams if it does not.
      channel.release();
    } else {
      channel.cancel(error).catch(() => {});
      channel.abort(error).catch(() => {});
    }
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    wake = undefined;
  }
}

/** Bytes read from the peer before the handshake reads into a buffer of its own. */
const SCRATCH_AFTER = 8 * 1024;
/** That buffer's size (a pending handshake holds it until it ends). */
const SCRATCH_LEN = 16 * 1024;

/** Largest delay `setTimeout` honours (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Bytes of the peer's stream before its garbage: its ElligatorSwift key. */
const KEY_LEN = 64;

/** Why the peer's garbage terminator may not have come, given the bytes after its key. */
function missingTerminatorHint(afterKey: number): string {
  return afterKey === 0
    ? "the peer sent its key and nothing more (a listener refusing for load, BUSY, does this)"
    : `no garbage terminator in the ${afterKey} bytes after the peer's key: is the peer on ` +
      "another network? (the network is part of the key derivation; both ends must use the same)";
}

function timeoutError(machine: Handshake, ms: number, received: number): Bip324Error {
  let detail = "";
  if (machine.state === "garbage") detail = `; ${missingTerminatorHint(received - KEY_LEN)}`;
  else if (received === 0) detail = "; the peer sent nothing";
  return new Bip324Error(
    "HANDSHAKE_TIMEOUT",
    `handshake did not finish within ${ms} ms (${machine.state})${detail}`,
    { origin: "local" },
  );
}

function eofError(machine: Handshake, received: number): Bip324Error {
  const detail = machine.state === "garbage"
    ? `: ${missingTerminatorHint(received - KEY_LEN)}`
    : "";
  return new Bip324Error(
    "UNEXPECTED_EOF",
    `peer closed the connection during the handshake (${machine.state})${detail}`,
  );
}

/** Whether a read failed because the peer reset the connection (Deno, Node.js and Bun names). */
function isReset(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return name === "ConnectionReset" || name === "ConnectionAborted" || name === "BrokenPipe" ||
    code === "ECONNRESET" || code === "ECONNABORTED" || code === "EPIPE";
}

function v1OnlyPeer(cause?: unknown): Bip324Error {
  return new Bip324Error(
    "V1_ONLY_PEER",
    "peer closed the connection without answering our key (a v1-only peer?)",
    { cause },
  );
}

function transportError(cause: unknown, machine: Handshake, received: number): Bip324Error {
  if ((cause as { code?: unknown })?.code === "OVERSIZED") {
    return new Bip324Error("OVERSIZED", `${(cause as Error).message ?? cause}`, {
      cause,
      origin: "local",
    });
  }
  const detail = machine.state === "garbage"
    ? `; ${missingTerminatorHint(received - KEY_LEN)}`
    : "";
  return new Bip324Error(
    "TRANSPORT",
    `transport failed during the handshake (${machine.state}): ${cause}${detail}`,
    { cause },
  );
}
