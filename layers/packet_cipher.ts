/**
 * {@linkcode Bip324Cipher}: the whole packet cipher of one BIP324 connection,
 * shaped like Bitcoin Core's `BIP324Cipher`: key generation, ECDH and key
 * schedule on `initialize`, then packet encryption and decryption with the
 * four direction-split ciphers.
 *
 * A packet is `encrypted length (3) || AEAD(header (1) || contents) (+16 tag)`.
 *
 * @module
 */

import { FSChaCha20, FSCHACHA20_STATE_LEN, LENGTH_FIELD_LEN } from "./length/length_cipher.ts";
import { FSChaCha20Poly1305, TAG_LEN } from "./aead/aead.ts";
import { checkBytes, randomBytes, wipe } from "./bytes.ts";
import { Bip324Error } from "./errors.ts";
import { ellswiftCreate, v2Ecdh } from "./handshake/ellswift.ts";
import { deriveSessionKeys, emptySessionKeys } from "./handshake/key_schedule.ts";
import { magicView, type Network } from "./bitcoin/network.ts";
import { REKEY_INTERVAL } from "./rekeying.ts";
import type { AeadBackend, AeadBackendKind } from "./crypto/backend.ts";

/** Bytes of the plaintext header (flags) inside every packet. */
export const HEADER_LEN = 1;
/** The header bit that marks a decoy packet. Receivers test `header & IGNORE_BIT`. */
export const IGNORE_BIT = 0x80;
/** Bytes a packet adds around its contents: length (3) + header (1) + tag (16). */
export const PACKET_OVERHEAD: number = LENGTH_FIELD_LEN + HEADER_LEN + TAG_LEN;
/** Largest contents length the 3-byte length field can express. */
export const MAX_CONTENTS_LENGTH = 0xffffff;

const EMPTY = new Uint8Array(0);

/**
 * Where {@linkcode Bip324Cipher.initialize} puts the shared secret and the
 * derived keys on their way into the ciphers (which copy them). Shared by
 * all ciphers: `initialize` is synchronous and zeroes it before returning or
 * throwing, so between calls it is all zero.
 */
const SCRATCH = { secret: new Uint8Array(32), keys: emptySessionKeys() } as const;

/** Every buffer of `SCRATCH`. */
function scratchBuffers(): Uint8Array[] {
  return [SCRATCH.secret, ...Object.values(SCRATCH.keys)];
}

/**
 * `initialize`'s shared scratch buffers (see `SCRATCH`), for tests that
 * check they are zero after every call. Not part of the public API.
 */
export function cipherScratchForTests(): readonly Uint8Array[] {
  return scratchBuffers();
}

let secretBuffersOf: (cipher: Bip324Cipher) => Uint8Array[];

/**
 * For tests that check wiping: the buffers `cipher` itself holds secrets in,
 * its private key copy and, once initialized, both garbage terminators (the
 * four ciphers' keys are inside {@linkcode Bip324Cipher.ciphers}). Not part
 * of the public API.
 */
export function cipherSecretsForTests(cipher: Bip324Cipher): readonly Uint8Array[] {
  return secretBuffersOf(cipher);
}

/** The four ciphers of an initialized session, split by direction. */
export interface DirectionalCiphers {
  /** Length cipher for packets we send. */
  sendLength: FSChaCha20;
  /** AEAD for packets we send. */
  sendPacket: FSChaCha20Poly1305;
  /** Length cipher for packets we receive. */
  recvLength: FSChaCha20;
  /** AEAD for packets we receive. */
  recvPacket: FSChaCha20Poly1305;
}

/** Options for {@linkcode Bip324Cipher}. */
export interface Bip324CipherOptions {
  /** Packets per key: 224 on the wire; other values only for tests against a peer that agrees. */
  rekeyInterval?: number;
  /**
   * ChaCha20-Poly1305 implementation for packets: `"auto"` (default: the
   * runtime's native one where present and faster, else pure TypeScript),
   * `"pure"`, `"native"`, or a custom backend.
   */
  aeadBackend?: AeadBackendKind | AeadBackend;
}

/** Result of {@linkcode Bip324Cipher.decrypt}. */
export interface DecryptedPacket {
  /** The packet's contents (without the header byte). */
  contents: Uint8Array;
  /** Whether the header's ignore bit was set (a decoy packet). */
  ignore: boolean;
}

/**
 * One side's BIP324 packet cipher.
 *
 * @example Two peers agree on a session id and exchange a packet
 * ```ts
 * import { Bip324Cipher } from "@bip324/bip324";
 * const alice = Bip324Cipher.create(), bob = Bip324Cipher.create();
 * alice.initialize(bob.ourEllswift, true, "regtest");
 * bob.initialize(alice.ourEllswift, false, "regtest");
 * const packet = alice.encrypt(new Uint8Array([1, 2, 3]));
 * const length = bob.decryptLength(packet.subarray(0, 3));
 * const { contents } = bob.decrypt(packet.subarray(3));
 * console.assert(length === 3 && contents[2] === 3);
 * console.assert(alice.sessionId.every((v, i) => v === bob.sessionId[i]));
 * ```
 */
export class Bip324Cipher {
  static {
    secretBuffersOf = (c) =>
      [c.#privateKey, c.#sendTerminator, c.#recvTerminator].filter((b) => b !== undefined);
  }

  #privateKey: Uint8Array;
  #ourEllswift: Uint8Array;
  #sessionId?: Uint8Array;
  #sendTerminator?: Uint8Array;
  #recvTerminator?: Uint8Array;
  #ciphers?: DirectionalCiphers;
  #rekeyInterval: number;
  #backend: AeadBackendKind | AeadBackend;

  /**
   * Wraps an existing key pair: a 32-byte private key and the 64-byte
   * ElligatorSwift encoding of its public key (as from `ellswiftCreate`).
   * `options` may also be a number: the rekey interval (tests only; the wire uses 224).
   */
  constructor(
    privateKey: Uint8Array,
    ellswiftOurs: Uint8Array,
    options: number | Bip324CipherOptions = {},
  ) {
    this.#privateKey = checkBytes("privateKey", privateKey, 32).slice();
    this.#ourEllswift = checkBytes("ellswiftOurs", ellswiftOurs, 64).slice();
    const opts = typeof options === "number" ? { rekeyInterval: options } : options;
    this.#rekeyInterval = opts.rekeyInterval ?? REKEY_INTERVAL;
    this.#backend = opts.aeadBackend ?? "auto";
  }

  /** A cipher with a fresh random key pair. */
  static create(options: number | Bip324CipherOptions = {}): Bip324Cipher {
    for (;;) {
      const priv = randomBytes(32);
      try {
        return new Bip324Cipher(priv, ellswiftCreate(priv), options);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e; // out-of-range scalar: draw again
      } finally {
        wipe(priv);
      }
    }
  }

  /** Our 64-byte ElligatorSwift public key, to send first. */
  get ourEllswift(): Uint8Array {
    return this.#ourEllswift;
  }

  /** The 32-byte session id. Throws before {@linkcode Bip324Cipher.initialize}. */
  get sessionId(): Uint8Array {
    return this.#need(this.#sessionId);
  }

  /** The 16 bytes we send after our garbage. */
  get sendGarbageTerminator(): Uint8Array {
    return this.#need(this.#sendTerminator);
  }

  /** The 16 bytes that end the peer's garbage. */
  get receiveGarbageTerminator(): Uint8Array {
    return this.#need(this.#recvTerminator);
  }

  /** Whether {@linkcode Bip324Cipher.initialize} has run. */
  get initialized(): boolean {
    return this.#ciphers !== undefined;
  }

  /**
   * Runs ECDH against the peer's 64-byte encoding and the key schedule, then
   * wipes our private key. `network` (default mainnet) must match the peer's.
   *
   * Arguments are checked first (a `TypeError`/`RangeError` there leaves the
   * cipher as it was). Once the computation starts, the private key, the
   * shared secret and every intermediate key buffer are zeroed whatever
   * happens; if it fails (e.g. the private key is not a valid scalar:
   * `RangeError`), the cipher is destroyed.
   */
  initialize(
    theirEllswift: Uint8Array,
    initiating: boolean,
    network: Network | Uint8Array = "mainnet",
  ): void {
    if (this.#ciphers) throw new TypeError("cipher is already initialized");
    checkBytes("theirEllswift", theirEllswift, 64);
    if (typeof initiating !== "boolean") throw new TypeError("initiating must be a boolean");
    magicView(network); // throws TypeError for an unknown network, before any secret exists
    const { secret, keys } = SCRATCH;
    const built: { destroy(): void }[] = [];
    try {
      v2Ecdh(this.#privateKey, theirEllswift, this.#ourEllswift, initiating, secret);
      deriveSessionKeys(secret, initiating, network, keys);
      const interval = this.#rekeyInterval, backend = this.#backend;
      // The four ciphers keep their keys (and the length ciphers their keystream) in one
      // allocation: off the garbage-collected heap (never moved, so never copied), and one
      // buffer per session instead of four.
      const L = FSCHACHA20_STATE_LEN, storage = new Uint8Array(2 * L + 64);
      const region = (at: number) => storage.subarray(at);
      const make = <T extends { destroy(): void }>(cipher: () => T): T => {
        const c = cipher();
        built.push(c);
        return c;
      };
      const ciphers: DirectionalCiphers = {
        sendLength: make(() => new FSChaCha20(keys.sendLengthKey, interval, region(0))),
        sendPacket: make(() =>
          new FSChaCha20Poly1305(keys.sendPacketKey, interval, {
            backend,
            keyStorage: region(2 * L),
          })
        ),
        recvLength: make(() => new FSChaCha20(keys.recvLengthKey, interval, region(L))),
        recvPacket: make(() =>
          new FSChaCha20Poly1305(keys.recvPacketKey, interval, {
            backend,
            keyStorage: region(2 * L + 32),
          })
        ),
      };
      this.#sessionId = keys.sessionId.slice();
      // Both terminators in one buffer: a session keeps them (to wipe them) as long as it lives.
      const terminators = new Uint8Array(32);
      terminators.set(keys.sendGarbageTerminator, 0);
      terminators.set(keys.recvGarbageTerminator, 16);
      this.#sendTerminator = terminators.subarray(0, 16);
      this.#recvTerminator = terminators.subarray(16);
      this.#ciphers = ciphers;
    } catch (error) {
      for (const c of built) c.destroy();
      this.destroy();
      throw error;
    } finally {
      wipe(this.#privateKey, ...scratchBuffers());
    }
  }

  /** The four ciphers, for the stream layers to take over after the handshake. */
  get ciphers(): DirectionalCiphers {
    return this.#need(this.#ciphers);
  }

  /**
   * Encrypts one packet: returns `3 + 1 + contents.length + 16` bytes.
   * `aad` authenticates our garbage on the first packet; `ignore` makes it a decoy.
   * With `out`, the packet is written there (it must be large enough) and a view returned.
   */
  encrypt(
    contents: Uint8Array,
    aad: Uint8Array = EMPTY,
    ignore = false,
    out?: Uint8Array,
  ): Uint8Array {
    return encryptPacket(this.ciphers, contents, aad, ignore, out);
  }

  /** Decrypts a 3-byte length field and returns the contents length it encodes. */
  decryptLength(encryptedLength: Uint8Array): number {
    checkBytes("encryptedLength", encryptedLength, LENGTH_FIELD_LEN);
    return this.ciphers.recvLength.decryptLength(encryptedLength);
  }

  /**
   * Decrypts the rest of a packet (header + contents + tag, i.e.
   * `decryptLength(...) + 17` bytes). A bad tag throws {@linkcode Bip324Error} `DECRYPTION`.
   */
  decrypt(ciphertext: Uint8Array, aad: Uint8Array = EMPTY): DecryptedPacket {
    return decryptPacket(this.ciphers, ciphertext, aad);
  }

  /**
   * Wipes every secret the cipher holds: the private key, the four ciphers'
   * keys and keystream, and both garbage terminators. The cipher is unusable
   * afterwards. Idempotent. (The session id is not secret and is kept.)
   */
  destroy(): void {
    wipe(this.#privateKey, this.#sendTerminator, this.#recvTerminator);
    if (this.#ciphers) {
      this.#ciphers.sendLength.destroy();
      this.#ciphers.sendPacket.destroy();
      this.#ciphers.recvLength.destroy();
      this.#ciphers.recvPacket.destroy();
    }
  }

  #need<T>(value: T | undefined): T {
    if (value === undefined) throw new TypeError("cipher is not initialized: call initialize()");
    return value;
  }
}

/**
 * Encrypts one whole packet with a session's outbound ciphers into `out`
 * (default: a new array of exactly the packet's size).
 */
export function encryptPacket(
  ciphers: DirectionalCiphers,
  contents: Uint8Array,
  aad: Uint8Array = EMPTY,
  ignore = false,
  out?: Uint8Array,
): Uint8Array {
  checkBytes("contents", contents);
  if (contents.length > MAX_CONTENTS_LENGTH) {
    throw new RangeError(`contents must be at most ${MAX_CONTENTS_LENGTH} bytes`);
  }
  const size = contents.length + PACKET_OVERHEAD;
  if (out === undefined) out = new Uint8Array(size);
  else if (checkBytes("out", out).length < size) {
    throw new RangeError(`out must be at least ${size} bytes, got ${out.length}`);
  }
  const body = out.subarray(LENGTH_FIELD_LEN, size);
  body[0] = ignore ? IGNORE_BIT : 0;
  body.set(contents, HEADER_LEN);
  ciphers.sendPacket.encrypt(aad, body.subarray(0, HEADER_LEN + contents.length), body);
  ciphers.sendLength.encryptLength(contents.length, out, 0);
  return out.length === size ? out : out.subarray(0, size);
}

/** Decrypts a packet body (header + contents + tag) with a session's inbound AEAD. */
export function decryptPacket(
  ciphers: DirectionalCiphers,
  ciphertext: Uint8Array,
  aad: Uint8Array = EMPTY,
): DecryptedPacket {
  checkBytes("ciphertext", ciphertext);
  if (ciphertext.length < HEADER_LEN + TAG_LEN) {
    throw new Bip324Error("DECRYPTION", "packet shorter than header and tag");
  }
  const plaintext = ciphers.recvPacket.decrypt(aad, ciphertext);
  return { contents: plaintext.subarray(HEADER_LEN), ignore: (plaintext[0] & IGNORE_BIT) !== 0 };
}
