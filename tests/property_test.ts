// Property-based tests (fast-check): hostile and arbitrary input against the
// session stack, the sans-I/O handshake and every decoder.
//
// Every run is bounded: numRuns is fixed per property, and every async step
// is wrapped in `within` so that a hang fails the run instead of the suite.
import assert from "node:assert/strict";
import fc from "fast-check";
import { Bip324Error, type Bip324ErrorCode } from "../layers/errors.ts";
import { Bip324Cipher, encryptPacket } from "../layers/packet_cipher.ts";
import { ellswiftCreate } from "../layers/handshake/ellswift.ts";
import { Handshake, MAX_GARBAGE_LEN } from "../layers/handshake/handshake.ts";
import { GARBAGE_TERMINATOR_LEN } from "../layers/handshake/key_schedule.ts";
import {
  BIP324_SHORT_IDS,
  DEFAULT_MESSAGE_TYPES,
  type Message,
  MessageTypeTable,
} from "../layers/aliasing/aliasing.ts";
import {
  type AddrV2Entry,
  BIP155_ADDRESS_LENGTH,
  decodeCompactSize,
  decodePayload,
  encodeCompactSize,
  encodePayload,
  KNOWN_MESSAGE_TYPES,
  MAX_ADDRV2_SIZE,
  MAX_COMPACT_SIZE,
  MAX_USER_AGENT_LENGTH,
  type VersionPayload,
} from "../layers/bitcoin/mod.ts";
import { encodeV1Message, V1Decoder } from "../layers/v1/v1_framing.ts";
import { NETWORK_MAGIC, networkMagic } from "../layers/bitcoin/network.ts";
import type { Session } from "../layers/session/session.ts";
import { openSession } from "../layers/session/open.ts";
import { memoryPair } from "../transports/memory.ts";
import { concat, prng, within } from "./helpers.ts";

// ---------------------------------------------------------------------------
// Fixed key pairs: transcripts are reproducible, and building a cipher from
// cached ElligatorSwift bytes costs no curve arithmetic.

const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
const I_PRIV: Uint8Array = fill(32, 1);
const I_ELL: Uint8Array = ellswiftCreate(I_PRIV, fill(32, 1));
const R_PRIV: Uint8Array = fill(32, 2);
const R_ELL: Uint8Array = ellswiftCreate(R_PRIV, fill(32, 2));
const initiatorCipher = (): Bip324Cipher => new Bip324Cipher(I_PRIV, I_ELL);
const responderCipher = (): Bip324Cipher => new Bip324Cipher(R_PRIV, R_ELL);

const KEY_LEN = 64;
/** The responder must have failed once this many bytes of a garbage-only stream arrived. */
const GARBAGE_SCAN_LIMIT = MAX_GARBAGE_LEN + GARBAGE_TERMINATOR_LEN;
const HANDSHAKE_TIMEOUT = 5_000;
const STEP_LIMIT = 15_000;

/** Runs `fn`; any exception other than a `Bip324Error` fails the property. */
function onlyBip324Error(what: string, fn: () => unknown): Bip324Error | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof Bip324Error) return e;
    throw new Error(`${what} threw ${e instanceof Error ? e.name : typeof e}: ${e}`, { cause: e });
  }
}

// ---------------------------------------------------------------------------
// Arbitraries

/** fc.record with plain objects (deepStrictEqual tells null-prototype objects apart). */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

/**
 * Byte arrays whose length spans the whole range 0..max (fc.uint8Array alone
 * keeps lengths near its small default size): short fully random arrays, or a
 * length drawn from the range filled from a seeded PRNG.
 */
function bytesUpTo(max: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: Math.min(max, 32) }),
    fc.tuple(fc.integer({ min: 0, max }), fc.integer()).map(([n, seed]) => {
      const rand = prng(seed);
      return new Uint8Array(n).map(() => Math.floor(rand() * 256));
    }),
  );
}

const ASCII_TYPE_CHARS = fc.integer({ min: 0x20, max: 0x7f }).map((c) => String.fromCharCode(c));
const SHORT_ID_TYPES = Object.values(BIP324_SHORT_IDS);

/** A message type: from the short-ID table, or 1..12 random printable ASCII characters. */
const messageType: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...SHORT_ID_TYPES),
  fc.string({ unit: ASCII_TYPE_CHARS, minLength: 1, maxLength: 12 }),
);

const message = (maxPayload: number): fc.Arbitrary<Message> =>
  record({ type: messageType, payload: bytesUpTo(maxPayload) });

type Item = { kind: "message"; message: Message } | { kind: "decoy"; length: number };

const item = (maxPayload: number): fc.Arbitrary<Item> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: message(maxPayload).map((m): Item => ({ kind: "message", message: m })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0, max: 1000 }).map((n): Item => ({ kind: "decoy", length: n })),
    },
  );

interface TranscriptSpec {
  garbage: Uint8Array;
  handshakeDecoys: number[];
  items: Item[];
}

const transcriptSpec = (maxItems: number, maxPayload: number): fc.Arbitrary<TranscriptSpec> =>
  record({
    garbage: fc.oneof(
      bytesUpTo(MAX_GARBAGE_LEN),
      fc.constantFrom(0, 1, MAX_GARBAGE_LEN - 1, MAX_GARBAGE_LEN).map((n) => fill(n, 0x5a)),
    ),
    handshakeDecoys: fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 3 }),
    items: fc.array(item(maxPayload), { maxLength: maxItems }),
  });

// ---------------------------------------------------------------------------
// Transcripts: what a fixed-key initiator sends, built with the sans-I/O machine

interface Transcript {
  bytes: Uint8Array;
  garbageLength: number;
  /** Offset of the first byte after the garbage terminator. */
  packetsStart: number;
  messages: Message[];
  decoys: number;
}

function buildTranscript(spec: TranscriptSpec): Transcript {
  const cipher = initiatorCipher();
  const machine = new Handshake({
    role: "initiator",
    network: "regtest",
    cipher,
    garbage: spec.garbage,
    decoys: spec.handshakeDecoys,
  });
  const parts = [machine.start(), machine.receive(R_ELL)]; // key+garbage, terminator+decoys+version
  const messages: Message[] = [];
  let decoys = 0;
  for (const it of spec.items) {
    if (it.kind === "message") {
      messages.push(it.message);
      parts.push(encryptPacket(cipher.ciphers, DEFAULT_MESSAGE_TYPES.encode(it.message)));
    } else {
      decoys++;
      parts.push(encryptPacket(cipher.ciphers, fill(it.length, 0xd0), undefined, true));
    }
  }
  cipher.destroy();
  return {
    bytes: concat(parts),
    garbageLength: spec.garbage.length,
    packetsStart: KEY_LEN + spec.garbage.length + GARBAGE_TERMINATOR_LEN,
    messages,
    decoys,
  };
}

/** Cut points (any offsets) → chunks covering `bytes` in order. */
function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    if (p > last) out.push(bytes.subarray(last, p));
    last = p;
  }
  return out;
}

/** How a byte stream is split: random cut points, or fixed-size chunks (bounded in count). */
type Chunking = { cuts: number[] } | { size: number };
const chunking: fc.Arbitrary<Chunking> = fc.oneof(
  record({ cuts: fc.array(fc.nat(), { maxLength: 64 }) }),
  record({ size: fc.integer({ min: 1, max: 4096 }) }),
);

function split(bytes: Uint8Array, how: Chunking): Uint8Array[] {
  if ("cuts" in how) return cutAt(bytes, how.cuts);
  const size = Math.max(how.size, Math.ceil(bytes.length / 3000)); // at most ~3000 writes
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

interface ResponderOutcome {
  session?: Session;
  messages: Message[];
  error?: unknown;
}

/**
 * Feeds `chunks` to a real responder session over memoryPair (fixed key),
 * then ends the stream (`end`: close, or leave open), and collects every
 * message it delivers and the error it ends with.
 */
async function runResponder(
  chunks: Uint8Array[],
  end: "close" | "open" | "abort" = "close",
  handshakeTimeout = HANDSHAKE_TIMEOUT,
): Promise<ResponderOutcome> {
  const [x, y] = memoryPair({ highWaterMark: 1 << 16 });
  const drain = x.readable.pipeTo(new WritableStream()).catch(() => {});
  const writer = x.writable.getWriter();
  const feed = (async () => {
    for (const c of chunks) await writer.write(c);
    if (end === "close") await writer.close();
    if (end === "abort") await writer.abort(new Error("test transport reset"));
  })().catch(() => {/* the responder gave up and cancelled its end */});
  const outcome: ResponderOutcome = { messages: [] };
  try {
    outcome.session = await within(
      openSession(y, {
        role: "responder",
        network: "regtest",
        cipher: responderCipher(),
        handshakeTimeout,
      }),
      handshakeTimeout + STEP_LIMIT,
      "handshake",
    );
    const reader = outcome.session.readable.getReader();
    for (;;) {
      const { done, value } = await within(reader.read(), STEP_LIMIT, "session read");
      if (done) break;
      outcome.messages.push(value);
    }
  } catch (error) {
    outcome.error = error;
  }
  if (end === "open") await writer.close().catch(() => {});
  y.readable.cancel().catch(() => {});
  y.writable.abort().catch(() => {});
  await within(feed, STEP_LIMIT, "feed");
  await within(drain, STEP_LIMIT, "drain");
  if (outcome.session) await within(outcome.session.closed, STEP_LIMIT, "session closed");
  return outcome;
}

function assertCode(error: unknown, codes: readonly Bip324ErrorCode[], context: string): void {
  if (!(error instanceof Bip324Error)) {
    throw new Error(`${context}: expected a Bip324Error (${codes.join("|")}), got ${error}`, {
      cause: error,
    });
  }
  assert.ok(codes.includes(error.code), `${context}: got ${error.code}, expected ${codes}`);
}

// ---------------------------------------------------------------------------
// 1. Any valid transcript, chunked anywhere, decodes to the same messages

Deno.test("property: any valid transcript, re-chunked anywhere, yields the same messages", async () => {
  await fc.assert(
    fc.asyncProperty(transcriptSpec(12, 5000), chunking, async (spec, how) => {
      const t = buildTranscript(spec);
      const out = await runResponder(split(t.bytes, how));
      assert.equal(out.error, undefined, `unexpected error ${out.error}`);
      assert.deepEqual(out.messages, t.messages);
      assert.equal(out.session!.stats.decoysReceived, t.decoys);
      assert.equal(out.session!.handshake.decoysReceived, spec.handshakeDecoys.length);
      assert.equal(out.session!.handshake.garbageReceived, t.garbageLength);
      assert.equal(out.session!.closeReason, undefined);
    }),
    { numRuns: 60 },
  );
});

// ---------------------------------------------------------------------------
// 2. Any single-byte corruption of the wire fails with a typed error, per region

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "insert"; at: number; byte: number }
  | { kind: "delete"; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  record({ kind: fc.constant("delete" as const), at: fc.nat() }),
);

function applyMutation(bytes: Uint8Array, m: Mutation): { mutated: Uint8Array; at: number } {
  if (m.kind === "insert") {
    const at = m.at % (bytes.length + 1); // the new byte lands at index `at`
    return {
      mutated: concat([bytes.subarray(0, at), new Uint8Array([m.byte]), bytes.subarray(at)]),
      at,
    };
  }
  const at = m.at % bytes.length;
  if (m.kind === "flip") {
    const mutated = bytes.slice();
    mutated[at] ^= 1 << m.bit;
    return { mutated, at };
  }
  return { mutated: concat([bytes.subarray(0, at), bytes.subarray(at + 1)]), at };
}

/**
 * What the responder must answer to a corrupted transcript, by where the
 * corruption is:
 *
 * - key (bytes 0..63): the ECDH gives other keys, so the terminator the
 *   responder scans for never appears: NO_GARBAGE_TERMINATOR once 4,111 bytes
 *   followed the key, else UNEXPECTED_EOF when the stream ends;
 * - garbage: the terminator is still found, but the garbage is the first
 *   packet's AAD, so that packet fails DECRYPTION (an inserted byte that makes
 *   the garbage 4,096 bytes long fails NO_GARBAGE_TERMINATOR first);
 * - terminator: as for the key, it is never found;
 * - packets (handshake decoys, version packet, session packets): a bad tag
 *   (DECRYPTION), a corrupted length over the limit (OVERSIZED), or a length
 *   that runs past the end of the stream (UNEXPECTED_EOF).
 */
function expectedCodes(t: Transcript, m: Mutation, at: number, mutatedLength: number): {
  region: string;
  codes: Bip324ErrorCode[];
} {
  const afterKey = mutatedLength - KEY_LEN;
  const noTerminator: Bip324ErrorCode = afterKey >= GARBAGE_SCAN_LIMIT
    ? "NO_GARBAGE_TERMINATOR"
    : "UNEXPECTED_EOF";
  const garbageEnd = KEY_LEN + t.garbageLength;
  if (at < KEY_LEN) return { region: "key", codes: [noTerminator] };
  const inGarbage = m.kind === "insert" ? at <= garbageEnd : at < garbageEnd;
  if (inGarbage) {
    const grown = m.kind === "insert" && t.garbageLength === MAX_GARBAGE_LEN;
    return { region: "garbage", codes: [grown ? "NO_GARBAGE_TERMINATOR" : "DECRYPTION"] };
  }
  if (at < t.packetsStart) return { region: "terminator", codes: [noTerminator] };
  return { region: "packets", codes: ["DECRYPTION", "OVERSIZED", "UNEXPECTED_EOF"] };
}

Deno.test("property: a flipped bit, inserted or deleted byte anywhere → typed Bip324Error, never a hang", async () => {
  const regions = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(transcriptSpec(6, 400), mutation, chunking, async (spec, m, how) => {
      const t = buildTranscript(spec);
      const { mutated, at } = applyMutation(t.bytes, m);
      const { region, codes } = expectedCodes(t, m, at, mutated.length);
      regions.set(region, (regions.get(region) ?? 0) + 1);
      const out = await runResponder(split(mutated, how));
      assertCode(out.error, codes, `${m.kind} at ${at} (${region})`);
      assert.equal((out.error as Bip324Error).origin, "peer");
      // Integrity: whatever was delivered before the failure is a prefix of what was sent.
      assert.ok(out.messages.length <= t.messages.length);
      assert.deepEqual(out.messages, t.messages.slice(0, out.messages.length));
      if (out.session) assert.equal(out.session.closeReason, out.error);
    }),
    { numRuns: 200 },
  );
  // fc.nat() is biased towards small offsets, so the key and garbage regions are well covered;
  // make sure the packet region is reached too.
  assert.ok((regions.get("packets") ?? 0) > 0, `regions hit: ${[...regions]}`);
});

Deno.test("property: a corrupted byte in every region of one transcript (exhaustive offsets)", async () => {
  // One small transcript, every offset, one flip each: covers every region boundary exactly.
  const t = buildTranscript({
    garbage: fill(20, 0x11),
    handshakeDecoys: [2],
    items: [
      { kind: "message", message: { type: "ping", payload: fill(8, 7) } },
      { kind: "decoy", length: 3 },
      { kind: "message", message: { type: "hello", payload: fill(5, 1) } },
    ],
  });
  for (let at = 0; at < t.bytes.length; at++) {
    const m: Mutation = { kind: "flip", at, bit: at % 8 };
    const { mutated } = applyMutation(t.bytes, m);
    const { region, codes } = expectedCodes(t, m, at, mutated.length);
    const out = await runResponder([mutated]);
    assertCode(out.error, codes, `flip at ${at} (${region})`);
    assert.deepEqual(out.messages, t.messages.slice(0, out.messages.length));
  }
});

// ---------------------------------------------------------------------------
// 3. Random byte streams against a responder

const V1_VERSION = new TextEncoder().encode("version\0\0\0\0\0");

/** Hostile streams: uniform bytes, constant bytes, v1 prefixes of our or another network. */
const hostileStream: fc.Arbitrary<Uint8Array> = fc.oneof(
  bytesUpTo(6000),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 6000 })).map(([v, n]) =>
    fill(n, v)
  ),
  fc.tuple(
    fc.constantFrom(...Object.values(NETWORK_MAGIC)),
    fc.integer({ min: 0, max: 16 }),
    bytesUpTo(200),
  ).map(([magic, keep, tail]) =>
    concat([magic, V1_VERSION, tail]).subarray(0, 4 + keep + tail.length)
  ),
  fc.tuple(fc.uint8Array({ minLength: 64, maxLength: 64 }), bytesUpTo(5000)).map(
    (
      [k, g],
    ) => concat([k, g]),
  ),
);

const REGTEST_PREFIX = concat([networkMagic("regtest"), V1_VERSION]);

function startsWith(bytes: Uint8Array, prefix: Uint8Array, from = 0): boolean {
  if (bytes.length < from + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[from + i] !== prefix[i]) return false;
  return true;
}

/** The code a regtest responder must fail with after all of `bytes`, or undefined (still waiting). */
function expectedForRandom(bytes: Uint8Array): Bip324ErrorCode | undefined {
  if (startsWith(bytes, REGTEST_PREFIX)) return "V1_PROTOCOL";
  if (startsWith(bytes, V1_VERSION, 4)) return "WRONG_NETWORK";
  if (bytes.length >= KEY_LEN + GARBAGE_SCAN_LIMIT) return "NO_GARBAGE_TERMINATOR";
  return undefined;
}

Deno.test("property: random streams into the sans-I/O responder end in a typed error at the bound", () => {
  fc.assert(
    fc.property(hostileStream, chunking, (bytes, how) => {
      const machine = new Handshake({
        role: "responder",
        network: "regtest",
        cipher: responderCipher(),
      });
      machine.start();
      let fed = 0;
      let error: Bip324Error | undefined;
      for (const c of split(bytes, how)) {
        error = onlyBip324Error("Handshake.receive", () => machine.receive(c));
        if (error) {
          // It failed on the chunk that crossed the bound, not later.
          const expected = expectedForRandom(bytes.subarray(0, fed + c.length));
          assert.equal(error.code, expected);
          assert.equal(expectedForRandom(bytes.subarray(0, fed)), undefined);
          break;
        }
        fed += c.length;
      }
      if (!error) {
        assert.equal(expectedForRandom(bytes), undefined, "should have failed");
        assert.notEqual(machine.state, "done");
      }
      machine.destroy();
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: random streams into a real responder session end in a typed error or the timeout", async () => {
  await fc.assert(
    fc.asyncProperty(
      hostileStream,
      chunking,
      fc.constantFrom("close" as const, "open" as const, "abort" as const),
      async (bytes, how, end) => {
        const timeout = 150;
        const out = await runResponder(split(bytes, how), end, timeout);
        assert.equal(out.session, undefined, "random bytes must never complete a handshake");
        const decided = expectedForRandom(bytes);
        const expected: Bip324ErrorCode[] = decided
          ? [decided]
          : end === "close"
          ? ["UNEXPECTED_EOF"]
          : end === "abort"
          ? ["TRANSPORT"]
          : ["HANDSHAKE_TIMEOUT"];
        assertCode(out.error, expected, `${bytes.length} bytes, ${end}`);
      },
    ),
    { numRuns: 40 },
  );
});

// ---------------------------------------------------------------------------
// 4. Codecs: round trips, and arbitrary input to every decoder

Deno.test("property: MessageTypeTable decode(encode(m)) = m, with extra IDs too", () => {
  const extra = fc.dictionary(
    fc.integer({ min: 29, max: 255 }).map(String),
    fc.string({ unit: ASCII_TYPE_CHARS, minLength: 1, maxLength: 12 }),
    { maxKeys: 8 },
  );
  fc.assert(
    fc.property(extra, fc.array(message(300), { maxLength: 8 }), (ids, messages) => {
      const table = new MessageTypeTable(ids as Record<number, string>);
      for (const m of messages) {
        const encoded = table.encode(m);
        assert.ok(encoded.length === m.payload.length + table.typeLength(m.type));
        assert.deepEqual(table.decode(encoded), m);
        assert.deepEqual(DEFAULT_MESSAGE_TYPES.decode(DEFAULT_MESSAGE_TYPES.encode(m)), m);
      }
    }),
    { numRuns: 300 },
  );
});

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const i32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const port = fc.integer({ min: 0, max: 0xffff });
const versionAddress = record({
  services: u64,
  ip: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  port,
});
const userAgent = fc.string({ unit: "grapheme", maxLength: 64 }).filter((s) =>
  new TextEncoder().encode(s).length <= MAX_USER_AGENT_LENGTH
);

const versionPayload: fc.Arbitrary<VersionPayload> = record({
  protocolVersion: i32,
  services: u64,
  timestamp: i64,
  addrRecv: versionAddress,
  addrFrom: versionAddress,
  nonce: u64,
  userAgent,
  startHeight: i32,
  relay: fc.boolean(),
});

const addrV2Entry: fc.Arbitrary<AddrV2Entry> = fc.integer({ min: 0, max: 255 }).chain(
  (networkId) => {
    const required = BIP155_ADDRESS_LENGTH[networkId];
    return record({
      time: fc.integer({ min: 0, max: 0xffff_ffff }),
      services: u64,
      networkId: fc.constant(networkId),
      addr: required === undefined
        ? bytesUpTo(MAX_ADDRV2_SIZE)
        : fc.uint8Array({ minLength: required, maxLength: required }),
      port,
    });
  },
);

/** A known type and a valid payload value for it. */
const knownPayload: fc.Arbitrary<{ type: string; value: unknown }> = fc.oneof(
  versionPayload.map((value) => ({ type: "version", value })),
  fc.constantFrom("verack", "sendaddrv2", "wtxidrelay", "sendheaders").map((type) => ({
    type,
    value: {},
  })),
  u64.map((nonce) => ({ type: "ping", value: { nonce } })),
  u64.map((nonce) => ({ type: "pong", value: { nonce } })),
  i64.map((feeRate) => ({ type: "feefilter", value: { feeRate } })),
  fc.array(addrV2Entry, { maxLength: 20 }).map((addresses) => ({
    type: "addrv2",
    value: { addresses },
  })),
  record({
    featureId: fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 4,
      maxLength: 80,
    }),
    featureData: fc.uint8Array({ maxLength: 512 }),
  }).map((value) => ({ type: "feature", value })),
);

Deno.test("property: messages.ts decodePayload(encodePayload(x)) = x for every known type", () => {
  fc.assert(
    fc.property(knownPayload, ({ type, value }) => {
      // deno-lint-ignore no-explicit-any
      const payload = encodePayload(type, value as any);
      assert.deepEqual(decodePayload(type, payload), value);
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: CompactSize decode(encode(n)) = n", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.uint8Array({ maxLength: 8 }),
      (n, tail) => {
        const encoded = encodeCompactSize(n);
        const { value, length } = decodeCompactSize(concat([encoded, tail]), 0, {
          max: Number.MAX_SAFE_INTEGER,
        });
        assert.equal(value, n);
        assert.equal(length, encoded.length);
        if (n <= MAX_COMPACT_SIZE) assert.equal(decodeCompactSize(encoded).value, n);
      },
    ),
    { numRuns: 500 },
  );
});

const v1Type = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 12,
});

Deno.test("property: v1 framing: V1Decoder yields the encoded messages in any chunking", () => {
  const magic = networkMagic("regtest");
  fc.assert(
    fc.property(
      fc.array(record({ type: v1Type, payload: bytesUpTo(2000) }), {
        maxLength: 8,
      }),
      chunking,
      (messages, how) => {
        const wire = concat(messages.map((m) => encodeV1Message(magic, m.type, m.payload)));
        const decoder = new V1Decoder({ magic });
        const got: Message[] = [];
        for (const c of split(wire, how)) got.push(...decoder.push(c));
        decoder.finish();
        assert.equal(decoder.buffered, 0);
        assert.deepEqual(got, messages);
      },
    ),
    { numRuns: 200 },
  );
});

/** Valid encodings with one random corruption, to reach deeper than uniform noise does. */
function corrupted(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, mutation, fc.nat()).map(([bytes, m, cut]) => {
    if (bytes.length === 0) return bytes;
    const { mutated } = applyMutation(bytes, m);
    return cut % 4 === 0 ? mutated.subarray(0, cut % (mutated.length + 1)) : mutated;
  });
}

const randomInput: fc.Arbitrary<Uint8Array> = fc.oneof(
  bytesUpTo(600),
  corrupted(knownPayload.map(({ type, value }) =>
    // deno-lint-ignore no-explicit-any
    encodePayload(type, value as any)
  )),
  corrupted(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }).map((n) => encodeCompactSize(n))),
  fc.constantFrom(0xfd, 0xfe, 0xff).chain((marker) =>
    fc.uint8Array({ maxLength: 8 }).map((rest) => concat([new Uint8Array([marker]), rest]))
  ),
);

Deno.test("property: every decoder, fed arbitrary bytes, succeeds or throws only Bip324Error", () => {
  const types = [...KNOWN_MESSAGE_TYPES, "tx", "unknown"];
  fc.assert(
    fc.property(randomInput, fc.nat(), (bytes, offset) => {
      onlyBip324Error("MessageTypeTable.decode", () => DEFAULT_MESSAGE_TYPES.decode(bytes));
      for (const type of types) {
        const e = onlyBip324Error(`decodePayload(${type})`, () => decodePayload(type, bytes));
        if (e) assert.equal(e.code, "MALFORMED_MESSAGE");
      }
      const at = offset % (bytes.length + 1);
      for (const max of [undefined, 0, 252, 0xffff, MAX_COMPACT_SIZE, Number.MAX_SAFE_INTEGER]) {
        const e = onlyBip324Error("decodeCompactSize", () => decodeCompactSize(bytes, at, { max }));
        if (e) assert.equal(e.code, "MALFORMED_MESSAGE");
      }
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: V1Decoder, fed arbitrary bytes in any chunking, throws only Bip324Error", () => {
  const magic = networkMagic("regtest");
  const v1Wire = fc.array(record({ type: v1Type, payload: bytesUpTo(300) }), {
    minLength: 1,
    maxLength: 4,
  }).map((ms) => concat(ms.map((m) => encodeV1Message(magic, m.type, m.payload))));
  const input = fc.oneof(
    bytesUpTo(600),
    bytesUpTo(200).map((rest) => concat([magic, rest])),
    corrupted(v1Wire),
  );
  fc.assert(
    fc.property(input, chunking, fc.integer({ min: 0, max: 1000 }), (bytes, how, max) => {
      const decoder = new V1Decoder({ magic, maxMessageSize: max });
      let failed: Bip324Error | undefined;
      for (const c of split(bytes, how)) {
        failed = onlyBip324Error("V1Decoder.push", () => decoder.push(c));
        if (failed) break;
      }
      // the decoder never holds more than one header plus the payload limit
      assert.ok(decoder.buffered <= 24 + max);
      if (failed) {
        assert.ok(["V1_FRAMING", "OVERSIZED"].includes(failed.code), failed.code);
        // a dead decoder stays dead, with the same error
        assert.throws(() => decoder.push(new Uint8Array(1)), (e) => e === failed);
        assert.throws(() => decoder.finish(), (e) => e === failed);
      } else {
        const end = onlyBip324Error("V1Decoder.finish", () => decoder.finish());
        if (end) assert.ok(["V1_FRAMING", "OVERSIZED", "UNEXPECTED_EOF"].includes(end.code));
      }
    }),
    { numRuns: 500 },
  );
});
