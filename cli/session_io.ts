/**
 * What `cat` and `listen` share about a session: the `session` event (with
 * `transport` and `remote`), the plaintext-v1 warning, message lines, and a
 * writer that answers pings.
 *
 * @module
 */

import type { Message } from "../layers/aliasing/aliasing.ts";
import { toHex } from "../layers/bytes.ts";
import type { Session } from "../layers/session/session.ts";
import { describeError, type JsonLineWriter } from "./output.ts";

/** Pongs allowed to queue before answering pings waits for the peer to read. */
const MAX_QUEUED_PONGS = 64;

/** `"v2"` or `"v1"`. */
export function transportName(session: Session): "v2" | "v1" {
  return session.transportVersion === 2 ? "v2" : "v1";
}

/**
 * The `session` event: `{"event":"session","session_id":"<hex>","role":..,
 * "transport":"v2"|"v1","remote":"HOST:PORT"}` (the id is empty for v1),
 * plus `"authenticated": true|false` when private authentication is on
 * (always `false` for v1: there is no session id to bind to).
 */
export function sessionEvent(session: Session, remote: string): Record<string, unknown> {
  return {
    event: "session",
    session_id: toHex(session.sessionId),
    role: session.role,
    transport: transportName(session),
    remote,
    ...(session.authenticated !== undefined ? { authenticated: session.authenticated } : {}),
  };
}

/**
 * The `closed` event: `{"event":"closed","session_id":"<hex>","remote":..}`,
 * with `"reason":"<CODE>"` when the session ended with an error (e.g.
 * `IDLE_TIMEOUT`; the error event before it has the message).
 */
export function closedEvent(
  tags: { session_id: string; remote: string },
  reason?: unknown,
): Record<string, unknown> {
  return {
    event: "closed",
    ...tags,
    ...(reason !== undefined ? { reason: describeError(reason).code } : {}),
  };
}

/** For a v1 session, says on stderr that it is not encrypted. */
export async function warnIfPlaintext(
  err: JsonLineWriter,
  session: Session,
  remote: string,
  hint: string,
): Promise<void> {
  if (session.transportVersion === 2) return;
  await err.text(
    `warning: plaintext v1 session with ${remote}: not encrypted, not authenticated; ${hint}\n`,
  );
}

/** A received message as a JSON line, with extra fields (listen: `session_id`, `remote`). */
export function messageLine(
  message: Message,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { type: message.type, payload: toHex(message.payload), ...extra };
}

/** Whether `message` is a ping a node would answer (8-byte nonce). */
export function isAnswerablePing(message: Message): boolean {
  return message.type === "ping" && message.payload.length === 8;
}

/** Serializes writes to a session and answers pings. */
export class SessionWriter {
  #writer: WritableStreamDefaultWriter<Message>;
  #queuedPongs = 0;

  /** Takes the session's writable. */
  constructor(session: Session) {
    this.#writer = session.writable.getWriter();
    this.#writer.closed.catch(() => {});
  }

  /** Sends a message; resolves once the session has taken it (backpressure). */
  send(message: Message): Promise<void> {
    return this.#writer.write(message);
  }

  /** Answers a ping without waiting, unless many pongs are already queued. */
  async pong(payload: Uint8Array): Promise<void> {
    this.#queuedPongs++;
    const sent = this.#writer.write({ type: "pong", payload }).catch(() => {}).finally(() => {
      this.#queuedPongs--;
    });
    if (this.#queuedPongs > MAX_QUEUED_PONGS) await sent;
  }

  /** Flushes pending writes and closes the session. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
  }
}
