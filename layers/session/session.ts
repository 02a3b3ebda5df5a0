/**
 * {@linkcode Session}: an established BIP324 connection, read and written as
 * `{ type, payload }` messages, and {@linkcode openSession}, which performs
 * the handshake over any byte pair and stacks the layers:
 *
 * ```
 * application  ⇅ Message
 *   [messages layers]  aliasing  [contents layers]  AEAD
 *   [packets layers]   length    [wire layers]
 * transport    ⇅ Uint8Array
 * ```
 *
 * The bracketed slots take the caller's own layers (logging, metrics, …).
 *
 * @module
 */

import { aliasingLayer, type AliasingOptions } from "../aliasing/aliasing_layer.ts";
import { aeadLayer } from "../aead/aead_layer.ts";
import type { Message } from "../aliasing/aliasing.ts";
import { Bip324Error } from "../errors.ts";
import { concatBytes } from "../bytes.ts";
import { performHandshake } from "../handshake/driver.ts";
import type { BytePair } from "../bytes.ts";
import type { HandshakeDriverOptions } from "../handshake/driver.ts";
import type { HandshakeResult, Role } from "../handshake/handshake.ts";
import { lengthLayer } from "../length/length_layer.ts";
import type { Network } from "../bitcoin/network.ts";
import { type Layer, pipeline, prepend, type Stack } from "./pipeline.ts";
import { V2Decoder, V2Encoder } from "./v2_fused.ts";
import type { ShapingPolicy } from "../shaping.ts";

/** Caller-supplied layers, by the point of the stack where they go. */
export interface ExtraLayers {
  /** Between the transport and the length layer (raw encrypted bytes). */
  wire?: Layer<Uint8Array, Uint8Array>[];
  /** Between the length layer and the AEAD layer (encrypted packet bodies). */
  packets?: Layer<Uint8Array, Uint8Array>[];
  /** Between the AEAD layer and aliasing (decrypted contents). */
  contents?: Layer<Uint8Array, Uint8Array>[];
  /** Above aliasing (messages). */
  messages?: Layer<Message, Message>[];
}

/** Options for {@linkcode openSession} (and every `connect`/`listen`). */
export interface SessionOptions extends Omit<HandshakeDriverOptions, "role"> {
  /** Decoy policy for outbound messages. Default: no decoys. */
  shaping?: ShapingPolicy;
  /** Message type table and handling of invalid types. */
  aliasing?: AliasingOptions;
  /** Extra layers to insert into the stack. */
  layers?: ExtraLayers;
  /** Close the session after this many ms without inbound bytes. Default: never. */
  idleTimeout?: number;
  /** Milliseconds `close()` waits for pending writes to flush. Default 5,000. */
  closeTimeout?: number;
  /**
   * Always build the stack from the separate stream layers, even when no
   * caller layers are inserted (by default such sessions use the fused hot
   * path, which produces the same bytes faster). Default false.
   */
  layered?: boolean;
  /**
   * Payload bytes of decoded messages the session reads ahead of the
   * application (so it notices the peer closing even while nobody reads).
   * Default 1 MiB; one larger message is still read, but nothing after it.
   */
  readAhead?: number;
}

/** Handshake facts, for display and diagnostics. */
export interface HandshakeInfo {
  /** Garbage bytes we sent. */
  garbageSent: number;
  /** Garbage bytes the peer sent. */
  garbageReceived: number;
  /** Contents lengths of the decoys we sent during the handshake. */
  decoysSent: number[];
  /** Decoys the peer sent before its version packet. */
  decoysReceived: number;
}

/** Running counts for a session. */
export interface SessionStats {
  /** Decoy packets received and dropped after the handshake. */
  decoysReceived: number;
  /** Decoy packets sent after the handshake. */
  decoysSent: number;
  /** Messages dropped because their type was malformed or unknown. */
  messagesDropped: number;
}

const DEFAULT_CLOSE_TIMEOUT = 5_000;
const DEFAULT_READ_AHEAD = 1 << 20;

/**
 * An established BIP324 session.
 *
 * Reading yields the peer's messages; writing sends ours. Closing either
 * stream, calling {@linkcode Session.close}, or the transport ending closes
 * the whole session: reads then resolve `done` (after any messages already
 * received), writes reject with `Bip324Error` `CLOSED`, and all keys are
 * wiped. The session reads up to `readAhead` bytes ahead of the application,
 * so it notices the end of the transport even while nobody reads. A protocol failure (e.g. a
 * bad tag) closes the session the same way; messages received before it are
 * still read, and then reads reject with the `Bip324Error`. {@linkcode Session.closed} resolves (it never rejects)
 * once everything is shut; {@linkcode Session.closeReason} says why.
 *
 * @example A session over an in-memory pair
 * ```ts
 * import { openSession } from "./session.ts";
 * const ab = new TransformStream<Uint8Array, Uint8Array>();
 * const ba = new TransformStream<Uint8Array, Uint8Array>();
 * const [alice, bob] = await Promise.all([
 *   openSession({ readable: ba.readable, writable: ab.writable }, { role: "initiator" }),
 *   openSession({ readable: ab.readable, writable: ba.writable }, { role: "responder" }),
 * ]);
 * const writer = alice.writable.getWriter();
 * await writer.write({ type: "ping", payload: new Uint8Array(8) });
 * const { value } = await bob.readable.getReader().read();
 * console.assert(value?.type === "ping");
 * await alice.close();
 * await bob.closed;
 * ```
 */
export class Session {
  /** The peer's messages. */
  readonly readable: ReadableStream<Message>;
  /** Our messages to the peer. */
  readonly writable: WritableStream<Message>;
  /**
   * 32-byte session id, equal on both ends (compare out of band to detect a
   * MitM). Empty for a v1 session.
   */
  readonly sessionId: Uint8Array;
  /** Whether we initiated or accepted the connection. */
  readonly role: Role;
  /** The network both ends agreed on. */
  readonly network: Network | Uint8Array;
  /** The transport protocol version: 2 for BIP324, 1 after a fallback to the legacy protocol. */
  readonly transportVersion: 1 | 2;
  /** The peer's version packet contents (empty today; reserved for upgrades). */
  readonly peerVersionContents: Uint8Array;
  /** Garbage and decoy figures from the handshake. */
  readonly handshake: HandshakeInfo;
  /** Running counts. */
  readonly stats: SessionStats = { decoysReceived: 0, decoysSent: 0, messagesDropped: 0 };
  /** Resolves once the session has fully shut down. Never rejects. */
  readonly closed: Promise<void>;

  #destroyKeys: () => void;
  #endpoint: Endpoint;
  #readController!: ReadableStreamDefaultController<Message>;
  #writeController!: WritableStreamDefaultController;
  #resolveClosed!: () => void;
  #state: "open" | "closing" | "closed" = "open";
  #closeReason?: Bip324Error;
  #closeTimeout: number;
  #idleTimer?: ReturnType<typeof setTimeout>;
  #closing?: Promise<void>;
  #writableClosedByUser = false;
  #readAhead: number;
  #idleMs = 0;
  #writesSeen = 0;
  #inflight: Promise<void> = Promise.resolve();
  #deferredError?: Bip324Error;

  /**
   * Builds the layer stack over `pair` (use {@linkcode openSession} for v2,
   * `openV1Session` for v1).
   */
  constructor(pair: BytePair, init: SessionInit, options: SessionOptions = {}) {
    this.transportVersion = init.transportVersion;
    this.role = init.role;
    this.network = init.network;
    this.sessionId = init.sessionId.slice();
    this.peerVersionContents = init.peerVersionContents;
    this.handshake = init.handshake;
    this.#destroyKeys = init.destroy;
    this.#closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    this.#readAhead = options.readAhead ?? DEFAULT_READ_AHEAD;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));

    const extra = options.layers ?? {};
    const custom = [extra.wire, extra.packets, extra.contents, extra.messages]
      .some((list) => list !== undefined && list.length > 0);
    if (init.fused && !custom && !options.layered) {
      this.#endpoint = fusedEndpoint(
        pair,
        init.leftover,
        init.fused(this.stats),
        () => this.#touch(),
      );
      if (options.idleTimeout !== undefined) this.#armIdle(options.idleTimeout);
    } else {
      const wire = [...(extra.wire ?? [])];
      if (options.idleTimeout !== undefined) wire.unshift(this.#idleLayer(options.idleTimeout));
      const top = pipeline<Message>(
        { readable: prepend(init.leftover, pair.readable), writable: pair.writable },
        ...wire,
        ...init.layers(this.stats),
        ...(extra.messages ?? []),
      );
      this.#endpoint = pipelineEndpoint(top);
    }

    this.readable = new ReadableStream<Message>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: async (controller) => {
        if (this.#deferredError) {
          // Failed while messages were queued: they are read first, then the error.
          if (controller.desiredSize === this.#readAhead) controller.error(this.#deferredError);
          return;
        }
        if (this.#state === "closed") return;
        let batch: Message[] | null;
        try {
          batch = await this.#endpoint.read();
        } catch (error) {
          if (this.#state === "open") this.#shutdown(asSessionError(error));
          return;
        }
        if (batch === null) {
          if (this.#state === "open") this.#shutdown();
          return;
        }
        for (const message of batch) controller.enqueue(message);
      },
      cancel: async () => {
        await this.close();
      },
    }, { highWaterMark: this.#readAhead, size: (m) => m.payload.length + 64 });

    this.writable = new WritableStream<Message>({
      start: (controller) => {
        this.#writeController = controller;
      },
      // Synchronous unless the transport pushes back: no promise per message on the hot path.
      // Writes issued before close() still go out while it drains them ("closing").
      write: (message) => {
        if (this.#state === "closed") throw this.#closedError();
        this.#writesSeen++;
        let result: Promise<void> | void;
        try {
          result = this.#endpoint.write(message);
        } catch (error) {
          return this.#writeFailed(error);
        }
        if (!result) return;
        const settled = result.catch((error) => this.#writeFailed(error));
        this.#inflight = settled.catch(() => {});
        return settled;
      },
      close: async () => {
        this.#writableClosedByUser = true;
        await this.close();
      },
      abort: () => {
        if (this.#state === "open") this.#shutdown();
      },
    }, { highWaterMark: 1 });
  }

  /** Why the session ended: `undefined` for a clean close, else the protocol error. */
  get closeReason(): Bip324Error | undefined {
    return this.#closeReason;
  }

  /** Whether the session is still open. */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  /**
   * Sends every message already written (waiting up to `closeTimeout` for
   * them), closes the transport and wipes the keys. Safe to call more than once.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#state !== "open") return this.closed;
    this.#state = "closing";
    this.#closing = (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#closeTimeout);
      });
      try {
        const flushed = this.#drainWrites().then(() => this.#endpoint.close()).catch(() => {});
        await Promise.race([flushed, timeout]);
      } finally {
        clearTimeout(timer);
      }
      this.#shutdown();
    })();
    return this.#closing;
  }

  /**
   * Lets writes the application already issued reach the endpoint: they may
   * still sit in the writable's queue for a turn or wait on backpressure.
   * Done when a whole turn of the event loop brings no new write.
   */
  async #drainWrites(): Promise<void> {
    for (;;) {
      const seen = this.#writesSeen;
      await this.#inflight;
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (this.#writesSeen === seen) return;
    }
  }

  #writeFailed(error: unknown): never {
    if (error instanceof TypeError || error instanceof RangeError) throw error;
    if (this.#state === "open") this.#shutdown(asSessionError(error));
    throw this.#closedError();
  }

  #closedError(): Bip324Error {
    return new Bip324Error("CLOSED", "session is closed", {
      origin: "local",
      cause: this.#closeReason,
    });
  }

  /** Ends everything at once: streams, transport, timers, keys. */
  #shutdown(error?: Bip324Error): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#closeReason = error;
    clearTimeout(this.#idleTimer);
    const closedError = this.#closedError();
    try {
      if (!error) this.#readController.close();
      // Messages already received (and authenticated) stay readable; the error follows them.
      else if (this.#readController.desiredSize !== this.#readAhead) this.#deferredError = error;
      else this.#readController.error(error);
    } catch { /* already closed by the consumer */ }
    // After a clean end, the writable is left for its sink to refuse later writes with CLOSED,
    // so that `readable.pipeTo(writable)` (an echo) finishes cleanly instead of rejecting.
    if (error && !this.#writableClosedByUser) this.#writeController.error(closedError);
    this.#endpoint.cancel(closedError);
    this.#endpoint.abort(closedError);
    this.#destroyKeys();
    this.#resolveClosed();
  }

  /** Starts the idle timer (the fused path restarts it on every inbound chunk). */
  #armIdle(ms: number): void {
    if (!(ms > 0)) throw new RangeError(`idleTimeout must be > 0 ms, got ${ms}`);
    this.#idleMs = ms;
    this.#touch();
  }

  /** Inbound bytes arrived: restart the idle timer. */
  #touch(): void {
    if (this.#idleMs === 0) return;
    clearTimeout(this.#idleTimer);
    const ms = this.#idleMs;
    this.#idleTimer = setTimeout(() => {
      if (this.#state === "open") {
        this.#shutdown(
          new Bip324Error("IDLE_TIMEOUT", `no bytes from the peer for ${ms} ms`, {
            origin: "local",
          }),
        );
      }
    }, ms);
  }

  #idleLayer(ms: number): Layer<Uint8Array, Uint8Array> {
    this.#armIdle(ms);
    const touch = () => this.#touch();
    return {
      inbound: new TransformStream({
        transform(chunk, controller) {
          touch();
          controller.enqueue(chunk);
        },
      }),
      outbound: new TransformStream(),
    };
  }
}

/** How a session reads and writes messages: through a layer pipeline or the fused hot path. */
interface Endpoint {
  /** The next messages (one or more), or `null` at the end of the stream. */
  read(): Promise<Message[] | null>;
  /** Sends one message; returns a promise only when the transport pushes back. */
  write(message: Message): Promise<void> | void;
  /** Flushes what was written and closes the transport's writable. */
  close(): Promise<void>;
  /** Stops reading (cancels the transport's readable). */
  cancel(reason: unknown): void;
  /** Stops writing (aborts the transport's writable). */
  abort(reason: unknown): void;
}

function pipelineEndpoint(top: Stack<Message>): Endpoint {
  const reader = top.readable.getReader();
  const writer = top.writable.getWriter();
  writer.closed.catch(() => {});
  return {
    read: async () => {
      const next = await reader.read();
      return next.done ? null : [next.value];
    },
    write: (message) => writer.write(message),
    close: () => writer.close().catch(() => {}).then(() => top.delivered),
    cancel: (reason) => void reader.cancel(reason).catch(() => {}),
    abort: (reason) => void writer.abort(reason).catch(() => {}),
  };
}

const EMPTY = new Uint8Array(0);

/** Packets queued beyond this many bytes are flushed to the transport at once. */
const COALESCE_LIMIT = 64 * 1024;

/**
 * The fused hot path: reads transport chunks and decodes every message in
 * them at once; encodes each message in one pass and hands small packets
 * written in the same turn of the event loop to the transport as one chunk.
 */
function fusedEndpoint(
  pair: BytePair,
  leftover: Uint8Array,
  fused: FusedCodec,
  onBytes: () => void,
): Endpoint {
  const reader = pair.readable.getReader();
  const writer = pair.writable.getWriter();
  writer.closed.catch(() => {});
  let head: Uint8Array | undefined = leftover.length ? leftover : undefined;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let scheduled: Promise<void> | undefined;
  let writeError: unknown;

  const flush = (): Promise<void> => {
    if (pendingBytes === 0) return Promise.resolve();
    const chunk = pending.length === 1 ? pending[0] : concatBytes(...pending);
    pending = [];
    pendingBytes = 0;
    return writer.write(chunk).catch((e) => {
      writeError ??= e;
    });
  };
  const ready = async () => {
    await writer.ready;
    if (writeError !== undefined) throw writeError;
  };
  const scheduleFlush = () => {
    scheduled ??= new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => {
      scheduled = undefined;
      return flush();
    });
  };
  return {
    read: async () => {
      fused.decoder.push(EMPTY); // surfaces an error left over from the last chunk
      for (;;) {
        let chunk: Uint8Array;
        if (head) {
          chunk = head;
          head = undefined;
        } else {
          const next = await reader.read();
          if (next.done) {
            fused.decoder.finish();
            return null;
          }
          chunk = next.value;
          onBytes();
        }
        const messages = fused.decoder.push(chunk);
        if (messages.length > 0) return messages;
      }
    },
    write: (message) => {
      if (writeError !== undefined) throw writeError;
      for (const packet of fused.encoder.encode(message)) {
        pending.push(packet);
        pendingBytes += packet.length;
      }
      if (pendingBytes >= COALESCE_LIMIT) return flush().then(ready);
      scheduleFlush();
      if ((writer.desiredSize ?? 1) <= 0) return ready();
    },
    close: async () => {
      await scheduled;
      await flush();
      await writer.close();
    },
    cancel: (reason) => void reader.cancel(reason).catch(() => {}),
    abort: (reason) => {
      pending = [];
      pendingBytes = 0;
      void writer.abort(reason).catch(() => {});
    },
  };
}

/** What a protocol hands to {@linkcode Session} to build a session. */
export interface SessionInit {
  /** 2 for BIP324, 1 for the legacy protocol. */
  transportVersion: 1 | 2;
  /** Our role. */
  role: Role;
  /** The network. */
  network: Network | Uint8Array;
  /** Session id (empty for v1). */
  sessionId: Uint8Array;
  /** The peer's version packet contents (empty for v1). */
  peerVersionContents: Uint8Array;
  /** Handshake figures (zeros for v1). */
  handshake: HandshakeInfo;
  /** Bytes already read from the transport that belong to the session's stream. */
  leftover: Uint8Array;
  /** The protocol's layers, bottom-up, from raw bytes to messages. */
  // deno-lint-ignore no-explicit-any
  layers: (stats: SessionStats) => Layer<any, any>[];
  /** Wipes the session's keys. */
  destroy: () => void;
  /**
   * Optional fused hot path equivalent to `layers`, used when the caller
   * inserts no layers of their own.
   */
  fused?: (stats: SessionStats) => FusedCodec;
}

/** A protocol's fused encoder/decoder (see `v2_fused.ts`). */
export interface FusedCodec {
  /** Messages → wire packets. */
  encoder: { encode(message: Message): Uint8Array[] };
  /** Wire bytes → messages. */
  decoder: { push(chunk: Uint8Array): Message[]; finish(): void };
}

/** The v2 layer stack for a finished handshake. */
function v2Init(
  result: HandshakeResult,
  network: Network | Uint8Array,
  options: SessionOptions,
): SessionInit {
  const ciphers = result.cipher.ciphers;
  const extra = options.layers ?? {};
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
    destroy: () => result.cipher.destroy(),
    fused: (stats) => ({
      encoder: new V2Encoder(ciphers, {
        table: options.aliasing?.table,
        shaping: options.shaping,
        onDecoy: () => stats.decoysSent++,
      }),
      decoder: new V2Decoder(ciphers, {
        table: options.aliasing?.table,
        maxMessageSize: options.maxMessageSize,
        onInvalid: options.aliasing?.onInvalid,
        onDecoy: () => stats.decoysReceived++,
        onDropped: (e) => {
          stats.messagesDropped++;
          options.aliasing?.onDropped?.(e);
        },
      }),
    }),
    layers: (stats) => [
      lengthLayer({
        send: ciphers.sendLength,
        recv: ciphers.recvLength,
        maxMessageSize: options.maxMessageSize,
      }),
      ...(extra.packets ?? []),
      aeadLayer({
        send: ciphers.sendPacket,
        recv: ciphers.recvPacket,
        shaping: options.shaping,
        onDecoyReceived: () => stats.decoysReceived++,
        onDecoySent: () => stats.decoysSent++,
      }),
      ...(extra.contents ?? []),
      aliasingLayer({
        ...options.aliasing,
        onDropped: (e) => {
          stats.messagesDropped++;
          options.aliasing?.onDropped?.(e);
        },
      }),
    ],
  };
}

function asSessionError(error: unknown): Bip324Error {
  if (error instanceof Bip324Error) return error;
  return new Bip324Error("TRANSPORT", `transport failed: ${error}`, { cause: error });
}

/** Options for {@linkcode openSession}: the session options plus our role. */
export interface OpenSessionOptions extends SessionOptions {
  /** Initiator (we connected) or responder (we accepted). */
  role: Role;
}

/**
 * Runs the handshake over `pair` and returns the established session. On
 * failure the transport is closed and a {@linkcode Bip324Error} is thrown
 * (for `V1_PROTOCOL` the transport is left open and unlocked, see
 * `performHandshake`).
 *
 * @example
 * ```ts
 * import { openSession } from "./session.ts";
 * const ab = new TransformStream<Uint8Array, Uint8Array>();
 * const ba = new TransformStream<Uint8Array, Uint8Array>();
 * const [a, b] = await Promise.all([
 *   openSession({ readable: ba.readable, writable: ab.writable }, { role: "initiator", network: "signet" }),
 *   openSession({ readable: ab.readable, writable: ba.writable }, { role: "responder", network: "signet" }),
 * ]);
 * console.assert(a.sessionId.every((v, i) => v === b.sessionId[i]));
 * await Promise.all([a.close(), b.close()]);
 * ```
 */
export async function openSession(pair: BytePair, options: OpenSessionOptions): Promise<Session> {
  const result = await performHandshake(pair, options);
  return new Session(pair, v2Init(result, options.network ?? "mainnet", options), options);
}
