/**
 * The shapes every transport shares: a byte pair, and a listener that hands
 * out incoming byte pairs. Transports know no cryptography and no session;
 * `openSession` and the listeners in `layers/session/` run BIP324 over them.
 *
 * @module
 */

import type { BytePair } from "../layers/bytes.ts";

export type { BytePair };

/** An accepted connection: its bytes, where it came from, and a way to drop it. */
export interface IncomingPair {
  /** The connection's bytes. */
  pair: BytePair;
  /** Where it came from, `HOST:PORT` (IPv6 hosts in brackets), for logs. */
  remote?: string;
  /** Closes the connection outright. */
  close(): void;
}

/** A listening transport: its address, the connections it accepts, and how to stop it. */
export interface PairListener {
  /** The bound address (port 0 is replaced by the one picked). */
  readonly addr: { hostname: string; port: number };
  /** Accepted connections, in order. Ends once {@linkcode PairListener.stop} is called. */
  readonly incoming: AsyncIterable<IncomingPair>;
  /**
   * Settles once the listener is bound (`addr` then holds the real port):
   * at once where binding is synchronous (Deno), a moment later with
   * `node:net`/`node:http`; rejects with the runtime's error if binding fails.
   */
  readonly ready?: Promise<void>;
  /** Stops accepting. Connections already handed out stay open. */
  stop(): void | Promise<void>;
}

/** `HOST:PORT`, with an IPv6 host in brackets. */
export function formatHostPort(hostname: string, port: number): string {
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}
