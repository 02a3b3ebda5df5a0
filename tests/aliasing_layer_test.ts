import assert from "node:assert/strict";
import { aliasDecoder, aliasEncoder, aliasingLayer } from "../layers/aliasing/aliasing_layer.ts";
import { MessageTypeTable } from "../layers/aliasing/aliasing.ts";
import { OWNED } from "../layers/chunk_marks.ts";
import { isCode, readAll } from "./helpers.ts";

Deno.test("aliasing layer: messages ↔ contents with a custom table", async () => {
  const table = new MessageTypeTable({ 200: "mine" });
  const messages = [
    { type: "mine", payload: new Uint8Array([1]) },
    { type: "ping", payload: new Uint8Array(8) },
    { type: "version", payload: new Uint8Array([2, 3]) },
  ];
  const contents = await readAll(
    ReadableStream.from(messages).pipeThrough(new TransformStream(aliasEncoder({ table }))),
  );
  assert.deepEqual(contents.map((c) => c[0]), [200, 18, 0]);
  // each contents view has room for the header and length field in front, and the tag behind
  for (const c of contents) {
    assert.equal(c.byteOffset, 4);
    assert.equal(c.buffer.byteLength, c.length + 20);
    assert.ok(OWNED.has(c));
  }
  const back = await readAll(
    ReadableStream.from(contents).pipeThrough(new TransformStream(aliasDecoder({ table }))),
  );
  assert.deepEqual(back, messages);
});

Deno.test("aliasing layer: invalid types are dropped by default, fatal with onInvalid: error", async () => {
  const bad = () => [new Uint8Array([250]), new Uint8Array([18, 1])];
  const dropped: string[] = [];
  const out = await readAll(
    ReadableStream.from(bad()).pipeThrough(
      new TransformStream(aliasDecoder({ onDropped: (e) => dropped.push(e.code) })),
    ),
  );
  assert.equal(out.length, 1);
  assert.deepEqual(dropped, ["INVALID_MESSAGE_TYPE"]);
  await assert.rejects(
    readAll(
      ReadableStream.from(bad()).pipeThrough(
        new TransformStream(aliasingLayer({ onInvalid: "error" }).inbound),
      ),
    ),
    isCode("INVALID_MESSAGE_TYPE"),
  );
});

Deno.test("aliasing layer: encoder checks its input", () => {
  const encoder = aliasEncoder();
  const c = { enqueue() {} } as never;
  assert.throws(() => encoder.transform!(null as never, c), TypeError);
  assert.throws(() => encoder.transform!({ type: "ping", payload: [1] } as never, c), TypeError);
  assert.throws(
    () => encoder.transform!({ type: "ping", payload: new Uint8Array(0xffffff) }, c),
    RangeError,
  );
});
