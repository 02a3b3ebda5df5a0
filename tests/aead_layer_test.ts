import assert from "node:assert/strict";
import { aeadDecryptor, aeadEncryptor, aeadLayer } from "../layers/aead/aead_layer.ts";
import { FSChaCha20Poly1305 } from "../layers/aead/aead.ts";
import { shapingLayer } from "../layers/shaping.ts";
import { DECOYS, FRAGMENT_STARTS } from "../layers/chunk_marks.ts";
import {
  aliasEncoder,
  aliasEncoderAboveAead,
  TAILS_FROM,
} from "../layers/aliasing/aliasing_layer.ts";
import { type AeadBackend, createAeadBackend } from "../layers/crypto/backend.ts";
import { sealPartsWith } from "../layers/crypto/aead_types.ts";
import { compose } from "../layers/session/compose.ts";
import { isCode, readAll } from "./helpers.ts";

const key = new Uint8Array(32).fill(4);
const contents = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(5000).fill(7)];

function seal(items: Uint8Array[], transformers: Transformer[] = []): Promise<Uint8Array[]> {
  return readAll(
    ReadableStream.from(items.map((c) => DECOYS.has(c) ? c : c.slice())).pipeThrough(
      new TransformStream(compose(...transformers, aeadEncryptor(new FSChaCha20Poly1305(key)))),
    ),
  );
}

function open(bodies: Uint8Array[], onDecoy?: (n: number) => void): Promise<Uint8Array[]> {
  return readAll(
    ReadableStream.from(bodies).pipeThrough(
      new TransformStream(aeadDecryptor(new FSChaCha20Poly1305(key), { onDecoy })),
    ),
  );
}

Deno.test("AEAD layer: round trip; decoys from the shaping layer are dropped", async () => {
  let sent = 0;
  const dropped: number[] = [];
  const shaping = shapingLayer(() => [10], { onDecoy: () => sent++ });
  const bodies = await seal(contents, [shaping.outbound]);
  assert.equal(bodies.length, 6);
  assert.equal(sent, 3);
  assert.deepEqual(await open(bodies, (n) => dropped.push(n)), contents);
  assert.deepEqual(dropped, [10, 10, 10]);
});

Deno.test("AEAD layer: a decoy is any header with the 0x80 bit set", async () => {
  const body = new FSChaCha20Poly1305(key).encrypt(new Uint8Array(0), new Uint8Array([0xff, 9, 9]));
  assert.equal((await open([body])).length, 0);
  const body2 = new FSChaCha20Poly1305(key).encrypt(new Uint8Array(0), new Uint8Array([0x7f, 9]));
  assert.deepEqual(await open([body2]), [new Uint8Array([9])]);
});

Deno.test("AEAD layer: a bad tag fails the stream with DECRYPTION", async () => {
  const body = new FSChaCha20Poly1305(key).encrypt(new Uint8Array(0), new Uint8Array([0, 1]));
  body[1] ^= 1;
  await assert.rejects(open([body]), isCode("DECRYPTION"));
  await assert.rejects(open([new Uint8Array(5)]), isCode("DECRYPTION"));
});

/** Splits a body into pieces as the length layer streams it (first piece marked). */
function pieces(body: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.slice(i, i + size));
  FRAGMENT_STARTS.set(out[0], body.length);
  return out;
}

Deno.test("AEAD layer: streamed decoys are authenticated piece by piece, never gathered", async () => {
  const big = new Uint8Array(300_000).map((_, i) => i * 7);
  DECOYS.add(big);
  const [decoy, after] = await seal([big, new Uint8Array([5, 6])]);
  assert.equal(decoy.length, 300_017);
  assert.equal(await open([decoy.slice()]).then((o) => o.length), 0, "sealed as a decoy");
  const dropped: number[] = [];
  const out = await open([...pieces(decoy, 4096), after], (n) => dropped.push(n));
  assert.deepEqual(out, [new Uint8Array([5, 6])]);
  assert.deepEqual(dropped, [300_000]);
  // a flipped bit anywhere in a streamed decoy (or its tag) fails at its end, before `after`
  for (const at of [1, 150_000, decoy.length - 1]) {
    const bad = decoy.slice();
    bad[at] ^= 1;
    const seen: Uint8Array[] = [];
    const stream = ReadableStream.from([...pieces(bad, 4096), after.slice()]).pipeThrough(
      new TransformStream(aeadDecryptor(new FSChaCha20Poly1305(key))),
    );
    await assert.rejects(
      (async () => {
        for await (const c of stream) seen.push(c);
      })(),
      isCode("DECRYPTION"),
      `flip at ${at}`,
    );
    assert.equal(seen.length, 0);
  }
});

Deno.test("AEAD layer: a streamed non-decoy is gathered and decrypted whole", async () => {
  const big = new Uint8Array(100_000).map((_, i) => i);
  const [body] = await seal([big]);
  assert.deepEqual(await open(pieces(body, 7000)), [big]);
});

Deno.test("AEAD layer: duplex helper wires send and recv ciphers", async () => {
  const layer = aeadLayer({ send: new FSChaCha20Poly1305(key), recv: new FSChaCha20Poly1305(key) });
  const round = await readAll(
    ReadableStream.from([new Uint8Array([1])])
      .pipeThrough(new TransformStream(compose(layer.outbound, layer.inbound))),
  );
  assert.deepEqual(round, [new Uint8Array([1])]);
});

Deno.test("a session's encoder above the AEAD: large payloads are sealed where they are, same bytes", async () => {
  const sizes = [0, 5, TAILS_FROM - 1, TAILS_FROM, 100_003];
  const messages = sizes.map((n, i) => ({
    type: i % 2 ? "inv" : "mycommand",
    payload: Uint8Array.from({ length: n }, (_, j) => (j * 7 + i) & 0xff),
  }));
  const through = (encoder: Transformer, shaped: boolean) => {
    const parts: number[] = [];
    const counting = {
      name: "counting",
      seal: (...a: Parameters<AeadBackend["seal"]>) => createAeadBackend("pure").seal(...a),
      open: (...a: Parameters<AeadBackend["open"]>) => createAeadBackend("pure").open(...a),
      sealParts(...a: Parameters<NonNullable<AeadBackend["sealParts"]>>) {
        parts.push(a[4].length);
        sealPartsWith(createAeadBackend("pure"), ...a);
      },
    };
    const stages = [encoder, ...(shaped ? [shapingLayer(() => [3]).outbound] : [])];
    const aead = aeadEncryptor(new FSChaCha20Poly1305(key, 224, { backend: counting }));
    return readAll(
      ReadableStream.from(messages).pipeThrough(new TransformStream(compose(...stages, aead))),
    ).then((bodies) => ({ bodies, parts }));
  };
  for (const shaped of [false, true]) {
    const copied = await through(aliasEncoder(), shaped);
    const inPlace = await through(aliasEncoderAboveAead(), shaped);
    assert.deepEqual(inPlace.bodies, copied.bodies, `shaped ${shaped}`);
    assert.deepEqual(copied.parts, []);
    // Only the payloads from TAILS_FROM on were left where they were.
    assert.deepEqual(inPlace.parts, [TAILS_FROM, 100_003]);
  }
  // The bodies open to the messages (the copying encoder's output is the reference).
  const { bodies } = await through(aliasEncoderAboveAead(), false);
  const opened = await open(bodies);
  assert.deepEqual(
    opened.map((c) => c.length),
    messages.map((m, i) => m.payload.length + (i % 2 ? 1 : 13)),
  );
  assert.deepEqual(opened[4].subarray(13), messages[4].payload);
});
