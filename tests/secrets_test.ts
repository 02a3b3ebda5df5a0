// Secrets are zeroed when done, on success and on every failure path, and never appear in errors:
// the ECDH primitives and key schedule (caller-owned outputs, shared scratch), Bip324Cipher,
// the handshake machine and its driver (bad tag, bad key, timeout, peer close, abort), and a
// session past its first rekey.
import assert from "node:assert/strict";
import { extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  ellswiftCreate,
  ellswiftEcdhXonly,
  taggedHash,
  v2Ecdh,
} from "../layers/handshake/ellswift.ts";
import { deriveSessionKeys, emptySessionKeys } from "../layers/handshake/key_schedule.ts";
import { Bip324Cipher, cipherSecretsForTests } from "../layers/packet_cipher.ts";
import { Handshake } from "../layers/handshake/handshake.ts";
import { performHandshake } from "../layers/handshake/driver.ts";
import { N } from "../layers/crypto/secp256k1_xonly.ts";
import { concatBytes, toHex } from "../layers/bytes.ts";
import { openSession } from "../layers/session/open.ts";
import { memoryPair } from "../transports/memory.ts";
import type { BytePair } from "../layers/bytes.ts";
import { isCode, prng, within } from "./helpers.ts";
import { hex, readVectors } from "./vectors.ts";
import { assertCipherWiped, assertNoSecretIn, assertScratchZero, assertZero } from "./wiping.ts";

const row = readVectors("packet_encoding_test_vectors.csv")[0];
const nonZero = (b: Uint8Array) => b.some((v) => v !== 0);

/** A fixed key pair with random-looking bytes (so a leak would be recognisable in text). */
function fixedKey(seed: number): { priv: Uint8Array; ell: Uint8Array } {
  const rand = prng(seed);
  const priv = new Uint8Array(32).map(() => Math.floor(rand() * 256));
  priv[0] = 0x5a; // below the curve order
  return { priv, ell: ellswiftCreate(priv, new Uint8Array(32).fill(seed & 0xff)) };
}
const I = fixedKey(0x51de), R = fixedKey(0xc0de);

/** Every secret of the I/R pair on regtest, computed independently where possible. */
function secretsOfPair(): Map<string, Uint8Array> {
  const x = ellswiftEcdhXonly(R.ell, I.priv);
  const shared = v2Ecdh(I.priv, R.ell, I.ell, true);
  const salt = concatBytes(new TextEncoder().encode("bitcoin_v2_shared_secret"), hex("fabfb5da"));
  const k = deriveSessionKeys(shared, true, "regtest");
  return new Map([
    ["initiator private key", I.priv],
    ["responder private key", R.priv],
    ["ECDH x", x],
    ["shared secret", shared],
    ["HKDF PRK", extract(sha256, shared, salt)],
    ["initiator length key", k.sendLengthKey],
    ["initiator packet key", k.sendPacketKey],
    ["responder length key", k.recvLengthKey],
    ["responder packet key", k.recvPacketKey],
    ["initiator terminator", k.sendGarbageTerminator],
    ["responder terminator", k.recvGarbageTerminator],
  ]);
}

// ---------------------------------------------------------------------------
// The primitives

Deno.test("v2Ecdh and ellswiftEcdhXonly write into caller-owned buffers; the raw ECDH x is zeroed", () => {
  const priv = hex(row.in_priv_ours), ours = hex(row.in_ellswift_ours);
  const theirs = hex(row.in_ellswift_theirs), initiating = row.in_initiating === "1";
  const x = new Uint8Array(32);
  assert.equal(ellswiftEcdhXonly(theirs, priv, x), x);
  assert.equal(toHex(x), row.mid_x_shared);
  const secret = new Uint8Array(32);
  assert.equal(v2Ecdh(priv, theirs, ours, initiating, secret), secret);
  assert.equal(toHex(secret), row.mid_shared_secret);
  assert.deepEqual(v2Ecdh(priv, theirs, ours, initiating), secret); // same without `out`
  assertScratchZero("after v2Ecdh");
  // A bad key: nothing is written, nothing is left.
  for (const bad of [new Uint8Array(32), hex(N.toString(16)), new Uint8Array(32).fill(0xff)]) {
    const out = new Uint8Array(32);
    assert.throws(() => v2Ecdh(bad, theirs, ours, initiating, out), {
      name: "RangeError",
      message: /privateKey/,
    });
    assert.throws(() => ellswiftEcdhXonly(theirs, bad, out), RangeError);
    assertZero([out], "out after a bad key");
    assertScratchZero("after a bad key");
  }
  assert.throws(() => v2Ecdh(priv, theirs, ours, initiating, new Uint8Array(31)), {
    name: "RangeError",
    message: /out/,
  });
  assertScratchZero("after a bad out");
});

Deno.test("taggedHash streams into out and equals the one-shot hash", () => {
  const data = crypto.getRandomValues(new Uint8Array(100));
  const out = new Uint8Array(32);
  assert.equal(taggedHash("some/tag", data, out), out);
  const t = sha256(new TextEncoder().encode("some/tag"));
  assert.deepEqual(out, sha256(concatBytes(t, t, data)));
  assert.deepEqual(taggedHash(t, data), out);
  assert.throws(() => taggedHash("x", data, new Uint8Array(16)), { name: "RangeError" });
});

Deno.test("ellswiftCreate leaves no seed or private-key copy, on success and on a bad key", () => {
  const priv = hex(row.in_priv_ours);
  const before = priv.slice();
  const a = ellswiftCreate(priv, new Uint8Array(32).fill(7));
  assert.deepEqual(ellswiftCreate(priv, new Uint8Array(32).fill(7)), a);
  assert.deepEqual(priv, before); // the caller's key is read, not consumed
  assertScratchZero("after ellswiftCreate");
  ellswiftCreate(priv); // fresh aux randomness
  assertScratchZero("after ellswiftCreate without aux");
  assert.throws(() => ellswiftCreate(new Uint8Array(32)), RangeError);
  assertScratchZero("after ellswiftCreate with a bad key");
});

Deno.test("deriveSessionKeys writes into caller-owned buffers; PRK and terminators scratch zeroed", () => {
  const secret = hex(row.mid_shared_secret), initiating = row.in_initiating === "1";
  const out = emptySessionKeys();
  assert.equal(deriveSessionKeys(secret, initiating, "mainnet", out), out);
  const [iL, iP, rL, rP] = initiating
    ? [out.sendLengthKey, out.sendPacketKey, out.recvLengthKey, out.recvPacketKey]
    : [out.recvLengthKey, out.recvPacketKey, out.sendLengthKey, out.sendPacketKey];
  assert.equal(toHex(iL), row.mid_initiator_l);
  assert.equal(toHex(iP), row.mid_initiator_p);
  assert.equal(toHex(rL), row.mid_responder_l);
  assert.equal(toHex(rP), row.mid_responder_p);
  assert.equal(toHex(out.sendGarbageTerminator), row.mid_send_garbage_terminator);
  assert.equal(toHex(out.recvGarbageTerminator), row.mid_recv_garbage_terminator);
  assert.equal(toHex(out.sessionId), row.out_session_id);
  assert.deepEqual(deriveSessionKeys(secret, initiating, "mainnet"), out);
  assertScratchZero("after deriveSessionKeys");
  const short = { ...emptySessionKeys(), recvPacketKey: new Uint8Array(31) };
  assert.throws(() => deriveSessionKeys(secret, true, "mainnet", short), {
    name: "RangeError",
    message: /out\.recvPacketKey/,
  });
  assert.throws(
    () => deriveSessionKeys(secret, true, "moonnet" as "mainnet", emptySessionKeys()),
    TypeError,
  );
  assertScratchZero("after deriveSessionKeys failed");
});

// ---------------------------------------------------------------------------
// Bip324Cipher

Deno.test("Bip324Cipher: initialize wipes the private key and scratch; destroy wipes the rest", () => {
  const a = new Bip324Cipher(I.priv, I.ell), b = new Bip324Cipher(R.priv, R.ell);
  assert.ok(nonZero(cipherSecretsForTests(a)[0]), "the private key copy is live before");
  a.initialize(R.ell, true, "regtest");
  b.initialize(I.ell, false, "regtest");
  const [key, send, recv] = cipherSecretsForTests(a);
  assertZero([key], "private key after initialize");
  assertScratchZero("after initialize");
  assert.deepEqual(send, a.sendGarbageTerminator);
  assert.ok(nonZero(send) && nonZero(recv), "terminators are live");
  // The check can fail: a live cipher's keys are not zero.
  assert.throws(() => assertCipherWiped(b, "live"), assert.AssertionError);
  a.destroy();
  a.destroy(); // idempotent
  assertCipherWiped(a, "destroyed");
  assert.equal(toHex(a.sessionId).length, 64); // the session id (public) is kept
  assert.ok(nonZero(a.sessionId));
});

Deno.test("Bip324Cipher: a bad private key fails initialize and leaves nothing", () => {
  for (const bad of [new Uint8Array(32), hex(N.toString(16)), new Uint8Array(32).fill(0xff)]) {
    const c = new Bip324Cipher(bad, I.ell);
    assert.throws(() => c.initialize(R.ell, true, "regtest"), RangeError);
    assertZero(cipherSecretsForTests(c), "bad-key cipher");
    assertScratchZero("after a bad key");
    assert.equal(c.initialized, false);
  }
  // Caller mistakes are checked before any secret is computed: the cipher still works after.
  const c = new Bip324Cipher(I.priv, I.ell);
  assert.throws(() => c.initialize(new Uint8Array(63), true), RangeError);
  assert.throws(() => c.initialize(R.ell, true, "moonnet" as "mainnet"), TypeError);
  assert.ok(nonZero(cipherSecretsForTests(c)[0]));
  assertScratchZero("after caller mistakes");
  c.initialize(R.ell, true, "regtest");
  assert.equal(c.initialized, true);
});

Deno.test("Bip324Cipher: keys stay zeroed after rekeys (300 packets each way, then destroy)", () => {
  const a = new Bip324Cipher(I.priv, I.ell), b = new Bip324Cipher(R.priv, R.ell);
  a.initialize(R.ell, true, "regtest");
  b.initialize(I.ell, false, "regtest");
  for (let i = 0; i < 600; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    const packet = from.encrypt(Uint8Array.of(i & 0xff, i >> 8));
    assert.equal(to.decryptLength(packet.subarray(0, 3)), 2);
    assert.deepEqual(to.decrypt(packet.subarray(3)).contents, Uint8Array.of(i & 0xff, i >> 8));
  }
  assert.equal(a.ciphers.sendPacket.packetCounter, 300);
  a.destroy();
  b.destroy();
  assertCipherWiped(a, "initiator after 300 packets");
  assertCipherWiped(b, "responder after 300 packets");
});

// ---------------------------------------------------------------------------
// The handshake: every failure path wipes

/** Both machines talking directly; returns the responder's reply with its last byte flipped. */
function corruptedReply(): { initiator: Handshake; cipher: Bip324Cipher; reply: Uint8Array } {
  const cipher = new Bip324Cipher(I.priv, I.ell);
  const initiator = new Handshake({ role: "initiator", network: "regtest", cipher, garbage: 10 });
  const responder = new Handshake({
    role: "responder",
    network: "regtest",
    cipher: new Bip324Cipher(R.priv, R.ell),
    garbage: 10,
  });
  responder.start();
  const reply = responder.receive(initiator.start()).slice();
  reply[reply.length - 1] ^= 1; // the version packet's tag
  responder.destroy();
  return { initiator, cipher, reply };
}

async function badTagInMachine(): Promise<unknown> {
  const { initiator, cipher, reply } = corruptedReply();
  let error: unknown;
  assert.throws(() => initiator.receive(reply), (e) => (error = e, isCode("DECRYPTION")(e)));
  // No destroy() call: the failure path wiped the cipher itself.
  assertCipherWiped(cipher, "after a bad tag");
  assert.throws(() => initiator.receive(new Uint8Array(1)), TypeError);
  return await Promise.resolve(error);
}

/** A byte pair whose other end the test plays by hand. */
function handPair(): { pair: BytePair; send(b: Uint8Array): Promise<void>; end(): Promise<void> } {
  const toUs = new TransformStream<Uint8Array, Uint8Array>();
  const fromUs = new TransformStream<Uint8Array, Uint8Array>();
  fromUs.readable.pipeTo(new WritableStream()).catch(() => {}); // drain what we send
  const w = toUs.writable.getWriter();
  return {
    pair: { readable: toUs.readable, writable: fromUs.writable },
    send: (b) => w.write(b),
    end: () => w.close(),
  };
}

/** The responder gets the initiator's key and garbage, then `after` happens. */
async function responderFails(
  after: "timeout" | "close" | "abort",
): Promise<{ error: unknown; cipher: Bip324Cipher }> {
  const cipher = new Bip324Cipher(R.priv, R.ell);
  const hand = handPair();
  const abort = new AbortController();
  const running = performHandshake(hand.pair, {
    role: "responder",
    network: "regtest",
    cipher,
    handshakeTimeout: after === "timeout" ? 150 : 20_000,
    signal: abort.signal,
  });
  running.catch(() => {});
  await hand.send(concatBytes(I.ell, new Uint8Array(20)));
  while (!cipher.initialized) await new Promise((r) => setTimeout(r, 2));
  if (after === "close") await hand.end();
  if (after === "abort") abort.abort(new Error("abandoned by the caller"));
  const error = await within(running.then(() => undefined, (e) => e), 10_000, "handshake end");
  return { error, cipher };
}

Deno.test("handshake: a bad tag wipes the machine's cipher without a destroy() call", async () => {
  await badTagInMachine();
});

Deno.test("handshake: abandoned before or after the key exchange, destroy() wipes", () => {
  const early = new Bip324Cipher(I.priv, I.ell);
  const m = new Handshake({ role: "initiator", network: "regtest", cipher: early });
  m.start();
  m.destroy();
  assertZero(cipherSecretsForTests(early), "before the key exchange");
  assert.throws(() => m.receive(R.ell), TypeError);

  const late = new Bip324Cipher(R.priv, R.ell);
  const r = new Handshake({ role: "responder", network: "regtest", cipher: late });
  r.start();
  r.receive(I.ell); // key exchanged, waiting for the terminator
  assert.equal(late.initialized, true);
  r.destroy();
  assertCipherWiped(late, "after the key exchange");
});

Deno.test("handshake driver: timeout, peer close and abort after the key exchange all wipe", async () => {
  for (
    const [after, code] of [["timeout", "HANDSHAKE_TIMEOUT"], ["close", "UNEXPECTED_EOF"]] as const
  ) {
    const { error, cipher } = await responderFails(after);
    assert.ok(isCode(code)(error));
    assertCipherWiped(cipher, after);
  }
  const { error, cipher } = await responderFails("abort");
  // The driver rejects with the signal's reason (today wrapped as TRANSPORT, the reason as cause).
  const reason = error instanceof Error && error.message !== "abandoned by the caller"
    ? error.cause
    : error;
  assert.equal((reason as Error).message, "abandoned by the caller");
  assertCipherWiped(cipher, "abort");
});

Deno.test("session: past the first rekey (300 messages each way), close wipes both ends", async () => {
  const [x, y] = memoryPair();
  const ca = new Bip324Cipher(I.priv, I.ell), cb = new Bip324Cipher(R.priv, R.ell);
  const [a, b] = await Promise.all([
    openSession(x, { role: "initiator", network: "regtest", cipher: ca }),
    openSession(y, { role: "responder", network: "regtest", cipher: cb }),
  ]);
  const exchange = async (from: typeof a, to: typeof a) => {
    const w = from.writable.getWriter(), r = to.readable.getReader();
    const reading = (async () => {
      for (let i = 0; i < 300; i++) assert.equal((await r.read()).value?.payload[0], i & 0xff);
    })();
    for (let i = 0; i < 300; i++) await w.write({ type: "inv", payload: Uint8Array.of(i & 0xff) });
    await within(reading, 10_000, "300 messages");
    w.releaseLock();
    r.releaseLock();
  };
  await exchange(a, b);
  await exchange(b, a);
  assert.ok(ca.ciphers.sendPacket.packetCounter > 224 && ca.ciphers.recvPacket.packetCounter > 224);
  await a.close();
  await within(b.closed, 10_000, "b closed");
  assertCipherWiped(ca, "initiator session");
  assertCipherWiped(cb, "responder session");
});

// ---------------------------------------------------------------------------
// No secret in any error these paths raise

Deno.test("no private key, ECDH x, shared secret, PRK, key or terminator appears in any error", async () => {
  const errors: unknown[] = [];
  const catching = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      errors.push(e);
    }
  };
  // Bad keys, bad lengths, bad outputs.
  catching(() => v2Ecdh(new Uint8Array(32), R.ell, I.ell, true));
  catching(() => v2Ecdh(I.priv, R.ell.subarray(1), I.ell, true));
  catching(() => v2Ecdh(I.priv, R.ell, I.ell, true, new Uint8Array(3)));
  catching(() => ellswiftCreate(hex(N.toString(16))));
  catching(() => new Bip324Cipher(hex(N.toString(16)), I.ell).initialize(R.ell, true));
  catching(() => new Bip324Cipher(I.priv, I.ell).initialize(R.ell, true, "x" as "mainnet"));
  catching(() =>
    deriveSessionKeys(v2Ecdh(I.priv, R.ell, I.ell, true), true, "regtest", {
      ...emptySessionKeys(),
      sessionId: new Uint8Array(1),
    })
  );
  // Bad tags: in the machine, and at the cipher.
  errors.push(await badTagInMachine());
  const a = new Bip324Cipher(I.priv, I.ell), b = new Bip324Cipher(R.priv, R.ell);
  a.initialize(R.ell, true, "regtest");
  b.initialize(I.ell, false, "regtest");
  const packet = a.encrypt(Uint8Array.of(1, 2, 3));
  packet[5] ^= 1;
  b.decryptLength(packet.subarray(0, 3));
  catching(() => b.decrypt(packet.subarray(3)));
  // A destroyed machine, and the driver's timeout, peer close and abort.
  const { initiator } = corruptedReply();
  initiator.destroy();
  catching(() => initiator.receive(new Uint8Array(1)));
  for (const after of ["timeout", "close", "abort"] as const) {
    errors.push((await responderFails(after)).error);
  }
  assert.equal(errors.length, 13);
  assertNoSecretIn(errors, secretsOfPair());
});
