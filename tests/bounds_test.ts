// Resource bounds, each provoked by a test: garbage, message size, handshake
// stalls, idle sessions, decoy floods, handshake floods against a listener;
// key wiping on close; and no secret in any error or log line.
//
// Bounds already covered elsewhere are not repeated: a silent peer
// (HANDSHAKE_TIMEOUT) and a silent session (IDLE_TIMEOUT) in session_test.ts,
// the sans-I/O garbage limit in handshake_test.ts, the listener's BUSY
// refusal in listener_test.ts.
import assert from "node:assert/strict";
import { chacha20, chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { Bip324Error, type Bip324ErrorCode } from "../layers/errors.ts";
import { Bip324Cipher, encryptPacket } from "../layers/packet_cipher.ts";
import { ellswiftCreate, v2Ecdh } from "../layers/handshake/ellswift.ts";
import { deriveSessionKeys } from "../layers/handshake/key_schedule.ts";
import { Handshake, MAX_GARBAGE_LEN } from "../layers/handshake/handshake.ts";
import { performHandshake } from "../layers/handshake/driver.ts";
import { DEFAULT_MESSAGE_TYPES, type Message } from "../layers/aliasing/aliasing.ts";
import { networkMagic } from "../layers/bitcoin/network.ts";
import type { Session } from "../layers/session/session.ts";
import { openSession, type OpenSessionOptions } from "../layers/session/open.ts";
import { openV1Session } from "../layers/session/v1_session.ts";
import { decodePayload } from "../layers/bitcoin/mod.ts";
import { V1Decoder } from "../layers/v1/v1_framing.ts";
import { peerHandshake, pingPeer } from "../layers/bitcoin/peer_handshake.ts";
import { connect, listen } from "../layers/session/connect.ts";
import { memoryPair } from "../transports/memory.ts";
import type { CallerLayer as Layer } from "../layers/layer.ts";
import { concat, isCode, prng, within } from "./helpers.ts";
import { textsOf } from "./wiping.ts";

const TERMINATOR_LEN = 16;
const KEY_LEN = 64;
const EMPTY = new Uint8Array(0);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Random-looking fixed private keys (so a leak of them would be recognisable in text). */
function fixedKey(seed: number): { priv: Uint8Array; ell: Uint8Array } {
  const rand = prng(seed);
  const priv = new Uint8Array(32).map(() => Math.floor(rand() * 256));
  priv[0] = 0x3f; // well below the curve order
  return { priv, ell: ellswiftCreate(priv, new Uint8Array(32).fill(seed)) };
}
const I = fixedKey(0x1324);
const R = fixedKey(0x4231);
const initiatorCipher = (): Bip324Cipher => new Bip324Cipher(I.priv, I.ell);
const responderCipher = (): Bip324Cipher => new Bip324Cipher(R.priv, R.ell);

/**
 * A byte pair whose readable hands out exactly the chunks pushed, one per
 * read, and only when the consumer asks (highWaterMark 0). So the byte count
 * at which a session fails, or the point where it asks for more, is exact,
 * with no timing involved. What the session writes is recorded.
 */
class Feed {
  delivered = 0;
  cancelled = false;
  written: Uint8Array[] = [];
  onWrite?: (chunk: Uint8Array) => void;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  #queue: (Uint8Array | null)[] = [];
  #wake?: () => void;
  #waiting = false;
  #hungry: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor() {
    this.readable = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        while (this.#queue.length === 0) {
          this.#waiting = true;
          for (const h of this.#hungry.splice(0)) h.resolve();
          await new Promise<void>((r) => (this.#wake = r));
          if (this.cancelled) return;
        }
        this.#waiting = false;
        const chunk = this.#queue.shift()!;
        if (chunk === null) return controller.close();
        this.delivered += chunk.length;
        controller.enqueue(chunk);
      },
      cancel: () => {
        this.cancelled = true;
        this.#wake?.();
        for (const h of this.#hungry.splice(0)) h.reject(new Error("the reader cancelled"));
      },
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        this.written.push(chunk.slice());
        this.onWrite?.(chunk);
      },
    });
  }

  /** Queues bytes for the reader. */
  push(chunk: Uint8Array): void {
    this.#queue.push(chunk);
    this.#waiting = false;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Ends the stream after what is queued. */
  end(): void {
    this.push(null as unknown as Uint8Array);
  }

  /** Resolves when the reader has taken everything pushed and asks for more; rejects if it cancelled. */
  hungry(): Promise<void> {
    if (this.cancelled) return Promise.reject(new Error("the reader cancelled"));
    if (this.#waiting && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#hungry.push({ resolve, reject }));
  }
}

/**
 * A responder session over a Feed, with a sans-I/O initiator machine we
 * drive by hand (fixed keys), so we can then write any bytes we like.
 */
async function handshakeOverFeed(options: Partial<OpenSessionOptions> = {}) {
  const feed = new Feed();
  const cipher = initiatorCipher();
  const machine = new Handshake({ role: "initiator", network: "regtest", cipher, garbage: 10 });
  feed.onWrite = (chunk) => {
    if (!machine.done) {
      const out = machine.receive(chunk);
      if (out.length > 0) feed.push(out);
    }
  };
  const opening = openSession(feed, {
    role: "responder",
    network: "regtest",
    cipher: responderCipher(),
    ...options,
  });
  feed.push(machine.start());
  const session = await within(opening, 5000, "handshake");
  assert.ok(machine.done);
  const handshakeBytes = feed.delivered;
  return { feed, session, ciphers: cipher.ciphers, handshakeBytes, cipher };
}

/** Waits (bounded by a deadline that fails the test, not by a timed assertion) until `cond()`. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await sleep(5);
  }
}

const msg = (type: string, payload: Uint8Array = EMPTY): Message => ({ type, payload });

// ---------------------------------------------------------------------------
// Garbage: 4,095 bytes + 16 for the terminator, exactly

for (const role of ["responder", "initiator"] as const) {
  Deno.test(`bounds: garbage without terminator fails at exactly 4,095 + 16 bytes (${role} session)`, async () => {
    const feed = new Feed();
    const opening = openSession(feed, { role, network: "regtest", handshakeTimeout: 30_000 });
    opening.catch(() => {});
    // The peer's key: any 64 bytes decode to a point (ElligatorSwift).
    feed.push(I.ell);
    // One byte short of the limit: the session must still ask for more.
    feed.push(new Uint8Array(MAX_GARBAGE_LEN + TERMINATOR_LEN - 2).fill(0x55));
    await within(feed.hungry(), 5000, "session asks for more");
    feed.push(new Uint8Array([0x55]));
    await within(feed.hungry(), 5000, "session asks for more at 4,110 bytes");
    assert.equal(feed.delivered, KEY_LEN + MAX_GARBAGE_LEN + TERMINATOR_LEN - 1);
    // The 4,111th byte after the key: no terminator can end within 4,095 bytes of garbage any more.
    feed.push(new Uint8Array([0x55]));
    await assert.rejects(within(opening, 5000, "handshake"), isCode("NO_GARBAGE_TERMINATOR"));
    assert.equal(feed.delivered, KEY_LEN + MAX_GARBAGE_LEN + TERMINATOR_LEN);
    assert.ok(feed.cancelled, "the transport is closed");
  });
}

Deno.test("bounds: garbage fed one byte per read fails on exactly the 4,111th byte", async () => {
  const feed = new Feed();
  const opening = openSession(feed, { role: "responder", network: "regtest" });
  opening.catch(() => {});
  feed.push(I.ell);
  let sent = 0;
  for (; sent < MAX_GARBAGE_LEN + TERMINATOR_LEN - 1; sent++) {
    await within(feed.hungry(), 5000, `read after ${sent} garbage bytes`);
    feed.push(new Uint8Array([sent & 0xff]));
  }
  await within(feed.hungry(), 5000, "read after 4,110 garbage bytes");
  feed.push(new Uint8Array([0]));
  await assert.rejects(within(opening, 5000, "handshake"), isCode("NO_GARBAGE_TERMINATOR"));
  assert.equal(feed.delivered, KEY_LEN + MAX_GARBAGE_LEN + TERMINATOR_LEN);
});

Deno.test("bounds: 4,095 bytes of garbage and the terminator are accepted (the bound is not too tight)", async () => {
  const [x, y] = memoryPair();
  const [a, b] = await within(
    Promise.all([
      openSession(x, { role: "initiator", network: "regtest", garbage: MAX_GARBAGE_LEN }),
      openSession(y, { role: "responder", network: "regtest", garbage: MAX_GARBAGE_LEN }),
    ]),
    5000,
    "handshake",
  );
  assert.equal(a.handshake.garbageReceived, MAX_GARBAGE_LEN);
  assert.equal(b.handshake.garbageReceived, MAX_GARBAGE_LEN);
  await a.close();
  await within(b.closed, 5000, "b closed");
});

// ---------------------------------------------------------------------------
// Claimed length over maxMessageSize: refused on the 3 length bytes alone

Deno.test("bounds: maxMessageSize accepted exactly; one more fails on the 3-byte length alone", async () => {
  const max = 1000;
  const { feed, session, ciphers, handshakeBytes } = await handshakeOverFeed({
    maxMessageSize: max,
  });
  const reader = session.readable.getReader();
  // contents of exactly max bytes: type byte + payload
  const atLimit = DEFAULT_MESSAGE_TYPES.encode(msg("tx", new Uint8Array(max - 1).fill(7)));
  assert.equal(atLimit.length, max);
  feed.push(encryptPacket(ciphers, atLimit));
  assert.deepEqual(
    (await within(reader.read(), 5000, "read")).value,
    msg("tx", atLimit.subarray(1)),
  );
  await within(feed.hungry(), 5000, "session asks for more");
  const before = feed.delivered;
  // only the length field of a packet one byte over the limit
  const field = new Uint8Array(3);
  ciphers.sendLength.encryptLength(max + 1, field);
  feed.push(field);
  await assert.rejects(within(reader.read(), 5000, "read"), isCode("OVERSIZED"));
  assert.equal(feed.delivered, before + 3, "failed with only the 3-byte length sent");
  assert.ok(before > handshakeBytes);
  await within(session.closed, 5000, "closed");
  assert.equal(session.closeReason?.code, "OVERSIZED");
  assert.ok(feed.cancelled, "the transport is closed, nothing more is read");
});

Deno.test("bounds: an oversized decoy during the handshake fails before its body is read", async () => {
  const feed = new Feed();
  const cipher = initiatorCipher();
  const machine = new Handshake({
    role: "initiator",
    network: "regtest",
    cipher,
    garbage: 0,
    decoys: [2_000_000],
  });
  let second: Uint8Array | undefined;
  feed.onWrite = (chunk) => {
    if (!second) second = machine.receive(chunk);
  };
  const opening = openSession(feed, {
    role: "responder",
    network: "regtest",
    cipher: responderCipher(),
    maxMessageSize: 1_000_000,
  });
  opening.catch(() => {});
  feed.push(machine.start());
  await until(() => second !== undefined && second.length > 0, "initiator's second flight");
  // terminator + the decoy's 3-byte length only
  feed.push(second!.subarray(0, TERMINATOR_LEN + 3));
  await assert.rejects(within(opening, 5000, "handshake"), isCode("OVERSIZED"));
  assert.equal(feed.delivered, KEY_LEN + TERMINATOR_LEN + 3);
});

// ---------------------------------------------------------------------------
// Handshake stalls that are not plain silence (silence: session_test.ts)

Deno.test("bounds: a peer trickling garbage (slowloris) still hits HANDSHAKE_TIMEOUT", async () => {
  const feed = new Feed();
  const opening = openSession(feed, {
    role: "responder",
    network: "regtest",
    handshakeTimeout: 300,
  });
  opening.catch(() => {});
  feed.push(I.ell);
  const trickle = (async () => {
    // one byte every 10 ms: never idle for long, never reaching the garbage bound
    for (let i = 0; i < 1000 && !feed.cancelled; i++) {
      feed.push(new Uint8Array([1]));
      await sleep(10);
    }
  })();
  await assert.rejects(
    within(opening, 5000, "handshake"),
    (e) => isCode("HANDSHAKE_TIMEOUT")(e) && (e as Bip324Error).origin === "local",
  );
  await within(trickle, 5000, "trickle stops");
  assert.ok(feed.delivered > KEY_LEN + 1, "bytes kept arriving");
  assert.ok(
    feed.delivered < KEY_LEN + MAX_GARBAGE_LEN,
    "the garbage bound was not what stopped it",
  );
  assert.ok(feed.cancelled);
});

Deno.test("bounds: stall after the terminator (no version packet) → HANDSHAKE_TIMEOUT", async () => {
  const feed = new Feed();
  const machine = new Handshake({
    role: "initiator",
    network: "regtest",
    cipher: initiatorCipher(),
    garbage: 5,
  });
  feed.onWrite = (chunk) => {
    const out = machine.receive(chunk);
    if (out.length > 0) feed.push(out.subarray(0, TERMINATOR_LEN)); // withhold the version packet
  };
  const opening = openSession(feed, {
    role: "responder",
    network: "regtest",
    cipher: responderCipher(),
    handshakeTimeout: 200,
  });
  opening.catch(() => {});
  feed.push(machine.start());
  await assert.rejects(within(opening, 5000, "handshake"), isCode("HANDSHAKE_TIMEOUT"));
  assert.equal(feed.delivered, KEY_LEN + 5 + TERMINATOR_LEN);
});

Deno.test("bounds: one byte then silence → HANDSHAKE_TIMEOUT; the responder has answered", async () => {
  const feed = new Feed();
  const opening = openSession(feed, {
    role: "responder",
    network: "regtest",
    handshakeTimeout: 200,
  });
  opening.catch(() => {});
  feed.push(new Uint8Array([0x42]));
  await assert.rejects(within(opening, 5000, "handshake"), isCode("HANDSHAKE_TIMEOUT"));
  assert.ok(concat(feed.written).length >= KEY_LEN, "responder sent its key after one byte");
});

// ---------------------------------------------------------------------------
// Idle

Deno.test("bounds: a peer stalling inside a packet → IDLE_TIMEOUT, transport closed", async () => {
  const { feed, session, ciphers } = await handshakeOverFeed({ idleTimeout: 150 });
  const reader = session.readable.getReader();
  const packet = encryptPacket(
    ciphers,
    DEFAULT_MESSAGE_TYPES.encode(msg("ping", new Uint8Array(8))),
  );
  feed.push(packet.subarray(0, 7)); // length + a few body bytes, then nothing
  await assert.rejects(within(reader.read(), 5000, "read"), isCode("IDLE_TIMEOUT"));
  await within(session.closed, 5000, "closed");
  assert.equal(session.closeReason?.origin, "local");
  assert.ok(feed.cancelled);
});

// ---------------------------------------------------------------------------
// Decoy flood

Deno.test("bounds: 10,000 decoys of up to 1 KiB, then one message — decoys are dropped, not kept", async () => {
  // Probes above and below the AEAD layer: decoys must stop there.
  let bodies = 0, contents = 0;
  const probe = (count: () => void): Layer<Uint8Array, Uint8Array> => ({
    inbound: new TransformStream({
      transform(chunk, controller) {
        count();
        controller.enqueue(chunk);
      },
    }),
    outbound: new TransformStream(),
  });
  const { feed, session, ciphers } = await handshakeOverFeed({
    layers: { packets: [probe(() => bodies++)], contents: [probe(() => contents++)] },
  });
  const reader = session.readable.getReader();
  const rand = prng(99);
  let decoyBytes = 0;
  const total = 10_000, batch = 100;
  for (let sent = 0; sent < total; sent += batch) {
    const packets: Uint8Array[] = [];
    for (let i = 0; i < batch; i++) {
      const n = Math.floor(rand() * 1025);
      decoyBytes += n;
      packets.push(encryptPacket(ciphers, new Uint8Array(n), EMPTY, true));
    }
    feed.push(concat(packets));
    // Each batch is consumed, decrypted and dropped before the next is offered: nothing
    // piles up anywhere in the stack (at most one ~100 KiB batch is ever in flight).
    await within(feed.hungry(), 10_000, `batch ${sent / batch}`);
    await until(() => session.stats.decoysReceived === sent + batch, "decoys counted", 10_000);
    assert.equal(bodies, sent + batch);
    assert.equal(contents, 0, "no decoy got past the AEAD layer");
  }
  assert.ok(decoyBytes > 4_000_000);
  const payload = new Uint8Array(100).fill(3);
  feed.push(encryptPacket(ciphers, DEFAULT_MESSAGE_TYPES.encode(msg("tx", payload))));
  // The first (and only) thing the application reads is the real message.
  assert.deepEqual((await within(reader.read(), 5000, "read")).value, msg("tx", payload));
  assert.equal(session.stats.decoysReceived, total);
  assert.equal(session.stats.messagesDropped, 0);
  assert.equal(contents, 1);
  assert.ok(session.isOpen);
  await session.close();
});

// ---------------------------------------------------------------------------
// Handshake flood against a TCP listener, with honest peers during the flood

Deno.test("bounds: half-open handshake flood vs maxPendingHandshakes; honest peers complete during it", async () => {
  const cap = 16;
  const errors: Bip324ErrorCode[] = [];
  const listener = listen({
    port: 0,
    network: "regtest",
    maxPendingHandshakes: cap,
    handshakeTimeout: 1500,
    onError: (e) => errors.push(e.code),
  });
  const port = listener.addr.port;
  const served = (async () => {
    for await (const s of listener) {
      (async () => {
        const r = s.readable.getReader(), w = s.writable.getWriter();
        for (;;) {
          const { done, value } = await r.read();
          if (done) break;
          await w.write(value);
        }
      })().catch(() => {}).finally(() => s.close());
    }
  })();
  const flood: Deno.Conn[] = [];
  let maxPendingSeen = 0;
  const halfOpen = async (i: number) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    flood.push(conn);
    if (i % 2 === 1) await conn.write(new Uint8Array([0x42])).catch(() => 0); // 1 byte, then silence
  };
  try {
    // Wave 1: 40 half-open connections at once: `cap` of them hold slots, the rest are refused.
    for (let i = 0; i < 40; i++) await halfOpen(i);
    await until(() => errors.filter((c) => c === "BUSY").length >= 40 - cap, "BUSY refusals", 5000);
    assert.equal(listener.pendingHandshakes, cap);
    assert.equal(errors.filter((c) => c === "BUSY").length, 40 - cap);

    // Honest peers start now, while every slot is held, and retry when refused.
    let floodOn = true;
    const honest = Array.from({ length: 5 }, async (_, k) => {
      for (let attempt = 0; attempt < 400; attempt++) {
        let session: Session;
        try {
          session = await connect({
            port,
            network: "regtest",
            fallback: "none",
            handshakeTimeout: 5000,
          });
        } catch (e) {
          // refused: closed without an answer (V1_ONLY_PEER) or reset (TRANSPORT)
          assert.ok(e instanceof Bip324Error, String(e));
          assert.ok(["V1_ONLY_PEER", "TRANSPORT", "UNEXPECTED_EOF"].includes(e.code), e.code);
          await sleep(20);
          continue;
        }
        const w = session.writable.getWriter(), r = session.readable.getReader();
        const payload = new Uint8Array(1000).fill(k);
        await w.write(msg("inv", payload));
        assert.deepEqual((await within(r.read(), 5000, "echo")).value, msg("inv", payload));
        await session.close();
        return attempt;
      }
      throw new Error(`honest peer ${k} never got in`);
    });
    // Wave 2: the flood goes on (one more half-open connection every 50 ms) while honest peers try.
    const wave2 = (async () => {
      for (let i = 0; i < 100 && floodOn; i++) {
        await halfOpen(i);
        maxPendingSeen = Math.max(maxPendingSeen, listener.pendingHandshakes);
        await sleep(50);
      }
    })();
    const attempts = await within(Promise.all(honest), 20_000, "honest peers");
    floodOn = false;
    await within(wave2, 5000, "flood stops");
    assert.equal(attempts.length, 5);
    assert.ok(maxPendingSeen <= cap, `pending handshakes peaked at ${maxPendingSeen}`);
    const unexpected = errors.filter((c) =>
      !["BUSY", "HANDSHAKE_TIMEOUT", "UNEXPECTED_EOF", "TRANSPORT"].includes(c)
    );
    assert.deepEqual(unexpected, []);
  } finally {
    for (const c of flood) {
      try {
        c.close();
      } catch { /* closed by the listener */ }
    }
    await listener.close();
    await within(served, 5000, "listener stops");
  }
});

Deno.test("bounds: with maxQueuedSessions untaken, the listener pauses instead of dropping sessions", async () => {
  const reported: Bip324Error[] = [];
  const listener = listen({
    port: 0,
    network: "regtest",
    maxQueuedSessions: 1,
    onError: (e) => reported.push(e),
  });
  const clients: Session[] = [];
  try {
    // Nobody takes sessions yet: the first is established and queued …
    clients.push(
      await within(
        connect({ port: listener.addr.port, network: "regtest", fallback: "none" }),
        5000,
        "first connect",
      ),
    );
    await until(() => listener.pendingHandshakes === 0, "first session queued", 5000);
    // … and the second waits in the backlog, its handshake not answered.
    let second: Session | undefined;
    const secondConnect = connect({
      port: listener.addr.port,
      network: "regtest",
      fallback: "none",
      handshakeTimeout: 10_000,
    }).then((s) => (second = s));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(second, undefined, "the listener must not accept while its queue is full");
    // Taking a session lets the listener accept again; nothing was dropped or refused.
    const it = listener[Symbol.asyncIterator]();
    const first = await within(it.next(), 5000, "take first");
    await within(secondConnect, 5000, "second connect completes");
    const other = await within(it.next(), 5000, "take second");
    clients.push(second!);
    assert.deepEqual(first.value!.sessionId, clients[0].sessionId);
    assert.deepEqual(other.value!.sessionId, second!.sessionId);
    assert.ok(clients[0].isOpen && second!.isOpen);
    assert.deepEqual(reported, []);
    await first.value!.close();
    await other.value!.close();
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await listener.close();
  }
});

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

// ---------------------------------------------------------------------------
// No secret in any error or log line

/** Every secret of the fixed I/R key pairs: private keys, ECDH secret, the four keys, terminators. */
function secrets(): Map<string, Uint8Array> {
  const shared = v2Ecdh(I.priv, R.ell, I.ell, true);
  assert.deepEqual(shared, v2Ecdh(R.priv, I.ell, R.ell, false));
  const k = deriveSessionKeys(shared, true, "regtest");
  return new Map([
    ["initiator private key", I.priv],
    ["responder private key", R.priv],
    ["ECDH secret", shared],
    ["initiator length key", k.sendLengthKey],
    ["initiator packet key", k.sendPacketKey],
    ["responder length key", k.recvLengthKey],
    ["responder packet key", k.recvPacketKey],
    ["initiator garbage terminator", k.sendGarbageTerminator],
    ["responder garbage terminator", k.recvGarbageTerminator],
  ]);
}

const hex = (b: Uint8Array) => Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
const base64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/** Ways a byte array could end up in text: hex, decimal lists, base64 (whole or first 8 bytes). */
function renderings(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (const b of [bytes, bytes.subarray(0, 8)]) {
    out.push(hex(b), hex(b).toUpperCase(), Array.from(b).join(","));
  }
  out.push(base64(bytes));
  return out;
}

Deno.test("bounds: no key, secret or terminator appears in any error (every code provoked) or log line", async () => {
  const errors: unknown[] = [];
  const logged: string[] = [];
  const methods = ["log", "info", "warn", "error", "debug"] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) {
    console[m] = (...args: unknown[]) => {
      logged.push(args.map((a) => Deno.inspect(a, { depth: 8 })).join(" "));
    };
  }
  const catchAll = async (p: Promise<unknown>): Promise<void> => {
    try {
      await within(p, 10_000, "scenario");
    } catch (e) {
      errors.push(e);
    }
  };
  try {
    // DECRYPTION (session), then CLOSED on write
    {
      const { feed, session, ciphers } = await handshakeOverFeed({ cipher: responderCipher() });
      const p = encryptPacket(ciphers, new Uint8Array([18, 1, 2, 3, 4, 5, 6, 7, 8]));
      p[5] ^= 4;
      feed.push(p);
      await catchAll(session.readable.getReader().read());
      errors.push(session.closeReason);
      await catchAll(session.writable.getWriter().write(msg("ping", new Uint8Array(8))));
    }
    // OVERSIZED, INVALID_MESSAGE_TYPE, UNEXPECTED_EOF, IDLE_TIMEOUT (sessions)
    {
      const { feed, session, ciphers } = await handshakeOverFeed({
        cipher: responderCipher(),
        maxMessageSize: 100,
      });
      const field = new Uint8Array(3);
      ciphers.sendLength.encryptLength(101, field);
      feed.push(field);
      await catchAll(session.readable.getReader().read());
    }
    {
      const { feed, session, ciphers } = await handshakeOverFeed({
        cipher: responderCipher(),
        aliasing: { onInvalid: "error" },
      });
      feed.push(encryptPacket(ciphers, new Uint8Array([0, 0xff, 1, 2])));
      await catchAll(session.readable.getReader().read());
    }
    {
      const { feed, session, ciphers } = await handshakeOverFeed({ cipher: responderCipher() });
      feed.push(encryptPacket(ciphers, new Uint8Array([18, 1])).subarray(0, 9));
      feed.end();
      await catchAll(session.readable.getReader().read());
    }
    {
      const { session } = await handshakeOverFeed({ cipher: responderCipher(), idleTimeout: 30 });
      await catchAll(session.readable.getReader().read());
    }
    // Handshake failures with the keys in play
    const responderOver = (feed: Feed, options: Partial<OpenSessionOptions> = {}) =>
      openSession(feed, {
        role: "responder",
        network: "regtest",
        cipher: responderCipher(),
        ...options,
      });
    {
      // DECRYPTION during the handshake: tampered garbage
      const feed = new Feed();
      const machine = new Handshake({
        role: "initiator",
        network: "regtest",
        cipher: initiatorCipher(),
        garbage: 30,
      });
      feed.onWrite = (chunk) => {
        if (!machine.done) {
          const out = machine.receive(chunk);
          if (out.length > 0) feed.push(out);
        }
      };
      const first = machine.start().slice();
      first[KEY_LEN + 3] ^= 1;
      const opening = responderOver(feed);
      feed.push(first);
      await catchAll(opening);
    }
    {
      const feed = new Feed(); // NO_GARBAGE_TERMINATOR
      const opening = responderOver(feed);
      feed.push(concat([I.ell, new Uint8Array(MAX_GARBAGE_LEN + TERMINATOR_LEN)]));
      await catchAll(opening);
    }
    {
      const feed = new Feed(); // HANDSHAKE_TIMEOUT after the key exchange
      const opening = responderOver(feed, { handshakeTimeout: 30 });
      feed.push(concat([I.ell, new Uint8Array(100)]));
      await catchAll(opening);
    }
    {
      const feed = new Feed(); // UNEXPECTED_EOF during the handshake
      const opening = responderOver(feed);
      feed.push(concat([I.ell, new Uint8Array(100)]));
      feed.end();
      await catchAll(opening);
    }
    {
      const feed = new Feed(); // V1_PROTOCOL
      const opening = responderOver(feed);
      feed.push(concat([networkMagic("regtest"), new TextEncoder().encode("version\0\0\0\0\0")]));
      await catchAll(opening);
      feed.readable.cancel().catch(() => {});
    }
    {
      const feed = new Feed(); // WRONG_NETWORK
      const opening = responderOver(feed);
      feed.push(concat([networkMagic("mainnet"), new TextEncoder().encode("version\0\0\0\0\0")]));
      await catchAll(opening);
    }
    {
      const feed = new Feed(); // V1_ONLY_PEER: the peer hangs up after our key
      feed.onWrite = () => feed.end();
      await catchAll(
        openSession(feed, { role: "initiator", network: "regtest", cipher: initiatorCipher() }),
      );
    }
    {
      // TRANSPORT: the connection is reset under an established session
      const [x, y] = memoryPair();
      const [, session] = await Promise.all([
        performHandshake(x, {
          role: "initiator",
          network: "regtest",
          cipher: initiatorCipher(),
        }),
        openSession(y, { role: "responder", network: "regtest", cipher: responderCipher() }),
      ]);
      await x.writable.abort(new Error("connection reset by test"));
      await catchAll(session.readable.getReader().read());
    }
    {
      // TIMEOUT: peerHandshake and pingPeer against a peer that never answers
      const [x, y] = memoryPair();
      const [a, b] = await Promise.all([
        openSession(x, { role: "initiator", network: "regtest", cipher: initiatorCipher() }),
        openSession(y, { role: "responder", network: "regtest", cipher: responderCipher() }),
      ]);
      await catchAll(peerHandshake(a, { timeout: 30 }));
      await catchAll(pingPeer(a, { timeout: 30 }));
      await a.close();
      await b.closed;
    }
    {
      // BUSY: a listener that admits no handshake at all
      const busy: Bip324Error[] = [];
      const listener = listen({ port: 0, maxPendingHandshakes: 0, onError: (e) => busy.push(e) });
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
      await until(() => busy.length > 0, "BUSY");
      errors.push(...busy);
      conn.close();
      await listener.close();
    }
    // V1_FRAMING, MALFORMED_MESSAGE: peer-controlled bytes only, checked all the same
    errors.push(
      (() => {
        try {
          new V1Decoder({ magic: networkMagic("regtest") }).push(new Uint8Array(30).fill(9));
        } catch (e) {
          return e;
        }
      })(),
      (() => {
        try {
          decodePayload("ping", new Uint8Array(3));
        } catch (e) {
          return e;
        }
      })(),
    );
    {
      const [x, y] = memoryPair();
      const v1 = openV1Session(y, { role: "responder", network: "regtest" });
      await x.writable.getWriter().write(new Uint8Array(30).fill(7));
      await catchAll(v1.readable.getReader().read());
    }
  } finally {
    methods.forEach((m, i) => (console[m] = saved[i]));
  }

  const codes = new Set(errors.map((e) => (e instanceof Bip324Error ? e.code : `not typed: ${e}`)));
  const expected: Bip324ErrorCode[] = [
    "DECRYPTION",
    "NO_GARBAGE_TERMINATOR",
    "V1_PROTOCOL",
    "WRONG_NETWORK",
    "HANDSHAKE_TIMEOUT",
    "OVERSIZED",
    "INVALID_MESSAGE_TYPE",
    "CLOSED",
    "UNEXPECTED_EOF",
    "V1_ONLY_PEER",
    "IDLE_TIMEOUT",
    "V1_FRAMING",
    "MALFORMED_MESSAGE",
    "TIMEOUT",
    "BUSY",
    "TRANSPORT",
  ];
  assert.deepEqual(
    [...codes].sort(),
    [...expected].sort(),
    "every error code was provoked, all typed",
  );

  const table = [...secrets()].map(([name, bytes]) => [name, renderings(bytes)] as const);
  const texts = [...errors.flatMap(textsOf), ...logged].map((t) => t.replace(/\s+/g, ""));
  for (const text of texts) {
    for (const [name, forms] of table) {
      for (const form of forms) {
        assert.ok(
          !text.includes(form.replace(/\s+/g, "")),
          `${name} appears in: ${text.slice(0, 300)}`,
        );
      }
    }
  }
});
