/**
 * TCP transport over `Deno.connect` / `Deno.listen`, plus `connect` and
 * `listen`, which open BIP324 sessions over it.
 *
 * The byte pair itself ({@linkcode connPair}) knows nothing of BIP324.
 *
 * @module
 */

import type { BytePair } from "../layers/handshake/driver.ts";
import { openSession, type Session, type SessionOptions } from "../layers/session.ts";
import {
  type AcceptOptions,
  acceptSessions,
  type IncomingConnection,
  type SessionListener,
} from "../layers/listener.ts";
import { Bip324Error } from "../layers/errors.ts";
import { openV1Session } from "../layers/v1_stream.ts";

/** Smallest and largest read buffer: an idle connection holds the small one. */
const MIN_READ = 4 * 1024;
const MAX_READ = 64 * 1024;

/**
 * Wraps a `Deno.Conn` as a byte pair. The connection is closed when the
 * readable is cancelled or the writable is closed or aborted.
 *
 * @example
 * ```ts ignore
 * import { connPair } from "./tcp.ts";
 * const pair = connPair(await Deno.connect({ hostname: "127.0.0.1", port: 8333 }));
 * ```
 */
export function connPair(conn: Deno.Conn): BytePair & { close(): void } {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  // The buffer grows while reads fill it (bulk transfer) and shrinks back when they do not,
  // so thousands of idle connections cost 4 KiB each, not 64 KiB.
  let buffer = new Uint8Array(MIN_READ);
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch (error) {
        if (closed) return controller.close();
        close();
        return controller.error(error);
      }
      if (n === null) {
        controller.close();
        return;
      }
      controller.enqueue(buffer.slice(0, n));
      if (n === buffer.length && buffer.length < MAX_READ) {
        buffer = new Uint8Array(buffer.length * 2);
      } else if (n < buffer.length / 4 && buffer.length > MIN_READ) {
        buffer = new Uint8Array(MIN_READ);
      }
    },
    cancel: close,
  }, { highWaterMark: 0 });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      let offset = 0;
      while (offset < chunk.length) offset += await conn.write(chunk.subarray(offset));
    },
    close,
    abort: close,
  });
  return { readable, writable, close };
}

/** Where to connect. */
export interface TcpAddress {
  /** Host name or address. Default `"127.0.0.1"`. */
  hostname?: string;
  /** TCP port. */
  port: number;
}

/** Options for {@linkcode connect}. */
export interface ConnectOptions extends SessionOptions, TcpAddress {
  /**
   * What to do when the peer only speaks the legacy v1 protocol:
   * `"v1"` (default, as Bitcoin Core does): if the peer closes the connection
   * without sending a byte after our key, reconnect and speak v1;
   * `"none"`: fail with `V1_ONLY_PEER`; `"v1-only"`: never try v2.
   * The session's `transportVersion` says which one was used.
   */
  fallback?: "v1" | "none" | "v1-only";
}

/**
 * Opens a TCP connection and performs the BIP324 handshake as initiator,
 * falling back to v1 as `options.fallback` says.
 *
 * @example
 * ```ts ignore
 * import { connect } from "./tcp.ts";
 * const session = await connect({ hostname: "127.0.0.1", port: 18444, network: "regtest" });
 * console.log(session.sessionId);
 * ```
 */
export async function connect(options: ConnectOptions): Promise<Session> {
  const fallback = options.fallback ?? "v1";
  if (fallback !== "v1" && fallback !== "none" && fallback !== "v1-only") {
    throw new TypeError(`fallback must be "v1", "none" or "v1-only", got ${fallback}`);
  }
  if (fallback !== "v1-only") {
    const conn = await connectTcp(options);
    try {
      return await openSession(conn, { ...options, role: "initiator" });
    } catch (error) {
      conn.close();
      if (!(error instanceof Bip324Error && error.code === "V1_ONLY_PEER" && fallback === "v1")) {
        throw error;
      }
    }
  }
  return openV1Session(await connectTcp(options), { ...options, role: "initiator" });
}

/** Opens a raw TCP byte pair (no BIP324), with transport errors as `Bip324Error` `TRANSPORT`. */
export async function connectTcp(
  address: TcpAddress & { signal?: AbortSignal },
): Promise<BytePair & { close(): void }> {
  checkPort(address.port);
  const hostname = address.hostname ?? "127.0.0.1";
  try {
    const conn = await Deno.connect({ hostname, port: address.port, signal: address.signal });
    conn.setNoDelay(true);
    return connPair(conn);
  } catch (cause) {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    throw new Bip324Error("TRANSPORT", `cannot connect to ${host}:${address.port}: ${cause}`, {
      cause,
      origin: "local",
    });
  }
}

/** Options for {@linkcode listen}. */
export interface ListenOptions extends AcceptOptions {
  /** Port to listen on (0 picks a free one; see `listener.addr.port`). */
  port: number;
  /** Address to bind. Default `"127.0.0.1"`. */
  hostname?: string;
}

/** Accepts raw TCP connections as {@linkcode IncomingConnection}s. */
export function listenTcp(
  options: { port: number; hostname?: string },
): {
  addr: { hostname: string; port: number };
  incoming: AsyncIterable<IncomingConnection>;
  stop(): void;
} {
  checkPort(options.port);
  const listener = Deno.listen({ port: options.port, hostname: options.hostname ?? "127.0.0.1" });
  const addr = listener.addr as Deno.NetAddr;
  let stopped = false;
  async function* incoming(): AsyncGenerator<IncomingConnection> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept() as Deno.TcpConn;
      } catch (error) {
        if (stopped) return;
        throw error;
      }
      conn.setNoDelay(true);
      const remote = conn.remoteAddr as Deno.NetAddr;
      const pair = connPair(conn);
      yield { pair, remote: `${remote.hostname}:${remote.port}`, close: pair.close };
    }
  }
  return {
    addr: { hostname: addr.hostname, port: addr.port },
    incoming: incoming(),
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        listener.close();
      } catch { /* already closed */ }
    },
  };
}

/**
 * Listens for TCP connections and yields established BIP324 sessions (we
 * are the responder). A peer that fails its handshake is closed and reported
 * to `onError`; it never affects other peers or the listener.
 *
 * @example
 * ```ts ignore
 * import { listen } from "./tcp.ts";
 * const listener = listen({ port: 0, network: "regtest" });
 * for await (const session of listener) {
 *   console.log("session", session.sessionId);
 * }
 * ```
 */
export function listen(options: ListenOptions): SessionListener {
  const tcp = listenTcp(options);
  return acceptSessions(tcp.incoming, tcp.addr, tcp.stop, options);
}

function checkPort(port: unknown): void {
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    throw new RangeError(`port must be an integer 0..65535, got ${port}`);
  }
}
