import assert from "node:assert/strict";
import { webSocketPair } from "../transports/websocket.ts";
import { within } from "./helpers.ts";
import { openWs, TIMEOUT, until, url, waitEof, withRelay, writeAll } from "./relay_helpers.ts";

Deno.test("relay: a client's clean close(1000) while the node is still sending counts as client_closed, never error", async () => {
  const rounds = 12;
  await withRelay(async (node, relay) => {
    for (let round = 0; round < rounds; round++) {
      const ws = await openWs(url(relay));
      const conn = await node.accept();
      let stop = false;
      // The node keeps sending until the relay closes its side.
      const sending = (async () => {
        const chunk = new Uint8Array(2048);
        try {
          while (!stop) {
            await writeAll(conn, chunk);
            await new Promise((r) => setTimeout(r, 0));
          }
        } catch { /* closed by the relay */ }
      })();
      let received = 0;
      ws.onmessage = (e) => (received += (e.data as ArrayBuffer).byteLength);
      await until(() => received > 0, "node bytes at the client");
      const closed = new Promise<CloseEvent>((r) => (ws.onclose = r));
      ws.close(1000);
      assert.equal((await within(closed, TIMEOUT, "client close")).code, 1000);
      await waitEof(conn);
      stop = true;
      await within(sending, TIMEOUT, "node sender");
      await until(() => relay.metrics().connectionsOpen === 0, "slot released");
    }
    const { closes } = relay.metrics();
    assert.equal(closes.error, 0, JSON.stringify(closes));
    assert.equal(closes.client_closed, rounds, JSON.stringify(closes));
  });
});

Deno.test("relay: shutting down fails a client's pair (1013), not the clean end a node hanging up gives", async () => {
  await withRelay(async (node, relay) => {
    const pair = await webSocketPair(new WebSocket(url(relay)));
    await node.accept();
    await relay.close();
    const read = within(pair.readable.getReader().read(), TIMEOUT, "client read");
    await assert.rejects(read, /code 1013/);
    await pair.close();
    assert.equal(relay.metrics().closes.shutdown, 1);
  });
});
