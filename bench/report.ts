// `deno task bench:report`: the session's figures next to baselines measured in the same run
// (raw TCP, the seal+open ceiling of each backend, @noble/ciphers and node:crypto). Each figure
// in the table is the median of 3 repetitions (min and max shown); the very last line is one
// JSON object with every key (medians).
import { type AnyOptions, passThroughLayer, reps, round } from "./report/lib.ts";
import {
  baselines,
  fullHandshakeMs,
  handshakeMsPerSide,
  idleBytes,
  sealOpenPerSecond,
  throughput,
} from "./report/memory.ts";
import {
  handshakesPerSecond,
  rawRttUs,
  rawSmallPerSecond,
  rssPerIdleTcpSession,
  sessionRttUs,
  sessionSmallPerSecond,
} from "./report/tcp.ts";
import { portPair } from "./report/bulk_worker.ts";
import { tcpBulkMbPerSecond } from "./report/tcp_bulk.ts";
import { rawWsRttUs, wsRttUs, wsSmallPerSecond } from "./report/websocket.ts";
import { api } from "./report/lib.ts";

const MIB = 1 << 20;
const REPS = Number(Deno.env.get("BENCH_REPS") ?? 3);
const results: Record<string, number> = {};

function row(
  key: string,
  label: string,
  r: { min: number; median: number; max: number },
  unit: string,
  digits = 1,
) {
  results[key] = round(r.median, digits);
  const f = (x: number) => round(x, digits).toLocaleString("en-US");
  console.log(
    `  ${label.padEnd(58)} ${f(r.median).padStart(12)} ${unit.padEnd(7)} (min ${f(r.min)}, max ${
      f(r.max)
    })`,
  );
}

/** 1 MiB messages with the sender here and the receiver in a Worker, MB/s. */
async function crossThreadMbPerSecond(backend: "native" | "pure", count: number): Promise<number> {
  const worker = new Worker(new URL("./report/bulk_worker.ts", import.meta.url), {
    type: "module",
  });
  const channel = new MessageChannel();
  const options: AnyOptions = { aeadBackend: backend };
  const done = new Promise<number>((resolve) => (worker.onmessage = (e) => resolve(e.data)));
  worker.postMessage({ port: channel.port2, count, options }, [channel.port2]);
  const session = await api.openSession(portPair(channel.port1), {
    role: "initiator",
    garbage: 0,
    ...options,
  });
  const w = session.writable.getWriter();
  const payload = new Uint8Array(MIB).fill(3);
  for (let i = 0; i < count; i++) await w.write({ type: "block", payload });
  const ms = await done;
  w.releaseLock();
  await session.close();
  worker.terminate();
  channel.port1.close();
  return (count - 1) * MIB / 1e6 / (ms / 1000);
}

console.log("bip324 bench:report (one process; median of", REPS, "runs, min/max in brackets)");

// Small messages in memory, with and without a caller layer, and the pipeline's own cost.
const small = await reps(REPS, () => throughput({}, 37, 100_000));
row("small_msgs_per_s", "37 B messages one way, in-memory session pair", small, "msg/s", 0);
const viaSend = await reps(REPS, () => throughput({}, 37, 100_000, true));
row("small_msgs_per_s_send", "same, each written with await session.send()", viaSend, "msg/s", 0);
const withLayer = await reps(
  REPS,
  () => throughput(passThroughLayer as unknown as AnyOptions, 37, 100_000),
);
row(
  "small_msgs_per_s_with_user_layer",
  "same, + pass-through caller layer (messages)",
  withLayer,
  "msg/s",
  0,
);
results.user_layer_ratio = round(withLayer.median / small.median, 3);
const ceilingSmall = await reps(REPS, () => sealOpenPerSecond("auto", 38));
row(
  "seal_open_small_per_s",
  "seal+open ceiling, 38 B packet (auto backend)",
  ceilingSmall,
  "pkt/s",
  0,
);
results.small_overhead_us = round(1e6 / small.median - 1e6 / ceilingSmall.median, 2);
console.log(
  `  ${"pipeline cost per message (small_overhead_us)".padEnd(58)} ${
    String(results.small_overhead_us).padStart(12)
  } µs`,
);

// Loopback TCP: latency, one-way small messages, handshakes.
const rtt = await reps(REPS, () => sessionRttUs());
row("tcp_rtt_us", "ping → pong through two sessions, loopback TCP", rtt, "µs");
const rawRtt = await reps(REPS, () => rawRttUs());
row("raw_tcp_rtt_us", "baseline: the same exchange on raw Deno TCP", rawRtt, "µs");
results.tcp_rtt_vs_raw = round(rtt.median / rawRtt.median, 2);
const tcpSmall = await reps(REPS, () => sessionSmallPerSecond());
row("tcp_small_msgs_per_s", "37 B messages one way, loopback TCP", tcpSmall, "msg/s", 0);
const rawSmall = await reps(REPS, () => rawSmallPerSecond());
row(
  "raw_tcp_small_per_s",
  "baseline: same bytes, same write pattern, raw TCP",
  rawSmall,
  "msg/s",
  0,
);
results.tcp_small_vs_raw = round(tcpSmall.median / rawSmall.median, 3);
const handshakes = await reps(REPS, () => handshakesPerSecond());
row("tcp_handshakes_per_s", "sequential TCP connect + handshake + close", handshakes, "/s", 0);

// Loopback WebSocket: latency against a raw WebSocket, one-way small messages.
const wsRtt = await reps(REPS, () => wsRttUs());
row("ws_rtt_us", "ping → pong through two sessions, loopback WebSocket", wsRtt, "µs");
const rawWsRtt = await reps(REPS, () => rawWsRttUs());
row("raw_ws_rtt_us", "baseline: the same exchange on a raw Deno WebSocket", rawWsRtt, "µs");
results.ws_rtt_vs_raw = round(wsRtt.median / rawWsRtt.median, 2);
const wsSmall = await reps(REPS, () => wsSmallPerSecond());
row("ws_small_msgs_per_s", "37 B messages one way, loopback WebSocket", wsSmall, "msg/s", 0);

// Bulk: 1 MiB messages; cross-thread (native), and one thread against each backend's ceiling.
const crossNative = await reps(REPS, () => crossThreadMbPerSecond("native", 200));
row(
  "bulk_mb_per_s_native",
  "1 MiB messages, native AEAD, receiver in a Worker",
  crossNative,
  "MB/s",
);
const tcpBulk = await reps(
  REPS,
  () => tcpBulkMbPerSecond("session", 200, { aeadBackend: "native" }),
);
row(
  "tcp_bulk_mb_per_s_native",
  "1 MiB messages, native AEAD, loopback TCP, receiver in a Worker",
  tcpBulk,
  "MB/s",
);
const rawTcpBulk = await reps(REPS, () => tcpBulkMbPerSecond("raw", 400));
row("raw_tcp_bulk_mb_per_s", "baseline: the same bytes on raw Deno TCP", rawTcpBulk, "MB/s");
results.tcp_bulk_vs_raw = round(tcpBulk.median / rawTcpBulk.median, 3);
for (const backend of ["native", "pure"] as const) {
  const count = backend === "native" ? 300 : 60;
  const oneThread = await reps(
    REPS,
    async () => (await throughput({ aeadBackend: backend }, MIB, count)) * MIB / 1e6,
  );
  row(
    `bulk_mb_per_s_${backend}_one_thread`,
    `1 MiB messages, ${backend} AEAD, one thread`,
    oneThread,
    "MB/s",
  );
  // The receiver gives each payload back (`recycle()`), so the next packet is sealed in
  // its buffer instead of a fresh one: what an application that parses and drops blocks gets.
  const recycled = await reps(
    REPS,
    async () => (await throughput({ aeadBackend: backend }, MIB, count, false, true)) * MIB / 1e6,
  );
  row(
    `bulk_mb_per_s_${backend}_one_thread_recycled`,
    "the same, each payload given back with recycle()",
    recycled,
    "MB/s",
  );
  const ceiling = await reps(REPS, () => sealOpenPerSecond(backend, MIB, 1500) * MIB / 1e6);
  row(
    `seal_open_bulk_mb_per_s_${backend}`,
    `seal+open ceiling, 1 MiB (${backend})`,
    ceiling,
    "MB/s",
  );
  results[`bulk_vs_ceiling_${backend}`] = round(recycled.median / ceiling.median, 3);
  results[`bulk_vs_ceiling_${backend}_no_recycle`] = round(oneThread.median / ceiling.median, 3);
  if (backend !== "native") continue;
  // Without recycle() each message a session hands on is a fresh buffer the application owns,
  // and the ceiling reuses one warm buffer. The same loop, one fresh packet buffer per message
  // (sealed into, opened in place), shows what that costs (for reference).
  const fresh = await reps(REPS, () => sealOpenPerSecond(backend, MIB, 1500, true) * MIB / 1e6);
  row(
    "seal_open_bulk_mb_per_s_native_fresh",
    "reference: the same, a fresh 1 MiB buffer per message",
    fresh,
    "MB/s",
  );
  results.bulk_vs_fresh_ceiling_native = round(oneThread.median / fresh.median, 3);
}
results.bulk_mb_per_s_pure = results.bulk_mb_per_s_pure_one_thread;

// Handshake cost.
row(
  "handshake_ms_per_side",
  "handshake CPU per side (create+decode+ECDH+HKDF)",
  await reps(REPS, handshakeMsPerSide),
  "ms",
  3,
);
row(
  "handshake_ms_full_in_memory",
  "full in-memory handshake, both sides",
  await reps(REPS, fullHandshakeMs),
  "ms",
  3,
);

// Idle memory.
{
  const deadline = performance.now() + 30_000;
  const idle = await idleBytes(deadline);
  results.bytes_per_idle_session = idle.bytes;
  results.idle_sessions_measured = idle.sessions;
  console.log(
    `  ${`heap+external per idle in-memory session (${idle.sessions})`.padEnd(58)} ${
      idle.bytes.toLocaleString("en-US").padStart(12)
    } B`,
  );
  // Net: RSS growth minus V8's young-generation growth (a per-process step, not per session);
  // raw: the whole growth. See bench/report/idle_client.ts.
  // Three processes each; the raw figure is that of the run whose net figure is the median.
  const runs: { raw: number; net: number }[] = [];
  for (let i = 0; i < REPS; i++) runs.push(await rssPerIdleTcpSession());
  runs.sort((a, b) => a.net - b.net);
  const mid = runs[Math.floor(runs.length / 2)];
  results.rss_per_idle_tcp_session_raw = mid.raw;
  row(
    "rss_per_idle_tcp_session",
    "RSS per idle TCP session (1,000 held), net of young gen.",
    { min: runs[0].net, median: mid.net, max: runs.at(-1)!.net },
    "B",
    0,
  );
  console.log(
    `  ${"RSS per idle TCP session (1,000 held), raw".padEnd(58)} ${
      mid.raw.toLocaleString("en-US").padStart(12)
    } B`,
  );
}

// Baselines.
for (const [key, value] of Object.entries(baselines())) {
  results[key] = value;
  console.log(`  ${key.padEnd(58)} ${value.toLocaleString("en-US").padStart(12)}`);
}
console.log(JSON.stringify(results));
