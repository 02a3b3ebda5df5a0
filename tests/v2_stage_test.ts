// The composed v2 stage — the one a session runs — against each layer run alone as its own
// TransformStream, against a spec-literal reference encoder, and against the official packet
// vectors, over every chunk split.
import assert from "node:assert/strict";
import { compose } from "../layers/session/compose.ts";
import { aliasDecoder, aliasEncoder } from "../layers/aliasing/aliasing_layer.ts";
import { aeadDecryptor, aeadEncryptor } from "../layers/aead/aead_layer.ts";
import { lengthDecoder, lengthEncoder } from "../layers/length/length_layer.ts";
import { shapingLayer } from "../layers/shaping.ts";
import { randomDecoys } from "../layers/shaping.ts";
import { FSChaCha20 } from "../layers/length/length_cipher.ts";
import { FSChaCha20Poly1305 } from "../layers/aead/aead.ts";
import { DEFAULT_MESSAGE_TYPES, type Message } from "../layers/aliasing/aliasing.ts";
import { DECOYS } from "../layers/chunk_marks.ts";
import { Outbox } from "../layers/session/outbox.ts";
import { toHex } from "../layers/bytes.ts";
import { RefFSChaCha20, RefFSChaCha20Poly1305 } from "./reference.ts";
import { hex, readVectors } from "./vectors.ts";
import { chunk, concat, prng, readAll } from "./helpers.ts";

const LKEY = new Uint8Array(32).fill(0x11);
const PKEY = new Uint8Array(32).fill(0x22);

const MESSAGES: Message[] = [
  { type: "ping", payload: new Uint8Array(8).fill(1) },
  { type: "version", payload: new Uint8Array(100).fill(2) },
  { type: "inv", payload: new Uint8Array(37).fill(3) },
  { type: "block", payload: new Uint8Array(70_000).map((_, i) => i) },
  { type: "verack", payload: new Uint8Array(0) },
  ...Array.from({ length: 500 }, (_, i) => ({ type: "tx", payload: new Uint8Array(i).fill(i) })),
];

const policy = () => randomDecoys({ probability: 0.3, maxSize: 300, random: prng(9) });

/** The reference: each packet built by the BIP's pseudocode (length, header, AEAD). */
function referenceWire(messages: Message[]): Uint8Array {
  const length = new RefFSChaCha20(LKEY), aead = new RefFSChaCha20Poly1305(PKEY);
  const shaping = policy();
  const out: Uint8Array[] = [];
  const packet = (contents: Uint8Array, ignore: boolean) => {
    const n = contents.length;
    const field = length.crypt(new Uint8Array([n & 0xff, (n >> 8) & 0xff, n >> 16]));
    const plaintext = concat([new Uint8Array([ignore ? 0x80 : 0]), contents]);
    out.push(field, aead.crypt(new Uint8Array(0), plaintext, false));
  };
  for (const m of messages) {
    const contents = DEFAULT_MESSAGE_TYPES.encode(m);
    for (const d of shaping(contents.length) ?? []) packet(new Uint8Array(d), true);
    packet(contents, false);
  }
  return concat(out);
}

/** The session's way: one composed stage ending in the outbox (batched transport writes). */
async function composedWire(messages: Message[]): Promise<{ wire: Uint8Array; writes: number }> {
  const written: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (c) => void written.push(c.slice()) });
  const outbox = new Outbox(sink.getWriter(), {
    writeFailed: (e) => {
      throw e;
    },
  });
  const alloc = outbox.alloc;
  const stage = compose<Message, Uint8Array>(
    aliasEncoder({ alloc }),
    shapingLayer(policy(), { alloc }).outbound,
    aeadEncryptor(new FSChaCha20Poly1305(PKEY), { alloc }),
    lengthEncoder(new FSChaCha20(LKEY), { alloc }),
  );
  await stage.start!({ enqueue: (b: Uint8Array) => outbox.push(b) } as never);
  for (const m of messages) stage.transform!(m, {} as never);
  await outbox.close();
  return { wire: concat(written), writes: written.length };
}

/** Each layer alone, as its own TransformStream. */
async function separateWire(messages: Message[]): Promise<Uint8Array> {
  const out = await readAll(
    ReadableStream.from(messages)
      .pipeThrough(new TransformStream(aliasEncoder()))
      .pipeThrough(new TransformStream(shapingLayer(policy()).outbound))
      .pipeThrough(new TransformStream(aeadEncryptor(new FSChaCha20Poly1305(PKEY))))
      .pipeThrough(new TransformStream(lengthEncoder(new FSChaCha20(LKEY)))),
  );
  return concat(out);
}

function inboundStage(): Transformer<Uint8Array, Message> {
  return compose(
    lengthDecoder(new FSChaCha20(LKEY), { streamFrom: 16 * 1024 }),
    aeadDecryptor(new FSChaCha20Poly1305(PKEY)),
    aliasDecoder(),
  );
}

Deno.test("v2 stage: composed, separate layers and the reference write the same bytes", async () => {
  const reference = referenceWire(MESSAGES);
  const { wire, writes } = await composedWire(MESSAGES);
  assert.equal(toHex(wire), toHex(reference));
  assert.equal(toHex(await separateWire(MESSAGES)), toHex(reference));
  // far fewer transport writes than packets (decoys make extra writes of their own)
  assert.ok(writes < MESSAGES.length, `${writes} writes for ${MESSAGES.length} messages`);
});

Deno.test("v2 stage: composed and separate inbound decode the reference in every chunking", async () => {
  const reference = referenceWire(MESSAGES);
  for (const how of ["whole", "single", 5, 6, 7] as const) {
    const parts = chunk(reference, how);
    const composed = await readAll(
      ReadableStream.from(parts.map((p) => p.slice())).pipeThrough(
        new TransformStream(inboundStage()),
      ),
    );
    assert.deepEqual(composed, MESSAGES, `composed, ${how}`);
    const separate = await readAll(
      ReadableStream.from(parts.map((p) => p.slice()))
        .pipeThrough(new TransformStream(lengthDecoder(new FSChaCha20(LKEY))))
        .pipeThrough(new TransformStream(aeadDecryptor(new FSChaCha20Poly1305(PKEY))))
        .pipeThrough(new TransformStream(aliasDecoder())),
    );
    assert.deepEqual(separate, MESSAGES, `separate, ${how}`);
  }
  // every single cut of the first few packets (inside lengths, headers, tags)
  const head = referenceWire(MESSAGES.slice(0, 3));
  for (let cut = 0; cut <= head.length; cut++) {
    const got = await readAll(
      ReadableStream.from([head.slice(0, cut), head.slice(cut)])
        .pipeThrough(new TransformStream(inboundStage())),
    );
    assert.deepEqual(got, MESSAGES.slice(0, 3), `cut ${cut}`);
  }
});

function repeat(bytes: Uint8Array, times: number): Uint8Array {
  const out = new Uint8Array(bytes.length * times);
  for (let i = 0; i < times; i++) out.set(bytes, i * bytes.length);
  return out;
}

Deno.test("v2 stage: the official packet vectors through the layers, in every chunking", async () => {
  const rows = readVectors("packet_encoding_test_vectors.csv");
  let ran = 0;
  for (const row of rows) {
    // The one row with AAD is the first packet after the garbage: the handshake's, tested there.
    if (row.in_aad !== "") continue;
    ran++;
    const label = `in_idx=${row.in_idx}`;
    const initiating = row.in_initiating === "1";
    const lkey = hex(initiating ? row.mid_initiator_l : row.mid_responder_l);
    const pkey = hex(initiating ? row.mid_initiator_p : row.mid_responder_p);
    const contents = repeat(hex(row.in_contents), Number(row.in_multiply));
    const ignore = row.in_ignore === "1";
    const idx = Number(row.in_idx);
    // Sender: the AEAD and length layers, advanced to packet idx with empty packets.
    const sendLength = new FSChaCha20(lkey), sendAead = new FSChaCha20Poly1305(pkey);
    const send = compose<Uint8Array, Uint8Array>(
      aeadEncryptor(sendAead),
      lengthEncoder(sendLength),
    );
    const sent: Uint8Array[] = [];
    await send.start!({ enqueue: (b: Uint8Array) => sent.push(b) } as never);
    for (let i = 0; i < idx; i++) send.transform!(new Uint8Array(0), {} as never);
    const input = contents.slice();
    if (ignore) DECOYS.add(input);
    send.transform!(input, {} as never);
    const packet = sent.at(-1)!;
    if (row.out_ciphertext !== "") assert.equal(toHex(packet), row.out_ciphertext, label);
    else assert.ok(toHex(packet).endsWith(row.out_ciphertext_endswith), label);
    // Receiver: length + AEAD layers at the same position, fed the whole transcript in chunks.
    const wire = concat(sent);
    const splits = wire.length < 1000
      ? Array.from({ length: wire.length + 1 }, (_, cut) => [wire.slice(0, cut), wire.slice(cut)])
      : [chunk(wire, "whole"), chunk(wire, 1)].map((parts) => parts.map((p) => p.slice()));
    for (const parts of splits) {
      let decoys = 0;
      const got = await readAll(
        ReadableStream.from(parts).pipeThrough(
          new TransformStream(
            compose(
              lengthDecoder(new FSChaCha20(lkey), { maxMessageSize: 0xffffff, streamFrom: 16384 }),
              aeadDecryptor(new FSChaCha20Poly1305(pkey), { onDecoy: () => decoys++ }),
            ),
          ),
        ),
      );
      const real = got.filter((c) => c.length > 0);
      if (ignore) {
        assert.equal(real.length, 0, label);
        assert.equal(decoys, 1, label);
      } else {
        assert.equal(real.length, 1, label);
        assert.ok(real[0].length === contents.length && toHex(real[0]) === toHex(contents), label);
      }
    }
  }
  assert.equal(ran, 6);
});

Deno.test("v2 stage: a large body's rest can be read straight into the buffer it is decrypted in", () => {
  const send = compose<Uint8Array, Uint8Array>(
    aeadEncryptor(new FSChaCha20Poly1305(PKEY)),
    lengthEncoder(new FSChaCha20(LKEY)),
  );
  const contents = new Uint8Array(100_000).map((_, i) => i * 7);
  let packet!: Uint8Array;
  send.start?.({ enqueue: (p: Uint8Array) => (packet = p.slice()) } as never);
  send.transform!(contents, { enqueue: (p: Uint8Array) => (packet = p.slice()) } as never);
  const got: Uint8Array[] = [];
  const recv = compose<Uint8Array, Uint8Array>(
    lengthDecoder(new FSChaCha20(LKEY), { streamFrom: 16 * 1024 }),
    aeadDecryptor(new FSChaCha20Poly1305(PKEY)),
  );
  const outer = { enqueue: (c: Uint8Array) => got.push(c), error: () => {}, terminate: () => {} };
  recv.start?.(outer as never);
  const landing = () => (recv as { landing(): Uint8Array | undefined }).landing();
  assert.equal(landing(), undefined, "nothing to land before a body starts");
  recv.transform!(packet.subarray(0, 5000), outer as never);
  // The rest, in three reads straight into the landing region.
  let at = 5000;
  let buffer: ArrayBufferLike | undefined;
  while (at < packet.length) {
    const region = landing();
    assert.ok(region !== undefined, `a landing region at ${at}`);
    assert.equal(region.length, packet.length - at, "the region is the rest of the body");
    const n = Math.min(40_000, packet.length - at);
    buffer ??= region.buffer;
    assert.equal(region.buffer, buffer, "every region is in the same body buffer");
    region.set(packet.subarray(at, at + n));
    recv.transform!(region.subarray(0, n), outer as never);
    at += n;
  }
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], contents);
  assert.equal(got[0].buffer, buffer, "decrypted where it landed: no gather copy");
  assert.equal(landing(), undefined, "nothing left to land");
});
