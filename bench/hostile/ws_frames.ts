// What one oversized WebSocket frame costs a server, on loopback (issue 14, items 1–2). A
// server runs in a subprocess (this module with `--serve MODE`); raw TCP clients upgrade, then
// each announces one 60 MiB binary frame and streams its payload. The server's peak RSS growth
// (VmHWM − RSS before) is read from /proc (Linux). Modes:
//
// - relay: 16 sockets (the per-IP limit) through the relay (serveRelay) toward a node that
//   never reads;
// - listen-ws: 8 sockets at listenWebSocket before the BIP324 handshake;
// - deno-native: the same 16 frames at a bare Deno.serve + Deno.upgradeWebSocket server (what
//   the relay and listener used before): Deno reads and buffers each frame whole (up to
//   64 MiB) before JavaScript sees it.
//
// Bounded: at most 16 connections, 60 MiB each, 30 s per scenario.
import { listenWebSocket } from "../../mod.ts";
import { startRelay } from "../../examples/relay.ts";

const FRAME = 60 << 20;
const DEADLINE_MS = 30_000;

/** One scenario's result. */
export interface FrameResult {
  /** The server's peak RSS growth, MiB. */
  peakGrowthMib: number;
  /** Payload bytes the server accepted before it closed the connections, MiB. */
  bytesAcceptedMib: number;
}

if (import.meta.main && Deno.args[0] === "--serve") {
  // The server side, in its own process.
  const mode = Deno.args[1];
  let port: number;
  if (mode === "relay") {
    const relay = startRelay({ port: 0, to: `127.0.0.1:${Deno.args[2]}` });
    await relay.ready;
    port = relay.addr.port;
  } else if (mode === "listen-ws") {
    const listener = listenWebSocket({ port: 0, network: "regtest", onError: () => {} });
    (async () => {
      for await (const s of listener) s.close();
    })();
    port = listener.addr.port;
  } else {
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = () => {};
      return response;
    });
    port = server.addr.port;
  }
  console.log(JSON.stringify({ port }));
  await new Promise(() => {});
}

function rssOf(pid: number): { rss: number; hwm: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib("VmRSS") / 1024, hwm: kib("VmHWM") / 1024 };
}

/** Upgrades a raw TCP connection, then sends one frame header announcing `size` and streams it. */
async function hostileFrame(port: number, size: number, until: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(new TextEncoder().encode(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const head = new Uint8Array(4096);
  const n = await conn.read(head);
  const answer = new TextDecoder().decode(head.subarray(0, n ?? 0));
  if (!answer.startsWith("HTTP/1.1 101")) {
    conn.close();
    return 0;
  }
  // FIN + binary, masked, 64-bit length.
  const header = new Uint8Array(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  new DataView(header.buffer).setBigUint64(2, BigInt(size));
  header.set(crypto.getRandomValues(new Uint8Array(4)), 10);
  let sent = 0;
  try {
    await conn.write(header);
    const block = new Uint8Array(1 << 20);
    while (sent < size && Date.now() < until) {
      sent += await conn.write(block.subarray(0, Math.min(block.length, size - sent)));
    }
  } catch { /* the server closed the connection: refused */ }
  try {
    conn.close();
  } catch { /* closed */ }
  return sent;
}

/** Runs one mode's server in a subprocess and sends it `sockets` 60 MiB frames. */
export async function frameScenario(
  mode: "relay" | "listen-ws" | "deno-native",
  sockets: number,
): Promise<FrameResult> {
  // A node that accepts and never reads (for the relay).
  const node = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const c of node) held.push(c);
    } catch { /* closed */ }
  })();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--serve",
      mode,
      String((node.addr as Deno.NetAddr).port),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${mode} server exited`);
      text += value;
    }
    const { port } = JSON.parse(text.split("\n")[0]);
    await new Promise((r) => setTimeout(r, 500));
    const before = rssOf(child.pid).rss;
    const until = Date.now() + DEADLINE_MS;
    const sent = await Promise.all(
      Array.from({ length: sockets }, () => hostileFrame(port, FRAME, until)),
    );
    await new Promise((r) => setTimeout(r, 500));
    const after = rssOf(child.pid);
    return {
      peakGrowthMib: Math.round(after.hwm - before),
      bytesAcceptedMib: Math.round(sent.reduce((a, b) => a + b, 0) / (1 << 20)),
    };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    await reader.cancel().catch(() => {});
    for (const c of held) c.close();
    node.close();
    await accepting;
  }
}
