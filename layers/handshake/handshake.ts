/**
 * The BIP324 handshake as a sans-I/O state machine: feed it the bytes the
 * peer sent, send whatever it hands back, repeat until it is done. It never
 * reads, writes, waits or times out itself; {@linkcode performHandshake}
 * in `driver.ts` does that over a byte stream.
 *
 * States, in order: `prefix` (responder only: is this a v1 peer?) → `key`
 * (waiting for the peer's 64-byte key) → `garbage` (scanning for the peer's
 * garbage terminator) → `version` (decoys, then the version packet) → `done`.
 * Incomplete input is never an error: the machine just waits for more.
 *
 * @module
 */

import { ByteQueue } from "../byte_queue.ts";
import { bytesEqual, checkBytes, concatBytes, randomBytes, wipe } from "../bytes.ts";
import { Bip324Error } from "../errors.ts";
import { LENGTH_FIELD_LEN } from "../length/length_cipher.ts";
import { TAG_LEN } from "../aead/aead.ts";
import { type Network, networkMagic } from "../bitcoin/network.ts";
import { Bip324Cipher, decryptPacket, encryptPacket, HEADER_LEN } from "../packet_cipher.ts";
import { GARBAGE_TERMINATOR_LEN } from "./key_schedule.ts";
import type { AeadBackend, AeadBackendKind } from "../crypto/backend.ts";

/** Largest garbage a peer may send before its terminator. */
export const MAX_GARBAGE_LEN = 4095;
/** Bytes of an ElligatorSwift public key on the wire. */
export const ELLSWIFT_LEN = 64;
/** Bitcoin Core's largest packet contents: 1 + 12 (type) + 4,000,000 (payload). */
export const DEFAULT_MAX_MESSAGE_SIZE = 4_000_013;

const V1_VERSION_COMMAND = new TextEncoder().encode("version\0\0\0\0\0");
const V1_PREFIX_LEN = 16;

/** Which end of the connection we are. */
export type Role = "initiator" | "responder";

/** The machine's state (see the module doc). */
export type HandshakeState = "prefix" | "key" | "garbage" | "version" | "done";

/** Options for {@linkcode Handshake}. */
export interface HandshakeOptions {
  /** Initiator (we connected) or responder (we accepted). */
  role: Role;
  /** The network, which must match the peer's. Default `"mainnet"`. */
  network?: Network | Uint8Array;
  /**
   * Garbage to send after our key: a length (random bytes of that length), the
   * bytes themselves, or omitted for a random length uniform in 0..4095.
   */
  garbage?: number | Uint8Array;
  /** Contents lengths of decoy packets to send before our version packet. Default none. */
  decoys?: readonly number[];
  /** Contents of our version packet. Default empty (this protocol version). */
  versionContents?: Uint8Array;
  /** Largest packet contents accepted from the peer. Default 4,000,013 (Bitcoin Core). */
  maxMessageSize?: number;
  /** Our key pair; default a fresh random one. For tests and vectors. */
  cipher?: Bip324Cipher;
  /** Packets per key; fixed at 224 on the wire. Only for tests against peers that agree. */
  rekeyInterval?: number;
  /** Packet AEAD implementation: `"auto"` (default), `"pure"`, `"native"` or a custom backend. */
  aeadBackend?: AeadBackendKind | AeadBackend;
}

/** What a finished handshake hands to the session. */
export interface HandshakeResult {
  /** Our role. */
  role: Role;
  /** The initialized cipher (the session takes its ciphers over). */
  cipher: Bip324Cipher;
  /** 32-byte session id, equal on both ends. */
  sessionId: Uint8Array;
  /** The peer's version packet contents (empty today; reserved for upgrades). */
  peerVersionContents: Uint8Array;
  /** Bytes received after the peer's version packet: the start of the session's stream. */
  leftover: Uint8Array;
  /** How many garbage bytes we sent. */
  garbageSent: number;
  /** Contents lengths of the decoys we sent. */
  decoysSent: number[];
  /** How many garbage bytes the peer sent. */
  garbageReceived: number;
  /** How many decoy packets the peer sent before its version packet. */
  decoysReceived: number;
}

/**
 * One side of a BIP324 handshake, without I/O.
 *
 * @example The 1.5 round trips, with the machines talking to each other directly
 * ```ts
 * import { Handshake } from "./handshake.ts";
 * const a = new Handshake({ role: "initiator", network: "regtest" });
 * const b = new Handshake({ role: "responder", network: "regtest" });
 * const keyAndGarbage = a.start(); // initiator: key + garbage
 * b.start(); // responder: nothing until the peer's first byte
 * const reply = b.receive(keyAndGarbage); // key + garbage + terminator + version packet
 * const last = a.receive(reply); // terminator + version packet; `a` is done
 * b.receive(last); // `b` is done
 * console.assert(a.done && b.done);
 * console.assert(a.result().sessionId.every((v, i) => v === b.result().sessionId[i]));
 * ```
 */
export class Handshake {
  /** Our role. */
  readonly role: Role;
  #state: HandshakeState;
  #magic: Uint8Array;
  #network: Network | Uint8Array;
  #cipher: Bip324Cipher;
  #garbage: Uint8Array;
  #decoys: number[];
  #versionContents: Uint8Array;
  #maxMessageSize: number;
  #queue = new ByteQueue(256);
  #received = 0; // bytes of the peer's stream consumed from the queue so far
  #prefixChecked = 0;
  #theirKey?: Uint8Array;
  #scanFrom = 0; // garbage bytes already searched for the terminator (never rescanned)
  #garbageReceived?: Uint8Array;
  #pendingLength = -1;
  #decoysReceived = 0;
  #result?: HandshakeResult;
  #started = false;
  #failed = false;

  /** Prepares a handshake; nothing is sent until {@linkcode Handshake.start}. */
  constructor(options: HandshakeOptions) {
    if (options?.role !== "initiator" && options?.role !== "responder") {
      throw new TypeError(`role must be "initiator" or "responder", got ${options?.role}`);
    }
    this.role = options.role;
    this.#network = options.network ?? "mainnet";
    this.#magic = networkMagic(this.#network);
    this.#garbage = makeGarbage(options.garbage);
    this.#decoys = [...(options.decoys ?? [])];
    for (const d of this.#decoys) {
      if (!Number.isInteger(d) || d < 0 || d > 0xffffff) {
        throw new RangeError(`decoys must be contents lengths 0..16777215, got ${d}`);
      }
    }
    this.#versionContents = options.versionContents === undefined
      ? new Uint8Array(0)
      : checkBytes("versionContents", options.versionContents).slice();
    const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!Number.isInteger(max) || max < 0 || max > 0xffffff) {
      throw new RangeError(`maxMessageSize must be an integer 0..16777215, got ${max}`);
    }
    this.#maxMessageSize = max;
    this.#cipher = options.cipher ??
      Bip324Cipher.create({
        rekeyInterval: options.rekeyInterval,
        aeadBackend: options.aeadBackend,
      });
    this.#state = this.role === "responder" ? "prefix" : "key";
  }

  /** The current state. */
  get state(): HandshakeState {
    return this.#state;
  }

  /** Whether the handshake has finished (then call {@linkcode Handshake.result}). */
  get done(): boolean {
    return this.#state === "done";
  }

  /** Garbage bytes we send. */
  get garbageLength(): number {
    return this.#garbage.length;
  }

  /**
   * Returns the first bytes to send: the initiator's key + garbage. The
   * responder sends nothing before it has seen the peer's first byte, so it
   * gets an empty array.
   */
  start(): Uint8Array {
    if (this.#started) throw new TypeError("start() was already called");
    this.#started = true;
    if (this.role === "initiator") return concatBytes(this.#cipher.ourEllswift, this.#garbage);
    return new Uint8Array(0);
  }

  /**
   * Feeds bytes received from the peer. Returns the bytes to send in reply
   * (often empty). Throws {@linkcode Bip324Error} when the peer broke the
   * protocol; the machine has then already wiped its keys
   * ({@linkcode Handshake.destroy}) and accepts no more input.
   */
  receive(bytes: Uint8Array): Uint8Array {
    checkBytes("bytes", bytes);
    if (!this.#started) throw new TypeError("call start() before receive()");
    if (this.#failed) throw new TypeError("handshake has failed or was destroyed");
    if (this.#state === "done") throw new TypeError("handshake is already done");
    this.#queue.push(bytes);
    const out: Uint8Array[] = [];
    try {
      for (;;) {
        const before = this.#state as HandshakeState;
        this.#step(out);
        if (this.#state === before || this.done) break;
      }
    } catch (error) {
      this.destroy();
      throw error;
    }
    return out.length === 1 ? out[0] : concatBytes(...out);
  }

  /** The outcome, once {@linkcode Handshake.done}. */
  result(): HandshakeResult {
    if (!this.#result) throw new TypeError("handshake is not done yet");
    return this.#result;
  }

  /**
   * Wipes the key material held by the machine: the cipher (private key, or
   * once the peer's key arrived, every derived key and terminator), the input
   * queue and our garbage. Call it to abandon a handshake (timeout, peer
   * close); {@linkcode Handshake.receive} calls it itself when the peer breaks
   * the protocol. Idempotent; the machine accepts no input afterwards. After
   * {@linkcode Handshake.done} the cipher belongs to the result: destroying the
   * machine then also wipes that cipher.
   */
  destroy(): void {
    this.#failed = true;
    this.#cipher.destroy();
    this.#queue.clear();
    wipe(this.#garbage);
  }

  #step(out: Uint8Array[]): void {
    switch (this.#state) {
      case "prefix":
        return this.#checkPrefix(out);
      case "key":
        return this.#readKey(out);
      case "garbage":
        return this.#findTerminator();
      case "version":
        return this.#readPackets();
    }
  }

  /** Responder: compare the first 16 bytes with magic + "version\0…" (Core's v1 detection). */
  #checkPrefix(out: Uint8Array[]): void {
    const q = this.#queue;
    while (this.#prefixChecked < V1_PREFIX_LEN && this.#prefixChecked < q.length) {
      const i = this.#prefixChecked;
      const expected = i < 4 ? this.#magic[i] : V1_VERSION_COMMAND[i - 4];
      if (q.at(i) !== expected) {
        // Not a v1 peer of our network: answer with our key and garbage right away.
        out.push(concatBytes(this.#cipher.ourEllswift, this.#garbage));
        this.#state = "key";
        return;
      }
      this.#prefixChecked++;
    }
    if (this.#prefixChecked === V1_PREFIX_LEN) {
      throw new Bip324Error("V1_PROTOCOL", "peer sent a v1 version message", {
        v1Bytes: q.peek().slice(),
      });
    }
  }

  #readKey(out: Uint8Array[]): void {
    const q = this.#queue;
    if (this.role === "responder" && q.length >= V1_PREFIX_LEN) {
      // A v1 version message with another network's magic (BIP324: may disconnect).
      if (bytesEqual(q.peek(V1_PREFIX_LEN).subarray(4), V1_VERSION_COMMAND)) {
        throw new Bip324Error(
          "WRONG_NETWORK",
          "peer sent a v1 version message for another network",
        );
      }
    }
    if (q.length < ELLSWIFT_LEN) return;
    this.#theirKey = q.take(ELLSWIFT_LEN);
    this.#received += ELLSWIFT_LEN;
    this.#cipher.initialize(this.#theirKey, this.role === "initiator", this.#network);
    // Terminator, optional decoys, version packet; the first packet carries our garbage as AAD.
    const parts: Uint8Array[] = [this.#cipher.sendGarbageTerminator];
    let aad = this.#garbage;
    for (const length of this.#decoys) {
      parts.push(encryptPacket(this.#cipher.ciphers, new Uint8Array(length), aad, true));
      aad = new Uint8Array(0);
    }
    parts.push(encryptPacket(this.#cipher.ciphers, this.#versionContents, aad, false));
    out.push(concatBytes(...parts));
    this.#state = "garbage";
  }

  /** Linear scan for the peer's terminator; positions already searched are never searched again. */
  #findTerminator(): void {
    const q = this.#queue;
    const terminator = this.#cipher.receiveGarbageTerminator;
    const limit = MAX_GARBAGE_LEN + GARBAGE_TERMINATOR_LEN;
    const available = Math.min(q.length, limit);
    const window = q.peek(available);
    const lastStart = available - GARBAGE_TERMINATOR_LEN;
    for (let p = this.#scanFrom; p <= lastStart; p++) {
      let match = true;
      for (let j = 0; j < GARBAGE_TERMINATOR_LEN; j++) {
        if (window[p + j] !== terminator[j]) {
          match = false;
          break;
        }
      }
      if (match) {
        this.#garbageReceived = q.take(p);
        q.skip(GARBAGE_TERMINATOR_LEN);
        this.#received += p + GARBAGE_TERMINATOR_LEN;
        this.#state = "version";
        return;
      }
    }
    this.#scanFrom = Math.max(this.#scanFrom, lastStart + 1);
    if (q.length >= limit) {
      throw new Bip324Error(
        "NO_GARBAGE_TERMINATOR",
        `no garbage terminator within ${MAX_GARBAGE_LEN} bytes of garbage`,
      );
    }
  }

  /** Decoys (skipped) until the version packet; the first packet authenticates the garbage. */
  #readPackets(): void {
    const q = this.#queue;
    const ciphers = this.#cipher.ciphers;
    for (;;) {
      if (this.#pendingLength < 0) {
        if (q.length < LENGTH_FIELD_LEN) return;
        this.#pendingLength = ciphers.recvLength.decryptLength(q.peek(LENGTH_FIELD_LEN));
        q.skip(LENGTH_FIELD_LEN);
        if (this.#pendingLength > this.#maxMessageSize) {
          throw new Bip324Error(
            "OVERSIZED",
            `peer announced a ${this.#pendingLength}-byte packet (limit ${this.#maxMessageSize})`,
          );
        }
      }
      const bodyLength = HEADER_LEN + this.#pendingLength + TAG_LEN;
      if (q.length < bodyLength) return;
      const body = q.take(bodyLength);
      const first = this.#decoysReceived === 0;
      const aad = first ? this.#garbageReceived! : new Uint8Array(0);
      const { contents, ignore } = decryptPacket(ciphers, body, aad);
      this.#pendingLength = -1;
      if (ignore) {
        this.#decoysReceived++;
        continue;
      }
      this.#finish(contents.slice());
      return;
    }
  }

  #finish(peerVersionContents: Uint8Array): void {
    this.#state = "done";
    this.#result = {
      role: this.role,
      cipher: this.#cipher,
      sessionId: this.#cipher.sessionId,
      peerVersionContents,
      leftover: this.#queue.drain(),
      garbageSent: this.#garbage.length,
      decoysSent: this.#decoys,
      garbageReceived: this.#garbageReceived!.length,
      decoysReceived: this.#decoysReceived,
    };
    this.#queue.clear();
  }
}

function makeGarbage(garbage: number | Uint8Array | undefined): Uint8Array {
  if (garbage === undefined) {
    const r = new Uint16Array(1);
    crypto.getRandomValues(r);
    return randomBytes(r[0] % (MAX_GARBAGE_LEN + 1));
  }
  if (typeof garbage === "number") {
    if (!Number.isInteger(garbage) || garbage < 0 || garbage > MAX_GARBAGE_LEN) {
      throw new RangeError(`garbage must be a length 0..${MAX_GARBAGE_LEN}, got ${garbage}`);
    }
    return randomBytes(garbage);
  }
  checkBytes("garbage", garbage);
  if (garbage.length > MAX_GARBAGE_LEN) {
    throw new RangeError(`garbage must be at most ${MAX_GARBAGE_LEN} bytes, got ${garbage.length}`);
  }
  return garbage.slice();
}
