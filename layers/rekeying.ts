/**
 * The rekey schedule both BIP324 ciphers share: every 224 packets (chunks for
 * the length cipher) the key is replaced by fresh keystream and the epoch
 * counter, which forms the upper 8 bytes of the nonce, goes up by one.
 *
 * This module only counts; it holds no key. {@linkcode FSChaCha20} and
 * {@linkcode FSChaCha20Poly1305} each own one schedule and ask it, after every
 * packet, whether to rekey.
 *
 * @module
 */

/** Packets per key, fixed on the wire by BIP324. */
export const REKEY_INTERVAL = 224;

/**
 * Counts packets and tells when a key epoch ends.
 *
 * @example
 * ```ts
 * import { RekeySchedule } from "@bip324/bip324/cipher";
 * const schedule = new RekeySchedule();
 * let rekeys = 0;
 * for (let i = 0; i < 448; i++) if (schedule.advance()) rekeys++;
 * console.assert(rekeys === 2 && schedule.epoch === 2 && schedule.index === 0);
 * ```
 */
export class RekeySchedule {
  /** Packets per epoch (224 on the wire; smaller values only make sense in tests). */
  readonly interval: number;
  #index = 0;
  #epoch = 0;

  /** Creates a schedule; `interval` defaults to {@linkcode REKEY_INTERVAL}. */
  constructor(interval: number = REKEY_INTERVAL) {
    if (!Number.isInteger(interval) || interval < 1) {
      throw new RangeError(`interval must be a positive integer, got ${interval}`);
    }
    this.interval = interval;
  }

  /** Position of the current packet within its epoch (0 ≤ index < interval). */
  get index(): number {
    return this.#index;
  }

  /** Number of rekeys done so far. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Whether the current packet is the last one of its epoch. */
  get isLastInEpoch(): boolean {
    return this.#index === this.interval - 1;
  }

  /**
   * Moves past the current packet. Returns `true` when that packet ended an
   * epoch, i.e. the caller must rekey now (before the next packet).
   */
  advance(): boolean {
    if (this.#index === this.interval - 1) {
      this.#index = 0;
      this.#epoch++;
      return true;
    }
    this.#index++;
    return false;
  }

  /**
   * Writes the 8-byte little-endian epoch counter into `out` at `offset`,
   * as both ciphers' nonces need it.
   */
  writeEpoch(out: Uint8Array, offset: number): void {
    const e = this.#epoch;
    // The low 32 bits (`>>> 0` is e mod 2^32 for any safe integer), then the rest; each store
    // keeps the low byte of what it is given.
    const lo = e >>> 0, hi = (e - lo) / 4294967296;
    out[offset] = lo;
    out[offset + 1] = lo >>> 8;
    out[offset + 2] = lo >>> 16;
    out[offset + 3] = lo >>> 24;
    out[offset + 4] = hi;
    out[offset + 5] = hi >>> 8;
    out[offset + 6] = hi >>> 16;
    out[offset + 7] = hi >>> 24;
  }
}
