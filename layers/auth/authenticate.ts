/**
 * {@linkcode authenticate}: runs a {@linkcode PrivateAuth} exchange over an
 * established v2 `Session`, through its public streams only. It locks the
 * session's reader and writer, sends and reads exactly the `privauth`
 * messages of the exchange (one round trip), and unlocks them again, so
 * every later message is still the application's to read.
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";
import { Bip324Error } from "../errors.ts";
import type { Session } from "../session/session.ts";
import { AUTH_MESSAGE_TYPE, PrivateAuth, type PrivateAuthOptions } from "./private_auth.ts";

/** Options for {@linkcode authenticate}: the exchange's configuration plus a deadline. */
export interface AuthenticateOptions extends PrivateAuthOptions {
  /** Milliseconds to wait for the peer's messages. Default 20,000. */
  timeout?: number;
}

/** What {@linkcode authenticate} found out. */
export interface AuthResult {
  /**
   * Whether the peer proved a private key of one of `accept`'s public keys.
   * Always `false` when we did not challenge or accept nobody.
   */
  authenticated: boolean;
  /** Whether we sent a challenge. */
  challenged: boolean;
  /** Whether we answered the peer's challenge (we never learn whether that succeeded). */
  responded: boolean;
}

/** The session surface {@linkcode authenticate} uses (a `Session` has it). */
export type AuthenticatableSession = Pick<
  Session,
  "readable" | "writable" | "sessionId" | "role" | "transportVersion" | "close"
>;

/**
 * Runs private authentication over `session` (experimental; both ends must
 * run this library). Rejects with `TypeError`/`RangeError` for a bad option
 * or a v1 session (no session id), and with a {@linkcode Bip324Error} when
 * the peer breaks the exchange: `UNEXPECTED_MESSAGE` (it sent something else
 * first, e.g. because it does not run private authentication),
 * `MALFORMED_MESSAGE` (a payload of the wrong size), `UNEXPECTED_EOF`, or
 * `TIMEOUT` (origin `"local"`). On a peer error the session is closed.
 *
 * @example
 * ```ts
 * import { openSession } from "@bip324/bip324";
 * import { authenticate, generateIdentity } from "@bip324/bip324/auth";
 * const ab = new TransformStream<Uint8Array, Uint8Array>();
 * const ba = new TransformStream<Uint8Array, Uint8Array>();
 * const [client, node] = await Promise.all([
 *   openSession({ readable: ba.readable, writable: ab.writable }, { role: "initiator" }),
 *   openSession({ readable: ab.readable, writable: ba.writable }, { role: "responder" }),
 * ]);
 * const identity = generateIdentity();
 * const [ours, theirs] = await Promise.all([
 *   authenticate(client, { accept: [identity.publicKey] }),
 *   authenticate(node, { identity: [identity.privateKey] }),
 * ]);
 * console.assert(ours.authenticated && !theirs.authenticated);
 * await client.close();
 * await node.closed;
 * ```
 */
export async function authenticate(
  session: AuthenticatableSession,
  options: AuthenticateOptions = {},
): Promise<AuthResult> {
  if (session.transportVersion !== 2 || session.sessionId.length !== 32) {
    throw new TypeError("private authentication needs a v2 (BIP324) session with a session id");
  }
  const timeoutMs = options.timeout ?? 20_000;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new RangeError(`timeout must be a positive number of ms, got ${timeoutMs}`);
  }
  const exchange = new PrivateAuth(
    { role: session.role, sessionId: session.sessionId },
    options,
  );
  const reader = session.readable.getReader();
  const writer = session.writable.getWriter();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() =>
      reject(
        new Bip324Error(
          "TIMEOUT",
          `no ${AUTH_MESSAGE_TYPE} answer from the peer within ${timeoutMs} ms`,
          { origin: "local" },
        ),
      ), timeoutMs);
  });
  deadline.catch(() => {});
  const send = async (payloads: Uint8Array[]) => {
    for (const payload of payloads) {
      await Promise.race([writer.write({ type: AUTH_MESSAGE_TYPE, payload }), deadline]);
    }
  };
  try {
    await send(exchange.start());
    while (!exchange.done) {
      const next: ReadableStreamReadResult<Message> = await Promise.race([reader.read(), deadline]);
      if (next.done) {
        throw new Bip324Error(
          "UNEXPECTED_EOF",
          "the peer closed the session during private authentication",
        );
      }
      if (next.value.type !== AUTH_MESSAGE_TYPE) {
        throw new Bip324Error(
          "UNEXPECTED_MESSAGE",
          `expected a ${AUTH_MESSAGE_TYPE} message, got "${next.value.type}" (does the peer run private authentication?)`,
        );
      }
      await send(exchange.receive(next.value.payload));
    }
    return {
      authenticated: exchange.authenticated,
      challenged: exchange.challenges,
      responded: exchange.responds,
    };
  } catch (error) {
    if (error instanceof Bip324Error && error.origin === "peer") {
      reader.releaseLock();
      writer.releaseLock();
      await session.close();
    }
    throw error;
  } finally {
    clearTimeout(timer);
    exchange.destroy();
    try {
      reader.releaseLock();
      writer.releaseLock();
    } catch { /* already released */ }
  }
}
