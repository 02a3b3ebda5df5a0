/**
 * The outbound half of a `Session`: a message written (through `send` or
 * the writable's sink) goes through the composed outbound stage in the
 * same call, and into the outbox (see `outbox.ts`); a promise appears only
 * when the transport pushes back. Sends that must wait queue in a
 * `SendQueue`, made on first need. `close()` drains through
 * {@linkcode Writes.drain}. Internal.
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";
import type { Bip324Error } from "../errors.ts";
import type { Outbox } from "./outbox.ts";
import { SendQueue, type SendTarget } from "./send_queue.ts";

const RESOLVED: Promise<void> = Promise.resolve();
/** Microtask hops a drain waits for writes the application already issued. */
const DRAIN_HOPS = 8;

/** What the writes need of their session. */
export interface WritesOwner extends SendTarget {
  /** The outbound stage's controller: what it enqueues goes to the outbox. */
  readonly controller: TransformStreamDefaultController<Uint8Array>;
  /** A write failed: ends the session with it (caller mistakes pass through); throws. */
  failWrite(error: unknown): never;
  /** `CLOSED`, for a write once the session has ended. */
  closedError(): Bip324Error;
  /**
   * What a queued send that failed rejects with: once the session has ended
   * (the writable closed or aborted too), `CLOSED` instead of the stream's own
   * rejection (a `TypeError`, or the abort's reason).
   */
  sendRefused(error: unknown): unknown;
}

/** The session's writes, in order, into one outbound stage. */
export class Writes {
  readonly #outbound: Transformer<Message, Uint8Array>;
  readonly #outbox: Outbox;
  readonly #owner: WritesOwner;
  #seen = 0;
  #inflight: Promise<void> = RESOLVED;
  #sends: SendQueue | undefined;
  /** Inside the outbound stage (a send from a caller's layer there waits its turn). */
  #writing = false;

  constructor(outbound: Transformer<Message, Uint8Array>, outbox: Outbox, owner: WritesOwner) {
    this.#outbound = outbound;
    this.#outbox = outbox;
    this.#owner = owner;
  }

  /**
   * A send: at once when nothing waits ahead of it, no writable was built
   * (`viaWritable` false) and no write is in progress, else behind the
   * sends before it (through the writable's writer once there is one).
   */
  send(message: Message, viaWritable: boolean): Promise<void> {
    const sends = this.#sends;
    if (!this.#writing && !viaWritable && (sends === undefined || sends.idle)) {
      let pending: Promise<void> | void;
      try {
        pending = this.write(message);
      } catch (error) {
        return Promise.reject(error);
      }
      if (pending === undefined) return RESOLVED;
      return this.#queue().track(pending);
    }
    return this.#queue().queue(message).catch((error) => {
      throw this.#owner.sendRefused(error);
    });
  }

  /** The writable's sink: synchronous unless the transport pushes back. */
  write(message: Message): Promise<void> | void {
    // Refused once the outbox is closed: by close() after its drain, or aborted at the end.
    if (this.#outbox.closed) throw this.#owner.closedError();
    this.#seen++;
    let pending: PromiseLike<void> | void;
    this.#writing = true;
    try {
      pending = this.#outbound.transform!(message, this.#owner.controller);
    } catch (error) {
      return this.#owner.failWrite(error);
    } finally {
      this.#writing = false;
    }
    if (pending === undefined && !this.#outbox.backpressure) return;
    const settled = Promise.resolve(pending).then(() => this.#outbox.ready()).catch((error) =>
      this.#owner.failWrite(error)
    );
    this.#inflight = settled.catch(() => {});
    return settled;
  }

  /**
   * Lets writes the application already issued reach the outbox: they may
   * still sit in the writable's queue for a few microtasks, or wait on
   * backpressure. Done when {@linkcode DRAIN_HOPS} hops bring no new write.
   */
  async drain(): Promise<void> {
    for (;;) {
      const seen = this.#seen;
      await this.#inflight;
      for (let i = 0; i < DRAIN_HOPS; i++) await null;
      if (this.#seen === seen) return;
    }
  }

  #queue(): SendQueue {
    return this.#sends ??= new SendQueue(this.#owner);
  }
}
