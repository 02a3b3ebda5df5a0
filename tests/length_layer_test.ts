import assert from "node:assert/strict";
import { lengthDecoder, lengthEncoder, lengthLayer } from "../layers/length/length_layer.ts";
import { FSChaCha20 } from "../layers/length/length_cipher.ts";
import { FRAGMENT_STARTS, OWNED } from "../layers/chunk_marks.ts";
import { chunk, concat, isCode, readAll } from "./helpers.ts";

const key = new Uint8Array(32).fill(3);
const bodies = [0, 1, 37, 1000, 70_000].map((n) => new Uint8Array(n + 17).fill(n & 0xff));

async function encode(items: Uint8Array[]): Promise<Uint8Array> {
  return concat(
    await readAll(
      ReadableStream.from(items.map((b) => b.slice()))
        .pipeThrough(new TransformStream(lengthEncoder(new FSChaCha20(key)))),
    ),
  );
}

function decode(parts: Uint8Array[], options = {}): Promise<Uint8Array[]> {
  return readAll(
    ReadableStream.from(parts.map((p) => p.slice()))
      .pipeThrough(new TransformStream(lengthDecoder(new FSChaCha20(key), options))),
  );
}

Deno.test("length layer: frames and unframes bodies in every chunking", async () => {
  const wire = await encode(bodies);
  assert.equal(wire.length, bodies.reduce((n, b) => n + b.length + 3, 0));
  for (const how of ["whole", "single", 7, 8] as const) {
    assert.deepEqual(await decode(chunk(wire, how)), bodies, String(how));
  }
  // every single cut of a shorter transcript (inside length fields and bodies)
  const small = await encode(bodies.slice(0, 3));
  for (let cut = 0; cut <= small.length; cut++) {
    const got = await decode([small.subarray(0, cut), small.subarray(cut)]);
    assert.deepEqual(got, bodies.slice(0, 3), `cut ${cut}`);
  }
});

Deno.test("length layer: bodies inside a chunk are views of it (no copy)", async () => {
  const wire = await encode(bodies.slice(0, 3));
  const out: Uint8Array[] = [];
  const decoder = lengthDecoder(new FSChaCha20(key));
  decoder.transform!(wire, { enqueue: (b: Uint8Array) => out.push(b) } as never);
  assert.equal(out.length, 3);
  for (const body of out) assert.equal(body.buffer, wire.buffer);
});

Deno.test("length layer: with streamFrom, a split large body comes in marked pieces", async () => {
  const wire = await encode([bodies[4], bodies[1]]);
  const parts = chunk(wire, 9);
  const out = await decode(parts, { streamFrom: 16 * 1024 });
  const starts = out.filter((p) => FRAGMENT_STARTS.has(p));
  assert.equal(starts.length, 1);
  assert.equal(FRAGMENT_STARTS.get(starts[0]), bodies[4].length);
  assert.ok(out.length > 2, "pieces as they arrived");
  const streamed = concat(out.slice(0, out.length - 1));
  assert.deepEqual(streamed, bodies[4]);
  assert.deepEqual(out.at(-1), bodies[1]);
});

Deno.test("length layer: oversized length fails on the 3 length bytes alone", async () => {
  const wire = await encode([new Uint8Array(2000 + 17)]);
  await assert.rejects(
    decode([wire.subarray(0, 3)], { maxMessageSize: 1999 }),
    isCode("OVERSIZED"),
  );
  assert.throws(() => lengthDecoder(new FSChaCha20(key), { maxMessageSize: -1 }), RangeError);
});

Deno.test("length layer: a stream ending inside a packet → UNEXPECTED_EOF", async () => {
  const wire = await encode([new Uint8Array(40)]);
  for (const end of [1, 2, 3, 20, wire.length - 1]) {
    await assert.rejects(decode([wire.subarray(0, end)]), isCode("UNEXPECTED_EOF"), `end ${end}`);
  }
});

Deno.test("length layer: encoder writes in place in front of owned bodies, copies others", () => {
  const region = new Uint8Array(3 + 20);
  const body = region.subarray(3);
  OWNED.add(body);
  const out: Uint8Array[] = [];
  const encoder = lengthEncoder(new FSChaCha20(key));
  const controller = { enqueue: (p: Uint8Array) => out.push(p) } as never;
  encoder.transform!(body, controller);
  assert.equal(out[0].buffer, region.buffer);
  assert.equal(out[0].byteOffset, 0);
  assert.equal(OWNED.has(body), false, "used in place once");
  const plain = new Uint8Array(20);
  encoder.transform!(plain, controller);
  assert.notEqual(out[1].buffer, plain.buffer);
  assert.throws(() => encoder.transform!(new Uint8Array(16), controller), RangeError);
});

Deno.test("length layer: duplex helper", async () => {
  const layer = lengthLayer({ send: new FSChaCha20(key), recv: new FSChaCha20(key) });
  const wire = await readAll(
    ReadableStream.from([new Uint8Array(17)]).pipeThrough(new TransformStream(layer.outbound)),
  );
  const back = await readAll(
    ReadableStream.from(wire).pipeThrough(new TransformStream(layer.inbound)),
  );
  assert.deepEqual(back, [new Uint8Array(17)]);
});
