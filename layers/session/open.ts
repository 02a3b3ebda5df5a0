/**
 * {@linkcode openSession}: runs the BIP324 handshake over any byte pair and
 * returns the {@linkcode Session}, with the v2 layers — and the caller's, at
 * the positions {@linkcode ExtraLayers} names — composed into one stage per
 * direction.
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";
import {
  aliasDecoder,
  aliasEncoder,
  aliasEncoderAboveAead,
  type AliasingOptions,
} from "../aliasing/aliasing_layer.ts";
import { aeadDecryptor, aeadEncryptor } from "../aead/aead_layer.ts";
import { type BytePair, wipe } from "../bytes.ts";
import { performHandshake } from "../handshake/driver.ts";
import type { HandshakeDriverOptions } from "../handshake/driver.ts";
import type { HandshakeResult, Role } from "../handshake/handshake.ts";
import type { CallerLayer } from "../layer.ts";
import { lengthDecoder, lengthEncoder } from "../length/length_layer.ts";
import { shapingLayer, type ShapingPolicy } from "../shaping.ts";
import { streamTransformer } from "./compose.ts";
import {
  markPeer,
  Session,
  type SessionBaseOptions,
  type SessionInit,
  type SessionStack,
  type SessionStats,
} from "./session.ts";
import { authenticate, type AuthenticateOptions } from "../auth/authenticate.ts";
import { checkSessionOptions } from "./check_options.ts";

/**
 * Caller-supplied layers, by the point of the stack where they go; each list
 * is ordered bottom-up (the first is closest to the wire). A layer whose
 * directions are `Transformer`s runs inside the session's composed stage at
 * full speed; a `TransformStream` costs one stream hop per chunk.
 */
export interface ExtraLayers {
  /** Between the transport and the length layer (raw encrypted bytes). */
  wire?: CallerLayer<Uint8Array, Uint8Array>[];
  /** Between the length layer and the AEAD layer (encrypted packet bodies). */
  packets?: CallerLayer<Uint8Array, Uint8Array>[];
  /** Between the AEAD layer and aliasing (decrypted contents). */
  contents?: CallerLayer<Uint8Array, Uint8Array>[];
  /** Above aliasing (messages). */
  messages?: CallerLayer<Message, Message>[];
}

/** Options for {@linkcode openSession} (and every `connect`/`listen`). */
export interface SessionOptions extends Omit<HandshakeDriverOptions, "role">, SessionBaseOptions {
  /** Decoy policy for outbound messages. Default: no decoys. */
  shaping?: ShapingPolicy;
  /** Message type table and handling of invalid types. */
  aliasing?: AliasingOptions;
  /** Extra layers to insert into the stack. */
  layers?: ExtraLayers;
  /**
   * Private authentication over the session id (experimental; both ends must
   * run this library): when set, it runs on the session before it is handed
   * over, and `session.authenticated` holds the outcome. See
   * `@bip324/bip324/auth` and docs/authentication.md. Default: off.
   */
  auth?: AuthenticateOptions;
}

/** Options for {@linkcode openSession}: the session options plus our role. */
export interface OpenSessionOptions extends SessionOptions {
  /** Initiator (we connected) or responder (we accepted). */
  role: Role;
}

/** Bodies at least this long that span transport chunks are streamed to the AEAD layer. */
const STREAM_BODIES_FROM = 16 * 1024;

// deno-lint-ignore no-explicit-any
type AnyTransformer = Transformer<any, any>;

function asTransformer(
  // deno-lint-ignore no-explicit-any
  direction: Transformer<any, any> | ReadableWritablePair<any, any> | undefined,
  where: string,
  check: boolean,
): AnyTransformer | undefined {
  if (direction === undefined) return undefined;
  if (direction === null || typeof direction !== "object") {
    throw new TypeError(`${where} must be a Transformer or a TransformStream`);
  }
  if ("readable" in direction && "writable" in direction) {
    return check ? {} : streamTransformer(direction);
  }
  const transform = (direction as AnyTransformer).transform;
  if (transform !== undefined && typeof transform !== "function") {
    throw new TypeError(`${where}.transform must be a function`);
  }
  return direction as AnyTransformer;
}

/**
 * The caller's layers of one position: inbound bottom-up, outbound top-down.
 * With `check`, only validates (wraps no stream).
 */
export function callerStages(
  // deno-lint-ignore no-explicit-any
  list: CallerLayer<any, any>[] | undefined,
  where: string,
  check = false,
): { inbound: AnyTransformer[]; outbound: AnyTransformer[] } {
  const inbound: AnyTransformer[] = [];
  const outbound: AnyTransformer[] = [];
  if (list === undefined) return { inbound, outbound };
  if (!Array.isArray(list)) throw new TypeError(`layers.${where} must be an array`);
  list.forEach((layer, i) => {
    if (layer === null || typeof layer !== "object") {
      throw new TypeError(`layers.${where}[${i}] must be an object { inbound?, outbound? }`);
    }
    const up = asTransformer(layer.inbound, `layers.${where}[${i}].inbound`, check);
    const down = asTransformer(layer.outbound, `layers.${where}[${i}].outbound`, check);
    if (up) inbound.push(up);
    if (down) outbound.unshift(down);
  });
  return { inbound, outbound };
}

/**
 * What a session keeps of the handshake's cipher: the four ciphers, wiped
 * when it closes. The rest is done with once the session starts: the private
 * key was wiped when the keys were derived, the garbage terminators (both
 * already on the wire) are wiped here, and the public keys and session id
 * are not secret.
 */
function wipeOnClose(cipher: HandshakeResult["cipher"]): () => void {
  wipe(cipher.sendGarbageTerminator, cipher.receiveGarbageTerminator);
  const { sendLength, sendPacket, recvLength, recvPacket } = cipher.ciphers;
  return () => {
    sendLength.destroy();
    sendPacket.destroy();
    recvLength.destroy();
    recvPacket.destroy();
  };
}

/** Counts one event into `stats[key]`. */
function counter(stats: SessionStats, key: keyof SessionStats): () => void {
  return () => void stats[key]++;
}

/** Counts a dropped message, then tells the caller's `onDropped`. */
function countDropped<E>(stats: SessionStats, onDropped?: (e: E) => void): (e: E) => void {
  return (e) => {
    stats.messagesDropped++;
    onDropped?.(e);
  };
}

/** The v2 stack for a finished handshake. */
function v2Init(
  result: HandshakeResult,
  network: SessionInit["network"],
  options: SessionOptions,
): SessionInit {
  const ciphers = result.cipher.ciphers;
  const extra = options.layers ?? {};
  const wire = callerStages(extra.wire, "wire");
  const packets = callerStages(extra.packets, "packets");
  const contents = callerStages(extra.contents, "contents");
  const messages = callerStages(extra.messages, "messages");
  const aliasing = options.aliasing ?? {};
  return {
    transportVersion: 2,
    role: result.role,
    network,
    sessionId: result.sessionId,
    peerVersionContents: result.peerVersionContents,
    handshake: {
      garbageSent: result.garbageSent,
      garbageReceived: result.garbageReceived,
      decoysSent: result.decoysSent,
      decoysReceived: result.decoysReceived,
    },
    leftover: result.leftover,
    destroy: wipeOnClose(result.cipher),
    // Called once, by the Session's constructor. The callbacks the layers keep come from
    // the top-level helpers above, so a session does not keep this function's scope (the
    // handshake result, the caller's stage lists) alive.
    stack: ({ stats, alloc }): SessionStack => {
      const shaping = options.shaping
        ? shapingLayer(options.shaping, { alloc, onDecoy: counter(stats, "decoysSent") })
        : undefined;
      return {
        inbound: [
          ...wire.inbound,
          lengthDecoder(ciphers.recvLength, {
            maxMessageSize: options.maxMessageSize,
            streamFrom: STREAM_BODIES_FROM,
          }),
          ...packets.inbound,
          aeadDecryptor(ciphers.recvPacket, { onDecoy: counter(stats, "decoysReceived") }),
          ...contents.inbound,
          aliasDecoder({ ...aliasing, onDropped: countDropped(stats, aliasing.onDropped) }),
          ...messages.inbound,
        ],
        outbound: [
          ...messages.outbound,
          // Straight above the AEAD layer (shaping passes contents on as they are), large
          // payloads are encrypted from where the caller has them.
          (contents.outbound.length === 0 ? aliasEncoderAboveAead : aliasEncoder)({
            table: aliasing.table,
            alloc,
          }),
          ...contents.outbound,
          ...(shaping ? [shaping.outbound] : []),
          aeadEncryptor(ciphers.sendPacket, { alloc }),
          ...packets.outbound,
          lengthEncoder(ciphers.sendLength, { alloc }),
          ...wire.outbound,
        ],
        ownBuffers: contents.outbound.length + packets.outbound.length + wire.outbound.length === 0,
      };
    },
  };
}

/**
 * Runs the handshake over `pair` and returns the established session. On
 * failure the transport is closed and a `Bip324Error` is thrown (for
 * `V1_PROTOCOL` the transport is left open and unlocked, see
 * `performHandshake`).
 *
 * @example
 * ```ts
 * import { memoryPair, openSession } from "@bip324/bip324";
 *
 * const [x, y] = memoryPair();
 * const [a, b] = await Promise.all([
 *   openSession(x, { role: "initiator", network: "signet" }),
 *   openSession(y, { role: "responder", network: "signet" }),
 * ]);
 * console.assert(a.sessionId.every((v, i) => v === b.sessionId[i]));
 * await Promise.all([a.close(), b.close()]);
 * ```
 */
export async function openSession(pair: BytePair, options: OpenSessionOptions): Promise<Session> {
  // Caller mistakes are reported before any byte is sent.
  checkSessionOptions(options);
  for (const where of ["wire", "packets", "contents", "messages"] as const) {
    callerStages(options.layers?.[where], where, true);
  }
  const result = await performHandshake(pair, options);
  const session = new Session(pair, v2Init(result, options.network ?? "mainnet", options), options);
  if (options.auth !== undefined) {
    // Bounded by the auth timeout and by the caller's signal (its reason is the rejection).
    const signal = options.signal;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return;
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => {});
    try {
      const result = await Promise.race([authenticate(session, options.auth), aborted]);
      markPeer(session, { authenticated: result.authenticated });
    } catch (error) {
      await session.close();
      throw error;
    } finally {
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }
  return session;
}
