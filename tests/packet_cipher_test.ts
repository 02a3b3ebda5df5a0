import assert from "node:assert/strict";
import { Bip324Cipher, IGNORE_BIT, PACKET_OVERHEAD } from "../layers/packet_cipher.ts";
import { ellswiftDecode, ellswiftEcdhXonly, v2Ecdh } from "../layers/handshake/ellswift.ts";
import { deriveSessionKeys } from "../layers/handshake/key_schedule.ts";
import { FSChaCha20 } from "../layers/length/length_cipher.ts";
import { FSChaCha20Poly1305 } from "../layers/aead/aead.ts";
import { Point } from "@noble/secp256k1";
import { Bip324Error } from "../layers/errors.ts";
import { toHex } from "../layers/bytes.ts";
import { hex, readVectors } from "./vectors.ts";

const rows = readVectors("packet_encoding_test_vectors.csv");

function repeat(bytes: Uint8Array, times: number): Uint8Array {
  const out = new Uint8Array(bytes.length * times);
  for (let i = 0; i < times; i++) out.set(bytes, i * bytes.length);
  return out;
}

Deno.test("packet_encoding_test_vectors.csv: all 7 rows, every mid_* value", () => {
  assert.equal(rows.length, 7);
  for (const row of rows) {
    const label = `row in_idx=${row.in_idx}`;
    const priv = hex(row.in_priv_ours);
    const ours = hex(row.in_ellswift_ours), theirs = hex(row.in_ellswift_theirs);
    const initiating = row.in_initiating === "1";

    // Intermediate values.
    const xOurs = Point.BASE.multiply(BigInt("0x" + row.in_priv_ours)).toAffine().x;
    assert.equal(xOurs.toString(16).padStart(64, "0"), row.mid_x_ours, label);
    assert.equal(toHex(ellswiftDecode(ours)), row.mid_x_ours, label);
    assert.equal(toHex(ellswiftDecode(theirs)), row.mid_x_theirs, label);
    assert.equal(toHex(ellswiftEcdhXonly(theirs, priv)), row.mid_x_shared, label);
    const secret = v2Ecdh(priv, theirs, ours, initiating);
    assert.equal(toHex(secret), row.mid_shared_secret, label);
    const keys = deriveSessionKeys(secret, initiating, "mainnet");
    const [iL, iP, rL, rP] = initiating
      ? [keys.sendLengthKey, keys.sendPacketKey, keys.recvLengthKey, keys.recvPacketKey]
      : [keys.recvLengthKey, keys.recvPacketKey, keys.sendLengthKey, keys.sendPacketKey];
    assert.equal(toHex(iL), row.mid_initiator_l, label);
    assert.equal(toHex(iP), row.mid_initiator_p, label);
    assert.equal(toHex(rL), row.mid_responder_l, label);
    assert.equal(toHex(rP), row.mid_responder_p, label);
    assert.equal(toHex(keys.sendGarbageTerminator), row.mid_send_garbage_terminator, label);
    assert.equal(toHex(keys.recvGarbageTerminator), row.mid_recv_garbage_terminator, label);
    assert.equal(toHex(keys.sessionId), row.out_session_id, label);

    // The public cipher, driven as Core's BIP324Cipher is.
    const cipher = new Bip324Cipher(priv, ours);
    cipher.initialize(theirs, initiating);
    assert.equal(toHex(cipher.sessionId), row.out_session_id, label);
    assert.equal(toHex(cipher.sendGarbageTerminator), row.mid_send_garbage_terminator);
    assert.equal(toHex(cipher.receiveGarbageTerminator), row.mid_recv_garbage_terminator);

    // A peer that decrypts what we send, built from the vector's own keys.
    const sendL = initiating ? row.mid_initiator_l : row.mid_responder_l;
    const sendP = initiating ? row.mid_initiator_p : row.mid_responder_p;
    const peerLength = new FSChaCha20(hex(sendL));
    const peerAead = new FSChaCha20Poly1305(hex(sendP));

    const idx = Number(row.in_idx);
    for (let i = 0; i < idx; i++) {
      const dummy = cipher.encrypt(new Uint8Array(0));
      assert.equal(peerLength.decryptLength(dummy), 0);
      peerAead.decrypt(new Uint8Array(0), dummy.subarray(3));
    }
    const contents = repeat(hex(row.in_contents), Number(row.in_multiply));
    const aad = hex(row.in_aad);
    const ignore = row.in_ignore === "1";
    const ct = cipher.encrypt(contents, aad, ignore);
    assert.equal(ct.length, contents.length + PACKET_OVERHEAD);
    if (row.out_ciphertext !== "") {
      assert.equal(toHex(ct), row.out_ciphertext, label);
    } else {
      assert.ok(row.out_ciphertext_endswith.length > 0);
      assert.ok(toHex(ct).endsWith(row.out_ciphertext_endswith), label);
    }
    assert.equal(peerLength.decryptLength(ct), contents.length);
    const plain = peerAead.decrypt(aad, ct.subarray(3));
    assert.equal(plain[0] & IGNORE_BIT ? 1 : 0, ignore ? 1 : 0);
    assert.deepEqual(plain.subarray(1), contents);
  }
});

function pair(): [Bip324Cipher, Bip324Cipher] {
  const a = Bip324Cipher.create(), b = Bip324Cipher.create();
  a.initialize(b.ourEllswift, true, "regtest");
  b.initialize(a.ourEllswift, false, "regtest");
  return [a, b];
}

Deno.test("Bip324Cipher: both directions round trip across 500 packets, decoys flagged", () => {
  const [a, b] = pair();
  assert.deepEqual(a.sessionId, b.sessionId);
  assert.deepEqual(a.sendGarbageTerminator, b.receiveGarbageTerminator);
  for (let i = 0; i < 500; i++) {
    const [from, to] = i % 3 === 0 ? [b, a] : [a, b];
    const contents = new Uint8Array(i % 50).fill(i & 0xff);
    const packet = from.encrypt(contents, new Uint8Array(0), i % 7 === 0);
    assert.equal(to.decryptLength(packet.subarray(0, 3)), contents.length);
    const got = to.decrypt(packet.subarray(3));
    assert.deepEqual(got.contents, contents);
    assert.equal(got.ignore, i % 7 === 0);
  }
});

Deno.test("Bip324Cipher: any ignore bit set (header & 0x80) marks a decoy", () => {
  const [a, b] = pair();
  const packet = a.encrypt(new Uint8Array([5]), new Uint8Array(0), true);
  b.decryptLength(packet.subarray(0, 3));
  assert.equal(b.decrypt(packet.subarray(3)).ignore, true);
});

Deno.test("Bip324Cipher: bad tag, wrong AAD, truncated packet → Bip324Error DECRYPTION", () => {
  for (const mutate of ["flip", "aad", "short"] as const) {
    const [a, b] = pair();
    const packet = a.encrypt(new Uint8Array([1, 2, 3]), new Uint8Array([9]));
    b.decryptLength(packet.subarray(0, 3));
    let body = packet.subarray(3);
    let aad = new Uint8Array([9]);
    if (mutate === "flip") body[body.length - 1] ^= 1;
    if (mutate === "aad") aad = new Uint8Array([8]);
    if (mutate === "short") body = body.subarray(0, 10);
    assert.throws(
      () => b.decrypt(body, aad),
      (e: unknown) => e instanceof Bip324Error && e.code === "DECRYPTION",
      mutate,
    );
  }
});

Deno.test("Bip324Cipher: uninitialized use and bad arguments are caller errors", () => {
  const c = Bip324Cipher.create();
  assert.equal(c.ourEllswift.length, 64);
  assert.throws(() => c.sessionId, TypeError);
  assert.throws(() => c.encrypt(new Uint8Array(1)), TypeError);
  assert.throws(() => c.initialize(new Uint8Array(10), true), RangeError);
  assert.throws(() => new Bip324Cipher(new Uint8Array(31), new Uint8Array(64)), RangeError);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => c.initialize(new Uint8Array(64), "yes" as any), TypeError);
  assert.throws(() => c.initialize(new Uint8Array(64), true, "moonnet" as "mainnet"), TypeError);
});

Deno.test("Bip324Cipher: different networks derive different keys", () => {
  const a = Bip324Cipher.create(), b = Bip324Cipher.create();
  a.initialize(b.ourEllswift, true, "mainnet");
  b.initialize(a.ourEllswift, false, "regtest");
  assert.notDeepEqual(a.sessionId, b.sessionId);
  const packet = a.encrypt(new Uint8Array([1]));
  b.decryptLength(packet.subarray(0, 3));
  assert.throws(() => b.decrypt(packet.subarray(3)), Bip324Error);
});

Deno.test("Bip324Cipher: destroy() wipes keys so further packets fail to verify", () => {
  const [a, b] = pair();
  a.destroy();
  const packet = a.encrypt(new Uint8Array([1]));
  b.decryptLength(packet.subarray(0, 3));
  assert.throws(() => b.decrypt(packet.subarray(3)), Bip324Error);
});

Deno.test("Bip324Cipher: encrypt into a preallocated buffer", () => {
  const [a, b] = pair();
  const buf = new Uint8Array(100);
  const packet = a.encrypt(new Uint8Array([7, 7]), undefined, false, buf);
  assert.equal(packet.buffer, buf.buffer);
  assert.equal(packet.length, 2 + PACKET_OVERHEAD);
  assert.equal(b.decryptLength(packet.subarray(0, 3)), 2);
  assert.deepEqual(b.decrypt(packet.subarray(3)).contents, new Uint8Array([7, 7]));
  assert.throws(() => a.encrypt(new Uint8Array(90), undefined, false, buf), RangeError);
});
