import assert from "node:assert/strict";
import { listen } from "../layers/session/connect.ts";
import { connect } from "../layers/session/connect.ts";
import type { Bip324Error } from "../layers/errors.ts";
import { within } from "./helpers.ts";

Deno.test("listener: handshakes over the cap are refused with BUSY; the listener keeps serving", async () => {
  const errors: Bip324Error[] = [];
  const listener = listen({
    port: 0,
    maxPendingHandshakes: 3,
    handshakeTimeout: 1000,
    onError: (e) => errors.push(e),
  });
  const served = (async () => {
    for await (const s of listener) s.close();
  })();
  // 6 silent connections: 3 occupy the slots, 3 are refused
  const silent: Deno.Conn[] = [];
  for (let i = 0; i < 6; i++) {
    silent.push(await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }));
  }
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(listener.pendingHandshakes, 3);
  assert.equal(errors.filter((e) => e.code === "BUSY").length, 3);
  // the stalled ones time out, then honest peers get in
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(errors.filter((e) => e.code === "HANDSHAKE_TIMEOUT").length, 3);
  const honest = await within(connect({ port: listener.addr.port }), 3000, "honest connect");
  await honest.close();
  for (const c of silent) {
    try {
      c.close();
    } catch { /* closed by the listener */ }
  }
  await listener.close();
  await served;
});
