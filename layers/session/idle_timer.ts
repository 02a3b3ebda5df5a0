/**
 * The session's timers. {@linkcode IdleTimer}: fires once nothing arrived
 * for a while. One timer, re-armed for the remainder when activity happened
 * meanwhile, so activity itself costs a timestamp, not a timer.
 * {@linkcode settleWithin}: waits for work, at most so long, and
 * {@linkcode closeTimedOut} says that a close gave up. Internal.
 *
 * @module
 */

import { Bip324Error } from "../errors.ts";

/**
 * Resolves once `work` settles (either way) or `ms` have passed, whichever
 * comes first; the timer is cleared as soon as `work` settles.
 */
export function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  const settled = work.then(() => {}, () => {});
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}

/** Why a `close()` gave up (see {@linkcode closeTimedOut}). */
export type CloseGaveUp = "unsent" | "no linger" | "peer sending";

const GAVE_UP: Record<CloseGaveUp, string> = {
  "unsent": "the peer did not take the last messages, which were dropped",
  "no linger": "everything was sent, but no time was left to wait for the peer's end, so a peer " +
    "still sending may see a reset and lose our last messages",
  "peer sending": "everything was sent, but the peer was still sending and had not ended, so it " +
    "may see a reset and lose our last messages",
};

/**
 * Why a session ended whose `close()` gave up after `ms`: the transport had
 * not taken every message written before it (those were dropped), there was
 * no time left to linger, or the linger ran out while the peer still sent.
 */
export function closeTimedOut(ms: number, why: CloseGaveUp = "unsent"): Bip324Error {
  return new Bip324Error("TIMEOUT", `close gave up after ${ms} ms: ${GAVE_UP[why]}`, {
    origin: "local",
  });
}

/**
 * Calls `onIdle` with an `IDLE_TIMEOUT` error (origin local) after `ms`
 * without {@linkcode IdleTimer.touch}.
 */
export class IdleTimer {
  readonly ms: number;
  #last: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onIdle: (error: Bip324Error) => void;

  /** Starts counting now. */
  constructor(ms: number, onIdle: (error: Bip324Error) => void) {
    if (!(ms > 0)) throw new RangeError(`idleTimeout must be > 0 ms, got ${ms}`);
    this.ms = ms;
    this.#onIdle = onIdle;
    this.#last = performance.now();
    this.#timer = setTimeout(this.#check, ms);
  }

  /** Activity: the idle period starts again. */
  touch(): void {
    this.#last = performance.now();
  }

  /** Stops the timer for good. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #check = (): void => {
    const idle = performance.now() - this.#last;
    if (idle < this.ms) {
      this.#timer = setTimeout(this.#check, this.ms - idle);
      return;
    }
    this.#timer = undefined;
    this.#onIdle(
      new Bip324Error("IDLE_TIMEOUT", `no bytes from the peer for ${this.ms} ms`, {
        origin: "local",
      }),
    );
  };
}
