import assert from "node:assert/strict";
import { openSession } from "../layers/session/open.ts";
import { Bip324Error } from "../layers/errors.ts";
import { serveHttp } from "../transports/http_server.ts";
import { serveWebSocket } from "../transports/websocket_server.ts";
import { webSocketPair } from "../transports/websocket.ts";
import type { IncomingPair } from "../transports/types.ts";
import { within } from "./helpers.ts";
import { clientFrame, encoder, rawUpgrade } from "./relay_helpers.ts";

const TIMEOUT = 20_000;

/** A serveWebSocket server and its first incoming pair. */
function serveOne() {
  const server = serveWebSocket({ port: 0 });
  const first = (async () => {
    for await (const c of server.incoming) return c;
  })() as Promise<IncomingPair>;
  return { server, first: within(first, TIMEOUT, "incoming pair") };
}

Deno.test("websocket stream: bytes then a text frame, both queued before the first read: the bytes are read, then the error", async () => {
  const { server, first } = serveOne();
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
    ws.binaryType = "arraybuffer";
    await within(new Promise((r) => (ws.onopen = r)), TIMEOUT, "open");
    const closed = new Promise<CloseEvent>((r) => (ws.onclose = r));
    ws.send(new Uint8Array([1, 2, 3]));
    ws.send("not binary");
    const { pair } = await first;
    // The server has refused the text frame (and closed) before anything is read.
    await within(closed, TIMEOUT, "server closes on the text frame");
    const reader = pair.readable.getReader();
    assert.deepEqual(await reader.read(), { value: new Uint8Array([1, 2, 3]), done: false });
    await assert.rejects(reader.read(), /text frame/);
  } finally {
    await server.stop();
  }
});

Deno.test("websocket stream: a responder's key then a text frame before the initiator's first read is a TRANSPORT failure, not V1_ONLY_PEER", async () => {
  let sent!: () => void;
  const bothSent = new Promise<void>((r) => (sent = r));
  const server = serveHttp({ port: 0 }, (_request, context) => {
    const { response, socket } = context.upgrade();
    socket.then((ws) => {
      ws.send(crypto.getRandomValues(new Uint8Array(64)));
      ws.send("text");
      sent();
    });
    return response;
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
    const closed = new Promise<void>((r) => ws.addEventListener("close", () => r()));
    const pair = await webSocketPair(ws);
    await within(bothSent, TIMEOUT, "server frames");
    await within(closed, TIMEOUT, "closed on the text frame");
    const error = await openSession(pair, { role: "initiator", network: "regtest" }).then(
      () => assert.fail("handshake succeeded"),
      (e) => e,
    );
    assert.ok(error instanceof Bip324Error, String(error));
    assert.equal(error.code, "TRANSPORT", error.message);
    assert.match(error.message, /text frame/);
  } finally {
    await server.close();
  }
});

Deno.test("websocket stream: a connection cut without a close frame (mid-frame, or between frames) is an error on the server side, not a clean end", async () => {
  for (const midFrame of [true, false]) {
    const { server, first } = serveOne();
    try {
      const { status, conn } = await rawUpgrade(server.addr.port);
      assert.equal(status, 101);
      const frame = clientFrame(encoder.encode("hello"));
      await conn.write(frame);
      // Mid-frame: the header of a second frame announcing 100 bytes, then 3 of them.
      if (midFrame) await conn.write(new Uint8Array([0x82, 0x80 | 100, 1, 2, 3, 4, 9, 9, 9]));
      const { pair } = await first;
      const reader = pair.readable.getReader();
      assert.deepEqual(await reader.read(), { value: encoder.encode("hello"), done: false });
      conn.close();
      await assert.rejects(within(reader.read(), TIMEOUT, "read"), /abnormally \(code 1006\)/);
    } finally {
      await server.stop();
    }
  }
});
