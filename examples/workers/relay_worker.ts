/**
 * The relay on Cloudflare Workers: `createRelay` from `@bip324/bip324/relay`
 * with TCP through `connect()` from `cloudflare:sockets` and WebSockets
 * through `WebSocketPair` (`upgradeRequest`). Configuration comes from the
 * Worker's variables: `RELAY_TO` (required), `RELAY_ALLOW`,
 * `RELAY_MAX_CONNECTIONS`, `RELAY_MAX_PER_IP`, `RELAY_IDLE_TIMEOUT`. The
 * client's IP for the per-IP limit is `CF-Connecting-IP`.
 *
 * Built into one module by `deno bundle --external cloudflare:sockets`
 * (see `docs/relay.md` for wrangler; `tests/runtimes/workerd_test.ts` runs it
 * in workerd).
 *
 * @module
 */

// @ts-ignore: provided by the Workers runtime
import { connect } from "cloudflare:sockets";
import { createRelay, type RelayCore, socketsConnector } from "../../transports/relay/mod.ts";
import { upgradeRequest } from "../../transports/websocket_server.ts";

/** The Worker's variables. */
export interface RelayEnv {
  /** The default node, `host:port`. */
  RELAY_TO: string;
  /** More nodes clients may pick with `?target=`, comma-separated. */
  RELAY_ALLOW?: string;
  /** Total connection limit. */
  RELAY_MAX_CONNECTIONS?: string;
  /** Per-IP connection limit. */
  RELAY_MAX_PER_IP?: string;
  /** Idle timeout in ms. */
  RELAY_IDLE_TIMEOUT?: string;
}

let relay: RelayCore | undefined;

function number(text: string | undefined): number | undefined {
  return text === undefined || text.trim() === "" ? undefined : Number(text);
}

/** The Worker: every request goes to the relay core. */
export default {
  fetch(request: Request, env: RelayEnv): Promise<Response> {
    relay ??= createRelay({
      to: env.RELAY_TO,
      allow: (env.RELAY_ALLOW ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""),
      maxConnections: number(env.RELAY_MAX_CONNECTIONS),
      maxPerIp: number(env.RELAY_MAX_PER_IP),
      idleTimeout: number(env.RELAY_IDLE_TIMEOUT),
      connect: socketsConnector(connect),
    });
    return relay.handle(request, {
      clientIp: request.headers.get("cf-connecting-ip") ?? "unknown",
      upgrade: () => upgradeRequest(request),
    });
  },
};
