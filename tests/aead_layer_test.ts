import assert from "node:assert/strict";
import { AeadDecryptStream, AeadEncryptStream, aeadLayer } from "../layers/aead/aead_layer.ts";
import { FSChaCha20Poly1305 } from "../layers/aead/aead.ts";
import { randomDecoys } from "../layers/shaping.ts";
import { isCode, readAll } from "./helpers.ts";

const key = new Uint8Array(32).fill(4);
const contents = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(5000).fill(7)];

Deno.test("AEAD layer: round trip; decoys from the shaping policy are dropped", async () => {
  let sent = 0, dropped = 0;
  const bodies = await readAll(
    ReadableStream.from(contents).pipeThrough(
      new AeadEncryptStream(new FSChaCha20Poly1305(key), {
        shaping: randomDecoys({ probability: 1, maxSize: 10 }),
        onDecoy: () => sent++,
      }),
    ),
  );
  assert.equal(bodies.length, 6);
  assert.equal(sent, 3);
  const out = await readAll(
    ReadableStream.from(bodies).pipeThrough(
      new AeadDecryptStream(new FSChaCha20Poly1305(key), { onDecoy: () => dropped++ }),
    ),
  );
  assert.deepEqual(out, contents);
  assert.equal(dropped, 3);
});

Deno.test("AEAD layer: a decoy is any header with the 0x80 bit set", async () => {
  const enc = new FSChaCha20Poly1305(key);
  const plain = new Uint8Array([0xff, 9, 9]); // header with every bit set
  const body = enc.encrypt(new Uint8Array(0), plain);
  const out = await readAll(
    ReadableStream.from([body]).pipeThrough(new AeadDecryptStream(new FSChaCha20Poly1305(key))),
  );
  assert.equal(out.length, 0);
  // other header bits alone do not make a decoy
  const enc2 = new FSChaCha20Poly1305(key);
  const body2 = enc2.encrypt(new Uint8Array(0), new Uint8Array([0x7f, 9]));
  const out2 = await readAll(
    ReadableStream.from([body2]).pipeThrough(new AeadDecryptStream(new FSChaCha20Poly1305(key))),
  );
  assert.deepEqual(out2, [new Uint8Array([9])]);
});

Deno.test("AEAD layer: a bad tag fails the stream with DECRYPTION", async () => {
  const body = new FSChaCha20Poly1305(key).encrypt(new Uint8Array(0), new Uint8Array([0, 1]));
  body[1] ^= 1;
  const out = ReadableStream.from([body]).pipeThrough(
    new AeadDecryptStream(new FSChaCha20Poly1305(key)),
  );
  await assert.rejects(readAll(out), isCode("DECRYPTION"));
  const short = ReadableStream.from([new Uint8Array(5)]).pipeThrough(
    new AeadDecryptStream(new FSChaCha20Poly1305(key)),
  );
  await assert.rejects(readAll(short), isCode("DECRYPTION"));
});

Deno.test("AEAD layer: duplex helper wires send and recv ciphers", () => {
  const layer = aeadLayer({ send: new FSChaCha20Poly1305(key), recv: new FSChaCha20Poly1305(key) });
  assert.ok(layer.inbound instanceof AeadDecryptStream);
  assert.ok(layer.outbound instanceof AeadEncryptStream);
});
