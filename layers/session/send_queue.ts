/**
 * The queue behind `Session.send`: a send waits only for the sends before
 * it that have not settled yet (the transport pushed back), and then goes
 * through the writable's writer if the application has built one by then,
 * else straight into the outbound stage. Made on first need, so a session
 * whose sends never wait holds none.
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/** What a queued send writes to: the session's writable sink. */
export interface SendTarget {
  /** Writes `message` into the outbound stage (the writable's sink `write`). */
  write(message: Message): Promise<void> | void;
  /** The session's writable, if the application has built it. */
  readonly builtWritable: WritableStream<Message> | undefined;
}

/** Sends in order, each after the unsettled ones before it. */
export class SendQueue {
  readonly #target: SendTarget;
  #tail: Promise<void> = RESOLVED;
  #pending = 0;

  constructor(target: SendTarget) {
    this.#target = target;
  }

  /** Whether no send is waiting or in progress (a new one need not wait). */
  get idle(): boolean {
    return this.#pending === 0;
  }

  /** Makes later sends wait for `sending` (a send in progress); returns it. */
  track(sending: Promise<void>): Promise<void> {
    this.#pending++;
    const done = () => void this.#pending--;
    this.#tail = sending.then(done, done);
    return sending;
  }

  /** Sends `message` once every earlier send has settled. */
  queue(message: Message): Promise<void> {
    return this.track(this.#tail.then(async () => {
      const writable = this.#target.builtWritable;
      if (writable === undefined) return await this.#target.write(message);
      const writer = writable.getWriter();
      try {
        await writer.write(message);
      } finally {
        writer.releaseLock();
      }
    }));
  }
}
