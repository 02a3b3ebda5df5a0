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
import { Handshake, type HandshakeOptions, type HandshakeResult } from "./handshake.ts";

/** Default time allowed for a whole handshake, in milliseconds (Bitcoin Core uses 20 s too). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 20_000;

/** Options for {@linkcode performHandshake}. */
export interface HandshakeDriverOptions extends HandshakeOptions {
  /** Milliseconds before giving up with `HANDSHAKE_TIMEOUT`. Default 20,000. */
  handshakeTimeout?: number;
  /** Aborts the handshake (the error is the signal's reason). */
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
 * import { performHandshake } from "./driver.ts";
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
  if (!(timeoutMs > 0)) throw new RangeError(`handshakeTimeout must be > 0 ms, got ${timeoutMs}`);
  const machine = new Handshake(options);
  const reader = pair.readable.getReader();
  const writer = pair.writable.getWriter();

  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Bip324Error("HANDSHAKE_TIMEOUT", `handshake did not finish within ${timeoutMs} ms`, {
            origin: "local",
          }),
        ),
      timeoutMs,
    );
    if (options.signal) {
      onAbort = () => reject(options.signal!.reason ?? new Error("aborted"));
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  deadline.catch(() => {}); // observed below; never an unhandled rejection
  const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, deadline]);

  // Writes are not awaited before reading: a peer that reads only after it writes must
  // never wait on us. They are awaited (in order) before we hand the streams over.
  let lastWrite: Promise<void> = Promise.resolve();
  const send = (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    lastWrite = writer.write(bytes);
    lastWrite.catch(() => {});
  };

  try {
    send(machine.start());
    let receivedAny = false;
    while (!machine.done) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await race(reader.read());
      } catch (e) {
        if (e instanceof Bip324Error) throw e;
        // Core reconnects with v1 however the connection ended (close or reset), as long as
        // nothing came back after our key.
        if (machine.role === "initiator" && !receivedAny) throw v1OnlyPeer(e);
        throw transportError(e);
      }
      if (chunk.done) {
        if (machine.role === "initiator" && !receivedAny) throw v1OnlyPeer();
        throw new Bip324Error(
          "UNEXPECTED_EOF",
          `peer closed the connection during the handshake (${machine.state})`,
        );
      }
      if (chunk.value.length > 0) receivedAny = true;
      send(machine.receive(chunk.value));
    }
    try {
      await race(lastWrite);
    } catch (e) {
      throw e instanceof Bip324Error ? e : transportError(e);
    }
    reader.releaseLock();
    writer.releaseLock();
    return machine.result();
  } catch (error) {
    machine.destroy();
    if (error instanceof Bip324Error && error.code === "V1_PROTOCOL") {
      // Leave the connection open and unlocked: a v1 layer may take over, replaying
      // error.v1Bytes first. The caller closes the streams if it does not.
      reader.releaseLock();
      writer.releaseLock();
    } else {
      reader.cancel(error).catch(() => {});
      writer.abort(error).catch(() => {});
    }
    throw error;
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
  }
}

function v1OnlyPeer(cause?: unknown): Bip324Error {
  return new Bip324Error(
    "V1_ONLY_PEER",
    "peer closed the connection without answering our key (a v1-only peer?)",
    { cause },
  );
}

function transportError(cause: unknown): Bip324Error {
  return new Bip324Error("TRANSPORT", `transport failed during the handshake: ${cause}`, {
    cause,
  });
}
