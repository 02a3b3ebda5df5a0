/**
 * Adapts a Sockets-API `connect()` (Cloudflare Workers' `cloudflare:sockets`,
 * and runtimes that copy it) into the relay's {@linkcode RelayConnect}.
 *
 * @module
 */

import type { RelayConnect, RelayNodeConnection } from "./options.ts";

/** The slice of a Sockets-API socket used here. */
export interface SocketsApiSocket {
  /** Bytes from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once connected; rejects if the connection fails. */
  readonly opened: Promise<unknown>;
  /** Closes the socket. */
  close(): Promise<void> | void;
}

/** A Sockets-API `connect` (e.g. `import { connect } from "cloudflare:sockets"`). */
export type SocketsApiConnect = (address: { hostname: string; port: number }) => SocketsApiSocket;

/**
 * Wraps a Sockets-API `connect` as the relay's `connect`: waits for
 * `opened` and gives the socket's streams as a byte pair.
 *
 * @example
 * ```ts ignore
 * import { connect } from "cloudflare:sockets";
 * import { createRelay, socketsConnector } from "@bip324/bip324/relay";
 * const relay = createRelay({ to: "203.0.113.7:8333", connect: socketsConnector(connect) });
 * ```
 */
export function socketsConnector(connect: SocketsApiConnect): RelayConnect {
  return async (target) => {
    target.signal?.throwIfAborted();
    const socket = connect({ hostname: target.hostname, port: target.port });
    const close = () => {
      try {
        Promise.resolve(socket.close()).catch(() => {});
      } catch { /* already closed */ }
    };
    const onAbort = () => close();
    target.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await socket.opened;
    } catch (error) {
      close();
      throw error;
    } finally {
      target.signal?.removeEventListener("abort", onAbort);
    }
    const connection: RelayNodeConnection = {
      readable: socket.readable,
      writable: socket.writable,
      close,
    };
    return connection;
  };
}
