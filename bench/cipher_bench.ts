// Packet cipher throughput: FSChaCha20 + FSChaCha20Poly1305 with each AEAD backend, against raw
// @noble/ciphers and raw node:crypto ChaCha20-Poly1305 on the same sizes.
//
// "37 B" is a 37-byte AEAD plaintext (header + 36 bytes of contents: a typical small message);
// each iteration also runs the length cipher. Decryption cycles through ciphertexts made
// beforehand, so rekeying is included at its real rate (every 224 packets).
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { FSChaCha20Poly1305 } from "../layers/aead/aead.ts";
import { FSChaCha20 } from "../layers/length/length_cipher.ts";
import {
  type AeadBackendKind,
  findNativeCrypto,
  nativeAeadAvailable,
} from "../layers/crypto/backend.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 3 + 1);
const NONCE = new Uint8Array(12).fill(9);
const EMPTY = new Uint8Array(0);
const BACKENDS: AeadBackendKind[] = [
  "pure",
  ...(nativeAeadAvailable() ? ["native" as const] : []),
  "auto",
];

function packetBenches(size: number, label: string, ring: number): void {
  const pt = new Uint8Array(size).fill(0x5a);
  const plain = new Uint8Array(size);
  for (const backend of BACKENDS) {
    const options = { backend };
    const enc = new FSChaCha20Poly1305(KEY, 224, options), encLen = new FSChaCha20(KEY);
    const out = new Uint8Array(size + 16 + 3);
    const body = out.subarray(3);
    Deno.bench(
      `${label} encrypt (length + AEAD) [${backend}]`,
      { group: `${label} encrypt` },
      () => {
        encLen.encryptLength(size, out, 0);
        enc.encrypt(EMPTY, pt, body);
      },
    );
    const source = new FSChaCha20Poly1305(KEY, 224, options), sourceLen = new FSChaCha20(KEY);
    const packets: Uint8Array[] = [], bodies: Uint8Array[] = [];
    for (let i = 0; i < ring; i++) {
      const c = new Uint8Array(size + 19);
      sourceLen.encryptLength(size, c, 0);
      source.encrypt(EMPTY, pt, c.subarray(3));
      packets.push(c);
      bodies.push(c.subarray(3));
    }
    let dec = new FSChaCha20Poly1305(KEY, 224, options), decLen = new FSChaCha20(KEY), i = 0;
    Deno.bench(
      `${label} decrypt (length + AEAD) [${backend}]`,
      { group: `${label} decrypt` },
      () => {
        if (i === ring) {
          dec = new FSChaCha20Poly1305(KEY, 224, options);
          decLen = new FSChaCha20(KEY);
          i = 0;
        }
        decLen.decryptLength(packets[i], 0);
        dec.decrypt(EMPTY, bodies[i++], plain);
      },
    );
  }

  const sealed = chacha20poly1305(KEY, NONCE).encrypt(pt);
  const nobleOut = new Uint8Array(size + 16);
  Deno.bench(`${label} raw @noble/ciphers seal`, { group: `${label} encrypt` }, () => {
    chacha20poly1305(KEY, NONCE, EMPTY).encrypt(pt, nobleOut);
  });
  Deno.bench(`${label} raw @noble/ciphers open`, { group: `${label} decrypt` }, () => {
    chacha20poly1305(KEY, NONCE, EMPTY).decrypt(sealed, plain);
  });
  const native = findNativeCrypto(globalThis);
  if (native === null) return;
  const opts = { authTagLength: 16 };
  Deno.bench(`${label} raw node:crypto seal`, { group: `${label} encrypt` }, () => {
    const c = native.createCipheriv("chacha20-poly1305", KEY, NONCE, opts);
    c.update(pt);
    c.final();
    c.getAuthTag();
  });
  const tag = sealed.subarray(size), ct = sealed.subarray(0, size);
  Deno.bench(`${label} raw node:crypto open`, { group: `${label} decrypt` }, () => {
    const d = native.createDecipheriv("chacha20-poly1305", KEY, NONCE, opts);
    d.setAuthTag(tag);
    d.update(ct);
    d.final();
  });
}

packetBenches(37, "37 B", 224 * 20);
packetBenches(1 << 20, "1 MiB", 8);

const lenOnly = new FSChaCha20(KEY), lenOut = new Uint8Array(3);
Deno.bench("FSChaCha20 encryptLength alone", { group: "length" }, () => {
  lenOnly.encryptLength(37, lenOut, 0);
});
