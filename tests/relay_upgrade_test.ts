import assert from "node:assert/strict";
import { within } from "./helpers.ts";
import { createRelay } from "../transports/relay/mod.ts";
import { encoder, RawNode, rawUpgrade, relayTo, TIMEOUT } from "./relay_helpers.ts";

/** Sends `head` as a raw HTTP request and returns the response's status. */
async function rawStatus(port: number, head: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode(head));
    let text = "";
    const buf = new Uint8Array(4096);
    while (!text.includes("\r\n")) {
      const n = await within(conn.read(buf), TIMEOUT, "HTTP response");
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

Deno.test("relay: an invalid WebSocket upgrade request gets 400 (405 for POST) without opening a connection to the node", async () => {
  const node = new RawNode();
  const relay = relayTo(node.port);
  const key = "dGhlIHNhbXBsZSBub25jZQ==";
  const invalid: Record<string, string> = {
    "no Connection: Upgrade": `Upgrade: websocket\r\nSec-WebSocket-Key: ${key}\r\n` +
      "Sec-WebSocket-Version: 13\r\n",
    "no Sec-WebSocket-Key": "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Version: 13\r\n",
    "a malformed Sec-WebSocket-Key": "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n",
    "an unsupported Sec-WebSocket-Version": "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 7\r\n`,
  };
  try {
    for (const [what, headers] of Object.entries(invalid)) {
      const head = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`;
      assert.equal(await rawStatus(relay.addr.port, head), 400, what);
    }
    const post = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      "Content-Length: 0\r\n\r\n";
    assert.equal(await rawStatus(relay.addr.port, post), 405, "POST");
    assert.equal(node.accepted, 0, "no connection to the node was opened");
    assert.equal(relay.metrics().connectionsTotal, 0);
    assert.equal(relay.metrics().closes.error, 5);
    // A valid one is relayed.
    const { status, conn } = await rawUpgrade(relay.addr.port);
    assert.equal(status, 101);
    await node.accept();
    conn.close();
  } finally {
    await relay.close();
    await node.close();
  }
});

Deno.test("relay core: a host that cannot tell whether an upgrade is valid gets the core's own check", async () => {
  let connects = 0, upgrades = 0;
  const relay = createRelay({
    to: "127.0.0.1:18444",
    connect: () => {
      connects++;
      return Promise.reject(new Error("not reached in this test"));
    },
  });
  const context = {
    clientIp: "127.0.0.1",
    upgrade(): never {
      upgrades++;
      throw new TypeError("refused by the host");
    },
  };
  const request = (headers: Record<string, string>) =>
    new Request("http://relay.example/", {
      headers: { upgrade: "websocket", connection: "Upgrade", ...headers },
    });
  try {
    for (
      const headers of [
        { "sec-websocket-version": "13" } as Record<string, string>,
        { "sec-websocket-key": "short", "sec-websocket-version": "13" },
        { "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "7" },
      ]
    ) {
      const response = await relay.handle(request(headers), context);
      assert.equal(response.status, 400, JSON.stringify(headers));
      await response.body?.cancel();
    }
    assert.equal(connects, 0, "no node contacted");
    assert.equal(upgrades, 0);
    // A valid request goes on to the node (which fails here: 502, after one attempt).
    const valid = await relay.handle(
      request({ "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" }),
      context,
    );
    await valid.body?.cancel();
    assert.equal(connects, 1);
    assert.equal(valid.status, 502);
  } finally {
    await relay.close();
  }
});
