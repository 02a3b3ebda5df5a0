// Test peers built from the library: a node-like BIP324 listener and a v1-only peer.
// Loopback only.
import { listenTcp, nodeSocketPair } from "../transports/tcp.ts";
import { listen } from "../layers/session/connect.ts";
import { openV1Session } from "../layers/session/v1_session.ts";
import { peerHandshake } from "../layers/bitcoin/peer_handshake.ts";
import { type FeatureRegistration, NODE_NETWORK } from "../layers/bitcoin/mod.ts";
import type { Session } from "../layers/session/session.ts";
import type { Bip324Error } from "../layers/errors.ts";

/** Answers version/verack, then pings (and, with `echo`, echoes everything else). */
export async function serveLikeANode(
  s: Session,
  userAgent: string,
  options: { services?: bigint; echo?: boolean; features?: FeatureRegistration[] } = {},
): Promise<void> {
  try {
    await peerHandshake(s, {
      userAgent,
      services: options.services,
      features: options.features,
      startHeight: 123,
      timeout: 5000,
    });
    const r = s.readable.getReader(), w = s.writable.getWriter();
    for (;;) {
      const { done, value } = await r.read();
      if (done) break;
      if (value.type === "ping") await w.write({ type: "pong", payload: value.payload });
      else if (options.echo) await w.write(value);
    }
  } catch {
    /* closed, or a v2 key sent to a v1-only peer */
  } finally {
    await s.close();
  }
}

/** A BIP324 listener (v1 accepted unless `v1: "reject"`) whose sessions behave like a node. */
export function nodeLike(
  options: {
    hostname?: string;
    v1?: "accept" | "reject";
    echo?: boolean;
    features?: FeatureRegistration[];
  } = {},
) {
  const errors: Bip324Error[] = [];
  const listener = listen({
    port: 0,
    hostname: options.hostname ?? "127.0.0.1",
    network: "regtest",
    v1: options.v1,
    onError: (e) => errors.push(e),
  });
  const sessions: Session[] = [];
  const served: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const s of listener) {
      sessions.push(s);
      served.push(
        serveLikeANode(s, "/node-like:2/", { echo: options.echo, features: options.features }),
      );
    }
  })();
  return {
    port: listener.addr.port,
    sessions,
    errors,
    async close() {
      await listener.close();
      await accepting;
      await Promise.all(sessions.map((s) => s.close()));
      await Promise.all(served);
    },
  };
}

/** A peer that only speaks v1: hangs up on a v2 key, as Bitcoin Core without v2 does. */
export function v1OnlyPeer() {
  const tcp = listenTcp({ port: 0 });
  const sessions: Session[] = [];
  const served: Promise<void>[] = [];
  let connections = 0;
  const accepting = (async () => {
    for await (const conn of tcp.incoming) {
      connections++;
      const s = openV1Session(conn.pair, { role: "responder", network: "regtest" });
      sessions.push(s);
      served.push(serveLikeANode(s, "/v1-only:1/", { services: NODE_NETWORK }));
    }
  })();
  return {
    port: tcp.addr.port,
    get connections() {
      return connections;
    },
    async close() {
      tcp.stop();
      await accepting.catch(() => {});
      await Promise.all(sessions.map((s) => s.close()));
      await Promise.all(served);
    },
  };
}

/**
 * A TCP server on loopback that accepts connections and never says a word (it never answers
 * a key or an upgrade). `onAccept` sees each connection.
 */
export function silentServer(onAccept: (conn: Deno.Conn) => void = () => {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      onAccept(conn);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get connections() {
      return conns.length;
    },
    async close() {
      listener.close();
      await accepting;
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

/** A loopback port nobody listens on. */
export function closedPort(): number {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Two ends of a loopback `node:net` connection as byte pairs (the Node.js and Bun path):
 * `client` connected, `remote` accepted; `stop()` closes the server.
 */
export async function nodeNetPairs(): Promise<{
  client: ReturnType<typeof nodeSocketPair>;
  remote: ReturnType<typeof nodeSocketPair>;
  stop(): Promise<void>;
}> {
  const net = await import("node:net");
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
  const accepted = new Promise<ReturnType<typeof nodeSocketPair>>((resolve) =>
    server.on("connection", (socket) => resolve(nodeSocketPair(socket as never)))
  );
  await new Promise<void>((r) => server.listen({ port: 0, host: "127.0.0.1" }, r));
  const port = (server.address() as { port: number }).port;
  const socket = net.createConnection({ host: "127.0.0.1", port, allowHalfOpen: true });
  await new Promise((r) => socket.once("connect", r));
  const client = nodeSocketPair(socket as never);
  return {
    client,
    remote: await accepted,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
