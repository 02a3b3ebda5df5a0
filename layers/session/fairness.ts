/**
 * Fair service between the sessions of one process. A runtime may complete a
 * read of a socket that already holds data without parking its event loop, so
 * a peer that keeps its socket full (a flood of decoys, say) could keep one
 * session working while every other connection's data sits unread. So a
 * session that has worked through {@linkcode FAIR_SHARE} bytes, and for at
 * least {@linkcode FAIR_SLICE_MS} since its last turn, gives the event loop a
 * real turn before it reads on — but only while another session is waiting
 * for a socket (a lone bulk transfer is never slowed down). The time slice
 * keeps the turns' cost to a share of a busy session's time: a zero timer
 * takes 2–3 ms here, and a turn every 256 KiB held 1 MiB messages over
 * loopback to ~370 MB/s with another session open (~1,000 without turns).
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
/** Milliseconds a session may work, at least, between the turns it gives. */
export const FAIR_SLICE_MS = 2;

/** Whether a session whose last turn was at `since` (`performance.now()`) has had its slice. */
export function sliceOver(since: number): boolean {
  return performance.now() - since >= FAIR_SLICE_MS;
}

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
