// The per-connection byte budget, and every limit it is made of, with its default and where
// the library sets it. This module is the ONE place the soak's pass/fail bounds come from;
// SECURITY.md's "Limits" section shows the same table (tests/soak_budgets_test.ts checks that
// each default here is still what the library's source says, and that SECURITY.md lists it).
//
//   deno run bench/soak/budgets.ts    prints the limits and the budgets as Markdown tables
import { KIB, MIB } from "./util.ts";

/** One limit of the library: its default, where it is set, what happens past it. */
export interface Limit {
  /** Stable name, used by the budgets below and the test. */
  key: string;
  /** What is limited (SECURITY.md's first column). */
  what: string;
  /** The default, in `unit`. */
  value: number;
  unit: "bytes" | "ms" | "count" | "packets";
  /** The library file that sets the default. */
  file: string;
  /** A regular expression matching the default in `file`; group 1 is its numeric expression. */
  find: string;
  /** What happens past it. */
  past: string;
}

const L = (
  key: string,
  what: string,
  value: number,
  unit: Limit["unit"],
  file: string,
  find: string,
  past: string,
): Limit => ({ key, what, value, unit, file, find, past });

const HS = "layers/handshake/handshake_options.ts";
const SESSION = "layers/session/session_init.ts";
const LISTENER = "layers/session/listener.ts";
const WS = "transports/websocket.ts";
const RELAY = "transports/relay/core.ts";

/** Every limit, in SECURITY.md's order. */
// deno-fmt-ignore
export const LIMITS: readonly Limit[] = [
  // --- the protocol
  L("garbage", "garbage before the terminator", 4095, "bytes", HS, "MAX_GARBAGE_LEN = ([\\d_]+)", "`NO_GARBAGE_TERMINATOR` on byte 4,111 after the key (4,095 + the 16-byte terminator); at most that much is ever held"),
  L("terminator", "garbage terminator", 16, "bytes", "layers/handshake/key_schedule.ts", "GARBAGE_TERMINATOR_LEN = ([\\d_]+)", "—"),
  L("maxMessageSize", "packet contents (`maxMessageSize`)", 4_000_013, "bytes", HS, "DEFAULT_MAX_MESSAGE_SIZE = ([\\d_]+)", "`OVERSIZED`, on the 3-byte length alone, before any of the body is buffered"),
  L("v1Payload", "v1 payload", 4_000_000, "bytes", "layers/v1/v1_framing.ts", "MAX_PROTOCOL_MESSAGE_LENGTH = ([\\d_]+)", "`OVERSIZED` on the header"),
  L("v1Reserve", "v1 payload storage before the bytes arrive", 64 * KIB, "bytes", "layers/v1/v1_framing.ts", "INITIAL_PAYLOAD_CAPACITY = ([\\d_ *]+);", "storage grows with the bytes that actually arrive"),
  L("handshakeTimeout", "whole handshake (`handshakeTimeout`)", 20_000, "ms", "layers/handshake/driver.ts", "DEFAULT_HANDSHAKE_TIMEOUT = ([\\d_]+)", "`HANDSHAKE_TIMEOUT` (origin `local`); trickling bytes does not extend it"),
  L("handshakeScratch", "handshake read buffer, past its first 8 KiB (where the transport reads into one)", 16 * KIB, "bytes", "layers/handshake/driver.ts", "SCRATCH_LEN = ([\\d_ *]+);", "reads are at most this large; the bytes are decrypted or copied out of it (a streamed decoy leaves no chunk behind)"),
  L("streamFrom", "decoys: streamed, never held, from this body size", 16 * KIB, "bytes", "layers/session/open.ts", "STREAM_BODIES_FROM = ([\\d_ *]+);", "a decoy spanning transport chunks is authenticated as it passes (its tag checked at its end before anything after it is released); in the handshake every decoy is streamed"),
  L("assembly", "packet assembly storage, initial", 64 * KIB, "bytes", "layers/length/length_layer.ts", "INITIAL_ASSEMBLY = ([\\d_ *]+);", "grows with the bytes of a real message that arrive, up to its announced length"),
  L("rekey", "rekey interval", 224, "packets", "layers/rekeying.ts", "REKEY_INTERVAL = ([\\d_]+)", "— (fixed by the BIP)"),
  // --- a session
  L("readAhead", "read-ahead (`readAhead`)", 256 * KIB, "bytes", SESSION, "DEFAULT_READ_AHEAD = ([\\d_ *]+);", "the session stops reading from the transport (backpressure); one larger message is still read, nothing after it"),
  L("closeTimeout", "flushing on close (`closeTimeout`)", 5_000, "ms", SESSION, "DEFAULT_CLOSE_TIMEOUT = ([\\d_]+)", "pending writes are dropped and the session is closed"),
  L("batch", "outbound batch buffer", 64 * KIB, "bytes", "layers/session/outbox.ts", "BATCH_SIZE = ([\\d_ *]+);", "flushed to the transport at once; an idle session lets go of it after 1 s"),
  L("packetRoomUpTo", "outbound packets given room to grow into (at most 25 %), so that their buffer serves the next", 256 * KIB, "bytes", "layers/session/outbox.ts", "ROOM_UP_TO = ([\\d_ *]+);", "larger packets get a buffer of their exact size"),
  L("batchRelease", "outbound batch buffer kept while idle", 1_000, "ms", "layers/session/outbox.ts", "RELEASE_AFTER_MS = ([\\d_]+)", "the buffer is released"),
  L("fairShare", "work per turn while another socket waits", 256 * KIB, "bytes", "layers/session/fairness.ts", "FAIR_SHARE = ([\\d_ *]+);", "the session gives the event loop a turn (a zero timer) before it reads on"),
  L("fairSlice", "time a session works, at least, between those turns", 2, "ms", "layers/session/fairness.ts", "FAIR_SLICE_MS = ([\\d_]+);", "the turn waits until the session has worked this long since its last one"),
  // --- a listener
  L("maxPendingHandshakes", "handshakes in flight per listener (`maxPendingHandshakes`)", 128, "count", LISTENER, "DEFAULT_MAX_PENDING_HANDSHAKES = ([\\d_]+)", "refused: 64 random bytes, then closed, so that the initiator sees `UNEXPECTED_EOF`, not a v1-only peer (under a burst not always: see Measured); `onError` gets `BUSY`"),
  L("maxSessions", "sessions per listener, handshakes included (`maxSessions`)", 1024, "count", LISTENER, "DEFAULT_MAX_SESSIONS = ([\\d_]+)", "refused as above (`BUSY`)"),
  L("listenerIdle", "idle session of a listener (`idleTimeout`)", 20 * 60_000, "ms", LISTENER, "DEFAULT_LISTENER_IDLE_TIMEOUT = ([\\d_ *]+);", "`IDLE_TIMEOUT` (origin `local`); `0` disables it; sessions from `connect` have none unless set"),
  L("maxQueued", "established sessions not yet taken (`maxQueuedSessions`)", 64, "count", LISTENER, "DEFAULT_MAX_QUEUED_SESSIONS = ([\\d_]+)", "the listener stops accepting (peers wait in the backlog) until one is taken; no session is dropped"),
  L("busyReply", "bytes sent to a refused connection", 64, "bytes", LISTENER, "BUSY_REPLY_LEN = ([\\d_]+)", "—"),
  L("busyLinger", "refused connection read (and discarded) before closing", 250, "ms", LISTENER, "BUSY_LINGER_MS = ([\\d_]+)", "closed"),
  L("busyLingering", "refused connections lingering at once", 128, "count", LISTENER, "BUSY_MAX_LINGERING = ([\\d_]+)", "further refused connections are closed as soon as the 64 bytes are handed to the transport"),
  L("busyDrain", "bytes read from a refused connection", 64 * KIB, "bytes", LISTENER, "BUSY_DRAIN_BYTES = ([\\d_ *]+);", "closed"),
  // --- transports
  L("tcpReadIdle", "TCP read buffer of an idle connection", 512, "bytes", "transports/deno_conn.ts", "MIN_READ = ([\\d_ *]+);", "doubles after each read that fills it; back to this after a read that does not (a buffer grown to 64 KiB is kept for the next burst, and let go of after 1 s without one)"),
  L("tcpRead", "TCP read buffer, largest", 64 * KIB, "bytes", "transports/deno_conn.ts", "MAX_READ = ([\\d_ *]+);", "reads are at most this large; each read is handed on as a copy of its own"),
  L("nodeReadAhead", "`node:net` bytes ahead of the reader (Node.js, Bun)", 64 * KIB, "bytes", "transports/node_socket.ts", "NODE_READ_AHEAD = ([\\d_ *]+);", "the socket is paused"),
  L("maxFrame", "WebSocket frame from a client (`maxFrameBytes`)", 4 * MIB, "bytes", "transports/http_server.ts", "DEFAULT_MAX_FRAME_BYTES: number = ([\\d_ <]+);", "refused from the frame header, before its payload is read: closed (1009), `OVERSIZED` (origin `local`)"),
  L("wsPausedQueue", "WebSocket frames queued before the socket is paused", MIB, "bytes", WS, "canPause \\? Math\\.min\\(receiveLimit, ([\\d <]+)\\)", "the socket is paused (the `ws`-based server, the relay)"),
  L("receiveLimit", "WebSocket receive backlog where the socket cannot pause (`receiveLimit`)", 16 * MIB, "bytes", WS, "options\\.receiveLimit \\?\\? ([\\d <]+);", "`TRANSPORT` (origin `local`)"),
  L("sendHighWater", "WebSocket send high-water mark (`sendHighWater`)", MIB, "bytes", WS, "options\\.sendHighWater \\?\\? ([\\d <]+);", "writes wait until the socket drains"),
  L("maxWaiting", "upgraded WebSockets waiting to be taken (`maxWaiting`)", 128, "count", "transports/websocket_server.ts", "options\\.maxWaiting \\?\\? ([\\d_]+);", "upgrade refused with 503"),
  L("httpBody", "plain HTTP request body", MIB, "bytes", "transports/node_http.ts", "MAX_BODY_BYTES = ([\\d <]+);", "413"),
  L("httpHeaders", "HTTP request headers", 20_000, "ms", "transports/http_server.ts", "headersTimeout: ([\\d_]+)", "the connection is closed"),
  // --- the relay
  L("relayConnections", "relay: connections (`maxConnections`)", 1000, "count", RELAY, "DEFAULT_MAX_CONNECTIONS = ([\\d_]+)", "503"),
  L("relayPerIp", "relay: connections per client IP (`maxPerIp`)", 16, "count", RELAY, "DEFAULT_MAX_PER_IP = ([\\d_]+)", "429"),
  L("relayIdle", "relay: idle connection (`idleTimeout`)", 600_000, "ms", RELAY, "DEFAULT_IDLE_TIMEOUT = ([\\d_]+)", "both sides closed (`idle`)"),
  L("relayBuffered", "relay: client bytes held for a slow node (`maxBufferedBytes`)", 8 * MIB, "bytes", RELAY, "DEFAULT_MAX_BUFFERED = ([\\d <]+);", "the client socket is paused (closed, reason `error`, where it cannot pause)"),
  L("relaySendHighWater", "relay: node → client queue (`sendHighWater`)", MIB, "bytes", RELAY, "DEFAULT_SEND_HIGH_WATER = ([\\d <]+);", "the node is not read until the WebSocket drains"),
];

/** The default of limit `key`. */
export function limit(key: string): number {
  const found = LIMITS.find((l) => l.key === key);
  if (!found) throw new RangeError(`no limit ${key}`);
  return found.value;
}

/** A default as SECURITY.md shows it. */
export function shown(l: Limit): string {
  const v = l.value;
  if (l.unit === "ms") {
    return v >= 60_000 ? `${v / 60_000} min` : v >= 1000 ? `${v / 1000} s` : `${v} ms`;
  }
  if (l.unit !== "bytes") return v.toLocaleString("en-US");
  if (v >= MIB && v % MIB === 0) return `${v / MIB} MiB`;
  if (v >= KIB && v % KIB === 0) return `${v / KIB} KiB`;
  return `${v.toLocaleString("en-US")} bytes`;
}

/** One term of a budget. */
export interface Term {
  what: string;
  bytes: number;
  /** How it follows from the limits. */
  from: string;
}

/** What one connection may make us hold, term by term. */
export interface Budget {
  name: string;
  terms: Term[];
  total: number;
}

const budget = (name: string, terms: Term[]): Budget => ({
  name,
  terms,
  total: terms.reduce((a, t) => a + t.bytes, 0),
});

/**
 * The JavaScript objects of one session (streams, ciphers, closures, timers), as measured
 * over loopback TCP (the `idle_session_bytes` figure of `deno task soak --hostile` checks it).
 */
export const SESSION_OBJECTS = 64 * KIB;
/** Bytes a packet adds to its contents on the wire: length 3 + header 1 + tag 16. */
const PACKET_OVERHEAD = 20;
/** Header + tag: what a packet's body adds to its contents. */
const BODY_OVERHEAD = 17;

const T = (what: string, bytes: number, from: string): Term => ({ what, bytes, from });
/** The buffer the outbox gives a packet of `size` bytes that it may reuse (`roomFor`). */
const packetRoom = (size: number) => size > limit("packetRoomUpTo") ? size : Math.ceil(1.25 * size);
const objects = () =>
  T("JS objects of the connection", SESSION_OBJECTS, "measured: idle_session_bytes");
const tcpRead = () => [
  T(
    "transport read buffers (the small one and the grown one)",
    limit("tcpReadIdle") + limit("tcpRead"),
    "tcpReadIdle + tcpRead",
  ),
  T("the chunk being decoded (a copy of one read)", limit("tcpRead"), "tcpRead"),
];
const garbage = () => limit("garbage") + limit("terminator");
const handshakeBytes = (versionPacket: number, tcp: boolean) => [
  T("the peer's key, garbage and terminator", 64 + garbage(), "64 + 4,095 + 16"),
  T(
    "the version packet being gathered",
    versionPacket ? versionPacket + BODY_OVERHEAD : 0,
    versionPacket ? "its contents + 17" : "0: decoys are streamed, never held",
  ),
  T(
    "the handshake's own read buffer (Deno TCP, past the first 8 KiB)",
    tcp ? limit("handshakeScratch") : 0,
    tcp ? "handshakeScratch" : "0: a WebSocket hands on its frames",
  ),
  T(
    "our key, garbage, terminator and version packet",
    64 + garbage() + PACKET_OVERHEAD,
    "64 + 4,095 + 16 + 20",
  ),
];
/** What a v2 session holds past its transport, for messages of up to `m` contents bytes. */
const sessionBytes = (m: number, chunk: number) => [
  T(
    "a real message being gathered: one buffer of its announced length (decrypted in place)",
    m + BODY_OVERHEAD + chunk,
    "maxMessage + 17 + the chunk its first piece came in",
  ),
  T(
    "read-ahead: queued messages, plus the one larger message",
    limit("readAhead") + m,
    "readAhead + maxMessage",
  ),
  T(
    "outbound: batch, a packet in flight, one queued and one kept for reuse, one message waiting",
    limit("batch") + 3 * packetRoom(m + PACKET_OVERHEAD) + m,
    "batch + 3 × (maxMessage + 20, with up to 25 % room up to 256 KiB) + maxMessage",
  ),
];
const wsFrames = () => [
  T("`node:net` read-ahead under the WebSocket", limit("nodeReadAhead"), "nodeReadAhead"),
  T("the frame being received", limit("maxFrame"), "maxFrameBytes"),
  T(
    "frames queued before the socket pauses (overshoot: one frame)",
    limit("wsPausedQueue") + limit("maxFrame"),
    "1 MiB + maxFrameBytes",
  ),
];

/**
 * An established v2 session over TCP whose peer sends messages of up to `maxMessage`
 * contents bytes (default `maxMessageSize`) and, at worst, never reads.
 */
export function sessionBudget(maxMessage: number = limit("maxMessageSize")): Budget {
  return budget(`TCP session, messages ≤ ${maxMessage.toLocaleString("en-US")} B`, [
    objects(),
    ...tcpRead(),
    ...sessionBytes(maxMessage, limit("tcpRead")),
  ]);
}

/**
 * A TCP handshake in flight at a listener. `versionPacket`: contents of the peer's version
 * packet being gathered (0 for a peer that sends decoys: they are streamed, never held).
 */
export function pendingHandshakeBudget(versionPacket = 0): Budget {
  const kind = versionPacket ? "a real version packet" : "decoys";
  return budget(`pending TCP handshake, ${kind}`, [
    objects(),
    ...tcpRead(),
    ...handshakeBytes(versionPacket, true),
  ]);
}

/** A v2 session over a WebSocket from `listenWebSocket` (`handshake`: before it is done). */
export function webSocketBudget(
  maxMessage: number = limit("maxMessageSize"),
  handshake = false,
): Budget {
  const frame = limit("maxFrame");
  return budget(`WebSocket ${handshake ? "handshake, decoys" : "session"}`, [
    objects(),
    ...wsFrames(),
    T("the chunk being decoded (one frame)", frame, "maxFrameBytes"),
    ...(handshake ? handshakeBytes(0, false) : [
      ...sessionBytes(maxMessage, frame),
      T("WebSocket send buffer", limit("sendHighWater"), "sendHighWater"),
    ]),
  ]);
}

/** One connection through the relay (bytes only: no session there). */
export function relayBudget(): Budget {
  const frame = limit("maxFrame");
  return budget("relayed connection", [
    objects(),
    ...wsFrames(),
    T("client → node: the frame being written (one write at a time)", frame, "maxFrameBytes"),
    T("node → client: read buffer and the chunk in hand", 2 * limit("tcpRead"), "2 × tcpRead"),
    T(
      "node → client: WebSocket send buffer",
      limit("relaySendHighWater") + limit("tcpRead"),
      "sendHighWater + one chunk",
    ),
  ]);
}

/** Growth a serving process may show on top of its connections (issue 14's "+ 64" MiB). */
export const BASE_ALLOWANCE = 64 * MIB;
/** Issue 14's goals that are numbers of their own. */
export const GOALS = {
  /** ws_handshake_frame_rss_mib and pending_decoy_rss_mib, MiB. */
  smallRssMib: 64,
  /** honest_ping_p99_ms_under_flood: 3 flooders × FAIR_SHARE of decoding per turn fits in it. */
  pingP99Ms: 50,
  /** idle_after_big_packet_bytes ≤ this × the idle figure. */
  idleFactor: 2,
  /** soak_peak_rss_mib. */
  peakRssMib: 1024,
  /** soak_end_rss_mib − start: what the allocator may keep of pages the run freed, MiB. */
  endRssGrowthMib: 256,
} as const;

/** A byte count as SECURITY.md shows it. */
export function size(n: number): string {
  const one = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: 1 });
  if (n < 10 * KIB) return `${n.toLocaleString("en-US")} B`;
  if (n < MIB) return `${one(n / KIB)} KiB`;
  return `${one(n / MIB)} MiB`;
}

/** The budgets SECURITY.md shows, at the library's defaults. */
export function defaultBudgets(): Budget[] {
  return [
    sessionBudget(),
    pendingHandshakeBudget(),
    pendingHandshakeBudget(limit("maxMessageSize")),
    webSocketBudget(),
    webSocketBudget(limit("maxMessageSize"), true),
    relayBudget(),
  ];
}

/** The limits and the budgets as Markdown (for SECURITY.md). */
export function markdown(): string {
  const lines = [
    "| limit | default | where | past it |",
    "| --- | --- | --- | --- |",
    ...LIMITS.map((l) => `| ${l.what} | ${shown(l)} | \`${l.file}\` | ${l.past} |`),
    "",
    "| connection | budget | terms |",
    "| --- | --- | --- |",
  ];
  for (const b of defaultBudgets()) {
    const terms = b.terms.filter((t) => t.bytes > 0).map((t) => `${t.what} ${size(t.bytes)}`);
    lines.push(`| ${b.name} | ${size(b.total)} | ${terms.join("; ")} |`);
  }
  return lines.join("\n");
}

if (import.meta.main) console.log(markdown());

/** A bound on a figure, and how it was reached. */
export interface Bound {
  /** The bound, in the figure's unit. */
  value: number;
  /** How it follows from the budgets and issue 14's goals. */
  basis: string;
}

/** The tighter of issue 14's goal and a budget bound (both shown in `basis`). */
export function tighter(goal: number, fromBudget: number, budgetText: string): Bound {
  const g = `goal ${goal}`;
  const b = `budget ${Math.round(fromBudget)} = ${budgetText}`;
  return goal <= fromBudget
    ? { value: goal, basis: `${g} (tighter than ${b})` }
    : { value: fromBudget, basis: `${b} (tighter than ${g})` };
}

/**
 * The load phase's bounds: its peak RSS, MiB (both ends of `sessions` sessions in one process,
 * messages of up to `maxPayload` bytes + 13 of type), and its end RSS, MiB.
 */
export function loadBounds(
  sessions: number,
  maxPayload: number,
  startRssMib: number,
): { peak: Bound; end: Bound } {
  const per = sessionBudget(maxPayload + 13).total;
  const budgetPeak = startRssMib + BASE_ALLOWANCE / MIB + 2 * sessions * per / MIB;
  return {
    peak: tighter(
      GOALS.peakRssMib,
      budgetPeak,
      `start ${Math.round(startRssMib)} + ${BASE_ALLOWANCE / MIB} + 2 × ${sessions} × ` +
        `${Math.round(per / KIB)} KiB`,
    ),
    end: {
      value: startRssMib + GOALS.endRssGrowthMib,
      basis: `start ${Math.round(startRssMib)} + ${GOALS.endRssGrowthMib} (goal; every session ` +
        "closed, so the budget holds nothing for any)",
    },
  };
}
