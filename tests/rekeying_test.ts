import assert from "node:assert/strict";
import { REKEY_INTERVAL, RekeySchedule } from "../layers/rekeying.ts";

Deno.test("RekeySchedule: rekeys after packets 223, 447 (0-based), not before", () => {
  const s = new RekeySchedule();
  assert.equal(s.interval, REKEY_INTERVAL);
  const rekeyedAfter: number[] = [];
  for (let packet = 0; packet < 700; packet++) if (s.advance()) rekeyedAfter.push(packet);
  assert.deepEqual(rekeyedAfter, [223, 447, 671]);
  assert.equal(s.epoch, 3);
  assert.equal(s.index, 700 - 672);
});

Deno.test("RekeySchedule: epoch is written as 8 little-endian bytes", () => {
  const s = new RekeySchedule(1);
  for (let i = 0; i < 258; i++) s.advance();
  const out = new Uint8Array(10).fill(0xaa);
  s.writeEpoch(out, 1);
  assert.deepEqual([...out], [0xaa, 2, 1, 0, 0, 0, 0, 0, 0, 0xaa]);
});

Deno.test("RekeySchedule: every epoch up to 2^17 is written as a little-endian u64 would be", () => {
  const s = new RekeySchedule(1);
  const out = new Uint8Array(8), expected = new DataView(new ArrayBuffer(8));
  for (let epoch = 0; epoch <= 1 << 17; epoch++) {
    s.writeEpoch(out, 0);
    expected.setBigUint64(0, BigInt(epoch), true);
    if (!out.every((b, i) => b === expected.getUint8(i))) assert.fail(`epoch ${epoch}: ${out}`);
    s.advance();
  }
});

Deno.test("RekeySchedule: rejects a non-positive interval", () => {
  assert.throws(() => new RekeySchedule(0), RangeError);
  assert.throws(() => new RekeySchedule(1.5), RangeError);
});
