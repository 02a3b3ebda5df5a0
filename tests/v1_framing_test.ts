import assert from "node:assert/strict";
import type { Message } from "../layers/aliasing/aliasing.ts";
import { concatBytes, fromHex, toHex } from "../layers/bytes.ts";
import { Bip324Error } from "../layers/errors.ts";
import { encodePing } from "../layers/bitcoin/mod.ts";
import { NETWORK_MAGIC } from "../layers/bitcoin/network.ts";
import {
  encodeV1Message,
  MAX_PROTOCOL_MESSAGE_LENGTH,
  V1_HEADER_LEN,
  v1Checksum,
  V1Decoder,
} from "../layers/v1/v1_framing.ts";
import { prng } from "./helpers.ts";

const MAINNET = NETWORK_MAGIC.mainnet;
const REGTEST = NETWORK_MAGIC.regtest;

function isError(code: string, text?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof Bip324Error, `expected Bip324Error, got ${e}`);
    assert.equal(e.code, code);
    assert.equal(e.origin, "peer");
    if (text !== undefined) assert.ok(e.message.includes(text), e.message);
    return true;
  };
}

/** Splits `bytes` into chunks and feeds them; collects messages until an error (if any). */
function feed(
  bytes: Uint8Array,
  sizes: "one" | "all" | (() => number),
  magic = MAINNET,
): { messages: Message[]; error?: Bip324Error } {
  const decoder = new V1Decoder({ magic });
  const messages: Message[] = [];
  let pos = 0;
  try {
    while (pos < bytes.length) {
      const n = sizes === "one" ? 1 : sizes === "all" ? bytes.length : Math.max(1, sizes());
      messages.push(...decoder.push(bytes.subarray(pos, pos + n)));
      pos += n;
    }
    decoder.finish();
  } catch (e) {
    if (!(e instanceof Bip324Error)) throw e;
    return { messages, error: e };
  }
  return { messages };
}

Deno.test("v1: the mainnet verack vector", () => {
  const wire = encodeV1Message(MAINNET, "verack", new Uint8Array(0));
  assert.equal(toHex(wire), "f9beb4d9" + "76657261636b000000000000" + "00000000" + "5df6e0e2");
  assert.equal(toHex(v1Checksum(new Uint8Array(0))), "5df6e0e2");
  const decoder = new V1Decoder({ magic: MAINNET });
  assert.deepEqual(decoder.push(wire), [{ type: "verack", payload: new Uint8Array(0) }]);
  assert.equal(decoder.buffered, 0);
  decoder.finish();
});

Deno.test("v1: a ping laid out by hand", () => {
  const payload = encodePing({ nonce: 0x0102030405060708n });
  const checksum = toHex(v1Checksum(payload));
  const wire = encodeV1Message(REGTEST, "ping", payload);
  assert.equal(
    toHex(wire),
    "fabfb5da" + "70696e670000000000000000" + "08000000" + checksum + "0807060504030201",
  );
  assert.deepEqual(
    new V1Decoder({ magic: REGTEST }).push(wire),
    [{ type: "ping", payload }],
  );
});

Deno.test("v1: the checksum matches Web Crypto's double SHA-256", async () => {
  for (const size of [0, 1, 55, 56, 64, 1000]) {
    const payload = new Uint8Array(size).map((_, i) => i * 7);
    const once = new Uint8Array(await crypto.subtle.digest("SHA-256", payload));
    const twice = new Uint8Array(await crypto.subtle.digest("SHA-256", once));
    assert.deepEqual(v1Checksum(payload), twice.subarray(0, 4));
  }
});

function sampleStream(): { wire: Uint8Array; messages: Message[] } {
  const rand = prng(7);
  const messages: Message[] = [];
  const types = ["version", "verack", "ping", "pong", "tx", "a", "abcdefghijkl", "x y~"];
  for (let i = 0; i < 40; i++) {
    const size = i % 10 === 9 ? 5000 + Math.floor(rand() * 3000) : Math.floor(rand() * 40);
    const payload = new Uint8Array(size).map(() => Math.floor(rand() * 256));
    messages.push({ type: types[i % types.length], payload });
  }
  const wire = concatBytes(...messages.map((m) => encodeV1Message(MAINNET, m.type, m.payload)));
  return { wire, messages };
}

Deno.test("v1: 1-byte chunks, random splits and one chunk give the same messages", () => {
  const { wire, messages } = sampleStream();
  assert.deepEqual(feed(wire, "all"), { messages });
  assert.deepEqual(feed(wire, "one"), { messages });
  for (let seed = 1; seed <= 20; seed++) {
    const rand = prng(seed);
    const max = [2, 7, 25, 100, 3000][seed % 5];
    assert.deepEqual(feed(wire, () => Math.floor(rand() * max)), { messages }, `seed ${seed}`);
  }
  // every single split point of a short stream
  const short = wire.subarray(0, 3 * 24 + 100);
  const shortResult = feed(short, "all");
  for (let cut = 0; cut <= short.length; cut++) {
    const decoder = new V1Decoder({ magic: MAINNET });
    const got = [...decoder.push(short.subarray(0, cut)), ...decoder.push(short.subarray(cut))];
    assert.deepEqual(got, shortResult.messages.slice(0, got.length));
    assert.equal(got.length, shortResult.messages.length);
  }
});

Deno.test("v1: errors are the same however the stream is split", () => {
  const good = encodeV1Message(MAINNET, "ping", new Uint8Array(8));
  const badChecksum = encodeV1Message(MAINNET, "tx", new Uint8Array([1, 2, 3]));
  badChecksum[V1_HEADER_LEN] ^= 1;
  const streams = [
    concatBytes(good, good, REGTEST, new Uint8Array(40)),
    concatBytes(good, badChecksum, good),
  ];
  for (const stream of streams) {
    const whole = feed(stream, "all");
    assert.equal(whole.messages.length, streams.indexOf(stream) === 0 ? 2 : 1);
    assert.ok(whole.error);
    for (const sizes of ["one" as const, prng(3)]) {
      const split = feed(stream, sizes === "one" ? "one" : () => Math.floor(sizes() * 13));
      assert.deepEqual(split.messages, whole.messages);
      assert.equal(split.error?.message, whole.error?.message);
      assert.equal(split.error?.code, whole.error?.code);
    }
  }
});

Deno.test("v1: an error after complete messages is deferred to the next call, then sticky", () => {
  const good = encodeV1Message(MAINNET, "verack", new Uint8Array(0));
  const decoder = new V1Decoder({ magic: MAINNET });
  const got = decoder.push(concatBytes(good, REGTEST));
  assert.deepEqual(got, [{ type: "verack", payload: new Uint8Array(0) }]);
  assert.throws(() => decoder.push(good), isError("V1_FRAMING", "v1 header.magic"));
  assert.throws(() => decoder.push(new Uint8Array(0)), isError("V1_FRAMING", "v1 header.magic"));
  assert.throws(() => decoder.finish(), isError("V1_FRAMING", "v1 header.magic"));
});

Deno.test("v1: a wrong magic is rejected as soon as its 4 bytes arrive", () => {
  const decoder = new V1Decoder({ magic: MAINNET });
  assert.deepEqual(decoder.push(REGTEST.subarray(0, 3)), []);
  assert.throws(
    () => decoder.push(REGTEST.subarray(3)),
    isError("V1_FRAMING", "v1 header.magic: expected f9beb4d9, got fabfb5da"),
  );
  // a v2 initiator's random key, seen by a v1 decoder
  assert.throws(
    () => new V1Decoder({ magic: MAINNET }).push(new Uint8Array(64).fill(0x55)),
    isError("V1_FRAMING", "v1 header.magic"),
  );
});

Deno.test("v1: an oversized length is rejected from the header, before any payload", () => {
  const header = (length: number) => {
    const h = encodeV1Message(MAINNET, "block", new Uint8Array(0));
    new DataView(h.buffer).setUint32(16, length, true);
    return h;
  };
  // the default limit is Bitcoin Core's 4,000,000-byte payload
  const atLimit = new V1Decoder({ magic: MAINNET });
  assert.equal(atLimit.maxMessageSize, MAX_PROTOCOL_MESSAGE_LENGTH);
  assert.deepEqual(atLimit.push(header(MAX_PROTOCOL_MESSAGE_LENGTH)), []);
  assert.equal(atLimit.bytesNeeded, MAX_PROTOCOL_MESSAGE_LENGTH);
  assert.equal(atLimit.buffered, V1_HEADER_LEN);
  for (const length of [MAX_PROTOCOL_MESSAGE_LENGTH + 1, 0xffffffff]) {
    const decoder = new V1Decoder({ magic: MAINNET });
    assert.throws(
      () => decoder.push(header(length)),
      isError("OVERSIZED", `v1 header.length: ${length} bytes exceeds the maximum of 4000000`),
    );
  }
  // 1-byte feeding: the error comes with the header's last byte
  const decoder = new V1Decoder({ magic: MAINNET });
  const h = header(MAX_PROTOCOL_MESSAGE_LENGTH + 1);
  for (let i = 0; i < V1_HEADER_LEN - 1; i++) {
    assert.deepEqual(decoder.push(h.subarray(i, i + 1)), []);
  }
  assert.throws(() => decoder.push(h.subarray(V1_HEADER_LEN - 1)), isError("OVERSIZED"));
  // a custom limit applies to the payload exactly
  const small = new V1Decoder({ magic: MAINNET, maxMessageSize: 10 });
  assert.equal(small.push(encodeV1Message(MAINNET, "tx", new Uint8Array(10))).length, 1);
  assert.throws(
    () => small.push(encodeV1Message(MAINNET, "tx", new Uint8Array(11)).subarray(0, V1_HEADER_LEN)),
    isError("OVERSIZED", "11 bytes exceeds the maximum of 10"),
  );
});

Deno.test("v1: malformed commands and checksums", () => {
  const withCommand = (command: number[]) => {
    const wire = encodeV1Message(MAINNET, "x", new Uint8Array(0));
    wire.set(new Uint8Array(12), 4);
    wire.set(command, 4);
    return wire;
  };
  const cases: [number[], string][] = [
    [[], "v1 header.command: empty"],
    [[0x70, 0x69, 0x6e, 0x67, 0, 0x41], "v1 header.command: padding is not all NUL"],
    [[0x70, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "v1 header.command: padding is not all NUL"],
    [[0x70, 0x7f], "v1 header.command: byte 1 is not printable ASCII"],
    [[0x1f], "v1 header.command: byte 0 is not printable ASCII"],
    [[0xc3, 0xa9], "v1 header.command: byte 0 is not printable ASCII"],
  ];
  for (const [command, message] of cases) {
    assert.throws(
      () => new V1Decoder({ magic: MAINNET }).push(withCommand(command)),
      isError("V1_FRAMING", message),
    );
  }
  // all twelve bytes used, and spaces/tildes are printable
  const full = withCommand([0x20, ...new Array(10).fill(0x7e), 0x20]);
  full.set(v1Checksum(new Uint8Array(0)), 20);
  assert.equal(new V1Decoder({ magic: MAINNET }).push(full)[0].type, " " + "~".repeat(10) + " ");

  const wire = encodeV1Message(MAINNET, "pong", new Uint8Array(8));
  wire[20] ^= 0x80;
  assert.throws(
    () => new V1Decoder({ magic: MAINNET }).push(wire),
    isError("V1_FRAMING", 'v1 header.checksum: "pong" expected'),
  );
});

Deno.test("v1: end of input inside a message, and chunks are not retained", () => {
  const wire = encodeV1Message(MAINNET, "tx", new Uint8Array([1, 2, 3, 4]));
  const decoder = new V1Decoder({ magic: MAINNET });
  const chunk = wire.slice(0, 26);
  assert.deepEqual(decoder.push(chunk), []);
  assert.equal(decoder.buffered, 26);
  assert.equal(decoder.bytesNeeded, 2);
  chunk.fill(0); // the decoder copied what it needed
  const [message] = decoder.push(wire.subarray(26));
  assert.deepEqual(message, { type: "tx", payload: new Uint8Array([1, 2, 3, 4]) });
  assert.equal(decoder.bytesNeeded, V1_HEADER_LEN);
  decoder.finish();
  decoder.push(wire.subarray(0, 5));
  assert.throws(() => decoder.finish(), isError("UNEXPECTED_EOF", "5 bytes buffered"));
});

Deno.test("v1: a large payload in 1-byte chunks stays linear", () => {
  const payload = new Uint8Array(300_000).map((_, i) => i);
  const wire = encodeV1Message(MAINNET, "block", payload);
  const decoder = new V1Decoder({ magic: MAINNET });
  const started = performance.now();
  const got: Message[] = [];
  for (let i = 0; i < wire.length; i++) got.push(...decoder.push(wire.subarray(i, i + 1)));
  const elapsed = performance.now() - started;
  assert.equal(got.length, 1);
  assert.deepEqual(got[0].payload, payload);
  assert.ok(elapsed < 5000, `took ${elapsed} ms`);
});

Deno.test("v1: argument checks", () => {
  assert.throws(() => encodeV1Message(new Uint8Array(3), "ping", new Uint8Array(0)), RangeError);
  assert.throws(() => encodeV1Message(MAINNET, "", new Uint8Array(0)), TypeError);
  assert.throws(() => encodeV1Message(MAINNET, "abcdefghijklm", new Uint8Array(0)), TypeError);
  assert.throws(() => encodeV1Message(MAINNET, "a\x7f", new Uint8Array(0)), TypeError);
  assert.throws(() => encodeV1Message(MAINNET, "é", new Uint8Array(0)), TypeError);
  assert.throws(() => encodeV1Message(MAINNET, "ping", [] as unknown as Uint8Array), TypeError);
  assert.throws(() => new V1Decoder({ magic: new Uint8Array(5) }), RangeError);
  assert.throws(() => new V1Decoder({ magic: MAINNET, maxMessageSize: -1 }), RangeError);
  assert.throws(() => new V1Decoder({ magic: MAINNET, maxMessageSize: 2 ** 32 }), RangeError);
  assert.throws(() => new V1Decoder({ magic: MAINNET, maxMessageSize: 1.5 }), TypeError);
  assert.throws(() => new V1Decoder(undefined as never), TypeError);
  assert.throws(() => new V1Decoder({ magic: MAINNET }).push("x" as never), TypeError);
  // the decoder keeps its own copy of the magic
  const magic = fromHex("f9beb4d9");
  const decoder = new V1Decoder({ magic });
  magic.fill(0);
  assert.equal(decoder.push(encodeV1Message(MAINNET, "verack", new Uint8Array(0))).length, 1);
});

Deno.test("v1: a header announcing 4 MB reserves storage only as bytes arrive", () => {
  const magic = new Uint8Array([0xf9, 0xbe, 0xb4, 0xd9]);
  const payload = new Uint8Array(4_000_000).map((_, i) => i & 0xff);
  const wire = encodeV1Message(magic, "block", payload);
  const decoder = new V1Decoder({ magic });
  assert.deepEqual(decoder.push(wire.subarray(0, 24 + 10)), []);
  assert.ok(decoder.reserved <= 64 * 1024, `reserved ${decoder.reserved}`);
  assert.equal(decoder.bytesNeeded, 4_000_000 - 10);
  const [message] = decoder.push(wire.subarray(24 + 10));
  assert.equal(message.payload.length, 4_000_000);
  assert.deepEqual(message.payload, payload);
  assert.equal(decoder.reserved, 0);
});
