// The hostile scenarios of `deno task soak --hostile`: each starts what it needs on loopback,
// measures one figure, and stops everything again. Counts and times are bounded.
import { Handshake } from "../../layers/handshake/handshake.ts";
import { connect, listen } from "../../mod.ts";
import { Child, MIB, sleep } from "./child.ts";

const HOST = "127.0.0.1";

async function rawConnect(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: HOST, port });
  conn.setNoDelay(true);
  return conn;
}

/** Reads from `conn` into `machine` until it is done (or the connection ends). */
async function completeInitiator(conn: Deno.Conn, machine: Handshake): Promise<Uint8Array> {
  const buf = new Uint8Array(64 * 1024);
  let reply: Uint8Array = new Uint8Array(0);
  while (!machine.done) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("listener closed during the handshake");
    const out = machine.receive(buf.subarray(0, n));
    if (out.length > 0) reply = out;
  }
  return reply;
}

/**
 * 128 pending handshakes, each in the middle of a 4 MB handshake-phase decoy (2 MB of it sent,
 * then silence): the listener's RSS growth, MiB. With `packet: "version"` the 4 MB packet is
 * the version packet itself (its contents are ignored by this protocol version, but it is a
 * real packet, not a decoy).
 */
export async function pendingDecoyRssMib(
  count = 128,
  packet: "decoy" | "version" = "decoy",
): Promise<number> {
  const server = new Child("server.ts", ["--max-pending", String(count + 8)]);
  const { port } = await server.first;
  const conns: Deno.TcpConn[] = [];
  try {
    const before = (await server.sample()).rss;
    for (let i = 0; i < count; i++) {
      const conn = await rawConnect(port);
      conns.push(conn);
      const machine = new Handshake({
        role: "initiator",
        network: "regtest",
        ...(packet === "decoy"
          ? { decoys: [4_000_000] }
          : { versionContents: new Uint8Array(4_000_000) }),
      });
      await conn.write(machine.start());
      // The responder answers our key with its own key, garbage, terminator and version packet;
      // our machine then hands us terminator + decoy + version packet. Send half the decoy.
      const rest = await completeInitiator(conn, machine);
      const half = rest.subarray(0, 16 + 2 * MIB);
      for (let at = 0; at < half.length;) at += await conn.write(half.subarray(at));
      machine.destroy();
    }
    await sleep(1000); // let the listener read what was sent
    const after = await server.sample();
    if (after.pending < count * 0.9) throw new Error(`only ${after.pending} handshakes pending`);
    return (after.rss - before) / MIB;
  } finally {
    for (const c of conns) c.close();
    await server.stop();
  }
}

/**
 * Three peers (`peers`) each flooding 1 MB decoys at a listener in another process while an
 * honest peer pings every 20 ms: the honest ping's 99th percentile, ms.
 */
export async function pingUnderFlood(
  seconds = 6,
  peers = 3,
): Promise<{ p50: number; p99: number; max: number }> {
  const server = new Child("server.ts");
  const { port } = await server.first;
  const flood = new Child("flooder.ts", ["--port", String(port), "--peers", String(peers)]);
  try {
    await flood.first; // the flooders are connected and sending
    const honest = await connect({ hostname: HOST, port, network: "regtest" });
    const writer = honest.writable.getWriter(), reader = honest.readable.getReader();
    const times: number[] = [];
    const until = performance.now() + seconds * 1000;
    for (let i = 0; performance.now() < until && i < 10_000; i++) {
      const t0 = performance.now();
      await writer.write({ type: "ping", payload: new Uint8Array(8) });
      await reader.read();
      times.push(performance.now() - t0);
      await sleep(20);
    }
    writer.releaseLock();
    reader.releaseLock();
    await honest.close();
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    return { p50: at(0.5), p99: at(0.99), max: times.at(-1)! };
  } finally {
    await flood.stop();
    await server.stop();
  }
}

/**
 * A v2 listener whose handshake slots are all held by silent connections; initiators with
 * the default fallback connect — one after another, or with `atOnce` all at the same time
 * (then more refusals linger at the listener than it keeps lingering: 128): how many ended
 * up on v1 (must be 0), and how many were refused.
 */
export async function busyDowngrades(
  initiators = 20,
  atOnce = false,
): Promise<{ downgrades: number; refused: number }> {
  const listener = listen({
    port: 0,
    hostname: HOST,
    network: "regtest",
    maxPendingHandshakes: 8,
    onError: () => {},
  });
  const serving = (async () => {
    for await (const s of listener) s.close();
  })();
  const holders: Deno.TcpConn[] = [];
  let downgrades = 0, refused = 0;
  const one = async () => {
    try {
      const s = await connect({ hostname: HOST, port: listener.addr.port, network: "regtest" });
      if (s.transportVersion === 1) downgrades++;
      await s.close();
    } catch {
      refused++;
    }
  };
  try {
    for (let i = 0; i < 8; i++) holders.push(await rawConnect(listener.addr.port));
    while (listener.pendingHandshakes < 8) await sleep(5);
    if (atOnce) await Promise.all(Array.from({ length: initiators }, one));
    else for (let i = 0; i < initiators; i++) await one();
  } finally {
    for (const h of holders) h.close();
    await listener.close();
    await serving;
  }
  return { downgrades, refused };
}
