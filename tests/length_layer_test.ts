import assert from "node:assert/strict";
import {
  LengthDecoderStream,
  LengthEncoderStream,
  lengthLayer,
} from "../layers/length/length_layer.ts";
import { FSChaCha20 } from "../layers/length/length_cipher.ts";
import { chunk, concat, isCode, readAll } from "./helpers.ts";

const key = new Uint8Array(32).fill(3);
const bodies = [0, 1, 37, 1000, 70_000].map((n) => new Uint8Array(n + 17).fill(n & 0xff));

async function encode(items: Uint8Array[]): Promise<Uint8Array> {
  return concat(
    await readAll(
      ReadableStream.from(items).pipeThrough(new LengthEncoderStream(new FSChaCha20(key))),
    ),
  );
}

Deno.test("length layer: frames and unframes bodies in every chunking", async () => {
  const wire = await encode(bodies);
  assert.equal(wire.length, bodies.reduce((n, b) => n + b.length + 3, 0));
  for (const how of ["whole", "single", 7] as const) {
    const out = await readAll(
      ReadableStream.from(chunk(wire, how)).pipeThrough(
        new LengthDecoderStream(new FSChaCha20(key)),
      ),
    );
    assert.deepEqual(out, bodies, String(how));
  }
});

Deno.test("length layer: oversized length fails before the body arrives", async () => {
  const wire = await encode([new Uint8Array(2000 + 17)]);
  const input = new TransformStream<Uint8Array, Uint8Array>();
  const out = input.readable.pipeThrough(
    new LengthDecoderStream(new FSChaCha20(key), { maxMessageSize: 1999 }),
  );
  const w = input.writable.getWriter();
  w.write(wire.subarray(0, 3)).catch(() => {});
  await assert.rejects(out.getReader().read(), isCode("OVERSIZED"));
});

Deno.test("length layer: a stream ending inside a packet → UNEXPECTED_EOF", async () => {
  const wire = await encode([new Uint8Array(40)]);
  const out = ReadableStream.from([wire.subarray(0, 20)]).pipeThrough(
    new LengthDecoderStream(new FSChaCha20(key)),
  );
  await assert.rejects(readAll(out), isCode("UNEXPECTED_EOF"));
});

Deno.test("length layer: duplex helper and argument check", async () => {
  const layer = lengthLayer({ send: new FSChaCha20(key), recv: new FSChaCha20(key) });
  const w = layer.outbound.writable.getWriter();
  const r = layer.outbound.readable.getReader();
  w.write(new Uint8Array(16)).catch(() => {});
  await assert.rejects(r.read(), RangeError);
});
