// Loopback TCP figures: request/response latency, one-way small messages, sequential
// handshakes, and the RSS of idle sessions — each next to raw Deno TCP doing the same.
import { type AnyOptions, api, median, type Session, smallOneWayPerSecond } from "./lib.ts";

const HOST = "127.0.0.1";

/** A session pair over loopback TCP (listener + connect in this process). */
async function tcpPair(options: AnyOptions = {}): Promise<[Session, Session, () => Promise<void>]> {
  const listener = api.listen({ port: 0, hostname: HOST, garbage: 0, ...options });
  const accepted = listener[Symbol.asyncIterator]().next();
  const client = await api.connect({
    hostname: HOST,
    port: listener.addr.port,
    garbage: 0,
    ...options,
  });
  const server = (await accepted).value as Session;
  return [client, server, () => listener.close()];
}

/** Raw Deno TCP pair (no BIP324). */
async function rawPair(): Promise<[Deno.TcpConn, Deno.TcpConn, () => void]> {
  const listener = Deno.listen({ port: 0, hostname: HOST });
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: HOST, port: (listener.addr as Deno.NetAddr).port });
  const server = await accepted as Deno.TcpConn;
  client.setNoDelay(true);
  server.setNoDelay(true);
  return [client, server, () => listener.close()];
}

/** Median ping → pong round trip through two sessions, µs. */
export async function sessionRttUs(rounds = 2000): Promise<number> {
  const [a, b, stop] = await tcpPair();
  const aw = a.writable.getWriter(), ar = a.readable.getReader();
  const bw = b.writable.getWriter(), br = b.readable.getReader();
  const echo = (async () => {
    for (;;) {
      const { value, done } = await br.read();
      if (done) return;
      await bw.write({ type: "pong", payload: value.payload });
    }
  })().catch(() => {});
  const payload = new Uint8Array(8);
  const times: number[] = [];
  for (let i = 0; i < rounds + 200; i++) {
    const t0 = performance.now();
    await aw.write({ type: "ping", payload });
    await ar.read();
    if (i >= 200) times.push(performance.now() - t0);
  }
  aw.releaseLock();
  await a.close();
  await b.closed;
  await echo;
  await stop();
  return median(times) * 1000;
}

/** Median round trip of the same exchange (a 29-byte request, a 29-byte reply) on raw TCP, µs. */
export async function rawRttUs(rounds = 2000): Promise<number> {
  const [a, b, stop] = await rawPair();
  const buf = new Uint8Array(64), bbuf = new Uint8Array(64);
  const msg = new Uint8Array(29);
  const readFull = async (conn: Deno.Conn, into: Uint8Array, n: number) => {
    let have = 0;
    while (have < n) {
      const got = await conn.read(into.subarray(have, n));
      if (got === null) return false;
      have += got;
    }
    return true;
  };
  const echo = (async () => {
    while (await readFull(b, bbuf, 29)) await b.write(bbuf.subarray(0, 29));
  })().catch(() => {});
  const times: number[] = [];
  for (let i = 0; i < rounds + 200; i++) {
    const t0 = performance.now();
    await a.write(msg);
    await readFull(a, buf, 29);
    if (i >= 200) times.push(performance.now() - t0);
  }
  a.close();
  await echo;
  b.close();
  stop();
  return median(times) * 1000;
}

/** 37-byte messages per second one way through two sessions over TCP. */
export async function sessionSmallPerSecond(count = 100_000): Promise<number> {
  return smallOneWayPerSecond(await tcpPair(), count);
}

/** The same bytes (one 58-byte v2 packet per message) with the same write pattern, raw TCP. */
export async function rawSmallPerSecond(count = 100_000): Promise<number> {
  const [a, b, stop] = await rawPair();
  const packet = new Uint8Array(58).fill(7);
  const w = a.writable.getWriter();
  const reader = b.readable.getReader();
  const run = async (n: number) => {
    const t0 = performance.now();
    const reading = (async () => {
      let have = 0;
      while (have < n * packet.length) {
        const { value, done } = await reader.read();
        if (done) break;
        have += value.length;
      }
    })();
    for (let i = 0; i < n; i++) w.write(packet);
    await reading;
    return performance.now() - t0;
  };
  await run(count / 4);
  const ms = await run(count);
  await w.close().catch(() => {});
  reader.releaseLock();
  b.close();
  stop();
  return count / ms * 1000;
}

/** Sequential connect + handshake + awaited close, per second (default random garbage). */
export async function handshakesPerSecond(seconds = 2): Promise<number> {
  const listener = api.listen({ port: 0, hostname: HOST });
  const serving = (async () => {
    for await (const s of listener) s.readable.cancel().catch(() => {});
  })();
  const port = listener.addr.port;
  for (let i = 0; i < 20; i++) await (await api.connect({ hostname: HOST, port })).close();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const s = await api.connect({ hostname: HOST, port, fallback: "none" });
    await s.close();
    n++;
  }
  const perSec = n / (performance.now() - t0) * 1000;
  await listener.close();
  await serving;
  return perSec;
}

/**
 * RSS growth per idle client session, with 1,000 sessions held open in a fresh process
 * (`idle_client.ts`) against a listener in another one (`idle_server.ts`), so only one end's
 * memory is counted and nothing measured before skews it.
 */
export async function rssPerIdleTcpSession(
  count = 1000,
): Promise<{ raw: number; net: number }> {
  const run = (script: string, args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--expose-gc",
        new URL(script, import.meta.url).pathname,
        ...args,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
  const server = run("./idle_server.ts", []);
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await lines.read()).value!.trim());
  try {
    const client = await run("./idle_client.ts", [String(port), String(count)]).output();
    return JSON.parse(new TextDecoder().decode(client.stdout).trim());
  } finally {
    server.kill();
    await server.status;
    lines.releaseLock();
  }
}
