/**
 * {@linkcode IdleTimer}: fires once nothing arrived for a while. One timer,
 * re-armed for the remainder when activity happened meanwhile, so activity
 * itself costs a timestamp, not a timer. Internal.
 *
 * @module
 */

/** Calls `onIdle` after `ms` without {@linkcode IdleTimer.touch}. */
export class IdleTimer {
  readonly ms: number;
  #last: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onIdle: () => void;

  /** Starts counting now. */
  constructor(ms: number, onIdle: () => void) {
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
    this.#onIdle();
  };
}
