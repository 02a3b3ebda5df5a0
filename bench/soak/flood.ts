// Phase 2 (hostile flood): H hostile connections at once (random bytes, stalls, one byte then
// silence, a slow trickle, v1 garbage, v1 of another network, a complete handshake followed by
// garbage) against a listener with the default maxPendingHandshakes (128); each hostile slot
// reconnects when dropped. Meanwhile K honest sessions connect (v2 only, retrying when
// refused, as a node's connection manager does) and exchange messages. All K must complete.
import type { Session } from "../../layers/session/session.ts";
import { connect } from "../../layers/session/connect.ts";
import { performHandshake } from "../../layers/handshake/driver.ts";
import { connPair } from "../../transports/tcp.ts";
import { networkMagic } from "../../layers/bitcoin/network.ts";
import { prng } from "../../tests/helpers.ts";
import { echoListener, type ErrorTables, exchange, type PhaseContext } from "./load.ts";
import { codeOf, count, sleep } from "./util.ts";

const HOSTILE_KINDS = [
  "random-close",
  "random-open",
  "stall",
  "one-byte",
  "trickle",
  "v1-garbage",
  "v1-other-network",
  "v2-then-garbage",
] as const;
type HostileKind = typeof HOSTILE_KINDS[number];

/** The hostile phase's figures. */
export interface FloodReport {
  hostile: number;
  honest: number;
  honestCompleted: number;
  honestMessages: number;
  honestRetries: number;
  /**
   * Refusals an honest (v2-only) peer saw as `V1_ONLY_PEER`: with the default fallback
   * each would have reconnected in plaintext v1.
   */
  honestSawV1Only: number;
  durationMs: number;
  /** Hostile connections opened in all (slots reconnect when dropped). */
  connections: number;
  /** By hostile behaviour: how many of each were opened. */
  kinds: Record<string, number>;
  errors: ErrorTables;
}

/** Runs phase 2. */
export async function runFlood(ctx: PhaseContext): Promise<FloodReport> {
  const { config, failures, bounded, progress } = ctx;
  const errors: ErrorTables = { listener: {}, server: {}, client: {} };
  const report: FloodReport = {
    hostile: config.hostile,
    honest: config.honest,
    honestCompleted: 0,
    honestMessages: 0,
    honestRetries: 0,
    honestSawV1Only: 0,
    durationMs: 0,
    connections: 0,
    kinds: {},
    errors,
  };
  progress.phase = "hostile";
  progress.open = 0;
  progress.done = 0;
  const t2 = performance.now();
  const { listener, port, serverDone, serving } = echoListener(
    // the idle timeout reaps stalled v1 peers and silent sessions
    { handshakeTimeout: config.hostileTimeout, idleTimeout: config.hostileTimeout },
    errors,
    (reason) => count(errors.server, reason === undefined ? "clean" : reason.code),
  );
  let stopHostile = false;
  const conns = new Set<Deno.Conn>();
  const hostileOne = async (i: number, round: number) => {
    const kind: HostileKind = HOSTILE_KINDS[(i + round) % HOSTILE_KINDS.length];
    count(report.kinds, kind);
    report.connections++;
    const r = prng(config.seed + i * 1000 + round);
    const bytes = (n: number) => {
      const b = new Uint8Array(n);
      crypto.getRandomValues(b.subarray(0, Math.min(n, 65536)));
      return b;
    };
    let conn: Deno.Conn;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch (e) {
      count(errors.client, `hostile connect: ${codeOf(e)}`);
      return;
    }
    conns.add(conn);
    const write = (b: Uint8Array) => conn.write(b).catch(() => 0);
    // Drain whatever the server sends, so its writes never block on us; ends when it hangs up.
    const drainFrom = async (read: (buf: Uint8Array) => Promise<number | null>) => {
      const buf = new Uint8Array(65536);
      for (let n = 0; n < 100_000; n++) {
        if ((await read(buf).catch(() => null)) === null) return;
      }
    };
    let drain: Promise<void> = Promise.resolve();
    try {
      if (kind === "v2-then-garbage") {
        // an authenticated peer that then sends junk: the session must fail, not hang
        const pair = connPair(conn);
        try {
          await performHandshake(pair, {
            role: "initiator",
            network: "regtest",
            handshakeTimeout: 60_000,
          });
          const reader = pair.readable.getReader();
          drain = drainFrom(async () => {
            const { done, value } = await reader.read();
            return done ? null : value.length;
          });
          const w = pair.writable.getWriter();
          await w.write(bytes(1 + Math.floor(r() * 5000))).catch(() => {});
          w.releaseLock();
        } catch (e) {
          count(errors.client, `hostile v2: ${codeOf(e)}`);
        }
      } else {
        drain = drainFrom((buf) => conn.read(buf));
      }
      await behave(kind, r, write, bytes, conn, () => stopHostile);
      // hold the connection until the server drops it or the phase ends
      for (let n = 0; n < 1200 && !stopHostile; n++) {
        const ended = await Promise.race([drain.then(() => true), sleep(100).then(() => false)]);
        if (ended) break;
      }
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
      await drain;
    }
  };
  // Each hostile slot comes back after it is dropped (refused, timed out, failed), so the
  // listener stays under a standing flood while the honest peers try to get in.
  const hostile = Array.from({ length: config.hostile }, async (_, i) => {
    const r = prng(config.seed ^ (i * 7919));
    for (let round = 0; round < config.hostileRounds && !stopHostile; round++) {
      await hostileOne(i, round);
      if (!stopHostile) await sleep(100 + Math.floor(r() * 400));
    }
  });
  await sleep(500); // let the flood land first: honest peers arrive into a full listener
  const honest = Array.from({ length: config.honest }, async (_, k) => {
    const sizes = Array.from({ length: config.honestMessages }, ctx.size);
    let session: Session | undefined;
    for (let attempt = 0; attempt < 1000 && !session; attempt++) {
      if (performance.now() > ctx.deadlineAt) break;
      try {
        session = await connect({ port, network: "regtest", fallback: "none" });
      } catch (e) {
        const code = codeOf(e);
        count(errors.client, code);
        if (code === "V1_ONLY_PEER") report.honestSawV1Only++;
        report.honestRetries++;
        await sleep(25 + Math.floor(ctx.rand() * 75));
      }
    }
    if (!session) throw new Error(`honest peer ${k} never got in`);
    progress.open++;
    const r = await exchange(session, sizes, ctx.makePayload, 2_000_000_000 + k * 1000, (n) => {
      progress.moved += n;
      progress.messages++;
    });
    await session.close();
    progress.open--;
    progress.done++;
    if (r.echoed === sizes.length && r.lost + r.reordered + r.corrupted === 0) {
      report.honestCompleted++;
      report.honestMessages += r.echoed;
    } else {
      failures.push(`honest peer ${k}: ${JSON.stringify(r)}`);
    }
    if (session.closeReason !== undefined) {
      failures.push(`honest peer ${k} closed with ${session.closeReason.code}`);
    }
  });
  const honestResults = await bounded(Promise.allSettled(honest), "phase 2 (honest peers)");
  for (const r of honestResults) {
    if (r.status === "rejected") failures.push(String(r.reason));
  }
  stopHostile = true;
  await bounded(Promise.all(hostile), "phase 2 (hostile connections close)");
  for (const c of conns) {
    try {
      c.close();
    } catch { /* closed */ }
  }
  // the listener reaps what is left: handshakes time out, idle sessions close
  for (let n = 0; n < 400 && listener.pendingHandshakes > 0; n++) await sleep(50);
  if (listener.pendingHandshakes > 0) {
    failures.push(`${listener.pendingHandshakes} handshakes still pending after the flood`);
  }
  await bounded(Promise.all(serverDone), "phase 2 server sessions close");
  await listener.close();
  await bounded(serving, "phase 2 listener close");
  report.durationMs = performance.now() - t2;
  if (report.honestCompleted !== config.honest) {
    failures.push(`only ${report.honestCompleted} of ${config.honest} honest peers completed`);
  }
  return report;
}

/** What one hostile connection does after connecting. */
async function behave(
  kind: HostileKind,
  r: () => number,
  write: (b: Uint8Array) => Promise<number>,
  bytes: (n: number) => Uint8Array,
  conn: Deno.Conn,
  stopped: () => boolean,
): Promise<void> {
  switch (kind) {
    case "random-close":
      await write(bytes(1 + Math.floor(r() * 8000)));
      await conn.closeWrite().catch(() => {});
      break;
    case "random-open":
      await write(bytes(1 + Math.floor(r() * 8000)));
      break;
    case "stall":
    case "v2-then-garbage":
      break;
    case "one-byte":
      await write(new Uint8Array([Math.floor(r() * 256)]));
      break;
    case "trickle":
      for (let n = 0; n < 400 && !stopped(); n++) {
        if ((await write(new Uint8Array([n & 0xff]))) === 0) break;
        await sleep(100);
      }
      break;
    case "v1-garbage": {
      // a v1 version header with a random length and checksum, then junk
      const header = new Uint8Array(24);
      header.set(networkMagic("regtest"));
      header.set(new TextEncoder().encode("version"), 4);
      new DataView(header.buffer).setUint32(16, Math.floor(r() * 4_000_000), true);
      await write(header);
      await write(bytes(Math.floor(r() * 2000)));
      break;
    }
    case "v1-other-network": {
      const header = new Uint8Array(24);
      header.set(networkMagic("mainnet"));
      header.set(new TextEncoder().encode("version"), 4);
      await write(header);
      break;
    }
  }
}
