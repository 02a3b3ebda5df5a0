// Sessions meeting a faulty or hostile peer: bad tags, oversized lengths, EOF inside a packet,
// invalid message types, a dropped transport; messages received before the error come first.
import assert from "node:assert/strict";
import { isCode, msg, within } from "./helpers.ts";
import { openSession, type OpenSessionOptions } from "../layers/session/open.ts";
import { memoryPair } from "../transports/memory.ts";
import { performHandshake } from "../layers/handshake/driver.ts";
import { encryptPacket } from "../layers/packet_cipher.ts";

/** Opens a responder session against a raw initiator we control byte by byte. */
async function rawInitiator(options: Partial<OpenSessionOptions> = {}) {
  const [x, y] = memoryPair();
  const [raw, session] = await Promise.all([
    performHandshake(x, { role: "initiator", network: "regtest" }),
    openSession(y, { role: "responder", network: "regtest", ...options }),
  ]);
  const writer = x.writable.getWriter();
  return { raw, session, writer, x };
}

Deno.test("session: a flipped ciphertext bit → DECRYPTION, session closed, keys wiped", async () => {
  const { raw, session, writer } = await rawInitiator();
  const packet = encryptPacket(raw.cipher.ciphers, new Uint8Array([14, 1, 2, 3]));
  packet[packet.length - 5] ^= 0x10;
  await writer.write(packet);
  const r = session.readable.getReader();
  await assert.rejects(r.read(), isCode("DECRYPTION"));
  await session.closed;
  assert.equal(session.closeReason?.code, "DECRYPTION");
  assert.equal(session.closeReason?.origin, "peer");
  await assert.rejects(
    session.writable.getWriter().write(msg("ping")),
    isCode("CLOSED"),
  );
});

Deno.test("session: a claimed length over maxMessageSize → OVERSIZED before buffering", async () => {
  const { raw, session, writer } = await rawInitiator({ maxMessageSize: 1000 });
  const field = new Uint8Array(3);
  raw.cipher.ciphers.sendLength.encryptLength(1001, field);
  await writer.write(field); // only the length: the session must fail without waiting for the body
  await assert.rejects(session.readable.getReader().read(), isCode("OVERSIZED"));
  await session.closed;
});

Deno.test("session: default maxMessageSize is Core's 4,000,013", async () => {
  const { raw, session, writer } = await rawInitiator();
  const field = new Uint8Array(3);
  raw.cipher.ciphers.sendLength.encryptLength(4_000_014, field);
  await writer.write(field);
  await assert.rejects(session.readable.getReader().read(), isCode("OVERSIZED"));
});

Deno.test("session: peer closing inside a packet → UNEXPECTED_EOF", async () => {
  const { raw, session, writer } = await rawInitiator();
  const packet = encryptPacket(raw.cipher.ciphers, new Uint8Array([14, 1]));
  await writer.write(packet.subarray(0, 10));
  await writer.close();
  await assert.rejects(session.readable.getReader().read(), isCode("UNEXPECTED_EOF"));
});

Deno.test("session: invalid message types are dropped (Core) or fail with onInvalid: error", async () => {
  {
    const { raw, session, writer } = await rawInitiator();
    await writer.write(encryptPacket(raw.cipher.ciphers, new Uint8Array([99, 1])));
    await writer.write(encryptPacket(raw.cipher.ciphers, new Uint8Array([18, 7])));
    assert.deepEqual((await session.readable.getReader().read()).value, msg("ping", 7));
    assert.equal(session.stats.messagesDropped, 1);
    await session.close();
  }
  {
    const { raw, session, writer } = await rawInitiator({ aliasing: { onInvalid: "error" } });
    await writer.write(encryptPacket(raw.cipher.ciphers, new Uint8Array([99, 1])));
    await assert.rejects(session.readable.getReader().read(), isCode("INVALID_MESSAGE_TYPE"));
  }
});

Deno.test("session: transport drop ends both streams (reads done, writes CLOSED)", async () => {
  const { session, writer } = await rawInitiator();
  await writer.close();
  const r = session.readable.getReader();
  assert.equal((await within(r.read(), 2000, "read")).done, true);
  await within(session.closed, 2000, "closed");
  await assert.rejects(session.writable.getWriter().write(msg("ping")), isCode("CLOSED"));
  assert.equal(session.isOpen, false);
});
