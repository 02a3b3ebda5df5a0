import assert from "node:assert/strict";
import { openSession, type OpenSessionOptions, type Session } from "../layers/session.ts";
import { memoryPair } from "../transports/memory.ts";
import { Bip324Error } from "../layers/errors.ts";
import type { Message } from "../layers/aliasing.ts";

export async function sessionPair(
  a: Partial<OpenSessionOptions> = {},
  b: Partial<OpenSessionOptions> = {},
): Promise<[Session, Session]> {
  const [x, y] = memoryPair();
  return await Promise.all([
    openSession(x, { role: "initiator", network: "regtest", ...a }),
    openSession(y, { role: "responder", network: "regtest", ...b }),
  ]);
}

const msg = (type: string, ...bytes: number[]): Message => ({
  type,
  payload: new Uint8Array(bytes),
});

Deno.test("session: handshake over memory, equal session ids, messages both ways", async () => {
  const [a, b] = await sessionPair();
  assert.deepEqual(a.sessionId, b.sessionId);
  assert.equal(a.role, "initiator");
  assert.equal(b.role, "responder");
  assert.equal(a.transportVersion, 2);
  const aw = a.writable.getWriter(), bw = b.writable.getWriter();
  const ar = a.readable.getReader(), br = b.readable.getReader();
  await aw.write(msg("ping", 1, 2, 3, 4, 5, 6, 7, 8));
  await aw.write(msg("version", 9));
  assert.deepEqual((await br.read()).value, msg("ping", 1, 2, 3, 4, 5, 6, 7, 8));
  assert.deepEqual((await br.read()).value, msg("version", 9));
  await bw.write(msg("pong", 1));
  assert.deepEqual((await ar.read()).value, msg("pong", 1));
  await a.close();
  assert.equal((await br.read()).done, true);
  await b.closed;
  await assert.rejects(
    bw.write(msg("ping")),
    (e) => e instanceof Bip324Error && e.code === "CLOSED",
  );
  assert.equal(a.closeReason, undefined);
});
