// What a listener's sessions hold over loopback TCP, measured in the listener's own process
// (server.ts: heap + external after a GC): per idle session, before and after one 4 MB decoy
// each; and what one session that is never read holds when its peer sends tiny messages,
// each in a transport chunk of its own (padded with decoys).
import { connect, type Session } from "../../mod.ts";
import { Child, MIB, sleep } from "./child.ts";

const HOST = "127.0.0.1";

/** The median of three fresh samples of the server's live memory. */
async function live(server: Child): Promise<number> {
  const xs = [];
  for (let i = 0; i < 3; i++) xs.push((await server.sample()).live);
  return xs.sort((a, b) => a - b)[1];
}

/** A session whose next message is preceded by one decoy of `bytes` once `arm()` is called. */
async function armedSession(port: number) {
  let armed = 0;
  const session = await connect({
    hostname: HOST,
    port,
    network: "regtest",
    fallback: "none",
    shaping: () => {
      if (armed === 0) return undefined;
      const size = armed;
      armed = 0;
      return [size];
    },
  });
  const writer = session.writable.getWriter();
  const reader = session.readable.getReader();
  const ping = async () => {
    await writer.write({ type: "ping", payload: new Uint8Array(8) });
    await reader.read(); // the pong: the server has read everything before it
  };
  return { session, ping, arm: (bytes: number) => (armed = bytes) };
}

/**
 * Bytes per idle session of the listener (`count` sessions), and per idle session after each
 * received one 4 MB decoy: `{ idle, afterBigPacket }`. A first round warms the server up
 * (compiled code, lazily loaded modules) and is not counted.
 */
export async function idleAfterBigPacketTcp(
  count = 30,
): Promise<{ idle: number; afterBigPacket: number }> {
  const server = new Child("server.ts");
  const { port } = await server.first;
  const sessions: Session[] = [];
  try {
    const warm = await Promise.all(Array.from({ length: count }, () => armedSession(port)));
    for (const w of warm) await w.ping();
    await Promise.all(warm.map((w) => w.session.close()));
    await sleep(500);
    const base = await live(server);
    const idle = await Promise.all(Array.from({ length: count }, () => armedSession(port)));
    sessions.push(...idle.map((s) => s.session));
    for (const s of idle) await s.ping();
    await sleep(1200); // the server's outboxes let their batch buffers go after 1 s idle
    const idleLive = await live(server);
    for (const s of idle) {
      s.arm(4_000_000);
      await s.ping();
    }
    await sleep(1200);
    const afterLive = await live(server);
    return { idle: (idleLive - base) / count, afterBigPacket: (afterLive - base) / count };
  } finally {
    await server.stop(); // first: the sessions' closes then end at once
    await Promise.all(sessions.map((s) => s.close()));
  }
}

/**
 * One session at a listener that never reads it; its peer sends 1-byte messages, each after a
 * 65,000-byte decoy, so that nearly every transport chunk carries one message. Returns the
 * listener's live-memory growth (MiB) once the peer's writes stall (the read-ahead is full),
 * and the messages written until then.
 */
export async function readAheadRetainedMib(): Promise<{ mib: number; messages: number }> {
  const server = new Child("server.ts", ["--no-read"]);
  const { port } = await server.first;
  let session: Session | undefined;
  try {
    const base = await live(server);
    session = await connect({
      hostname: HOST,
      port,
      network: "regtest",
      fallback: "none",
      shaping: () => [65_000],
    });
    const writer = session.writable.getWriter();
    let written = 0;
    const writing = (async () => {
      for (let i = 0; i < 20_000; i++) {
        await writer.write({ type: "inv", payload: new Uint8Array(1) });
        written++;
      }
    })().catch(() => {});
    // until the writes stall for a second (the listener stopped reading), at most 20 s
    for (let last = -1, t = 0; written !== last && t < 20; t++) {
      last = written;
      await sleep(1000);
    }
    const grown = (await live(server)) - base;
    await server.stop();
    await writing;
    return { mib: grown / MIB, messages: written };
  } finally {
    await server.stop();
    await session?.close();
  }
}
