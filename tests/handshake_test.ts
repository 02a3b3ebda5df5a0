import assert from "node:assert/strict";
import { ELLSWIFT_LEN, Handshake, MAX_GARBAGE_LEN } from "../layers/handshake/handshake.ts";
import { encryptPacket } from "../layers/packet_cipher.ts";
import { networkMagic } from "../layers/bitcoin/network.ts";
import { Bip324Error } from "../layers/errors.ts";
import { chunk, concat, fixedCipher, isCode } from "./helpers.ts";

/** Runs two machines against each other, delivering bytes in the given chunking. */
function run(a: Handshake, b: Handshake, how: "single" | "whole" | number = "whole") {
  let toB = [a.start()], toA = [b.start()];
  for (let round = 0; round < 10 && (!a.done || !b.done); round++) {
    const nextA: Uint8Array[] = [], nextB: Uint8Array[] = [];
    for (const c of chunk(concat(toB), how)) if (!b.done) nextA.push(b.receive(c));
    for (const c of chunk(concat(toA), how)) if (!a.done) nextB.push(a.receive(c));
    toA = nextA;
    toB = nextB;
  }
  assert.ok(a.done && b.done, "handshake did not complete");
  return [a.result(), b.result()] as const;
}

Deno.test("handshake: completes in every chunking with equal session ids", () => {
  for (const how of ["whole", "single", 1, 2, 3] as const) {
    const [ra, rb] = run(
      new Handshake({ role: "initiator", network: "regtest", garbage: 100, decoys: [5] }),
      new Handshake({ role: "responder", network: "regtest", garbage: 200, decoys: [0, 7] }),
      how,
    );
    assert.deepEqual(ra.sessionId, rb.sessionId, String(how));
    assert.equal(ra.garbageReceived, 200);
    assert.equal(rb.garbageReceived, 100);
    assert.equal(ra.decoysReceived, 2);
    assert.equal(rb.decoysReceived, 1);
    assert.equal(ra.leftover.length, 0);
  }
});

Deno.test("handshake: garbage of 0 and 4095 bytes, random default ≤ 4095", () => {
  for (const [ga, gb] of [[0, 0], [4095, 4095], [0, 4095], [4095, 0]]) {
    const [ra, rb] = run(
      new Handshake({ role: "initiator", garbage: ga }),
      new Handshake({ role: "responder", garbage: gb }),
      "single",
    );
    assert.equal(ra.garbageSent, ga);
    assert.equal(rb.garbageReceived, ga);
    assert.equal(ra.garbageReceived, gb);
  }
  const lengths = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const g = new Handshake({ role: "initiator" }).garbageLength;
    assert.ok(g >= 0 && g <= MAX_GARBAGE_LEN);
    lengths.add(g);
  }
  assert.ok(lengths.size > 10, "default garbage length should vary");
  assert.throws(() => new Handshake({ role: "initiator", garbage: 4096 }), RangeError);
  assert.throws(
    () => new Handshake({ role: "initiator", garbage: new Uint8Array(4096) }),
    RangeError,
  );
  assert.throws(() => new Handshake({ role: "boss" as "initiator" }), TypeError);
});

Deno.test("handshake: caller-chosen garbage bytes are sent verbatim", () => {
  const garbage = new TextEncoder().encode("GET / HTTP/1.1\r\n");
  const a = new Handshake({ role: "initiator", garbage });
  const first = a.start();
  assert.deepEqual(first.subarray(ELLSWIFT_LEN), garbage);
});

Deno.test("handshake: the responder waits for a mismatching byte, then answers at once", () => {
  const b = new Handshake({ role: "responder", network: "mainnet" });
  assert.equal(b.start().length, 0);
  // 15 bytes that match the v1 prefix: nothing to send yet
  const prefix = concat([networkMagic("mainnet"), new TextEncoder().encode("version\0\0\0")]);
  assert.equal(prefix.length, 14);
  assert.equal(b.receive(prefix).length, 0);
  assert.equal(b.state, "prefix");
  // a mismatching byte: key + garbage go out
  const reply = b.receive(new Uint8Array([0x41]));
  assert.ok(reply.length >= ELLSWIFT_LEN);
  assert.equal(b.state, "key");
});

Deno.test("handshake: v1 version prefix → V1_PROTOCOL carrying every byte read", () => {
  const b = new Handshake({ role: "responder", network: "regtest" });
  b.start();
  const v1 = concat([
    networkMagic("regtest"),
    new TextEncoder().encode("version\0\0\0\0\0"),
    new Uint8Array([0x66, 0, 0, 0, 1, 2, 3, 4, 5, 6]),
  ]);
  let error: Bip324Error | undefined;
  try {
    for (const c of chunk(v1, 3)) b.receive(c);
  } catch (e) {
    error = e as Bip324Error;
  }
  assert.ok(error instanceof Bip324Error && error.code === "V1_PROTOCOL");
  // every byte fed so far (possibly more than the 16-byte prefix), none lost
  assert.deepEqual(error.v1Bytes, v1.subarray(0, error.v1Bytes.length));
  assert.ok(error.v1Bytes.length >= 16);
});

Deno.test("handshake: v1 version message of another network → WRONG_NETWORK", () => {
  const b = new Handshake({ role: "responder", network: "regtest" });
  b.start();
  const v1 = concat([networkMagic("mainnet"), new TextEncoder().encode("version\0\0\0\0\0")]);
  assert.throws(() => {
    for (const c of chunk(v1, "single")) b.receive(c);
  }, isCode("WRONG_NETWORK"));
});

Deno.test("handshake: 4095 garbage bytes without terminator → NO_GARBAGE_TERMINATOR at 4111", () => {
  const a = new Handshake({ role: "initiator" });
  a.start();
  const peer = fixedCipher(7);
  a.receive(peer.ourEllswift);
  const garbage = new Uint8Array(MAX_GARBAGE_LEN + 16).fill(0x55);
  // One byte short of the limit is still "need more data"
  a.receive(garbage.subarray(0, garbage.length - 1));
  assert.equal(a.state, "garbage");
  assert.throws(() => a.receive(garbage.subarray(-1)), isCode("NO_GARBAGE_TERMINATOR"));
});

Deno.test("handshake: 1-byte feeding accepts garbage up to exactly the limit", () => {
  const a = new Handshake({ role: "initiator" });
  a.start();
  a.receive(fixedCipher(9).ourEllswift);
  for (let i = 0; i < MAX_GARBAGE_LEN + 15; i++) a.receive(new Uint8Array([i & 0xff]));
  assert.equal(a.state, "garbage");
  assert.throws(() => a.receive(new Uint8Array([1])), isCode("NO_GARBAGE_TERMINATOR"));
});

Deno.test("handshake: a tampered garbage byte fails authentication of the first packet", () => {
  const a = new Handshake({ role: "initiator", garbage: 50, cipher: fixedCipher(3) });
  const b = new Handshake({ role: "responder", cipher: fixedCipher(4) });
  const first = a.start();
  b.start();
  const second = a.receive(b.receive(first));
  assert.ok(a.done);
  b.receive(second);
  assert.ok(b.done, "untampered transcript completes");
  // Same transcript with one garbage bit flipped, to a responder with the same key pair.
  const tampered = first.slice();
  tampered[ELLSWIFT_LEN + 10] ^= 1;
  const b2 = new Handshake({ role: "responder", cipher: fixedCipher(4) });
  b2.start();
  b2.receive(tampered);
  assert.throws(() => b2.receive(second), isCode("DECRYPTION"));
});

Deno.test("handshake: oversized packet during the handshake → OVERSIZED", () => {
  const a = new Handshake({ role: "initiator", maxMessageSize: 1000 });
  const b = new Handshake({ role: "responder", decoys: [1001] });
  b.start();
  const reply = b.receive(a.start());
  assert.throws(() => a.receive(reply), isCode("OVERSIZED"));
});

Deno.test("handshake: bytes after the version packet are leftover, not lost", () => {
  const a = new Handshake({ role: "initiator", cipher: fixedCipher(1) });
  const b = new Handshake({ role: "responder", cipher: fixedCipher(2) });
  b.start();
  const reply = b.receive(a.start());
  const second = a.receive(reply);
  const extra = encryptPacket(a.result().cipher.ciphers, new Uint8Array([18, 1, 2, 3]));
  b.receive(concat([second, extra]));
  assert.ok(b.done);
  assert.deepEqual(b.result().leftover, extra);
});

Deno.test("handshake: version packet contents are handed to the caller", () => {
  const [ra] = run(
    new Handshake({ role: "initiator" }),
    new Handshake({ role: "responder", versionContents: new Uint8Array([1, 2]) }),
  );
  assert.deepEqual(ra.peerVersionContents, new Uint8Array([1, 2]));
});

Deno.test("handshake: different networks never complete (no terminator match)", () => {
  const a = new Handshake({ role: "initiator", network: "mainnet", garbage: 0 });
  const b = new Handshake({ role: "responder", network: "signet", garbage: 0 });
  b.start();
  const reply = b.receive(a.start());
  a.receive(reply);
  assert.equal(a.state, "garbage");
});

Deno.test("handshake: a huge first chunk is refused after at most 4,111 garbage bytes held", () => {
  const a = new Handshake({ role: "initiator", network: "regtest" });
  const b = new Handshake({ role: "responder", network: "regtest" });
  a.start();
  b.start();
  // 64 key bytes, then 8 MiB without a terminator, all in one call
  const flood = new Uint8Array(ELLSWIFT_LEN + (8 << 20));
  flood.set(new Handshake({ role: "initiator", network: "regtest" }).start().subarray(0, 64));
  flood.fill(1, ELLSWIFT_LEN);
  assert.throws(() => b.receive(flood), isCode("NO_GARBAGE_TERMINATOR"));
  const held = b.buffered;
  assert.ok(held > MAX_GARBAGE_LEN && held <= MAX_GARBAGE_LEN + 16, `held ${held}`);
  void a;
});

Deno.test("handshake: decoys before the version packet stream through, never held", () => {
  const size = 3_000_000;
  const a = new Handshake({ role: "initiator", network: "regtest", decoys: [size, 10, size] });
  const b = new Handshake({ role: "responder", network: "regtest" });
  const keyAndGarbage = a.start();
  b.start();
  const reply = b.receive(keyAndGarbage);
  const rest = a.receive(reply);
  let maxHeld = 0;
  for (let i = 0; i < rest.length; i += 65_536) {
    b.receive(rest.subarray(i, i + 65_536));
    maxHeld = Math.max(maxHeld, b.buffered);
  }
  assert.ok(b.done);
  assert.equal(b.result().decoysReceived, 3);
  assert.ok(maxHeld < 64, `held up to ${maxHeld} bytes`);
  // a flipped bit inside a streamed decoy fails at its end
  const c = new Handshake({ role: "initiator", network: "regtest", decoys: [size] });
  const d = new Handshake({ role: "responder", network: "regtest" });
  d.start();
  const r2 = d.receive(c.start());
  const tail = c.receive(r2);
  tail[tail.length - 500_000] ^= 1;
  assert.throws(() => d.receive(tail), isCode("DECRYPTION"));
});

Deno.test("handshake: a huge version packet is authenticated as it streams, never held", () => {
  const a = new Handshake({
    role: "initiator",
    network: "regtest",
    versionContents: new Uint8Array(3_000_000).fill(7),
  });
  const b = new Handshake({ role: "responder", network: "regtest" });
  b.start();
  const rest = a.receive(b.receive(a.start()));
  let maxHeld = 0;
  for (let i = 0; i < rest.length; i += 65_536) {
    b.receive(rest.subarray(i, i + 65_536));
    maxHeld = Math.max(maxHeld, b.buffered);
  }
  assert.ok(b.done);
  assert.ok(maxHeld < 64, `held up to ${maxHeld} bytes`);
  assert.equal(b.result().peerVersionContents.length, 0); // over 4,096 bytes: not kept
  // a small one is kept; a tampered big one fails
  const c = new Handshake({
    role: "initiator",
    network: "regtest",
    versionContents: new Uint8Array([1, 2]),
  });
  const d = new Handshake({ role: "responder", network: "regtest" });
  d.start();
  d.receive(c.receive(d.receive(c.start())));
  assert.deepEqual(d.result().peerVersionContents, new Uint8Array([1, 2]));
  const e = new Handshake({
    role: "initiator",
    network: "regtest",
    versionContents: new Uint8Array(10_000),
  });
  const f = new Handshake({ role: "responder", network: "regtest" });
  f.start();
  const tail = e.receive(f.receive(e.start()));
  tail[tail.length - 100] ^= 1;
  assert.throws(() => f.receive(tail), isCode("DECRYPTION"));
});
