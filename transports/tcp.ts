/**
 * TCP transport: byte pairs only. It uses `Deno.connect` / `Deno.listen`
 * in Deno and `node:net` (looked up at call time, never imported
 * statically) in Node.js and Bun. It knows nothing of BIP324; `connect` and
 * `listen` (in `layers/session/`) run sessions over it.
 *
 * @module
 */

import type { BytePair } from "../layers/bytes.ts";
import { connPair } from "./deno_conn.ts";
import { nodeSocketPair } from "./node_socket.ts";
import { formatHostPort, type IncomingPair, type PairListener } from "./types.ts";
import {
  type DenoConnLike,
  type DenoListenerLike,
  denoRuntime,
  netAddr,
  type NodeSocketLike,
  requireNodeNet,
} from "./runtime.ts";

export { connPair, nodeSocketPair };

/** Where to connect. */
export interface TcpAddress {
  /** Host name or address. Default `"127.0.0.1"`. */
  hostname?: string;
  /** TCP port. */
  port: number;
}

/**
 * Opens a raw TCP byte pair (no BIP324). Fails with the runtime's own error
 * (e.g. `ConnectionRefused`, `ECONNREFUSED`), or the signal's reason when
 * aborted.
 *
 * @example
 * ```ts ignore
 * import { connectTcp } from "@bip324/bip324/transports";
 * const tcp = await connectTcp({ hostname: "127.0.0.1", port: 8333 });
 * console.log(tcp.remote);
 * tcp.close();
 * ```
 */
export async function connectTcp(
  address: TcpAddress & { signal?: AbortSignal },
): Promise<BytePair & { close(): void; remote: string }> {
  checkPort(address.port);
  const hostname = address.hostname ?? "127.0.0.1";
  const deno = denoRuntime();
  if (deno) {
    const conn = await deno.connect({ hostname, port: address.port, signal: address.signal });
    conn.setNoDelay?.(true);
    const remote = netAddr(conn.remoteAddr);
    return Object.assign(connPair(conn), {
      remote: formatHostPort(remote.hostname ?? hostname, remote.port ?? address.port),
    });
  }
  const net = requireNodeNet("connectTcp");
  const signal = address.signal;
  signal?.throwIfAborted();
  // Half-open, as Deno.Conn: the peer's FIN ends our reads only; we write on until we end.
  const socket = net.createConnection({ host: hostname, port: address.port, allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      socket.destroy();
      reject(signal!.reason);
    };
    const done = () => {
      signal?.removeEventListener("abort", onAbort);
      socket.off("connect", onConnect);
      socket.off("error", onError);
    };
    const onConnect = () => {
      done();
      resolve();
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", onConnect);
    socket.once("error", onError);
  });
  socket.setNoDelay(true);
  const remote = formatHostPort(
    socket.remoteAddress ?? hostname,
    socket.remotePort ?? address.port,
  );
  return Object.assign(nodeSocketPair(socket), { remote });
}

/**
 * Accepts raw TCP connections as byte pairs. In Deno the port is bound when
 * this returns and binding failures throw the runtime's error; with
 * `node:net` binding completes a moment later: `ready` resolves then (and
 * `addr` is filled in), or rejects with the runtime's error.
 *
 * @example
 * ```ts ignore
 * import { listenTcp } from "@bip324/bip324/transports";
 * const tcp = listenTcp({ port: 0 });
 * await tcp.ready;
 * for await (const { pair } of tcp.incoming) pair.readable.pipeTo(pair.writable);
 * ```
 */
export function listenTcp(options: { port: number; hostname?: string }): PairListener {
  checkPort(options.port);
  const hostname = options.hostname ?? "127.0.0.1";
  const deno = denoRuntime();
  return deno ? listenDeno(deno.listen({ port: options.port, hostname })) : listenNode(
    options.port,
    hostname,
  );
}

function listenDeno(listener: DenoListenerLike): PairListener {
  const addr = netAddr(listener.addr);
  let stopped = false;
  async function* incoming(): AsyncGenerator<IncomingPair> {
    for (;;) {
      let conn: DenoConnLike;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (stopped) return;
        throw error;
      }
      conn.setNoDelay?.(true);
      const remote = netAddr(conn.remoteAddr);
      const pair = connPair(conn);
      yield {
        pair,
        remote: formatHostPort(remote.hostname ?? "?", remote.port ?? 0),
        close: pair.close,
      };
    }
  }
  const listening: PairListener = {
    addr: { hostname: addr.hostname ?? "", port: addr.port ?? 0 },
    incoming: incoming(),
    ready: Promise.resolve(),
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        listener.close();
      } catch { /* already closed */ }
    },
  };
  return listening;
}

function listenNode(port: number, hostname: string): PairListener {
  const net = requireNodeNet("listenTcp");
  // Connections arrive paused, so nothing is read before the reader asks; half-open, as
  // Deno.Conn (the peer's FIN ends our reads only).
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
  const addr = { hostname, port };
  const queue: IncomingPair[] = [];
  const waiters: {
    resolve: (r: IteratorResult<IncomingPair>) => void;
    reject: (e: unknown) => void;
  }[] = [];
  let stopped = false;
  let failure: unknown;
  const ready = new Promise<void>((resolve, reject) => {
    server.once("listening", () => {
      const bound = server.address();
      if (bound && typeof bound === "object") {
        addr.hostname = bound.address;
        addr.port = bound.port;
      }
      resolve();
    });
    server.on("error", (error: Error) => {
      failure = error;
      reject(error);
      for (const w of waiters.splice(0)) w.reject(error);
    });
  });
  ready.catch(() => {});
  server.on("connection", (socket: NodeSocketLike) => {
    if (stopped) return void socket.destroy();
    socket.setNoDelay(true);
    const pair = nodeSocketPair(socket);
    const incoming: IncomingPair = {
      pair,
      remote: formatHostPort(socket.remoteAddress ?? "?", socket.remotePort ?? 0),
      close: pair.close,
    };
    const w = waiters.shift();
    if (w) w.resolve({ value: incoming, done: false });
    else queue.push(incoming);
  });
  server.listen({ port, host: hostname });
  const incoming: AsyncIterable<IncomingPair> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const c = queue.shift();
        if (c) return Promise.resolve({ value: c, done: false });
        if (failure !== undefined) return Promise.reject(failure);
        if (stopped) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
      },
    }),
  };
  return {
    addr,
    incoming,
    ready,
    stop() {
      if (stopped) return;
      stopped = true;
      for (const w of waiters.splice(0)) w.resolve({ value: undefined, done: true });
      for (const c of queue.splice(0)) c.close();
      // Stops accepting at once; the callback would wait for every handed-out connection.
      server.close();
    },
  };
}

function checkPort(port: unknown): void {
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    throw new RangeError(`port must be an integer 0..65535, got ${port}`);
  }
}
