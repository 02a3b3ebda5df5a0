/**
 * TCP transport over `Deno.connect` / `Deno.listen`: byte pairs only. It
 * knows nothing of BIP324; `connect` and `listen` (in `layers/session/`) run
 * sessions over it.
 *
 * @module
 */

import type { BytePair } from "../layers/bytes.ts";
import { formatHostPort, type IncomingPair, type PairListener } from "./types.ts";

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

/**
 * Opens a raw TCP byte pair (no BIP324). Fails with the runtime's own error
 * (e.g. `ConnectionRefused`), or the signal's reason when aborted.
 */
export async function connectTcp(
  address: TcpAddress & { signal?: AbortSignal },
): Promise<BytePair & { close(): void; remote: string }> {
  checkPort(address.port);
  const hostname = address.hostname ?? "127.0.0.1";
  const conn = await Deno.connect({ hostname, port: address.port, signal: address.signal });
  conn.setNoDelay(true);
  const remote = conn.remoteAddr as Deno.NetAddr;
  return Object.assign(connPair(conn), { remote: formatHostPort(remote.hostname, remote.port) });
}

/** Accepts raw TCP connections as byte pairs. Binding failures throw the runtime's error. */
export function listenTcp(options: { port: number; hostname?: string }): PairListener {
  checkPort(options.port);
  const listener = Deno.listen({ port: options.port, hostname: options.hostname ?? "127.0.0.1" });
  const addr = listener.addr as Deno.NetAddr;
  let stopped = false;
  async function* incoming(): AsyncGenerator<IncomingPair> {
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
      yield { pair, remote: formatHostPort(remote.hostname, remote.port), close: pair.close };
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

function checkPort(port: unknown): void {
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    throw new RangeError(`port must be an integer 0..65535, got ${port}`);
  }
}
