/**
 * The AEAD layer: packet bodies ↔ contents, as two Web Streams
 * `Transformer`s over {@linkcode FSChaCha20Poly1305}.
 *
 * - {@linkcode aeadDecryptor} (inbound): each body is authenticated and
 *   decrypted in place (the body is overwritten); a bad tag fails with
 *   `DECRYPTION`; decoys (any header with the `0x80` bit) are verified and
 *   dropped. A body the length layer streams in pieces is recognised as a
 *   decoy from its first byte and then only authenticated as it passes —
 *   never held — with the tag checked at its end before anything after it
 *   is released; a streamed non-decoy is gathered into one buffer of its exact
 *   length and decrypted there.
 * - {@linkcode aeadEncryptor} (outbound): contents → bodies (header +
 *   ciphertext + tag), sealed in place around contents the layer above
 *   allocated with room for it (in a session, a large message's payload is
 *   encrypted from where the caller has it, never copied into the packet
 *   first); decoys made by the shaping layer get the ignore bit.
 *
 * @module
 */

import { type FSChaCha20Poly1305, type StreamingOpen, TAG_LEN } from "./aead.ts";
import { LENGTH_FIELD_LEN } from "../length/length_cipher.ts";
import { HEADER_LEN, IGNORE_BIT, MAX_CONTENTS_LENGTH } from "../packet_cipher.ts";
import type { Layer } from "../layer.ts";
import { Bip324Error } from "../errors.ts";
import { takeBuffer } from "../buffer_pool.ts";
import {
  type Allocator,
  DECOYS,
  FRAGMENT_STARTS,
  newBuffer,
  OWNED,
  TAILS,
} from "../chunk_marks.ts";

const EMPTY = new Uint8Array(0);
const BODY_OVERHEAD = HEADER_LEN + TAG_LEN;
/** Bytes of a streamed decoy read at once, where the transport reads into a buffer of ours. */
const DECOY_LANDING = 32 * 1024;

/** Options for {@linkcode aeadDecryptor}. */
export interface AeadDecryptorOptions {
  /** Called with the contents length of each decoy dropped. */
  onDecoy?: (contentsLength: number) => void;
}

/**
 * Authenticates and decrypts packet bodies; yields the contents of non-decoy packets.
 *
 * @example
 * ```ts
 * import { aeadDecryptor, aeadEncryptor } from "@bip324/bip324/layers";
 * import { FSChaCha20Poly1305 } from "@bip324/bip324/cipher";
 *
 * const k = new Uint8Array(32);
 * const out = ReadableStream.from([new Uint8Array([1, 2])])
 *   .pipeThrough(new TransformStream(aeadEncryptor(new FSChaCha20Poly1305(k))))
 *   .pipeThrough(new TransformStream(aeadDecryptor(new FSChaCha20Poly1305(k))));
 * console.assert((await out.getReader().read()).value?.[1] === 2);
 * ```
 */
export function aeadDecryptor(
  cipher: FSChaCha20Poly1305,
  options: AeadDecryptorOptions = {},
): Transformer<Uint8Array, Uint8Array> {
  return new AeadDecryptor(cipher, options.onDecoy);
}

/** The decryptor's state; one object, its methods on the prototype. */
class AeadDecryptor implements Transformer<Uint8Array, Uint8Array> {
  readonly #cipher: FSChaCha20Poly1305;
  readonly #onDecoy: ((contentsLength: number) => void) | undefined;
  /** A streamed body in progress: either a decoy being checked, or pieces being gathered. */
  #open: StreamingOpen | undefined;
  #openTotal = 0;
  /** A real message's body being gathered (its bytes so far, up to `#bodyHave`). */
  #body: Uint8Array | undefined;
  #bodyHave = 0;
  /** Where a streamed decoy's next bytes are read (see `landing`); let go of at its end. */
  #decoyLanding: Uint8Array | undefined;

  constructor(cipher: FSChaCha20Poly1305, onDecoy?: (contentsLength: number) => void) {
    this.#cipher = cipher;
    this.#onDecoy = onDecoy;
  }

  transform(chunk: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): void {
    if (this.#open !== undefined) return this.#feedDecoy(chunk);
    if (this.#body !== undefined) return this.#gather(chunk, controller);
    const total = FRAGMENT_STARTS.get(chunk);
    if (total === undefined) return this.#whole(chunk, controller);
    if (total < BODY_OVERHEAD) {
      throw new Bip324Error("DECRYPTION", "packet shorter than header and tag");
    }
    if (this.#cipher.peekFirstByte(chunk[0]) & IGNORE_BIT) {
      this.#open = this.#cipher.decryptStreaming(EMPTY, total);
      this.#openTotal = total;
      return this.#feedDecoy(chunk);
    }
    // A real message: its body is gathered in one buffer of its announced length (within
    // the session's budget: one message being assembled), where the next pieces may land.
    this.#body = takeBuffer(total) ?? new Uint8Array(total);
    this.#bodyHave = 0;
    this.#gather(chunk, controller);
  }

  /**
   * While a body is gathered: the rest of it, where its next piece may be
   * read to. While a decoy streams: one buffer of this decoy's own, read into
   * again and again (its bytes are only authenticated, never kept), so a
   * decoy costs no copy per read.
   */
  landing(): Uint8Array | undefined {
    if (this.#open !== undefined) return this.#decoyLanding ??= new Uint8Array(DECOY_LANDING);
    return this.#body?.subarray(this.#bodyHave);
  }

  flush(): void {
    if (this.#open !== undefined || this.#body !== undefined) {
      this.#open?.destroy();
      throw new Bip324Error("UNEXPECTED_EOF", "peer closed the connection inside a packet");
    }
  }

  #whole(body: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): void {
    if (body.length < BODY_OVERHEAD) {
      throw new Bip324Error("DECRYPTION", "packet shorter than header and tag");
    }
    const plaintext = this.#cipher.decrypt(EMPTY, body, body);
    if (plaintext[0] & IGNORE_BIT) {
      this.#onDecoy?.(plaintext.length - HEADER_LEN);
      return;
    }
    controller.enqueue(plaintext.subarray(HEADER_LEN));
  }

  #feedDecoy(piece: Uint8Array): void {
    const open = this.#open!;
    open.update(piece);
    if (open.remaining > 0) return;
    const ok = open.finish();
    this.#open = undefined;
    this.#decoyLanding = undefined;
    if (!ok) throw new Bip324Error("DECRYPTION", "decoy packet authentication failed (bad tag)");
    this.#onDecoy?.(this.#openTotal - BODY_OVERHEAD);
  }

  #gather(piece: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): void {
    const body = this.#body!;
    // A piece read straight into its place (see landing()) needs no copy.
    if (piece.buffer !== body.buffer || piece.byteOffset !== body.byteOffset + this.#bodyHave) {
      body.set(piece, this.#bodyHave);
    }
    this.#bodyHave += piece.length;
    if (this.#bodyHave < body.length) return;
    this.#body = undefined;
    this.#whole(body, controller);
  }
}

/** Options for {@linkcode aeadEncryptor}. */
export interface AeadEncryptorOptions {
  /** Where bodies that must be copied are allocated. Default: new arrays. */
  alloc?: Allocator;
}

/**
 * Encrypts contents into packet bodies (header + ciphertext + tag).
 *
 * @example
 * ```ts
 * import { aeadEncryptor } from "@bip324/bip324/layers";
 * import { FSChaCha20Poly1305 } from "@bip324/bip324/cipher";
 *
 * const out = ReadableStream.from([new Uint8Array(5)])
 *   .pipeThrough(new TransformStream(aeadEncryptor(new FSChaCha20Poly1305(new Uint8Array(32)))));
 * console.assert((await out.getReader().read()).value?.length === 22);
 * ```
 */
export function aeadEncryptor(
  cipher: FSChaCha20Poly1305,
  options: AeadEncryptorOptions = {},
): Transformer<Uint8Array, Uint8Array> {
  return new AeadEncryptor(cipher, options.alloc ?? newBuffer);
}

/** The encryptor: one object, its method on the prototype. */
class AeadEncryptor implements Transformer<Uint8Array, Uint8Array> {
  readonly #cipher: FSChaCha20Poly1305;
  readonly #alloc: Allocator;
  constructor(cipher: FSChaCha20Poly1305, alloc: Allocator) {
    this.#cipher = cipher;
    this.#alloc = alloc;
  }
  transform(contents: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): void {
    if (!(contents instanceof Uint8Array)) throw new TypeError("contents must be a Uint8Array");
    const length = contents.length;
    if (length > MAX_CONTENTS_LENGTH) {
      throw new RangeError(`contents must be at most ${MAX_CONTENTS_LENGTH} bytes`);
    }
    const ignore = DECOYS.delete(contents);
    // Contents whose last bytes are still the caller's payload (see TAILS).
    const tail = TAILS.take(contents);
    let body: Uint8Array;
    if (OWNED.delete(contents)) {
      body = new Uint8Array(
        contents.buffer,
        contents.byteOffset - HEADER_LEN,
        length + BODY_OVERHEAD,
      );
    } else {
      // Room for the length layer in front, so it need not copy either.
      const packet = this.#alloc(LENGTH_FIELD_LEN + length + BODY_OVERHEAD);
      body = packet.subarray(LENGTH_FIELD_LEN);
      body.set(
        tail === undefined ? contents : contents.subarray(0, length - tail.length),
        HEADER_LEN,
      );
    }
    body[0] = ignore ? IGNORE_BIT : 0;
    if (tail === undefined) {
      this.#cipher.encrypt(EMPTY, body.subarray(0, HEADER_LEN + length), body);
    } else {
      this.#cipher.encryptParts(
        EMPTY,
        body.subarray(0, HEADER_LEN + length - tail.length),
        tail,
        body,
      );
    }
    OWNED.add(body);
    controller.enqueue(body);
  }
}

/** Ciphers and options for {@linkcode aeadLayer}. */
export interface AeadLayerOptions extends AeadEncryptorOptions {
  /** Our packet AEAD. */
  send: FSChaCha20Poly1305;
  /** The peer's packet AEAD. */
  recv: FSChaCha20Poly1305;
  /** Called for each decoy received (and dropped). */
  onDecoyReceived?: (contentsLength: number) => void;
}

/**
 * The AEAD layer as a duplex: packet bodies below, contents above.
 *
 * @example
 * ```ts
 * import { aeadLayer } from "@bip324/bip324/layers";
 * import { FSChaCha20Poly1305 } from "@bip324/bip324/cipher";
 *
 * const k = new Uint8Array(32);
 * const layer = aeadLayer({ send: new FSChaCha20Poly1305(k), recv: new FSChaCha20Poly1305(k) });
 * console.assert(typeof layer.outbound.transform === "function");
 * ```
 */
export function aeadLayer(options: AeadLayerOptions): Layer<Uint8Array, Uint8Array> {
  return {
    inbound: aeadDecryptor(options.recv, { onDecoy: options.onDecoyReceived }),
    outbound: aeadEncryptor(options.send, options),
  };
}
