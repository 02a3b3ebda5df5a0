// Shared by the property tests: fixed keys, arbitraries, valid BIP324 transcripts and a
// responder that runs them.
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
} from "../layers/aliasing/aliasing.ts";
import type { Session } from "../layers/session/session.ts";
import { openSession } from "../layers/session/open.ts";
import { memoryPair } from "../transports/memory.ts";
import { concat, prng, within } from "./helpers.ts";

// ---------------------------------------------------------------------------
// Fixed key pairs: transcripts are reproducible, and building a cipher from
// cached ElligatorSwift bytes costs no curve arithmetic.

export const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
export const I_PRIV: Uint8Array = fill(32, 1);
export const I_ELL: Uint8Array = ellswiftCreate(I_PRIV, fill(32, 1));
export const R_PRIV: Uint8Array = fill(32, 2);
export const R_ELL: Uint8Array = ellswiftCreate(R_PRIV, fill(32, 2));
export const initiatorCipher = (): Bip324Cipher => new Bip324Cipher(I_PRIV, I_ELL);
export const responderCipher = (): Bip324Cipher => new Bip324Cipher(R_PRIV, R_ELL);

export const KEY_LEN = 64;
/** The responder must have failed once this many bytes of a garbage-only stream arrived. */
export const GARBAGE_SCAN_LIMIT = MAX_GARBAGE_LEN + GARBAGE_TERMINATOR_LEN;
export const HANDSHAKE_TIMEOUT = 5_000;
export const STEP_LIMIT = 15_000;

/** Runs `fn`; any exception other than a `Bip324Error` fails the property. */
export function onlyBip324Error(what: string, fn: () => unknown): Bip324Error | undefined {
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
export function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

/**
 * Byte arrays whose length spans the whole range 0..max (fc.uint8Array alone
 * keeps lengths near its small default size): short fully random arrays, or a
 * length drawn from the range filled from a seeded PRNG.
 */
export function bytesUpTo(max: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: Math.min(max, 32) }),
    fc.tuple(fc.integer({ min: 0, max }), fc.integer()).map(([n, seed]) => {
      const rand = prng(seed);
      return new Uint8Array(n).map(() => Math.floor(rand() * 256));
    }),
  );
}

export const ASCII_TYPE_CHARS = fc.integer({ min: 0x20, max: 0x7f }).map((c) =>
  String.fromCharCode(c)
);
export const SHORT_ID_TYPES = Object.values(BIP324_SHORT_IDS);

/** A message type: from the short-ID table, or 1..12 random printable ASCII characters. */
export const messageType: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...SHORT_ID_TYPES),
  fc.string({ unit: ASCII_TYPE_CHARS, minLength: 1, maxLength: 12 }),
);

export const message = (maxPayload: number): fc.Arbitrary<Message> =>
  record({ type: messageType, payload: bytesUpTo(maxPayload) });

export type Item = { kind: "message"; message: Message } | { kind: "decoy"; length: number };

export const item = (maxPayload: number): fc.Arbitrary<Item> =>
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

export interface TranscriptSpec {
  garbage: Uint8Array;
  handshakeDecoys: number[];
  items: Item[];
}

export const transcriptSpec = (
  maxItems: number,
  maxPayload: number,
): fc.Arbitrary<TranscriptSpec> =>
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

export interface Transcript {
  bytes: Uint8Array;
  garbageLength: number;
  /** Offset of the first byte after the garbage terminator. */
  packetsStart: number;
  messages: Message[];
  decoys: number;
}

export function buildTranscript(spec: TranscriptSpec): Transcript {
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
export function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
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
export type Chunking = { cuts: number[] } | { size: number };
export const chunking: fc.Arbitrary<Chunking> = fc.oneof(
  record({ cuts: fc.array(fc.nat(), { maxLength: 64 }) }),
  record({ size: fc.integer({ min: 1, max: 4096 }) }),
);

export function split(bytes: Uint8Array, how: Chunking): Uint8Array[] {
  if ("cuts" in how) return cutAt(bytes, how.cuts);
  const size = Math.max(how.size, Math.ceil(bytes.length / 3000)); // at most ~3000 writes
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

export interface ResponderOutcome {
  session?: Session;
  messages: Message[];
  error?: unknown;
}

/**
 * Feeds `chunks` to a real responder session over memoryPair (fixed key),
 * then ends the stream (`end`: close, or leave open), and collects every
 * message it delivers and the error it ends with.
 */
export async function runResponder(
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

export function assertCode(
  error: unknown,
  codes: readonly Bip324ErrorCode[],
  context: string,
): void {
  if (!(error instanceof Bip324Error)) {
    throw new Error(`${context}: expected a Bip324Error (${codes.join("|")}), got ${error}`, {
      cause: error,
    });
  }
  assert.ok(codes.includes(error.code), `${context}: got ${error.code}, expected ${codes}`);
}

// Single-byte mutations of a wire transcript

export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "insert"; at: number; byte: number }
  | { kind: "delete"; at: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
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

export function applyMutation(bytes: Uint8Array, m: Mutation): { mutated: Uint8Array; at: number } {
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
