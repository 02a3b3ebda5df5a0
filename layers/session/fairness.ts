/**
 * Fair service between the sessions of one process. A runtime may complete a
 * read of a socket that already holds data without parking its event loop, so
 * a peer that keeps its socket full (a flood of decoys, say) could keep one
 * session working while every other connection's data sits unread. So a
 * session that has worked through {@linkcode FAIR_SHARE} bytes in a row gives
 * the event loop a real turn before it reads on — but only while another
 * session is waiting for a socket (a lone bulk transfer is never slowed down).
 *
 * The turn is a zero timer: measured here (Deno 2.9), only a timer lets the
 * runtime poll its sockets again; a `MessageChannel` round trip is cheaper
 * but does not. Sessions over an in-process byte pair (one marked with
 * {@linkcode IN_PROCESS}, as `memoryPair()` does) neither wait for a socket
 * nor yield. Internal.
 *
 * @module
 */

/** Bytes a session may work through before it lets others have a turn. */
export const FAIR_SHARE = 256 * 1024;

/**
 * The property a transport sets (to `true`) on a byte pair that is not a
 * socket: its reads never leave other connections unserved.
 */
export const IN_PROCESS: unique symbol = Symbol.for("bip324.inProcess") as never;

let waiting = 0;

/** A session starts waiting for its socket (a read is in flight). */
export function startWaiting(): void {
  waiting++;
}

/** The session's read settled. */
export function stopWaiting(): void {
  waiting--;
}

/** Whether another session is waiting for a socket. */
export function othersWaiting(): boolean {
  return waiting > 0;
}

/** One real turn of the event loop (a zero timer). */
export function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
