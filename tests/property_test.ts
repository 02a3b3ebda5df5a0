// Property-based tests (fast-check): hostile and arbitrary input against the
// session stack, the sans-I/O handshake and every decoder.
//
// Every run is bounded: numRuns is fixed per property, and every async step
// is wrapped in `within` so that a hang fails the run instead of the suite.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Bip324Error, Bip324ErrorCode } from "../layers/errors.ts";
import { Handshake, MAX_GARBAGE_LEN } from "../layers/handshake/handshake.ts";
import { NETWORK_MAGIC, networkMagic } from "../layers/bitcoin/network.ts";
import { concat } from "./helpers.ts";

import {
  applyMutation,
  assertCode,
  buildTranscript,
  bytesUpTo,
  chunking,
  fill,
  GARBAGE_SCAN_LIMIT,
  KEY_LEN,
  type Mutation,
  mutation,
  onlyBip324Error,
  responderCipher,
  runResponder,
  split,
  type Transcript,
  transcriptSpec,
} from "./transcripts.ts";

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
