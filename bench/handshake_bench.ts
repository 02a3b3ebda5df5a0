import {
  ellswiftCreate,
  ellswiftDecode,
  ellswiftEcdhXonly,
  v2Ecdh,
  xswiftecInv,
} from "../layers/handshake/ellswift.ts";
import { deriveSessionKeys } from "../layers/handshake/key_schedule.ts";

const privA = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const privB = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const aux = new Uint8Array(32).fill(7);
const ellA = ellswiftCreate(privA, aux), ellB = ellswiftCreate(privB, aux);
const u = ellA.subarray(0, 32), x = ellswiftDecode(ellB);

Deno.bench("ellswiftCreate", { group: "handshake parts" }, () => {
  ellswiftCreate(privA, aux);
});
Deno.bench("ellswiftDecode", { group: "handshake parts" }, () => {
  ellswiftDecode(ellB);
});
Deno.bench("xswiftecInv (one case)", { group: "handshake parts" }, () => {
  xswiftecInv(u, x, 5);
});
Deno.bench("ellswiftEcdhXonly (decode + ECDH)", { group: "handshake parts" }, () => {
  ellswiftEcdhXonly(ellB, privA);
});
Deno.bench("deriveSessionKeys", { group: "handshake parts" }, () => {
  deriveSessionKeys(new Uint8Array(32).fill(1), true, "mainnet");
});
Deno.bench("one side: create + v2Ecdh + key schedule", { group: "side" }, () => {
  const mine = ellswiftCreate(privA);
  deriveSessionKeys(v2Ecdh(privA, ellB, mine, true), true, "mainnet");
});
