import assert from "node:assert/strict";
import { connectWebSocket, listenWebSocket } from "../layers/session/connect.ts";
import type { Session } from "../layers/session/session.ts";
import { Bip324Error } from "../layers/errors.ts";
import { FrameTooLargeError, openWebSocket } from "../transports/websocket.ts";

Deno.test("websocket: initiator and responder over loopback, echo", async () => {
  const listener = listenWebSocket({ port: 0, network: "regtest", path: "/bip324" });
  const sessions: Session[] = [];
  const served = (async () => {
    for await (const s of listener) {
      sessions.push(s);
      s.readable.pipeTo(s.writable).catch(() => {});
    }
  })();
  const client = await connectWebSocket({
    url: `ws://127.0.0.1:${listener.addr.port}/bip324`,
    network: "regtest",
  });
  const w = client.writable.getWriter(), r = client.readable.getReader();
  for (let i = 0; i < 10; i++) {
    const payload = new Uint8Array(i * 5000).fill(i);
    await w.write({ type: "block", payload });
    const { value } = await r.read();
    assert.deepEqual(value?.payload, payload);
  }
  assert.deepEqual(client.sessionId, sessions[0].sessionId);
  await client.close();
  await sessions[0].closed;
  await listener.close();
  await served;
});

Deno.test("websocket: listenWebSocket refuses a frame over maxFrameBytes before the handshake; the listener keeps serving", async () => {
  const errors: Bip324Error[] = [];
  const listener = listenWebSocket({
    port: 0,
    network: "regtest",
    maxFrameBytes: 8192,
    onError: (e) => errors.push(e),
  });
  const sessions: Session[] = [];
  const served = (async () => {
    for await (const s of listener) sessions.push(s);
  })();
  const url = `ws://127.0.0.1:${listener.addr.port}/`;
  const raw = new WebSocket(url);
  await new Promise((r) => (raw.onopen = r));
  const closed = new Promise<CloseEvent>((r) => (raw.onclose = r));
  raw.send(new Uint8Array(60_000));
  assert.equal((await closed).code, 1009);
  const deadline = Date.now() + 10_000;
  while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof Bip324Error);
  // The frame limit is ours: OVERSIZED, origin local, with the transport's typed cause.
  assert.equal(errors[0].code, "OVERSIZED");
  assert.equal(errors[0].origin, "local");
  assert.ok(errors[0].cause instanceof FrameTooLargeError, String(errors[0].cause));
  // An honest client still gets a session.
  const client = await connectWebSocket({ url, network: "regtest" });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(sessions.length, 1);
  assert.deepEqual(client.sessionId, sessions[0].sessionId);
  await client.close();
  await sessions[0].closed;
  await listener.close();
  await served;
});

Deno.test("websocket: openWebSocket names what is missing without a global WebSocket; bad URLs are TypeErrors", () => {
  assert.throws(() => openWebSocket("not a url"), TypeError);
  const saved = globalThis.WebSocket;
  try {
    // @ts-ignore: simulating a runtime without WebSocket (Node.js 20)
    delete globalThis.WebSocket;
    assert.throws(() => openWebSocket("ws://127.0.0.1:1/"), /global WebSocket/);
  } finally {
    globalThis.WebSocket = saved;
  }
});
