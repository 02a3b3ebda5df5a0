// Property: real sessions, both directions at once, with a chunk boundary at EVERY position
// inside the garbage terminator, the handshake packets (decoys and version packet) and the
// first application packet of each direction. Garbage lengths, handshake decoys and the first
// messages are drawn by fast-check.
import assert from "node:assert/strict";
import fc from "fast-check";
import { openSession } from "../layers/session/open.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";
import { DEFAULT_MESSAGE_TYPES } from "../layers/aliasing/aliasing.ts";
import { GARBAGE_TERMINATOR_LEN } from "../layers/handshake/key_schedule.ts";
import { PACKET_OVERHEAD } from "../layers/packet_cipher.ts";
import { within } from "./helpers.ts";

const KEY = 64;

/** One direction of a memory transport that cuts its byte stream at absolute offsets. */
function cuttingPipe(cuts: Set<number>): TransformStream<Uint8Array, Uint8Array> {
  let offset = 0;
  return new TransformStream<Uint8Array, Uint8Array>(
    {
      transform(chunk, controller) {
        let start = 0;
        for (let i = 1; i < chunk.length; i++) {
          if (cuts.has(offset + i)) {
            controller.enqueue(chunk.slice(start, i));
            start = i;
          }
        }
        controller.enqueue(chunk.slice(start));
        offset += chunk.length;
      },
    },
    { highWaterMark: 64 },
    { highWaterMark: 64 },
  );
}

interface Side {
  garbage: number;
  decoys: number[];
  message: Message;
}

/** Offsets [from, to) of terminator + handshake packets + first application packet. */
function sensitiveRange(side: Side): [number, number] {
  const from = KEY + side.garbage;
  const packets = side.decoys.reduce((n, d) => n + d + PACKET_OVERHEAD, PACKET_OVERHEAD);
  const first = DEFAULT_MESSAGE_TYPES.typeLength(side.message.type) + side.message.payload.length +
    PACKET_OVERHEAD;
  return [from, from + GARBAGE_TERMINATOR_LEN + packets + first];
}

async function exchange(a: Side, b: Side, cutA: number, cutB: number): Promise<void> {
  const ab = cuttingPipe(new Set([cutA]));
  const ba = cuttingPipe(new Set([cutB]));
  const [initiator, responder] = await within(
    Promise.all([
      openSession({ readable: ba.readable, writable: ab.writable }, {
        role: "initiator",
        network: "regtest",
        garbage: a.garbage,
        decoys: a.decoys,
      }),
      openSession({ readable: ab.readable, writable: ba.writable }, {
        role: "responder",
        network: "regtest",
        garbage: b.garbage,
        decoys: b.decoys,
      }),
    ]),
    5000,
    `handshake (cuts ${cutA}/${cutB})`,
  );
  try {
    await initiator.send(a.message.type, a.message.payload);
    await responder.send(b.message.type, b.message.payload);
    const gotB = await within(responder.readable.getReader().read(), 5000, "responder read");
    const gotA = await within(initiator.readable.getReader().read(), 5000, "initiator read");
    assert.deepEqual(gotB.value, a.message, `initiator→responder, cut at ${cutA}`);
    assert.deepEqual(gotA.value, b.message, `responder→initiator, cut at ${cutB}`);
    assert.equal(responder.handshake.garbageReceived, a.garbage);
    assert.equal(initiator.handshake.garbageReceived, b.garbage);
    assert.equal(responder.handshake.decoysReceived, a.decoys.length);
    assert.equal(initiator.handshake.decoysReceived, b.decoys.length);
  } finally {
    await initiator.close();
    await responder.close();
  }
}

const side: fc.Arbitrary<Side> = fc.record({
  garbage: fc.oneof(fc.constantFrom(0, 1, 4095), fc.integer({ min: 0, max: 4095 })),
  decoys: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 2 }),
  message: fc.record({
    type: fc.constantFrom("ping", "inv", "version", "sendtxrcncl"),
    payload: fc.uint8Array({ maxLength: 40 }),
  }, { noNullPrototype: true }),
}, { noNullPrototype: true });

let exchanges = 0;

Deno.test("property: both directions, a chunk boundary at every position of terminator, handshake packets and first packet", async () => {
  await fc.assert(
    fc.asyncProperty(side, side, async (a, b) => {
      const [fromA, toA] = sensitiveRange(a);
      const [fromB, toB] = sensitiveRange(b);
      const span = Math.max(toA - fromA, toB - fromB);
      // Every position of the longer range; the shorter one wraps around its own range.
      for (let k = 0; k <= span; k++) {
        const cutA = fromA + (k % (toA - fromA + 1));
        const cutB = fromB + (k % (toB - fromB + 1));
        await exchange(a, b, cutA, cutB);
        exchanges++;
      }
    }),
    { numRuns: 6 },
  );
  // at least the terminator and the two 20-byte packets of each run, cut at every position
  assert.ok(
    exchanges >= 6 * (GARBAGE_TERMINATOR_LEN + 2 * PACKET_OVERHEAD),
    `${exchanges} exchanges`,
  );
});
