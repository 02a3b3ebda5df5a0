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

import { bytesEqual, checkBytes, concatBytes, growBuffer, wipe } from "../bytes.ts";
import { GARBAGE_TERMINATOR_LEN } from "./key_schedule.ts";
import { Bip324Error } from "../errors.ts";
import { type Network, networkMagic } from "../bitcoin/network.ts";
import { Bip324Cipher, encryptPacket } from "../packet_cipher.ts";
import { VersionPhase } from "./version_phase.ts";

import {
  DEFAULT_MAX_MESSAGE_SIZE,
  ELLSWIFT_LEN,
  type HandshakeOptions,
  type HandshakeResult,
  type HandshakeState,
  makeGarbage,
  MAX_GARBAGE_LEN,
  type Role,
} from "./handshake_options.ts";

export {
  DEFAULT_MAX_MESSAGE_SIZE,
  ELLSWIFT_LEN,
  MAX_GARBAGE_LEN,
  MAX_KEPT_VERSION_CONTENTS,
} from "./handshake_options.ts";
export type {
  HandshakeOptions,
  HandshakeResult,
  HandshakeState,
  Role,
} from "./handshake_options.ts";

const EMPTY = new Uint8Array(0);
const V1_VERSION_COMMAND = new TextEncoder().encode("version\0\0\0\0\0");
const V1_PREFIX_LEN = 16;

/**
 * One side of a BIP324 handshake, without I/O.
 *
 * @example The 1.5 round trips, with the machines talking to each other directly
 * ```ts
 * import { Handshake } from "@bip324/bip324/layers";
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
  // What the machine holds between calls is bounded: the peer's key (64), the garbage and its
  // terminator (≤ 4,111), a length field (3), and the version packet being gathered (≤ the
  // message size limit). Decoys are authenticated as they stream in and never held.
  #key = new Uint8Array(ELLSWIFT_LEN);
  #keyHave = 0;
  #prefixChecked = 0;
  #garbageBuf?: Uint8Array;
  #garbageHave = 0;
  #scanFrom = 0; // garbage positions already searched for the terminator (never rescanned)
  #garbageReceived?: Uint8Array;
  #packets?: VersionPhase; // decoys and the version packet, once the terminator was found
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

  /**
   * Bytes of the peer's stream held between calls: its key, garbage and
   * terminator (at most 4,111), a length field, and the version packet being
   * gathered. Decoys are never held.
   */
  get buffered(): number {
    return (this.#state === "prefix" || this.#state === "key" ? this.#keyHave : 0) +
      (this.#state === "garbage" ? this.#garbageHave : 0) + (this.#packets?.buffered ?? 0);
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
    const out: Uint8Array[] = [];
    let input = bytes;
    try {
      while (input.length > 0 && !this.done) input = this.#step(input, out);
    } catch (error) {
      this.destroy();
      throw error;
    }
    if (this.done) this.#result!.leftover = input;
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
    this.#packets?.destroy();
    wipe(this.#garbage, this.#key, this.#garbageBuf);
  }

  /** Consumes a prefix of `input` for the current state; returns what is left of it. */
  #step(input: Uint8Array, out: Uint8Array[]): Uint8Array {
    switch (this.#state) {
      case "prefix":
        return this.#checkPrefix(input, out);
      case "key":
        return this.#readKey(input, out);
      case "garbage":
        return this.#findTerminator(input);
      default:
        return this.#readPackets(input);
    }
  }

  /** Responder: compare the first 16 bytes with magic + "version\0…" (Core's v1 detection). */
  #checkPrefix(input: Uint8Array, out: Uint8Array[]): Uint8Array {
    let i = 0;
    while (this.#prefixChecked < V1_PREFIX_LEN && i < input.length) {
      const at = this.#prefixChecked;
      const expected = at < 4 ? this.#magic[at] : V1_VERSION_COMMAND[at - 4];
      if (input[i] !== expected) {
        // Not a v1 peer of our network: answer with our key and garbage right away; the bytes
        // checked so far are the start of the peer's key.
        out.push(concatBytes(this.#cipher.ourEllswift, this.#garbage));
        this.#state = "key";
        return input.subarray(i);
      }
      this.#key[this.#keyHave++] = input[i++];
      this.#prefixChecked++;
    }
    if (this.#prefixChecked === V1_PREFIX_LEN) {
      throw new Bip324Error("V1_PROTOCOL", "peer sent a v1 version message", {
        v1Bytes: concatBytes(this.#key.subarray(0, this.#keyHave), input.subarray(i)),
      });
    }
    return input.subarray(i);
  }

  #readKey(input: Uint8Array, out: Uint8Array[]): Uint8Array {
    const before = this.#keyHave;
    const take = Math.min(input.length, ELLSWIFT_LEN - before);
    this.#key.set(input.subarray(0, take), before);
    this.#keyHave += take;
    if (this.role === "responder" && before < V1_PREFIX_LEN && this.#keyHave >= V1_PREFIX_LEN) {
      // A v1 version message with another network's magic (BIP324: may disconnect).
      if (bytesEqual(this.#key.subarray(4, V1_PREFIX_LEN), V1_VERSION_COMMAND)) {
        throw new Bip324Error(
          "WRONG_NETWORK",
          "peer sent a v1 version message for another network",
        );
      }
    }
    if (this.#keyHave < ELLSWIFT_LEN) return input.subarray(take);
    this.#cipher.initialize(this.#key, this.role === "initiator", this.#network);
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
    return input.subarray(take);
  }

  /**
   * Linear scan for the peer's terminator, in at most 4,095 + 16 bytes held here; positions
   * already searched are never searched again, and nothing past the limit is ever copied.
   */
  #findTerminator(input: Uint8Array): Uint8Array {
    const limit = MAX_GARBAGE_LEN + GARBAGE_TERMINATOR_LEN;
    const have = this.#garbageHave;
    const take = Math.min(input.length, limit - have);
    const buf = this.#garbageBuf = growBuffer(this.#garbageBuf, have, have + take, limit);
    buf.set(input.subarray(0, take), have);
    this.#garbageHave = have + take;
    const terminator = this.#cipher.receiveGarbageTerminator;
    const lastStart = this.#garbageHave - GARBAGE_TERMINATOR_LEN;
    for (let p = this.#scanFrom; p <= lastStart; p++) {
      let match = true;
      for (let j = 0; j < GARBAGE_TERMINATOR_LEN; j++) {
        if (buf[p + j] !== terminator[j]) {
          match = false;
          break;
        }
      }
      if (match) {
        this.#garbageReceived = buf.slice(0, p);
        this.#packets = new VersionPhase(
          this.#cipher.ciphers,
          this.#maxMessageSize,
          this.#garbageReceived,
        );
        this.#state = "version";
        // Bytes after the terminator that we already copied come first, then the rest.
        const after = buf.subarray(p + GARBAGE_TERMINATOR_LEN, this.#garbageHave);
        const rest = input.subarray(take);
        return after.length === 0 ? rest : concatBytes(after, rest);
      }
    }
    this.#scanFrom = Math.max(this.#scanFrom, lastStart + 1);
    if (this.#garbageHave >= limit) {
      throw new Bip324Error(
        "NO_GARBAGE_TERMINATOR",
        `no garbage terminator within ${MAX_GARBAGE_LEN} bytes of garbage: is the peer on ` +
          "another network? (the network is part of the key derivation; both ends must use " +
          "the same)",
      );
    }
    return input.subarray(take);
  }

  /** Decoys (authenticated as they stream, never held) until the version packet. */
  #readPackets(input: Uint8Array): Uint8Array {
    const phase = this.#packets!;
    const rest = phase.read(input);
    if (phase.version !== undefined) this.#finish(phase.version);
    return rest;
  }

  #finish(peerVersionContents: Uint8Array): void {
    this.#state = "done";
    this.#result = {
      role: this.role,
      cipher: this.#cipher,
      sessionId: this.#cipher.sessionId,
      peerVersionContents,
      leftover: EMPTY,
      garbageSent: this.#garbage.length,
      decoysSent: this.#decoys,
      garbageReceived: this.#garbageReceived!.length,
      decoysReceived: this.#packets!.decoys,
    };
  }
}
