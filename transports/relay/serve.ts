/**
 * The relay as a server in Deno, Node.js and Bun: {@linkcode createRelay}'s
 * core behind {@linkcode serveHttp} (WebSocket frames over `maxFrameBytes`
 * are refused from their header) with TCP through `connectTcp`.
 *
 * @module
 */

import { connectTcp } from "../tcp.ts";
import { DEFAULT_MAX_FRAME_BYTES, serveHttp } from "../http_server.ts";
import { createRelay } from "./core.ts";
import type { RelayConnect, RelayCoreOptions } from "./options.ts";
import type { RelayMetrics } from "./metrics.ts";

/** What {@linkcode ServeRelayOptions.clientIp} gets besides the request. */
export interface RelayClientInfo {
  /** The TCP peer's address. */
  remoteAddr: { hostname: string; port: number };
}

/** Options for {@linkcode serveRelay}. */
export interface ServeRelayOptions extends Omit<RelayCoreOptions, "connect"> {
  /** Port to serve on (0 picks a free one; see `relay.addr.port`). Default 8080. */
  port?: number;
  /** Address to bind. Default `"127.0.0.1"`. */
  hostname?: string;
  /**
   * Largest WebSocket frame a client may send; a larger one closes that
   * connection (reason `error`) before its payload is read. Together with
   * `maxBufferedBytes` this bounds what one connection can make the relay
   * hold. Default 4 MiB.
   */
  maxFrameBytes?: number;
  /**
   * The client's identity for the per-IP limit. Default: the TCP peer
   * address. Behind a trusted reverse proxy, derive it from the proxy's header.
   */
  clientIp?: (request: Request, info: RelayClientInfo) => string;
  /** How to reach a node. Default: `connectTcp` (Deno.connect or node:net). */
  connect?: RelayConnect;
}

/** A running relay. */
export interface Relay {
  /** The address the relay listens on (filled in once `ready` settles, outside Deno). */
  readonly addr: { hostname: string; port: number };
  /** Settles once the relay is listening; rejects if it cannot bind. */
  readonly ready: Promise<void>;
  /** A snapshot of the counters. */
  metrics(): RelayMetrics;
  /** Stops accepting, closes every relayed connection (reason `shutdown`) and the server. */
  close(): Promise<void>;
}

/**
 * Starts the relay server. Options are validated at once
 * (`TypeError`/`RangeError`); in Deno the port is bound when this returns.
 *
 * @example
 * ```ts ignore
 * import { serveRelay } from "@bip324/bip324/relay";
 * const relay = serveRelay({ port: 0, to: "127.0.0.1:18444", maxPerIp: 4 });
 * await relay.ready;
 * console.log(`ws://127.0.0.1:${relay.addr.port}/`);
 * await relay.close();
 * ```
 */
export function serveRelay(options: ServeRelayOptions): Relay {
  const core = createRelay({ ...options, connect: options.connect ?? connectTcp });
  const port = options.port ?? 8080;
  const server = serveHttp({
    port,
    hostname: options.hostname ?? "127.0.0.1",
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
  }, (request, context) => {
    let client = context.remote.hostname;
    if (options.clientIp) {
      try {
        client = options.clientIp(request, { remoteAddr: context.remote });
      } catch { /* a throwing callback: the peer address */ }
    }
    return core.handle(request, {
      clientIp: client,
      upgrade: context.upgrade,
      upgradable: context.upgradable,
    });
  });
  let closing: Promise<void> | undefined;
  return {
    addr: server.addr,
    ready: server.ready,
    metrics: core.metrics,
    close() {
      closing ??= (async () => {
        await server.close();
        await core.close();
      })();
      return closing;
    },
  };
}
