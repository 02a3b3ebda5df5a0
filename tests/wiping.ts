// Test helpers for key wiping: is a cipher's key material all zero, and does any text
// (an error's message, stack, inspection, cause chain) contain a secret?
import assert from "node:assert/strict";
import { chacha20, chacha20poly1305 } from "@noble/ciphers/chacha.js";
import {
  type Bip324Cipher,
  cipherScratchForTests,
  cipherSecretsForTests,
} from "../layers/packet_cipher.ts";
import { ellswiftScratchForTests } from "../layers/handshake/ellswift.ts";
import { keyScheduleScratchForTests } from "../layers/handshake/key_schedule.ts";
import { ecWasmScratchForTests } from "../layers/crypto/secp256k1_wasm.ts";
import { toHex } from "../layers/bytes.ts";

const ZERO_KEY = new Uint8Array(32);
const EMPTY = new Uint8Array(0);

/** Asserts every byte of every buffer is zero, naming the first that is not. */
export function assertZero(buffers: Iterable<Uint8Array>, what: string): void {
  let i = 0;
  for (const b of buffers) {
    assert.ok(b.every((v) => v === 0), `${what}: buffer ${i} (${b.length} bytes) is not zero`);
    i++;
  }
}

/**
 * The shared scratch buffers of ellswift, the key schedule, Bip324Cipher.initialize and the
 * secp256k1 WebAssembly module (where it is in use) are zero.
 */
export function assertScratchZero(what: string): void {
  const ec = ecWasmScratchForTests();
  if (ec !== undefined) assertZero([ec], `${what}: secp256k1 module scratch`);
  assertZero(ellswiftScratchForTests(), `${what}: ellswift scratch`);
  assertZero(keyScheduleScratchForTests(), `${what}: key schedule scratch`);
  assertZero(cipherScratchForTests(), `${what}: Bip324Cipher.initialize scratch`);
}

/**
 * Asserts the four ciphers of an initialized `cipher` have all-zero keys, by
 * what they do: the outbound AEAD seals like ChaCha20-Poly1305 under the zero
 * key at its current nonce, the inbound one opens exactly that, and each
 * length cipher's next keystream is a block of the zero key's stream for its
 * epoch. Uses (advances) the ciphers. Also checks the cipher's own buffers
 * and every scratch buffer are zero.
 */
export function assertCipherWiped(cipher: Bip324Cipher, what: string, interval = 224): void {
  assertZero(cipherSecretsForTests(cipher), `${what}: cipher buffers`);
  assertScratchZero(what);
  const c = cipher.ciphers;
  const plaintext = Uint8Array.of(9, 8, 7, 6, 5);
  for (
    const [name, aead] of [["sendPacket", c.sendPacket], ["recvPacket", c.recvPacket]] as const
  ) {
    const n = aead.packetCounter;
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setUint32(0, n % interval, true);
    new DataView(nonce.buffer).setBigUint64(4, BigInt(Math.floor(n / interval)), true);
    const sealed = chacha20poly1305(ZERO_KEY, nonce).encrypt(plaintext);
    if (name === "sendPacket") {
      assert.deepEqual(aead.encrypt(EMPTY, plaintext), sealed, `${what}: ${name} key is not zero`);
    } else {
      assert.deepEqual(aead.decrypt(EMPTY, sealed), plaintext, `${what}: ${name} key is not zero`);
    }
  }
  for (const [name, fs] of [["sendLength", c.sendLength], ["recvLength", c.recvLength]] as const) {
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setBigUint64(
      4,
      BigInt(Math.floor(fs.chunkCounter / interval)),
      true,
    );
    const stream = chacha20(ZERO_KEY, nonce, new Uint8Array(64 * 16));
    const got = fs.crypt(new Uint8Array(64)); // one whole block of keystream
    let found = false;
    for (let at = 0; at < stream.length && !found; at += 64) {
      found = got.every((v, i) => v === stream[at + i]);
    }
    assert.ok(found, `${what}: ${name} key is not zero`);
  }
}

/** Ways bytes could show up in text: hex (both cases), decimal lists, base64; whole and first 8 bytes. */
function renderings(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (const b of [bytes, bytes.subarray(0, 8)]) {
    out.push(toHex(b), toHex(b).toUpperCase(), Array.from(b).join(","), Array.from(b).join(", "));
  }
  out.push(btoa(String.fromCharCode(...bytes)));
  out.push(BigInt("0x" + toHex(bytes)).toString()); // as a decimal bigint
  return out;
}

/** Every text an error exposes: String(), message, stack, inspection, down the cause chain. */
export function textsOf(error: unknown): string[] {
  const out: string[] = [];
  let e: unknown = error;
  for (let depth = 0; depth < 10 && e !== undefined && e !== null; depth++) {
    out.push(String(e));
    if (e instanceof Error) out.push(e.message, e.stack ?? "");
    out.push(Deno.inspect(e, { depth: 8, iterableLimit: 100_000, strAbbreviateSize: 1_000_000 }));
    e = e instanceof Error ? e.cause : undefined;
  }
  return out;
}

/** Asserts no rendering of any named secret appears in any text of any error. */
export function assertNoSecretIn(errors: unknown[], secrets: Map<string, Uint8Array>): void {
  assert.ok(errors.length > 0, "no errors to check");
  const forms = [...secrets].map(([name, bytes]) => [name, renderings(bytes)] as const);
  for (const text of errors.flatMap(textsOf)) {
    for (const [name, list] of forms) {
      for (const form of list) {
        assert.ok(!text.includes(form), `${name} appears in: ${text.slice(0, 300)}`);
      }
    }
  }
}
