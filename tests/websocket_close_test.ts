import assert from "node:assert/strict";
import { connectWebSocket, listenWebSocket } from "../layers/session/connect.ts";
import type { Session } from "../layers/session/session.ts";
import { within } from "./helpers.ts";

const TIMEOUT = 20_000;

Deno.test("websocket close: the peer closing while we still send ends our session cleanly (closed by peer), both ways round", async () => {
  for (const closer of ["client", "server"] as const) {
    for (let round = 0; round < 10; round++) {
      const listener = listenWebSocket({ port: 0, network: "regtest" });
      const accepted = (async () => {
        for await (const s of listener) return s;
      })();
      const client = await connectWebSocket({
        url: `ws://127.0.0.1:${listener.addr.port}/`,
        network: "regtest",
      });
      const server = (await within(accepted, TIMEOUT, "accept"))!;
      const [quitter, sender]: Session[] = closer === "client"
        ? [client, server]
        : [server, client];
      // The sender keeps sending until its session ends.
      const sending = (async () => {
        while (sender.isOpen) {
          try {
            for (let i = 0; i < 20; i++) await sender.send("ping", new Uint8Array(4096));
          } catch { /* refused once closed */ }
          await new Promise((r) => setTimeout(r, 0));
        }
      })();
      await new Promise((r) => setTimeout(r, 20));
      await quitter.close();
      await within(sender.closed, TIMEOUT, "sender closed");
      await within(sending, TIMEOUT, "send loop");
      assert.equal(
        sender.closeReason,
        undefined,
        `${closer} closed, round ${round}: ${sender.closeReason?.code} ${sender.closeReason?.message}`,
      );
      await listener.close();
    }
  }
});
