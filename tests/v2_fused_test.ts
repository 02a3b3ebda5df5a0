import assert from "node:assert/strict";
import { V2Decoder, V2Encoder } from "../layers/session/v2_fused.ts";
import { AliasEncoderStream } from "../layers/aliasing/aliasing_layer.ts";
import { AeadEncryptStream } from "../layers/aead/aead_layer.ts";
import { LengthEncoderStream } from "../layers/length/length_layer.ts";
import type { Bip324Cipher } from "../layers/packet_cipher.ts";
import { openSession } from "../layers/session/session.ts";
import { memoryPair } from "../transports/memory.ts";
import { randomDecoys } from "../layers/shaping.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";
import { chunk, concat, fixedCipher, isCode, prng, readAll } from "./helpers.ts";

/** Two initialized ciphers with identical keys (same key pairs, same peer). */
function twins(): [Bip324Cipher, Bip324Cipher, Bip324Cipher] {
  const peer = fixedCipher(20);
  const a = fixedCipher(21), b = fixedCipher(21);
  a.initialize(peer.ourEllswift, true, "regtest");
  b.initialize(peer.ourEllswift, true, "regtest");
  peer.initialize(a.ourEllswift, false, "regtest");
  return [a, b, peer];
}

const MESSAGES: Message[] = [
  { type: "ping", payload: new Uint8Array(8).fill(1) },
  { type: "version", payload: new Uint8Array(100).fill(2) },
  { type: "inv", payload: new Uint8Array(37).fill(3) },
  { type: "block", payload: new Uint8Array(70_000).map((_, i) => i) },
  { type: "verack", payload: new Uint8Array(0) },
];

Deno.test("fused encoder writes exactly the bytes of the separate layers (with decoys)", async () => {
  for (let round = 0; round < 300; round++) {
    MESSAGES.push({ type: "tx", payload: new Uint8Array(round) });
  }
  const [a, b] = twins();
  const fused = concat(
    MESSAGES.flatMap((m) =>
      new V2Encoder(a.ciphers, { shaping: randomDecoys({ probability: 0.3, random: prng(1) }) })
        .encode(m)
    ),
  );
  // the shaping policy's state must match too: build one encoder, not one per message
  const [a2, b2] = twins();
  const encoder = new V2Encoder(a2.ciphers, {
    shaping: randomDecoys({ probability: 0.3, random: prng(1) }),
  });
  const fusedOnce = concat(MESSAGES.flatMap((m) => encoder.encode(m)));
  const layered = concat(
    await readAll(
      ReadableStream.from(MESSAGES)
        .pipeThrough(new AliasEncoderStream())
        .pipeThrough(
          new AeadEncryptStream(b2.ciphers.sendPacket, {
            shaping: randomDecoys({ probability: 0.3, random: prng(1) }),
          }),
        )
        .pipeThrough(new LengthEncoderStream(b2.ciphers.sendLength)),
    ),
  );
  assert.deepEqual(fusedOnce, layered);
  assert.ok(fused.length > 0 && b.initialized);
  MESSAGES.splice(5);
});

Deno.test("fused decoder: every chunking gives the same messages; decoys dropped", () => {
  const [a, , peer] = twins();
  let decoysSent = 0;
  const enc = new V2Encoder(a.ciphers, {
    shaping: randomDecoys({ probability: 0.5, random: prng(2) }),
    onDecoy: () => decoysSent++,
  });
  const wire = concat(MESSAGES.flatMap((m) => enc.encode(m)));
  for (const how of ["whole", "single", 5, 6] as const) {
    // a fresh receiver with the same keys for every chunking
    const [, , receiver] = twins();
    let decoys = 0;
    const dec = new V2Decoder(receiver.ciphers, { onDecoy: () => decoys++ });
    const got = chunk(wire.slice(), how).flatMap((c) => dec.push(c));
    dec.finish();
    assert.deepEqual(got, MESSAGES, String(how));
    assert.equal(decoys, decoysSent);
  }
  assert.ok(peer.initialized);
});

Deno.test("fused decoder: oversized length before the body; sticky errors after good messages", () => {
  const [a, , peer] = twins();
  const dec = new V2Decoder(peer.ciphers, { maxMessageSize: 100 });
  const enc = new V2Encoder(a.ciphers);
  const good = enc.encode({ type: "ping", payload: new Uint8Array(8) })[0];
  const big = enc.encode({ type: "block", payload: new Uint8Array(200) })[0];
  // the good message and just the 3-byte length of the big one, in one chunk
  const out = dec.push(concat([good, big.subarray(0, 3)]));
  assert.equal(out.length, 1);
  assert.throws(() => dec.push(new Uint8Array(0)), isCode("OVERSIZED"));
  assert.throws(() => dec.finish(), isCode("OVERSIZED"));
});

Deno.test("fused decoder: bad tag → DECRYPTION; EOF inside a packet → UNEXPECTED_EOF", () => {
  {
    const [a, , peer] = twins();
    const packet = new V2Encoder(a.ciphers).encode({ type: "inv", payload: new Uint8Array(5) })[0];
    packet[packet.length - 1] ^= 1;
    assert.throws(() => new V2Decoder(peer.ciphers).push(packet), isCode("DECRYPTION"));
  }
  {
    const [a, , peer] = twins();
    const packet = new V2Encoder(a.ciphers).encode({ type: "inv", payload: new Uint8Array(5) })[0];
    const dec = new V2Decoder(peer.ciphers);
    assert.deepEqual(dec.push(packet.subarray(0, 10)), []);
    assert.equal(dec.buffered, 7);
    assert.throws(() => dec.finish(), isCode("UNEXPECTED_EOF"));
  }
});

Deno.test("fused decoder: invalid types dropped by default or fatal; small payloads do not pin the chunk", () => {
  const [a, , peer] = twins();
  const bad = a.encrypt(new Uint8Array([200, 1, 2]));
  const good = a.encrypt(new Uint8Array([18, ...new Uint8Array(8)]));
  const dropped: string[] = [];
  const chunkBytes = concat([bad, good, new Uint8Array(0)]);
  const dec = new V2Decoder(peer.ciphers, { onDropped: (e) => dropped.push(e.code) });
  const [msg] = dec.push(chunkBytes);
  assert.equal(msg.type, "ping");
  assert.deepEqual(dropped, ["INVALID_MESSAGE_TYPE"]);
  // ten small packets in one chunk: each payload is copied out, not a view pinning the chunk
  const many = concat(
    Array.from({ length: 10 }, () => a.encrypt(new Uint8Array([18, ...new Uint8Array(8)]))),
  );
  const pings = dec.push(many);
  assert.equal(pings.length, 10);
  for (const p of pings) assert.notEqual(p.payload.buffer, many.buffer);
  const [a2, , peer2] = twins();
  const strict = new V2Decoder(peer2.ciphers, { onInvalid: "error" });
  assert.throws(
    () => strict.push(a2.encrypt(new Uint8Array([200]))),
    isCode("INVALID_MESSAGE_TYPE"),
  );
});

Deno.test("sessions: fused and layered paths put the same bytes on the wire and interoperate", async () => {
  async function wireOf(layered: boolean): Promise<Uint8Array> {
    const [x, y] = memoryPair();
    const captured: Uint8Array[] = [];
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform(c, ctl) {
        captured.push(c.slice());
        ctl.enqueue(c);
      },
    });
    tap.readable.pipeTo(x.writable);
    const [a, b] = await Promise.all([
      openSession({ readable: x.readable, writable: tap.writable }, {
        role: "initiator",
        cipher: fixedCipher(30),
        garbage: new Uint8Array(10),
        layered,
      }),
      openSession(y, { role: "responder", cipher: fixedCipher(31), layered: !layered }),
    ]);
    const w = a.writable.getWriter();
    for (const m of MESSAGES) await w.write(m);
    const r = b.readable.getReader();
    for (const m of MESSAGES) assert.deepEqual((await r.read()).value, m);
    await a.close();
    await b.closed;
    return concat(captured);
  }
  assert.deepEqual(await wireOf(true), await wireOf(false));
});
