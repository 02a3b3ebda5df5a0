// Keys zeroed on close: every close path, across rekeys (see secrets_in_errors_test.ts for errors and logs).
import assert from "node:assert/strict";
import { chacha20, chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { Bip324Cipher, encryptPacket } from "../layers/packet_cipher.ts";
import { MAX_GARBAGE_LEN } from "../layers/handshake/handshake.ts";
import { openSession } from "../layers/session/open.ts";
import { memoryPair } from "../transports/memory.ts";
import { concat, isCode, within } from "./helpers.ts";
import {
  EMPTY,
  Feed,
  handshakeOverFeed,
  I,
  initiatorCipher,
  msg,
  R,
  responderCipher,
  TERMINATOR_LEN,
} from "./bounds_helpers.ts";

// ---------------------------------------------------------------------------
// Keys zeroed on close, at the cipher level

const ZERO_KEY = new Uint8Array(32);

function aeadNonce(index: number, epoch: number): Uint8Array {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(0, index, true);
  new DataView(n.buffer).setBigUint64(4, BigInt(epoch), true);
  return n;
}

/**
 * Every key of `cipher` is zero: the outbound AEAD seals exactly like
 * ChaCha20-Poly1305 under the zero key at its current nonce, the inbound one
 * opens such packets, and both length ciphers produce zero-key keystream
 * (at some block of their epoch's stream).
 */
function assertCipherWiped(cipher: Bip324Cipher, interval = 224): void {
  const c = cipher.ciphers;
  const plaintext = new Uint8Array([1, 2, 3, 4]);
  for (
    const [name, aead] of [["sendPacket", c.sendPacket], ["recvPacket", c.recvPacket]] as const
  ) {
    const n = aead.packetCounter;
    const expected = chacha20poly1305(ZERO_KEY, aeadNonce(n % interval, Math.floor(n / interval)))
      .encrypt(plaintext);
    if (name === "sendPacket") {
      assert.deepEqual(aead.encrypt(EMPTY, plaintext), expected, `${name} key is not zero`);
    } else {
      assert.deepEqual(aead.decrypt(EMPTY, expected), plaintext, `${name} key is not zero`);
    }
  }
  for (const [name, fs] of [["sendLength", c.sendLength], ["recvLength", c.recvLength]] as const) {
    const epoch = Math.floor(fs.chunkCounter / interval);
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setBigUint64(4, BigInt(epoch), true);
    const stream = chacha20(ZERO_KEY, nonce, new Uint8Array(64 * 64));
    const got = fs.crypt(new Uint8Array(3));
    let found = false;
    for (let block = 0; block < 64 && !found; block++) {
      const at = block * 64;
      found = got[0] === stream[at] && got[1] === stream[at + 1] && got[2] === stream[at + 2];
    }
    assert.ok(found, `${name} key is not zero`);
  }
}

Deno.test("bounds: all four keys of both ends are zero after a clean close", async () => {
  const [x, y] = memoryPair();
  const ca = initiatorCipher(), cb = responderCipher();
  const [a, b] = await Promise.all([
    openSession(x, { role: "initiator", network: "regtest", cipher: ca }),
    openSession(y, { role: "responder", network: "regtest", cipher: cb }),
  ]);
  const w = a.writable.getWriter(), r = b.readable.getReader();
  for (let i = 0; i < 5; i++) await w.write(msg("inv", new Uint8Array([i])));
  for (let i = 0; i < 5; i++) await r.read();
  // The check can fail: a live cipher's keys are not zero.
  const live = initiatorCipher();
  live.initialize(R.ell, true, "regtest");
  assert.throws(() => assertCipherWiped(live), assert.AssertionError);
  await a.close();
  await within(b.closed, 5000, "b closed");
  assertCipherWiped(ca);
  assertCipherWiped(cb);
});

Deno.test("bounds: keys are zero after a failure close, an idle close, and across rekeys", async () => {
  {
    // DECRYPTION
    const cipherOfSession = responderCipher();
    const { feed, session, ciphers } = await handshakeOverFeed({ cipher: cipherOfSession });
    const packet = encryptPacket(ciphers, new Uint8Array([18, 0, 0, 0, 0, 0, 0, 0, 0]));
    packet[packet.length - 1] ^= 1;
    feed.push(packet);
    await assert.rejects(session.readable.getReader().read(), isCode("DECRYPTION"));
    await within(session.closed, 5000, "closed");
    assertCipherWiped(cipherOfSession);
  }
  {
    // IDLE_TIMEOUT, after rekeying several times (interval 3)
    const [x, y] = memoryPair();
    const ca = new Bip324Cipher(I.priv, I.ell, 3), cb = new Bip324Cipher(R.priv, R.ell, 3);
    const [a, b] = await Promise.all([
      openSession(x, { role: "initiator", network: "regtest", cipher: ca, idleTimeout: 100 }),
      openSession(y, { role: "responder", network: "regtest", cipher: cb }),
    ]);
    const w = b.writable.getWriter(), r = a.readable.getReader();
    for (let i = 0; i < 10; i++) await w.write(msg("inv", new Uint8Array([i])));
    for (let i = 0; i < 10; i++) await r.read();
    await within(a.closed, 5000, "idle close");
    assert.equal(a.closeReason?.code, "IDLE_TIMEOUT");
    await within(b.closed, 5000, "b closed");
    assertCipherWiped(ca, 3);
    assertCipherWiped(cb, 3);
  }
  {
    // A handshake that fails after the key exchange wipes the initialized cipher.
    const feed = new Feed();
    const cipher = responderCipher();
    const opening = openSession(feed, { role: "responder", network: "regtest", cipher });
    opening.catch(() => {});
    feed.push(concat([I.ell, new Uint8Array(MAX_GARBAGE_LEN + TERMINATOR_LEN)]));
    await assert.rejects(within(opening, 5000, "handshake"), isCode("NO_GARBAGE_TERMINATOR"));
    assertCipherWiped(cipher);
  }
  {
    // A handshake that fails before the key exchange wipes the private key: it is now 0,
    // which is not a valid scalar.
    const feed = new Feed();
    const cipher = responderCipher();
    const opening = openSession(feed, {
      role: "responder",
      network: "regtest",
      cipher,
      handshakeTimeout: 50,
    });
    await assert.rejects(within(opening, 5000, "handshake"), isCode("HANDSHAKE_TIMEOUT"));
    assert.throws(() => cipher.initialize(I.ell, false, "regtest"), RangeError);
    assert.doesNotThrow(() => responderCipher().initialize(I.ell, false, "regtest"));
  }
});
