/**
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the handshake's
 * short inputs, without allocation per call: a streaming {@linkcode Sha256}
 * whose state can be saved and restored (so a fixed prefix, such as a
 * BIP340 tag's 64 bytes or an HMAC key's padded block, is hashed once), and
 * {@linkcode HmacSha256} keyed once for many messages.
 *
 * Secrets: the message schedule and the partial block are module scratch,
 * zeroed after every compression and every digest; a hash's state is zeroed
 * by {@linkcode Sha256.wipe} (and by {@linkcode Sha256.digestInto}).
 *
 * @module
 */

/** Integer cube and square roots, for the constants (FIPS 180-4 §4.2.2, §5.3.3). */
function iroot(n: bigint, k: bigint): bigint {
  let x = 1n << (BigInt(n.toString(2).length) / k + 1n); // above the root
  for (;;) {
    const y = ((k - 1n) * x + n / x ** (k - 1n)) / k;
    if (y >= x) return x;
    x = y;
  }
}

function primes(count: number): number[] {
  const out: number[] = [];
  for (let n = 2; out.length < count; n++) if (out.every((p) => n % p !== 0)) out.push(n);
  return out;
}

/** First 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = Uint32Array.from(primes(64), (p) => Number(iroot(BigInt(p) << 96n, 3n) & 0xffffffffn));
/** First 32 bits of the fractional parts of the square roots of the first 8 primes. */
const IV = Uint32Array.from(primes(8), (p) => Number(iroot(BigInt(p) << 64n, 2n) & 0xffffffffn));

/** The message schedule, shared (compression is synchronous); zeroed after each use. */
const schedule = new Uint32Array(64);

/** The shared message schedule as bytes, for tests that check wiping. Not public API. */
export function sha256ScratchForTests(): Uint8Array[] {
  return [new Uint8Array(schedule.buffer)];
}

/** One compression of the 64 bytes at `block[offset..]` into `h`. */
function compress(h: Uint32Array, block: Uint8Array, offset: number): void {
  const w = schedule;
  for (let i = 0; i < 16; i++, offset += 4) {
    w[i] = (block[offset] << 24) | (block[offset + 1] << 16) | (block[offset + 2] << 8) |
      block[offset + 3];
  }
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15], b = w[i - 2];
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let a = h[0] | 0, b = h[1] | 0, c = h[2] | 0, d = h[3] | 0;
  let e = h[4] | 0, f = h[5] | 0, g = h[6] | 0, hh = h[7] | 0;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    hh = g, g = f, f = e, e = (d + t1) | 0, d = c, c = b, b = a, a = (t1 + t2) | 0;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  w.fill(0);
}

/** A saved hash state: 8 chaining words and the byte count (a multiple of 64). */
export interface Sha256State {
  /** Chaining value. */
  h: Uint32Array;
  /** Bytes hashed so far. */
  length: number;
}

/**
 * Streaming SHA-256. Reusable: {@linkcode Sha256.reset} (or
 * {@linkcode Sha256.restore}) starts a new message.
 *
 * @example
 * ```ts
 * import { Sha256 } from "./sha256.ts";
 * const out = new Uint8Array(32);
 * new Sha256().update(new TextEncoder().encode("abc")).digestInto(out);
 * console.assert(out[0] === 0xba && out[31] === 0xad);
 * ```
 */
export class Sha256 {
  #h = new Uint32Array(8);
  #block = new Uint8Array(64);
  #fill = 0;
  #length = 0;

  constructor() {
    this.reset();
  }

  /** Starts a new message. */
  reset(): this {
    this.#h.set(IV);
    this.#block.fill(0);
    this.#fill = this.#length = 0;
    return this;
  }

  /** Adds bytes to the message. */
  update(data: Uint8Array): this {
    const block = this.#block, n = data.length;
    let i = 0;
    if (this.#fill > 0) {
      const take = Math.min(64 - this.#fill, n);
      block.set(data.subarray(0, take), this.#fill);
      this.#fill += take, i = take;
      if (this.#fill < 64) {
        this.#length += n;
        return this;
      }
      compress(this.#h, block, 0);
      this.#fill = 0;
    }
    for (; i + 64 <= n; i += 64) compress(this.#h, data, i);
    if (i < n) {
      block.set(data.subarray(i), 0);
      this.#fill = n - i;
    }
    this.#length += n;
    return this;
  }

  /**
   * The state after a whole number of blocks, for {@linkcode Sha256.restore}:
   * into `into` (its `h` must hold 8 words), or a new object.
   */
  save(into: Sha256State = { h: new Uint32Array(8), length: 0 }): Sha256State {
    if (this.#fill !== 0) throw new RangeError("save needs a whole number of 64-byte blocks");
    into.h.set(this.#h);
    into.length = this.#length;
    return into;
  }

  /** Continues from a saved state. */
  restore(state: Sha256State): this {
    this.#h.set(state.h);
    this.#length = state.length;
    this.#fill = 0;
    return this;
  }

  /** Pads, writes the 32-byte digest into `out[offset..]`, and wipes the state. */
  digestInto(out: Uint8Array, offset = 0): void {
    const block = this.#block, h = this.#h;
    let fill = this.#fill;
    block[fill++] = 0x80;
    block.fill(0, fill);
    if (fill > 56) {
      compress(h, block, 0);
      block.fill(0);
    }
    const bits = this.#length * 8;
    const high = Math.floor(bits / 0x100000000), low = bits >>> 0;
    block[56] = high >>> 24, block[57] = high >>> 16, block[58] = high >>> 8, block[59] = high;
    block[60] = low >>> 24, block[61] = low >>> 16, block[62] = low >>> 8, block[63] = low;
    compress(h, block, 0);
    for (let i = 0; i < 8; i++, offset += 4) {
      const v = h[i];
      out[offset] = v >>> 24, out[offset + 1] = v >>> 16;
      out[offset + 2] = v >>> 8, out[offset + 3] = v;
    }
    this.wipe();
  }

  /** Zeroes the state and the partial block. */
  wipe(): void {
    this.#h.fill(0);
    this.#block.fill(0);
    this.#fill = this.#length = 0;
  }

  /** The state and partial block as bytes, for tests that check wiping. Not public API. */
  buffersForTests(): Uint8Array[] {
    return [new Uint8Array(this.#h.buffer), this.#block];
  }
}

/**
 * HMAC-SHA256 keyed once for many messages: the padded key blocks are
 * hashed when the key is set, so each MAC of a short message costs two
 * compressions. {@linkcode HmacSha256.setKey} re-keys without allocating.
 *
 * @example
 * ```ts
 * import { HmacSha256 } from "./sha256.ts";
 * const mac = new HmacSha256(new Uint8Array(32).fill(1)), out = new Uint8Array(32);
 * mac.macInto(out, new Uint8Array([1, 2, 3]));
 * mac.wipe();
 * ```
 */
export class HmacSha256 {
  #inner: Sha256State = { h: new Uint32Array(8), length: 0 };
  #outer: Sha256State = { h: new Uint32Array(8), length: 0 };
  #hash = new Sha256();
  /** The padded key, then the inner digest: zeroed after each use. */
  #scratch = new Uint8Array(64);

  /** A MAC keyed with `key`, or unkeyed (all-zero state) until {@linkcode HmacSha256.setKey}. */
  constructor(key?: Uint8Array) {
    if (key !== undefined) this.setKey(key);
    else this.#hash.wipe(); // all zero until keyed
  }

  /** (Re)keys the MAC; a key longer than 64 bytes is hashed first. */
  setKey(key: Uint8Array): this {
    const pad = this.#scratch, hash = this.#hash;
    try {
      pad.fill(0);
      if (key.length > 64) hash.reset().update(key).digestInto(pad);
      else pad.set(key);
      for (let i = 0; i < 64; i++) pad[i] ^= 0x36;
      hash.reset().update(pad).save(this.#inner);
      for (let i = 0; i < 64; i++) pad[i] ^= 0x36 ^ 0x5c;
      hash.reset().update(pad).save(this.#outer);
    } finally {
      pad.fill(0);
      hash.wipe();
    }
    return this;
  }

  /** HMAC of the concatenation of `parts`, into `out` (32 bytes). */
  macInto(out: Uint8Array, ...parts: Uint8Array[]): void {
    const hash = this.#hash.restore(this.#inner), digest = this.#scratch.subarray(0, 32);
    try {
      for (const p of parts) hash.update(p);
      hash.digestInto(digest);
      hash.restore(this.#outer).update(digest).digestInto(out);
    } finally {
      hash.wipe();
      digest.fill(0);
    }
  }

  /** Zeroes the keyed states; the MAC is unusable until keyed again. */
  wipe(): void {
    this.#inner.h.fill(0);
    this.#outer.h.fill(0);
    this.#inner.length = this.#outer.length = 0;
    this.#hash.wipe();
  }

  /** Every buffer the MAC holds key-derived data in, for tests that check wiping. Not public API. */
  buffersForTests(): Uint8Array[] {
    return [
      new Uint8Array(this.#inner.h.buffer),
      new Uint8Array(this.#outer.h.buffer),
      this.#scratch,
      ...this.#hash.buffersForTests(),
    ];
  }
}
