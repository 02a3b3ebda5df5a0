// Loopback WebSocket figures: request/response latency next to a raw WebSocket doing the same
// exchange, and one-way small messages.
import { api, median, type Session, smallOneWayPerSecond } from "./lib.ts";

const HOST = "127.0.0.1";

/** A session pair over a loopback WebSocket (listenWebSocket + connectWebSocket). */
async function wsPair(): Promise<[Session, Session, () => Promise<void>]> {
  const listener = api.listenWebSocket({ port: 0, hostname: HOST, garbage: 0 });
  await listener.ready;
  const accepted = listener[Symbol.asyncIterator]().next();
  const client = await api.connectWebSocket({
    url: `ws://${HOST}:${listener.addr.port}/`,
    garbage: 0,
  });
  const server = (await accepted).value as Session;
  return [client, server, () => listener.close()];
}

/** Median ping → pong round trip through two sessions over a WebSocket, µs. */
export async function wsRttUs(rounds = 2000): Promise<number> {
  const [a, b, stop] = await wsPair();
  const ar = a.readable.getReader(), br = b.readable.getReader();
  const echo = (async () => {
    for (;;) {
      const { value, done } = await br.read();
      if (done) return;
      await b.send("pong", value.payload);
    }
  })().catch(() => {});
  const payload = new Uint8Array(8);
  const times: number[] = [];
  for (let i = 0; i < rounds + 200; i++) {
    const t0 = performance.now();
    await a.send("ping", payload);
    await ar.read();
    if (i >= 200) times.push(performance.now() - t0);
  }
  ar.releaseLock();
  await a.close();
  await b.closed;
  await echo;
  await stop();
  return median(times) * 1000;
}

/** The same exchange (a 29-byte binary message each way) on a raw Deno WebSocket, µs. */
export async function rawWsRttUs(rounds = 2000): Promise<number> {
  const server = Deno.serve({ port: 0, hostname: HOST, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => socket.send(e.data as ArrayBuffer);
    return response;
  });
  const ws = new WebSocket(`ws://${HOST}:${server.addr.port}/`);
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let answered: () => void = () => {};
  ws.onmessage = () => answered();
  const message = new Uint8Array(29);
  const times: number[] = [];
  for (let i = 0; i < rounds + 200; i++) {
    const t0 = performance.now();
    const back = new Promise<void>((resolve) => answered = resolve);
    ws.send(message);
    await back;
    if (i >= 200) times.push(performance.now() - t0);
  }
  const closed = new Promise((resolve) => ws.onclose = resolve);
  ws.close();
  await closed;
  await server.shutdown();
  return median(times) * 1000;
}

/** 37-byte messages one way through two sessions over a WebSocket, per second. */
export async function wsSmallPerSecond(count = 50_000): Promise<number> {
  return smallOneWayPerSecond(await wsPair(), count);
}
