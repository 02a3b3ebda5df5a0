import assert from "node:assert/strict";
import {
  AliasDecoderStream,
  AliasEncoderStream,
  aliasingLayer,
} from "../layers/aliasing/aliasing_layer.ts";
import { MessageTypeTable } from "../layers/aliasing/aliasing.ts";
import { isCode, readAll } from "./helpers.ts";

Deno.test("aliasing layer: messages ↔ contents with a custom table", async () => {
  const table = new MessageTypeTable({ 200: "mine" });
  const messages = [
    { type: "mine", payload: new Uint8Array([1]) },
    { type: "ping", payload: new Uint8Array(8) },
    { type: "version", payload: new Uint8Array([2, 3]) },
  ];
  const contents = await readAll(
    ReadableStream.from(messages).pipeThrough(new AliasEncoderStream({ table })),
  );
  assert.deepEqual(contents.map((c) => c[0]), [200, 18, 0]);
  const back = await readAll(
    ReadableStream.from(contents).pipeThrough(new AliasDecoderStream({ table })),
  );
  assert.deepEqual(back, messages);
});

Deno.test("aliasing layer: invalid types are dropped by default, fatal with onInvalid: error", async () => {
  const bad = [new Uint8Array([250]), new Uint8Array([18, 1])];
  const dropped: string[] = [];
  const out = await readAll(
    ReadableStream.from(bad).pipeThrough(
      new AliasDecoderStream({ onDropped: (e) => dropped.push(e.code) }),
    ),
  );
  assert.equal(out.length, 1);
  assert.deepEqual(dropped, ["INVALID_MESSAGE_TYPE"]);
  await assert.rejects(
    readAll(ReadableStream.from(bad).pipeThrough(aliasingLayer({ onInvalid: "error" }).inbound)),
    isCode("INVALID_MESSAGE_TYPE"),
  );
});
