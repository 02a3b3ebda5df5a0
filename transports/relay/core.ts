/**
 * The relay's core: a fetch-style handler `(request, context) => Response`
 * that, per accepted WebSocket, opens a TCP connection to an allow-listed
 * node through an injected `connect` function and forwards raw bytes both
 * ways. It knows no cryptography and never looks at what it forwards, so
 * the BIP324 session runs end to end and the relay sees only ciphertext.
 *
 * The same core runs behind {@linkcode serveRelay} (Deno, Node.js, Bun),
 * `Deno.serve`, and Cloudflare Workers (`connect()` from `cloudflare:sockets`,
 * `WebSocketPair`): the host supplies `connect` and `context.upgrade`.
 *
 * @module
 */

import type { BytePair } from "../types.ts";
import { webSocketPair } from "../websocket.ts";
import { isOversizedFrameError, upgradeProblem } from "../http_server.ts";
import {
  metricsResponse,
  RELAY_CLOSE_REASONS,
  type RelayCloseReason,
  type RelayEvent,
  type RelayMetrics,
  type RelayTarget,
} from "./metrics.ts";
import { formatTarget, parseTarget, toTarget } from "./target.ts";
import { checkCount, checkMs, deadline, describeError, errorCode, forward } from "./link.ts";
import type {
  RelayCore,
  RelayCoreOptions,
  RelayNodeConnection,
  RelayRequestContext,
} from "./options.ts";

const DEFAULT_MAX_CONNECTIONS = 1_000;
const DEFAULT_MAX_PER_IP = 16;
const DEFAULT_IDLE_TIMEOUT = 600_000;
const DEFAULT_CONNECT_TIMEOUT = 10_000;
const DEFAULT_MAX_BUFFERED = 8 << 20;
const DEFAULT_SEND_HIGH_WATER = 1 << 20;
/** Milliseconds a closing connection waits for the WebSocket closing handshake. */
const CLOSE_TIMEOUT = 2_000;
/** Milliseconds the client's last frames may take to reach a slow node after the client closed. */
const DRAIN_TIMEOUT = 5_000;

/** One relayed connection, from admission to teardown. */
interface Link {
  up: number;
  down: number;
  started: number;
  /** Closes both sides (first reason wins). */
  teardown(reason: RelayCloseReason, error?: unknown): void;
  /** Resolves once both sides are closed (bounded). */
  done: Promise<void>;
}

/**
 * Creates a relay core. Options are validated at once
 * (`TypeError`/`RangeError`).
 *
 * @example Behind `Deno.serve`
 * ```ts ignore
 * import { createRelay } from "@bip324/bip324/relay";
 * import { connectTcp, upgradeRequest } from "@bip324/bip324/transports";
 * const relay = createRelay({ to: "127.0.0.1:8333", connect: connectTcp });
 * Deno.serve((request, info) =>
 *   relay.handle(request, {
 *     clientIp: info.remoteAddr.hostname,
 *     upgrade: () => upgradeRequest(request),
 *   })
 * );
 * ```
 */
export function createRelay(options: RelayCoreOptions): RelayCore {
  if (options.to === undefined) {
    throw new TypeError("relay: `to` (the default node) is required");
  }
  if (typeof options.connect !== "function") {
    throw new TypeError("relay: `connect` (how to reach a node) must be a function");
  }
  const defaultTarget = toTarget(options.to);
  const allowed = new Map<string, RelayTarget>();
  allowed.set(formatTarget(defaultTarget), defaultTarget);
  for (const entry of options.allow ?? []) {
    const target = toTarget(entry);
    allowed.set(formatTarget(target), target);
  }
  const maxConnections = checkCount(
    "maxConnections",
    options.maxConnections,
    DEFAULT_MAX_CONNECTIONS,
  );
  const maxPerIp = checkCount("maxPerIp", options.maxPerIp, DEFAULT_MAX_PER_IP);
  const idleTimeout = checkMs("idleTimeout", options.idleTimeout, DEFAULT_IDLE_TIMEOUT);
  const connectTimeout = checkMs("connectTimeout", options.connectTimeout, DEFAULT_CONNECT_TIMEOUT);
  const maxBuffered = checkCount(
    "maxBufferedBytes",
    options.maxBufferedBytes,
    DEFAULT_MAX_BUFFERED,
  );
  const sendHighWater = checkCount("sendHighWater", options.sendHighWater, DEFAULT_SEND_HIGH_WATER);
  const serveMetrics = options.metrics ?? true;
  const connect = options.connect;

  const closes = Object.fromEntries(RELAY_CLOSE_REASONS.map((r) => [r, 0])) as Record<
    RelayCloseReason,
    number
  >;
  const counters = { open: 0, total: 0, up: 0, down: 0 };
  const perIp = new Map<string, number>();
  const links = new Set<Link>();
  const shutdown = new AbortController();
  let nextId = 1;

  const emit = (event: RelayEvent) => {
    try {
      options.onEvent?.(event);
    } catch { /* a throwing callback must not break the relay */ }
  };
  const snapshot = (): RelayMetrics => ({
    connectionsOpen: counters.open,
    connectionsTotal: counters.total,
    bytesClientToNode: counters.up,
    bytesNodeToClient: counters.down,
    closes: { ...closes },
  });
  const refuse = (status: number, reason: RelayCloseReason, client: string, text: string) => {
    closes[reason]++;
    emit({ event: "refused", status, reason, client });
    return new Response(text + "\n", { status, headers: { "content-type": "text/plain" } });
  };

  /** Admits one WebSocket request: reserve a slot, connect to the node, upgrade, pump. */
  const relay = async (context: RelayRequestContext, client: string, target: RelayTarget) => {
    counters.open++;
    counters.total++;
    perIp.set(client, (perIp.get(client) ?? 0) + 1);
    const id = nextId++;
    const label = formatTarget(target);
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    let ended = false;
    let node: RelayNodeConnection | undefined;
    let ws: Awaited<ReturnType<typeof webSocketPair>> | undefined;
    let socket: WebSocket | undefined;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    let lastActivity = Date.now();
    const connecting = new AbortController();
    let shuttingDown = false;
    const closeSocket = (s: WebSocket | undefined) => {
      try {
        if (shuttingDown) s?.close(1013, "relay is shutting down");
        else s?.close(1000);
      } catch { /* not open yet, or already closed */ }
    };

    const link: Link = {
      started: Date.now(),
      up: 0,
      down: 0,
      done,
      teardown(reason, error) {
        if (ended) return;
        ended = true;
        clearTimeout(idleTimer);
        clearTimeout(drainTimer);
        connecting.abort();
        links.delete(link);
        closes[reason]++;
        counters.open--;
        const n = (perIp.get(client) ?? 1) - 1;
        if (n > 0) perIp.set(client, n);
        else perIp.delete(client);
        emit({
          event: "close",
          id,
          reason,
          bytes_client_to_node: link.up,
          bytes_node_to_client: link.down,
          ms: Date.now() - link.started,
          ...(error !== undefined && (reason === "error" || reason === "connect_failed")
            ? { error: describeError(error), code: errorCode(error, reason) }
            : {}),
        });
        try {
          node?.close();
        } catch { /* already closed */ }
        // The relay stopping is not the node hanging up: 1013 (try again later), so that a
        // client that has read nothing yet does not take it for a v1-only node.
        shuttingDown = reason === "shutdown";
        if (shuttingDown) closeSocket(socket);
        // Sends queued before the close frame still go out first.
        const closeClient = ws ? ws.close() : (closeSocket(socket), Promise.resolve());
        deadline(closeClient, CLOSE_TIMEOUT, "close").catch(() => {}).finally(resolveDone);
      },
    };
    links.add(link);
    emit({ event: "open", id, client, target: label });

    // 1. The node, before upgrading: a client whose node is unreachable gets a plain 502.
    try {
      const opening = connect({ ...target, signal: connecting.signal });
      opening.then((late) => {
        if (ended) late.close();
      }, () => {});
      let onAbort!: () => void;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new Error("relay is shutting down"));
        if (shutdown.signal.aborted) onAbort();
        else shutdown.signal.addEventListener("abort", onAbort, { once: true });
      });
      aborted.catch(() => {});
      try {
        node = await deadline(
          Promise.race([opening, aborted]),
          connectTimeout,
          `no connection to ${label} within ${connectTimeout} ms`,
        );
      } finally {
        shutdown.signal.removeEventListener("abort", onAbort);
      }
    } catch (error) {
      link.teardown(shutdown.signal.aborted ? "shutdown" : "connect_failed", error);
      return new Response("cannot reach the node\n", {
        status: shutdown.signal.aborted ? 503 : 502,
      });
    }
    if (ended) return new Response("relay is shutting down\n", { status: 503 });

    // 2. Upgrade.
    let upgraded: ReturnType<RelayRequestContext["upgrade"]>;
    try {
      upgraded = context.upgrade();
    } catch (error) {
      link.teardown("error", error);
      return new Response("bad WebSocket upgrade request\n", { status: 400 });
    }
    // The client went away (a close or error event on its socket), as opposed to a local
    // failure. Registered before webSocketPair's own listeners, so it is set first.
    let clientGone = false;
    Promise.resolve(upgraded.socket).then((s) => {
      socket = s;
      if (ended) {
        closeSocket(s);
        return;
      }
      let refused = false;
      s.addEventListener("error", (e) => {
        // A frame over the server's limit is our refusal, not the client leaving (and the
        // socket is dropped at once for it: its close is ours too).
        if (isOversizedFrameError((e as ErrorEvent).error)) refused = true;
        else clientGone = true;
      });
      s.addEventListener("close", () => {
        if (!refused) clientGone = true;
        // The client's last frames still go to the node, but a stalled node cannot hold
        // the connection open.
        if (!ended) drainTimer = setTimeout(() => link.teardown("client_closed"), DRAIN_TIMEOUT);
      });
      return webSocketPair(s, {
        receiveLimit: maxBuffered,
        sendHighWater,
        closeTimeout: CLOSE_TIMEOUT,
      });
    })
      // 3. Once open, pump both ways. Nothing below looks at a chunk's contents, only its length.
      .then((pair) => {
        if (!pair) return;
        ws = pair;
        if (ended) {
          pair.close();
          return;
        }
        pump(pair, node!);
      }, () => link.teardown("client_closed"));
    return upgraded.response;

    function pump(pair: BytePair, to: RelayNodeConnection) {
      const touch = () => (lastActivity = Date.now());
      const checkIdle = () => {
        const quiet = Date.now() - lastActivity;
        if (quiet >= idleTimeout) link.teardown("idle");
        else idleTimer = setTimeout(checkIdle, idleTimeout - quiet);
      };
      touch();
      idleTimer = setTimeout(checkIdle, idleTimeout);
      const onBytes = (up: boolean, n: number) => {
        if (up) {
          link.up += n;
          counters.up += n;
        } else {
          link.down += n;
          counters.down += n;
        }
        touch();
      };
      const teardown = (reason: RelayCloseReason, error?: unknown) => link.teardown(reason, error);
      const gone = () => clientGone;
      forward(pair.readable, to.writable, { up: true, clientGone: gone, onBytes, teardown });
      forward(to.readable, pair.writable, { up: false, clientGone: gone, onBytes, teardown });
    }
  };

  const handle = async (request: Request, context: RelayRequestContext): Promise<Response> => {
    const client = context.clientIp;
    try {
      const url = new URL(request.url);
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        if (url.pathname === "/healthz") return new Response("ok\n");
        if (url.pathname === "/metrics" && serveMetrics) {
          return metricsResponse(request, url, snapshot());
        }
        return new Response("BIP324 WebSocket relay: upgrade required\n", { status: 426 });
      }
      if (shutdown.signal.aborted) return refuse(503, "shutdown", client, "relay is shutting down");
      const requested = url.searchParams.get("target");
      let target: RelayTarget | undefined = defaultTarget;
      if (requested !== null) {
        try {
          target = allowed.get(formatTarget(parseTarget(requested)));
        } catch {
          target = undefined;
        }
      }
      if (!target) return refuse(403, "forbidden", client, "target not allowed");
      if (counters.open >= maxConnections) {
        return refuse(503, "limit", client, "too many connections");
      }
      if ((perIp.get(client) ?? 0) >= maxPerIp) {
        return refuse(429, "limit", client, "too many connections from this address");
      }
      // Last of the checks, and before any node is contacted: an upgrade the host would refuse.
      if (request.method !== "GET") {
        return refuse(405, "error", client, "a WebSocket upgrade must be a GET");
      }
      // A host that cannot tell (Workers, Deno.serve) gets the checks `ws` makes (RFC 6455).
      const problem = context.upgradable === undefined ? upgradeProblem(request) : undefined;
      if (context.upgradable === false || problem !== undefined) {
        return refuse(400, "error", client, problem ?? "invalid WebSocket upgrade request");
      }
      return await relay(context, client, target);
    } catch {
      emit({ event: "refused", status: 500, reason: "error", client });
      closes.error++;
      return new Response("internal error\n", { status: 500 });
    }
  };

  let closing: Promise<void> | undefined;
  return {
    handle,
    metrics: snapshot,
    close() {
      closing ??= (async () => {
        shutdown.abort();
        const pending = [...links];
        for (const link of pending) link.teardown("shutdown");
        await Promise.all(pending.map((l) => l.done));
      })();
      return closing;
    },
  };
}
