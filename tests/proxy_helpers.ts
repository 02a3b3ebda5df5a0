// Shared by the proxy tests: a node behind the proxy, v1 clients, a proxy on loopback that
// records its events, and bounded waits.
import assert from "node:assert/strict";
import { type ProxyEvent, type ProxyOptions, startProxy } from "../examples/proxy.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";
import { NODE_NETWORK } from "../layers/bitcoin/mod.ts";
import { peerHandshake, type PeerInfo } from "../layers/bitcoin/peer_handshake.ts";
import type { Session } from "../layers/session/session.ts";
import { openV1Session } from "../layers/session/v1_session.ts";
import { connPair, listenTcp } from "../transports/tcp.ts";
import { listen } from "../layers/session/connect.ts";
import { within } from "./helpers.ts";

/** Every wait is bounded by this. */
export const TIMEOUT = 20_000;

/** A node behind the proxy: answers version/verack and pings, records and echoes the rest. */
export function echoNode(kind: "v2" | "v1-only") {
  const sessions: Session[] = [];
  const infos: PeerInfo[] = [];
  const received: Message[][] = [];
  const served: Promise<void>[] = [];
  const serve = async (s: Session) => {
    const index = sessions.push(s) - 1;
    received[index] = [];
    try {
      const info = await peerHandshake(s, {
        userAgent: kind === "v2" ? "/node-like:2/" : "/v1-only:1/",
        services: kind === "v2" ? undefined : NODE_NETWORK,
        timeout: 5000,
      });
      infos[index] = info;
      const r = s.readable.getReader(), w = s.writable.getWriter();
      for (;;) {
        const { done, value } = await r.read();
        if (done) break;
        if (value.type === "ping") {
          await w.write({ type: "pong", payload: value.payload });
        } else {
          received[index].push(value);
          await w.write(value);
        }
      }
    } catch {
      /* closed (or a v2 key sent to the v1-only node) */
    } finally {
      await s.close();
    }
  };
  let port: number;
  let stop: () => Promise<void>;
  if (kind === "v2") {
    const listener = listen({ port: 0, network: "regtest" });
    const accepting = (async () => {
      for await (const s of listener) served.push(serve(s));
    })();
    port = listener.addr.port;
    stop = async () => {
      await listener.close();
      await accepting;
    };
  } else {
    const tcp = listenTcp({ port: 0 });
    const accepting = (async () => {
      for await (const conn of tcp.incoming) {
        served.push(serve(openV1Session(conn.pair, { role: "responder", network: "regtest" })));
      }
    })();
    port = tcp.addr.port;
    stop = async () => {
      tcp.stop();
      await accepting.catch(() => {});
    };
  }
  return {
    port,
    sessions,
    infos,
    received,
    /** The session that completed the version handshake (v1-only nodes also see our v2 try). */
    async handshaken(): Promise<number> {
      return await poll(() => {
        const i = infos.findIndex((x) => x !== undefined);
        return i >= 0 ? i : undefined;
      }, "node handshake");
    },
    async close() {
      await stop();
      await Promise.all(sessions.map((s) => s.close()));
      await Promise.all(served);
    },
  };
}

/** Polls `check` until it returns something (bounded by TIMEOUT). */
export async function poll<T>(check: () => T | undefined, what: string): Promise<T> {
  const deadline = performance.now() + TIMEOUT;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A local v1 program: raw TCP + the v1 layer, as initiator. */
export async function v1Client(port: number): Promise<Session> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  return openV1Session(connPair(conn), { role: "initiator", network: "regtest" });
}

/** startProxy on a free loopback port, recording its events. */
export function testProxy(
  options: { to?: number | { host: string; port: number } } & Omit<Partial<ProxyOptions>, "to"> =
    {},
) {
  const events: ProxyEvent[] = [];
  const { to, ...rest } = options;
  const proxy = startProxy({
    listen: { hostname: "127.0.0.1", port: 0 },
    network: "regtest",
    timeout: 5000,
    ...rest,
    ...(to !== undefined
      ? { to: typeof to === "number" ? { host: "127.0.0.1", port: to } : to }
      : {}),
    onEvent: (e) => events.push(e),
  });
  return {
    proxy,
    port: proxy.addr.port,
    events,
    event<K extends ProxyEvent["event"]>(
      kind: K,
      match: (e: Extract<ProxyEvent, { event: K }>) => boolean = () => true,
    ): Promise<Extract<ProxyEvent, { event: K }>> {
      return poll(
        () =>
          events.find((e): e is Extract<ProxyEvent, { event: K }> =>
            e.event === kind && match(e as Extract<ProxyEvent, { event: K }>)
          ),
        `a ${kind} event; saw ${JSON.stringify(events)}`,
      );
    },
  };
}

/** Custom messages with random payloads (one of them large). */
export function randomMessages(): Message[] {
  const sizes = [0, 1, 37, 1000, 100_000, 5];
  return sizes.map((n, i) => {
    const payload = new Uint8Array(n);
    for (let at = 0; at < n; at += 65536) crypto.getRandomValues(payload.subarray(at, at + 65536));
    return { type: `custom${i}`, payload };
  });
}

/** Sends `messages` through `client` and checks that each comes back unchanged. */
export async function roundTrip(client: Session, messages: Message[]): Promise<void> {
  const w = client.writable.getWriter(), r = client.readable.getReader();
  try {
    for (const m of messages) await within(w.write(m), TIMEOUT, `write ${m.type}`);
    for (const m of messages) {
      const { value, done } = await within(r.read(), TIMEOUT, `echo of ${m.type}`);
      assert.equal(done, false);
      assert.equal(value!.type, m.type);
      assert.deepEqual(value!.payload, m.payload);
    }
  } finally {
    w.releaseLock();
    r.releaseLock();
  }
}

/** Resolves once `session` ends (its readable is done or errors). */
export async function ended(session: Session): Promise<void> {
  const r = session.readable.getReader();
  try {
    for (;;) if ((await r.read()).done) return;
  } catch {
    /* ended with an error */
  } finally {
    r.releaseLock();
  }
}
