import assert from "node:assert/strict";
import {
  DEFAULT_PORT,
  NETWORK_MAGIC,
  networkMagic,
  networkName,
} from "../layers/bitcoin/network.ts";
import { deriveSessionKeys } from "../layers/handshake/key_schedule.ts";

Deno.test("network magics of the five known networks", () => {
  const hex = (n: keyof typeof NETWORK_MAGIC) =>
    [...networkMagic(n)].map((b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(hex("mainnet"), "f9beb4d9");
  assert.equal(hex("testnet3"), "0b110907");
  assert.equal(hex("testnet4"), "1c163f28");
  assert.equal(hex("signet"), "0a03cf40");
  assert.equal(hex("regtest"), "fabfb5da");
  assert.equal(DEFAULT_PORT.mainnet, 8333);
  for (const name of Object.keys(NETWORK_MAGIC) as (keyof typeof NETWORK_MAGIC)[]) {
    assert.equal(networkName(networkMagic(name)), name);
  }
});

Deno.test("a caller-supplied magic works and changes the keys", () => {
  const custom = new Uint8Array([1, 2, 3, 4]);
  assert.deepEqual(networkMagic(custom), custom);
  assert.equal(networkName(custom), undefined);
  const secret = new Uint8Array(32).fill(9);
  const a = deriveSessionKeys(secret, true, custom);
  const b = deriveSessionKeys(secret, true, "mainnet");
  assert.notDeepEqual(a.sessionId, b.sessionId);
  assert.deepEqual(a.sessionId, deriveSessionKeys(secret, false, custom).sessionId);
  assert.throws(() => networkMagic(new Uint8Array(3)), RangeError);
  assert.throws(() => networkMagic("toString" as "mainnet"), TypeError);
});
