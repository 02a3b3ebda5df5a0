/**
 * Two BIP324 peers on loopback TCP (regtest), no internet needed:
 *
 * 1. a responder (`listen`, port 0) and an initiator (`connect`) shake hands
 *    and show that their session ids match, plus the garbage and decoys used;
 * 2. they exchange a few messages (ping → pong, and an unknown type);
 * 3. the initiator sends a burst of small messages and of 1 MiB messages, and
 *    the demo reports messages/s and MB/s;
 * 4. a tap on the initiator's TCP byte pair (below the session, so the
 *    session keeps its fused fast path) captures every outgoing byte, and a
 *    byte-histogram chi-square test shows they look uniformly random (unlike
 *    the plaintext that went in).
 *
 * Run with `deno task demo`.
 *
 * @module
 */

import type { Message } from "../layers/aliasing/aliasing.ts";
import { toHex } from "../layers/bytes.ts";
import type { BytePair } from "../layers/bytes.ts";
import type { Session } from "../layers/session/session.ts";
import { openSession } from "../layers/session/open.ts";
import { randomDecoys } from "../layers/shaping.ts";
import { connectTcp } from "../transports/tcp.ts";
import { listen } from "../layers/session/connect.ts";

/** Small messages in the burst. */
const SMALL_COUNT = 20_000;
/** Payload bytes of each small message (the size of one `inv` entry plus its count). */
const SMALL_SIZE = 37;
/** Large messages in the burst. */
const LARGE_COUNT = 50;
/** Payload bytes of each large message. */
const LARGE_SIZE = 1 << 20;
/** Wire and plaintext bytes kept for the randomness check. */
const CAPTURE_LIMIT = 4 << 20;
/** Degrees of freedom of a byte histogram's chi-square. */
const DEGREES_OF_FREEDOM = 255;

/** Keeps the first `limit` bytes written to it. */
class ByteCapture {
  /** The captured bytes (the first {@linkcode ByteCapture.length} are valid). */
  readonly bytes: Uint8Array;
  #length = 0;

  /** Creates a capture buffer of at most `limit` bytes. */
  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
    }
    this.bytes = new Uint8Array(limit);
  }

  /** Bytes captured so far. */
  get length(): number {
    return this.#length;
  }

  /** Copies as much of `chunk` as still fits. */
  add(chunk: Uint8Array): void {
    const n = Math.min(chunk.length, this.bytes.length - this.#length);
    if (n <= 0) return;
    this.bytes.set(chunk.subarray(0, n), this.#length);
    this.#length += n;
  }

  /** The captured bytes. */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.#length);
  }
}

/** Wraps a byte pair so that everything written to it is also copied into `capture`. */
function tapOutgoing(pair: BytePair, capture: ByteCapture): BytePair {
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      capture.add(chunk);
      controller.enqueue(chunk);
    },
  });
  tap.readable.pipeTo(pair.writable).catch(() => {});
  return { readable: pair.readable, writable: tap.writable };
}

/** Chi-square statistic of the byte histogram of `bytes` against a uniform distribution. */
function chiSquare(bytes: Uint8Array): number {
  if (bytes.length === 0) throw new RangeError("need at least one byte");
  const counts = new Float64Array(256);
  for (let i = 0; i < bytes.length; i++) counts[bytes[i]]++;
  const expected = bytes.length / 256;
  let sum = 0;
  for (const c of counts) sum += (c - expected) ** 2 / expected;
  return sum;
}

/** Standard normal upper tail, P(Z > z), from `erfc` (Numerical Recipes' Chebyshev fit). */
function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(
    -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                  t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                                  t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * Upper-tail p-value of a chi-square statistic with `k` degrees of freedom,
 * by the Wilson–Hilferty normal approximation.
 */
function chiSquarePValue(x: number, k: number): number {
  const v = 2 / (9 * k);
  const z = (Math.cbrt(x / k) - (1 - v)) / Math.sqrt(v);
  return normalUpperTail(z);
}

/** A human-readable judgement of a chi-square statistic. */
function verdict(p: number): string {
  return p > 0.001 && p < 0.999
    ? "plausible for uniform random bytes (0.001 < p < 0.999)"
    : "NOT plausible for uniform random bytes";
}

/** Formats a number with thousands separators. */
function num(n: number, digits = 0): string {
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Prints an aligned `label  value` line. */
function line(label: string, value: string): void {
  console.log(`  ${label.padEnd(28)} ${value}`);
}

/** Reads the responder's messages: answers pings, counts everything, reports each to `onMessage`. */
async function serve(
  session: Session,
  onMessage: (message: Message) => void,
): Promise<void> {
  const writer = session.writable.getWriter();
  try {
    for await (const message of session.readable) {
      if (message.type === "ping" && message.payload.length === 8) {
        await writer.write({ type: "pong", payload: message.payload.slice() });
      }
      onMessage(message);
    }
  } finally {
    writer.releaseLock();
  }
}

/** A structured, text-like payload (so its plaintext is visibly not random). */
function textPayload(size: number, seed: number): Uint8Array {
  const text = new TextEncoder().encode(
    `block ${seed}: the quick brown fox pays 0.0001 BTC to the lazy dog. `,
  );
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += text.length) out.set(text.subarray(0, size - i), i);
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log("BIP324 two-peer demo: regtest, loopback TCP\n");

  // --- 1. Handshake -------------------------------------------------------
  let onSession!: (session: Session) => void;
  const accepted = new Promise<Session>((resolve) => (onSession = resolve));
  const listener = listen({
    port: 0,
    hostname: "127.0.0.1",
    network: "regtest",
    decoys: [12, 300],
    garbage: 1000,
  });
  const acceptLoop = (async () => {
    for await (const session of listener) onSession(session);
  })();

  const wire = new ByteCapture(CAPTURE_LIMIT);
  const tcp = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port });
  const initiator = await openSession(tapOutgoing(tcp, wire), {
    role: "initiator",
    network: "regtest",
    shaping: randomDecoys({ probability: 0.02, maxSize: 512 }),
  });
  const responder = await accepted;
  const initiatorId = toHex(initiator.sessionId);
  const responderId = toHex(responder.sessionId);
  console.log("handshake");
  line("listening on", `${listener.addr.hostname}:${listener.addr.port}`);
  line("initiator session id", initiatorId);
  line("responder session id", responderId);
  line("session ids equal", initiatorId === responderId ? "yes" : "NO (man in the middle?)");
  line("initiator garbage sent", `${initiator.handshake.garbageSent} bytes (random length)`);
  line("responder garbage sent", `${responder.handshake.garbageSent} bytes (garbage: 1000)`);
  line("initiator garbage received", `${initiator.handshake.garbageReceived} bytes`);
  line(
    "responder decoys sent",
    `[${responder.handshake.decoysSent.join(", ")}] bytes (decoys: [12, 300])`,
  );
  line("initiator decoys received", `${initiator.handshake.decoysReceived} (dropped)`);

  // --- 2. A few messages --------------------------------------------------
  let received = 0;
  let receivedBytes = 0;
  let waiting: { count: number; resolve: () => void } | undefined;
  const shown: Message[] = [];
  let showing = true;
  const served = serve(responder, (message) => {
    received++;
    receivedBytes += message.payload.length;
    if (showing) shown.push({ type: message.type, payload: message.payload.slice() });
    if (waiting && received >= waiting.count) {
      waiting.resolve();
      waiting = undefined;
    }
  });
  const until = (count: number): Promise<void> =>
    received >= count
      ? Promise.resolve()
      : new Promise((resolve) => (waiting = { count, resolve }));

  const writer = initiator.writable.getWriter();
  const reader = initiator.readable.getReader();
  const plaintext = new ByteCapture(CAPTURE_LIMIT);
  const send = async (message: Message): Promise<void> => {
    plaintext.add(message.payload);
    await writer.ready;
    writer.write(message).catch(() => {});
  };

  console.log("\nmessages (initiator → responder, and back)");
  const nonce = crypto.getRandomValues(new Uint8Array(8));
  await send({ type: "ping", payload: nonce });
  const pong = await reader.read();
  await send({ type: "hello", payload: new TextEncoder().encode("hi from the initiator") });
  await send({ type: "inv", payload: textPayload(SMALL_SIZE, 0) });
  await until(3);
  showing = false;
  for (const m of shown) line(`→ ${m.type}`, `${m.payload.length} bytes ${preview(m.payload)}`);
  if (pong.value) {
    line(
      `← ${pong.value.type}`,
      `${pong.value.payload.length} bytes ${preview(pong.value.payload)}`,
    );
    line("pong matches ping", toHex(pong.value.payload) === toHex(nonce) ? "yes" : "NO");
  }

  // --- 3. Burst -----------------------------------------------------------
  console.log("\nburst (initiator → responder)");
  let before = received;
  let t0 = performance.now();
  for (let i = 0; i < SMALL_COUNT; i++) {
    await send({ type: "inv", payload: textPayload(SMALL_SIZE, i) });
  }
  await until(before + SMALL_COUNT);
  let seconds = (performance.now() - t0) / 1000;
  line(
    "small messages",
    `${num(SMALL_COUNT)} × ${SMALL_SIZE} B in ${num(seconds, 2)} s = ` +
      `${num(SMALL_COUNT / seconds)} messages/s`,
  );

  before = received;
  const bytesBefore = receivedBytes;
  t0 = performance.now();
  for (let i = 0; i < LARGE_COUNT; i++) {
    await send({ type: "block", payload: textPayload(LARGE_SIZE, i) });
  }
  await until(before + LARGE_COUNT);
  seconds = (performance.now() - t0) / 1000;
  const megabytes = (receivedBytes - bytesBefore) / 1e6;
  line(
    "large messages",
    `${LARGE_COUNT} × 1 MiB in ${num(seconds, 2)} s = ${num(megabytes / seconds, 1)} MB/s ` +
      `(${num(LARGE_COUNT / seconds, 1)} messages/s)`,
  );
  line("messages received", num(received));
  line(
    "initiator stats",
    `decoys sent ${initiator.stats.decoysSent} (randomDecoys p=0.02, ≤512 B), ` +
      `received ${initiator.stats.decoysReceived}, dropped ${initiator.stats.messagesDropped}`,
  );
  line(
    "responder stats",
    `decoys received ${responder.stats.decoysReceived}, ` +
      `messages dropped ${responder.stats.messagesDropped}`,
  );

  // --- 4. Randomness of the wire -----------------------------------------
  console.log(
    `\nrandomness (byte-histogram chi-square, ${DEGREES_OF_FREEDOM} degrees of freedom, ` +
      `expected ≈ ${DEGREES_OF_FREEDOM})`,
  );
  const wireChi = chiSquare(wire.view());
  const wireP = chiSquarePValue(wireChi, DEGREES_OF_FREEDOM);
  line(
    `wire bytes (${num(wire.length / 2 ** 20, 2)} MiB)`,
    `chi-square = ${num(wireChi, 1)}, p = ${wireP.toFixed(3)}: ${verdict(wireP)}`,
  );
  const textChi = chiSquare(plaintext.view());
  const textP = chiSquarePValue(textChi, DEGREES_OF_FREEDOM);
  line(
    `plaintext (${num(plaintext.length / 2 ** 20, 2)} MiB)`,
    `chi-square = ${num(textChi, 1)}, p = ${textP.toFixed(3)}: ${verdict(textP)}`,
  );

  // --- Shutdown -----------------------------------------------------------
  reader.releaseLock();
  await writer.close();
  await responder.closed;
  await served.catch(() => {});
  await listener.close();
  await acceptLoop;
  console.log(
    `\nclosed cleanly (initiator: ${initiator.closeReason?.code ?? "ok"}, ` +
      `responder: ${responder.closeReason?.code ?? "ok"}) in ` +
      `${num((performance.now() - started) / 1000, 1)} s`,
  );
}

/** First bytes of a payload, as hex and (where printable) text. */
function preview(payload: Uint8Array): string {
  const head = payload.subarray(0, 12);
  const printable = head.every((b) => b >= 0x20 && b < 0x7f);
  const text = printable
    ? ` "${new TextDecoder().decode(head)}${payload.length > 12 ? "…" : ""}"`
    : "";
  return `${toHex(head)}${payload.length > 12 ? "…" : ""}${text}`;
}

if (import.meta.main) {
  await main();
}
