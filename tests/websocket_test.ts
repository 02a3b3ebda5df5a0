import assert from "node:assert/strict";
import { connectWebSocket, listenWebSocket } from "../layers/session/connect.ts";
import type { Session } from "../layers/session/session.ts";

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
