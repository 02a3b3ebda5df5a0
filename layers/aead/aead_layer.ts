/**
 * The AEAD layer as streams.
 *
 * - inbound: packet bodies → contents. Each body is authenticated and
 *   decrypted in place; a bad tag fails with `DECRYPTION`; decoys (any header
 *   with the `0x80` bit) are verified and dropped, never buffered.
 * - outbound: contents → packet bodies, with decoys first where the shaping
 *   policy asks for them.
 *
 * @module
 */

import type { FSChaCha20Poly1305 } from "./aead.ts";
import { TAG_LEN } from "./aead.ts";
import { LENGTH_FIELD_LEN } from "../length/length_cipher.ts";
import { WITH_LENGTH_HEADROOM } from "../length/length_layer.ts";
import { HEADER_LEN, IGNORE_BIT, MAX_CONTENTS_LENGTH } from "../packet_cipher.ts";
import type { Layer } from "../session/pipeline.ts";
import type { ShapingPolicy } from "../shaping.ts";
import { Bip324Error } from "../errors.ts";

const EMPTY = new Uint8Array(0);

/** Options for {@linkcode AeadDecryptStream}. */
export interface AeadDecryptOptions {
  /** Called with the contents length of each decoy dropped. */
  onDecoy?: (contentsLength: number) => void;
}

/**
 * Authenticates and decrypts packet bodies; yields contents of non-decoy packets.
 *
 * @example
 * ```ts
 * import { AeadDecryptStream, AeadEncryptStream } from "./aead_layer.ts";
 * import { FSChaCha20Poly1305 } from "./aead.ts";
 * const k = new Uint8Array(32);
 * const out = ReadableStream.from([new Uint8Array([1, 2])])
 *   .pipeThrough(new AeadEncryptStream(new FSChaCha20Poly1305(k)))
 *   .pipeThrough(new AeadDecryptStream(new FSChaCha20Poly1305(k)));
 * console.assert((await out.getReader().read()).value?.[1] === 2);
 * ```
 */
export class AeadDecryptStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Creates a decryptor using `cipher` (the peer's packet AEAD). */
  constructor(cipher: FSChaCha20Poly1305, options: AeadDecryptOptions = {}) {
    const onDecoy = options.onDecoy;
    super({
      transform(body, controller) {
        if (body.length < HEADER_LEN + TAG_LEN) {
          throw new Bip324Error("DECRYPTION", "packet shorter than header and tag");
        }
        const plaintext = cipher.decrypt(EMPTY, body, body);
        if (plaintext[0] & IGNORE_BIT) {
          onDecoy?.(plaintext.length - HEADER_LEN);
          return;
        }
        controller.enqueue(plaintext.subarray(HEADER_LEN));
      },
    });
  }
}

/** Options for {@linkcode AeadEncryptStream}. */
export interface AeadEncryptOptions {
  /** Asked before each message which decoys to send first. Default: none. */
  shaping?: ShapingPolicy;
  /** Called with the contents length of each decoy sent. */
  onDecoy?: (contentsLength: number) => void;
}

/**
 * Encrypts contents into packet bodies (header + ciphertext + tag).
 *
 * @example
 * ```ts
 * import { AeadEncryptStream } from "./aead_layer.ts";
 * import { FSChaCha20Poly1305 } from "./aead.ts";
 * const out = ReadableStream.from([new Uint8Array(5)])
 *   .pipeThrough(new AeadEncryptStream(new FSChaCha20Poly1305(new Uint8Array(32))));
 * console.assert((await out.getReader().read()).value?.length === 22);
 * ```
 */
export class AeadEncryptStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Creates an encryptor using `cipher` (our packet AEAD). */
  constructor(cipher: FSChaCha20Poly1305, options: AeadEncryptOptions = {}) {
    const { shaping, onDecoy } = options;
    const seal = (contents: Uint8Array, ignore: boolean): Uint8Array => {
      if (contents.length > MAX_CONTENTS_LENGTH) {
        throw new RangeError(`contents must be at most ${MAX_CONTENTS_LENGTH} bytes`);
      }
      const size = LENGTH_FIELD_LEN + HEADER_LEN + contents.length + TAG_LEN;
      const packet = new Uint8Array(size);
      const body = packet.subarray(LENGTH_FIELD_LEN);
      body[0] = ignore ? IGNORE_BIT : 0;
      body.set(contents, HEADER_LEN);
      cipher.encrypt(EMPTY, body.subarray(0, HEADER_LEN + contents.length), body);
      WITH_LENGTH_HEADROOM.add(body);
      return body;
    };
    super({
      transform(contents, controller) {
        const decoys = shaping?.(contents.length);
        if (decoys) {
          for (const length of decoys) {
            controller.enqueue(seal(new Uint8Array(length), true));
            onDecoy?.(length);
          }
        }
        controller.enqueue(seal(contents, false));
      },
    });
  }
}

/** Ciphers and options for {@linkcode aeadLayer}. */
export interface AeadLayerOptions {
  /** Our packet AEAD. */
  send: FSChaCha20Poly1305;
  /** The peer's packet AEAD. */
  recv: FSChaCha20Poly1305;
  /** Decoy policy for outbound packets. */
  shaping?: ShapingPolicy;
  /** Called for each decoy received (dropped). */
  onDecoyReceived?: (contentsLength: number) => void;
  /** Called for each decoy sent. */
  onDecoySent?: (contentsLength: number) => void;
}

/**
 * The AEAD layer as a duplex: packet bodies below, contents above.
 *
 * @example
 * ```ts
 * import { aeadLayer } from "./aead_layer.ts";
 * import { FSChaCha20Poly1305 } from "./aead.ts";
 * const k = new Uint8Array(32);
 * const layer = aeadLayer({ send: new FSChaCha20Poly1305(k), recv: new FSChaCha20Poly1305(k) });
 * console.assert(layer.outbound instanceof TransformStream);
 * ```
 */
export function aeadLayer(options: AeadLayerOptions): Layer<Uint8Array, Uint8Array> {
  return {
    inbound: new AeadDecryptStream(options.recv, { onDecoy: options.onDecoyReceived }),
    outbound: new AeadEncryptStream(options.send, {
      shaping: options.shaping,
      onDecoy: options.onDecoySent,
    }),
  };
}
