/**
 * The handshake's last phase, after the peer's garbage terminator: decoy
 * packets (any number, authenticated as they stream in, never held) and then
 * the version packet. Sans-I/O like the rest of the handshake: feed it bytes,
 * it returns what it did not consume. Internal to {@linkcode Handshake}.
 *
 * @module
 */

import { growBuffer, wipe } from "../bytes.ts";
import { Bip324Error } from "../errors.ts";
import { LENGTH_FIELD_LEN } from "../length/length_cipher.ts";
import { TAG_LEN } from "../aead/aead.ts";
import {
  decryptPacket,
  type DirectionalCiphers,
  HEADER_LEN,
  IGNORE_BIT,
} from "../packet_cipher.ts";
import type { StreamingOpen } from "../crypto/streaming_open.ts";
import { MAX_KEPT_VERSION_CONTENTS } from "./handshake_options.ts";

const EMPTY = new Uint8Array(0);
/** What a version packet being gathered may hold before its length is known to be needed. */
const FIRST_BODY_BUFFER = 64 * 1024;

/**
 * Reads decoys and the version packet. Holds at most a length field (3 bytes)
 * and the version packet being gathered (≤ {@linkcode MAX_KEPT_VERSION_CONTENTS}
 * plus header and tag); a decoy, or a version packet too long to keep, is
 * authenticated as it streams and its contents are dropped.
 */
export class VersionPhase {
  #ciphers: DirectionalCiphers;
  #maxMessageSize: number;
  #garbage: Uint8Array; // the peer's garbage: the first packet's AAD
  #field = new Uint8Array(LENGTH_FIELD_LEN);
  #fieldHave = 0;
  #bodyTotal = -1; // body bytes (header + contents + tag) of the packet being read, or -1
  #bodyHave = 0;
  #body?: Uint8Array; // the version packet being gathered
  #streaming?: StreamingOpen; // a decoy (or an over-long version packet) being authenticated
  #streamingVersion = false;
  #packets = 0;
  /** Decoys received so far. */
  decoys = 0;
  /** The peer's version contents once the version packet has arrived (empty when dropped). */
  version?: Uint8Array;

  /** Reads with the session's receiving ciphers; `garbage` is the peer's garbage (first AAD). */
  constructor(ciphers: DirectionalCiphers, maxMessageSize: number, garbage: Uint8Array) {
    this.#ciphers = ciphers;
    this.#maxMessageSize = maxMessageSize;
    this.#garbage = garbage;
  }

  /** Bytes held between calls: a partial length field and the version packet gathered so far. */
  get buffered(): number {
    return this.#fieldHave + (this.#body !== undefined ? this.#bodyHave : 0);
  }

  /**
   * Consumes packets from `input` until it runs out or the version packet is
   * complete ({@linkcode VersionPhase.version} set); returns the unread rest.
   * Throws `Bip324Error` `OVERSIZED` or `DECRYPTION` when the peer broke the protocol.
   */
  read(input: Uint8Array): Uint8Array {
    const { recvLength, recvPacket } = this.#ciphers;
    let i = 0;
    while (i < input.length) {
      if (this.#bodyTotal < 0) {
        while (this.#fieldHave < LENGTH_FIELD_LEN && i < input.length) {
          this.#field[this.#fieldHave++] = input[i++];
        }
        if (this.#fieldHave < LENGTH_FIELD_LEN) return input.subarray(i);
        this.#fieldHave = 0;
        const length = recvLength.decryptLength(this.#field, 0);
        if (length > this.#maxMessageSize) {
          throw new Bip324Error(
            "OVERSIZED",
            `peer announced a ${length}-byte packet (limit ${this.#maxMessageSize})`,
          );
        }
        this.#bodyTotal = HEADER_LEN + length + TAG_LEN;
        this.#bodyHave = 0;
        continue;
      }
      const aad = this.#packets === 0 ? this.#garbage : EMPTY;
      if (this.#bodyHave === 0 && this.#streaming === undefined && this.#body === undefined) {
        // The header byte tells a decoy before the rest of the packet arrives.
        if (recvPacket.peekFirstByte(input[i]) & IGNORE_BIT) {
          this.#streaming = recvPacket.decryptStreaming(aad, this.#bodyTotal);
          this.#streamingVersion = false;
        } else if (this.#bodyTotal - HEADER_LEN - TAG_LEN > MAX_KEPT_VERSION_CONTENTS) {
          // A version packet too large to keep: authenticated as it streams, contents dropped
          // (receivers ignore them, BIP324), so a pending handshake holds nothing for it.
          this.#streaming = recvPacket.decryptStreaming(aad, this.#bodyTotal);
          this.#streamingVersion = true;
        } else {
          this.#body = new Uint8Array(Math.min(this.#bodyTotal, FIRST_BODY_BUFFER));
        }
      }
      const take = Math.min(input.length - i, this.#bodyTotal - this.#bodyHave);
      const piece = input.subarray(i, i + take);
      i += take;
      if (this.#streaming) {
        this.#streaming.update(piece);
      } else {
        const need = this.#bodyHave + take;
        this.#body = growBuffer(this.#body, this.#bodyHave, need, this.#bodyTotal);
        this.#body.set(piece, this.#bodyHave);
      }
      this.#bodyHave += take;
      if (this.#bodyHave < this.#bodyTotal) return input.subarray(i);
      this.#bodyTotal = -1;
      this.#packets++;
      if (this.#streaming) {
        const ok = this.#streaming.finish();
        this.#streaming = undefined;
        if (!ok) throw new Bip324Error("DECRYPTION", "packet authentication failed (bad tag)");
        if (this.#streamingVersion) {
          this.version = EMPTY;
          return input.subarray(i);
        }
        this.decoys++;
        continue;
      }
      const body = this.#body!;
      this.#body = undefined;
      const { contents } = decryptPacket(this.#ciphers, body, aad);
      this.version = contents.length === 0 ? EMPTY : contents.slice();
      return input.subarray(i);
    }
    return input.subarray(i);
  }

  /** Drops what is held: a streaming decoy's keystream state and a version packet being gathered. */
  destroy(): void {
    this.#streaming?.destroy();
    this.#streaming = undefined;
    wipe(this.#body);
    this.#body = undefined;
  }
}
