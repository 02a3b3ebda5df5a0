/**
 * FSChaCha20Poly1305: the forward-secure AEAD BIP324 uses for packet
 * plaintexts (header byte + contents).
 *
 * Each packet uses RFC 8439 ChaCha20-Poly1305 with nonce = 4-byte
 * little-endian packet index within the epoch + 8-byte little-endian epoch.
 * After 224 packets the key is replaced by keystream bytes 64..95 of the
 * nonce (0xffffffff, epoch): the same as the spec's "encrypt 32 zero bytes and
 * keep the first 32 bytes", without computing a Poly1305 tag.
 *
 * The per-message work goes to a pluggable backend (`layers/crypto/backend.ts`):
 * pure TypeScript, `node:crypto`, or `"auto"` (the default: pure for small
 * packets, native for large ones where available). With an `out` buffer, the
 * pure path allocates nothing per packet.
 *
 * @module
 */

import { checkBytes, wipe } from "../bytes.ts";
import { Bip324Error } from "../errors.ts";
import { REKEY_INTERVAL, RekeySchedule } from "../rekeying.ts";
import { type AeadBackend, type AeadBackendKind, createAeadBackend } from "../crypto/backend.ts";
import { sealPartsWith } from "../crypto/aead_types.ts";
import { ChaCha20 } from "../crypto/chacha20.ts";
import { StreamingOpen } from "../crypto/streaming_open.ts";

export { StreamingOpen };

/** Bytes the Poly1305 tag adds to every packet. */
export const TAG_LEN = 16;

/** Options for {@linkcode FSChaCha20Poly1305}. */
export interface FSChaCha20Poly1305Options {
  /**
   * Which ChaCha20-Poly1305 implementation to use: `"auto"` (default),
   * `"pure"`, `"native"` (throws if the runtime has none), or any
   * {@linkcode AeadBackend} object.
   */
  backend?: AeadBackendKind | AeadBackend;
  /**
   * Where to keep the key: its first 32 bytes, which nothing else may use
   * (lets several ciphers share one allocation). Default: an array of its own.
   */
  keyStorage?: Uint8Array;
}

/**
 * Per-call scratch shared by every instance: it is only used inside one synchronous
 * method call (and wiped or overwritten before the next), so an idle cipher holds
 * nothing but its own key and position.
 */
const SCRATCH = {
  block: new Uint32Array(16),
  nonce: new Uint8Array(12),
  rekeyNonce: new Uint8Array(12),
  rekeyCipher: new ChaCha20(),
};

/**
 * Forward-secure ChaCha20-Poly1305. One instance serves one direction: it
 * either only encrypts or only decrypts.
 *
 * @example Round trip
 * ```ts
 * import { FSChaCha20Poly1305 } from "@bip324/bip324/cipher";
 * const key = new Uint8Array(32);
 * const enc = new FSChaCha20Poly1305(key), dec = new FSChaCha20Poly1305(key);
 * const ct = enc.encrypt(new Uint8Array(0), new Uint8Array([1, 2, 3]));
 * console.assert(dec.decrypt(new Uint8Array(0), ct)[2] === 3);
 * ```
 *
 * @example Forcing the pure TypeScript backend
 * ```ts
 * import { FSChaCha20Poly1305 } from "@bip324/bip324/cipher";
 * const enc = new FSChaCha20Poly1305(new Uint8Array(32), 224, { backend: "pure" });
 * console.assert(enc.backendName === "pure");
 * ```
 */
export class FSChaCha20Poly1305 {
  #key: Uint8Array;
  #schedule: RekeySchedule;
  #backend: AeadBackend;

  /**
   * Creates the cipher for one direction at packet 0.
   *
   * @param key 32-byte initial key (copied; the copy is wiped by {@linkcode FSChaCha20Poly1305.destroy}).
   * @param interval packets per key; 224 on the wire, injectable for tests.
   * @param options backend choice, see {@linkcode FSChaCha20Poly1305Options}.
   */
  constructor(
    key: Uint8Array,
    interval: number = REKEY_INTERVAL,
    options: FSChaCha20Poly1305Options = {},
  ) {
    checkBytes("key", key, 32);
    const storage = options.keyStorage;
    if (storage === undefined) {
      this.#key = key.slice();
    } else if (checkBytes("options.keyStorage", storage).length < 32) {
      throw new RangeError(`options.keyStorage must be at least 32 bytes, got ${storage.length}`);
    } else {
      this.#key = storage.subarray(0, 32);
      this.#key.set(key);
    }
    this.#schedule = new RekeySchedule(interval);
    const backend = options.backend ?? "auto";
    if (typeof backend === "object" && backend !== null) {
      if (typeof backend.seal !== "function" || typeof backend.open !== "function") {
        throw new TypeError("options.backend must have seal() and open() methods");
      }
      this.#backend = backend;
    } else {
      this.#backend = createAeadBackend(backend);
    }
  }

  /** Packets processed so far. */
  get packetCounter(): number {
    return this.#schedule.epoch * this.#schedule.interval + this.#schedule.index;
  }

  /** Name of the backend in use (`"pure"`, `"native"`, `"auto"`, or a custom backend's). */
  get backendName(): string {
    return this.#backend.name;
  }

  /**
   * Encrypts `plaintext` and appends the tag, writing `plaintext.length + 16`
   * bytes into `out` (default: a new array). `plaintext` may be the start of
   * `out` itself (in-place encryption).
   */
  encrypt(aad: Uint8Array, plaintext: Uint8Array, out?: Uint8Array): Uint8Array {
    checkBytes("aad", aad);
    checkBytes("plaintext", plaintext);
    const length = plaintext.length + TAG_LEN;
    out = out === undefined ? new Uint8Array(length) : outView(out, length);
    this.#backend.seal(this.#key, this.#currentNonce(), aad, plaintext, out);
    this.#advance();
    return out;
  }

  /**
   * {@linkcode FSChaCha20Poly1305.encrypt} of the plaintext `head` followed by
   * `tail`, each read from where it is: `head.length + tail.length + 16`
   * bytes go to `out`. `head` may be the start of `out`; `tail` must not
   * overlap `out`.
   *
   * @example
   * ```ts
   * import { FSChaCha20Poly1305 } from "@bip324/bip324/cipher";
   * const key = new Uint8Array(32);
   * const enc = new FSChaCha20Poly1305(key), dec = new FSChaCha20Poly1305(key);
   * const box = new Uint8Array(1 + 2 + 16);
   * box[0] = 9;
   * enc.encryptParts(new Uint8Array(0), box.subarray(0, 1), Uint8Array.of(1, 2), box);
   * console.assert(dec.decrypt(new Uint8Array(0), box)[2] === 2);
   * ```
   */
  encryptParts(aad: Uint8Array, head: Uint8Array, tail: Uint8Array, out: Uint8Array): Uint8Array {
    checkBytes("aad", aad);
    const length = checkBytes("head", head).length + checkBytes("tail", tail).length + TAG_LEN;
    out = outView(out, length);
    sealPartsWith(this.#backend, this.#key, this.#currentNonce(), aad, head, tail, out);
    this.#advance();
    return out;
  }

  /**
   * Verifies and decrypts `ciphertext` (plaintext + 16-byte tag) into `out`
   * (default: a new array; may be the start of `ciphertext` itself). A bad tag
   * throws {@linkcode Bip324Error} `DECRYPTION` and writes nothing; the packet
   * still counts, so the cipher stays in step with the sender's, but the
   * session must end.
   */
  decrypt(aad: Uint8Array, ciphertext: Uint8Array, out?: Uint8Array): Uint8Array {
    checkBytes("aad", aad);
    checkBytes("ciphertext", ciphertext);
    if (ciphertext.length < TAG_LEN) {
      throw new Bip324Error("DECRYPTION", `ciphertext shorter than the ${TAG_LEN}-byte tag`);
    }
    const length = ciphertext.length - TAG_LEN;
    out = out === undefined ? new Uint8Array(length) : outView(out, length);
    let ok: boolean;
    try {
      ok = this.#backend.open(this.#key, this.#currentNonce(), aad, ciphertext, out);
    } finally {
      this.#advance();
    }
    if (!ok) throw new Bip324Error("DECRYPTION", "packet authentication failed (bad tag)");
    return out;
  }

  /**
   * Decrypts the first plaintext byte of the next packet from its first
   * ciphertext byte, without authenticating it and without consuming the
   * packet (so a receiver can tell a decoy by its header before the rest
   * arrives).
   */
  peekFirstByte(ciphertextByte: number): number {
    const c = SCRATCH.rekeyCipher, block = SCRATCH.block;
    c.setKey(this.#key);
    c.setNonce(this.#currentNonce());
    c.counter = 1;
    c.block(block);
    const first = (ciphertextByte ^ block[0]) & 0xff;
    block.fill(0);
    c.wipe();
    return first;
  }

  /**
   * Starts checking the next packet when its bytes arrive in pieces (a decoy
   * being streamed): returns a {@linkcode StreamingOpen} for `total` bytes of
   * ciphertext + tag under this packet's key and nonce. The packet counts at
   * once, as with {@linkcode FSChaCha20Poly1305.decrypt}; its plaintext is
   * never produced (only the first byte, unauthenticated, for the header).
   */
  decryptStreaming(aad: Uint8Array, total: number): StreamingOpen {
    const open = new StreamingOpen(this.#key, this.#currentNonce(), aad, total);
    this.#advance();
    return open;
  }

  /** Wipes the key. The cipher must not be used afterwards. */
  destroy(): void {
    wipe(this.#key, SCRATCH.nonce, SCRATCH.rekeyNonce, SCRATCH.block);
    SCRATCH.rekeyCipher.wipe();
    this.#backend.wipe?.(); // shared scratch may hold a copy of our key
  }

  #currentNonce(): Uint8Array {
    const n = SCRATCH.nonce;
    const index = this.#schedule.index;
    n[0] = index & 0xff;
    n[1] = (index >>> 8) & 0xff;
    n[2] = (index >>> 16) & 0xff;
    n[3] = (index >>> 24) & 0xff;
    this.#schedule.writeEpoch(n, 4);
    return n;
  }

  #advance(): void {
    if (this.#schedule.isLastInEpoch) {
      // new key = ChaCha20(key, nonce (0xffffffff, epoch)) bytes 64..95, i.e. block 1
      const r = SCRATCH.rekeyNonce, c = SCRATCH.rekeyCipher;
      r.fill(0xff, 0, 4);
      this.#schedule.writeEpoch(r, 4);
      c.setKey(this.#key);
      c.setNonce(r);
      c.counter = 1;
      c.keystream(this.#key, 0, 32); // the old key is already in c's state
      c.wipe();
    }
    this.#schedule.advance();
  }
}

function outView(out: Uint8Array, length: number): Uint8Array {
  if (checkBytes("out", out).length < length) {
    throw new RangeError(`out must be at least ${length} bytes, got ${out.length}`);
  }
  return out.length === length ? out : out.subarray(0, length);
}
