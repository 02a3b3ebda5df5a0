// Shared by the bounds tests: fixed keys, a hand-fed byte pair (Feed) and a handshake over it.
import assert from "node:assert/strict";
import { Bip324Cipher } from "../layers/packet_cipher.ts";
import { ellswiftCreate } from "../layers/handshake/ellswift.ts";
import { Handshake } from "../layers/handshake/handshake.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";
import { openSession, type OpenSessionOptions } from "../layers/session/open.ts";
import { prng, within } from "./helpers.ts";

export const TERMINATOR_LEN = 16;
export const KEY_LEN = 64;
export const EMPTY = new Uint8Array(0);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Random-looking fixed private keys (so a leak of them would be recognisable in text). */
export function fixedKey(seed: number): { priv: Uint8Array; ell: Uint8Array } {
  const rand = prng(seed);
  const priv = new Uint8Array(32).map(() => Math.floor(rand() * 256));
  priv[0] = 0x3f; // well below the curve order
  return { priv, ell: ellswiftCreate(priv, new Uint8Array(32).fill(seed)) };
}
export const I = fixedKey(0x1324);
export const R = fixedKey(0x4231);
export const initiatorCipher = (): Bip324Cipher => new Bip324Cipher(I.priv, I.ell);
export const responderCipher = (): Bip324Cipher => new Bip324Cipher(R.priv, R.ell);

/**
 * A byte pair whose readable hands out exactly the chunks pushed, one per
 * read, and only when the consumer asks (highWaterMark 0). So the byte count
 * at which a session fails, or the point where it asks for more, is exact,
 * with no timing involved. What the session writes is recorded.
 */
export class Feed {
  delivered = 0;
  cancelled = false;
  written: Uint8Array[] = [];
  onWrite?: (chunk: Uint8Array) => void;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  #queue: (Uint8Array | null)[] = [];
  #wake?: () => void;
  #waiting = false;
  #hungry: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor() {
    this.readable = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        while (this.#queue.length === 0) {
          this.#waiting = true;
          for (const h of this.#hungry.splice(0)) h.resolve();
          await new Promise<void>((r) => (this.#wake = r));
          if (this.cancelled) return;
        }
        this.#waiting = false;
        const chunk = this.#queue.shift()!;
        if (chunk === null) return controller.close();
        this.delivered += chunk.length;
        controller.enqueue(chunk);
      },
      cancel: () => {
        this.cancelled = true;
        this.#wake?.();
        for (const h of this.#hungry.splice(0)) h.reject(new Error("the reader cancelled"));
      },
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        this.written.push(chunk.slice());
        this.onWrite?.(chunk);
      },
    });
  }

  /** Queues bytes for the reader. */
  push(chunk: Uint8Array): void {
    this.#queue.push(chunk);
    this.#waiting = false;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Ends the stream after what is queued. */
  end(): void {
    this.push(null as unknown as Uint8Array);
  }

  /** Resolves when the reader has taken everything pushed and asks for more; rejects if it cancelled. */
  hungry(): Promise<void> {
    if (this.cancelled) return Promise.reject(new Error("the reader cancelled"));
    if (this.#waiting && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#hungry.push({ resolve, reject }));
  }
}

/**
 * A responder session over a Feed, with a sans-I/O initiator machine we
 * drive by hand (fixed keys), so we can then write any bytes we like.
 */
export async function handshakeOverFeed(options: Partial<OpenSessionOptions> = {}) {
  const feed = new Feed();
  const cipher = initiatorCipher();
  const machine = new Handshake({ role: "initiator", network: "regtest", cipher, garbage: 10 });
  feed.onWrite = (chunk) => {
    if (!machine.done) {
      const out = machine.receive(chunk);
      if (out.length > 0) feed.push(out);
    }
  };
  const opening = openSession(feed, {
    role: "responder",
    network: "regtest",
    cipher: responderCipher(),
    ...options,
  });
  feed.push(machine.start());
  const session = await within(opening, 5000, "handshake");
  assert.ok(machine.done);
  const handshakeBytes = feed.delivered;
  return { feed, session, ciphers: cipher.ciphers, handshakeBytes, cipher };
}

/** Waits (bounded by a deadline that fails the test, not by a timed assertion) until `cond()`. */
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await sleep(5);
  }
}

export const msg = (type: string, payload: Uint8Array = EMPTY): Message => ({ type, payload });
