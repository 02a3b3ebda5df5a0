// `deno task bench:report`: session throughput, handshake cost and idle memory, next to raw
// ChaCha20-Poly1305 baselines (@noble/ciphers and node:crypto), measured in one process.
// Prints a table, then as its very last line one JSON object with the figures.
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { createCipheriv } from "node:crypto";
import { Bip324Cipher } from "../layers/packet_cipher.ts";
import type { Session } from "../layers/session/session.ts";
import { openSession, type SessionOptions } from "../layers/session/open.ts";
import { memoryPair } from "../transports/memory.ts";

const SMALL = 37;
const MIB = 1 << 20;
const deadline = performance.now() + 55_000;

async function sessionPair(options: SessionOptions = {}): Promise<[Session, Session]> {
  const [x, y] = memoryPair();
  return await Promise.all([
    openSession(x, { role: "initiator", garbage: 0, ...options }),
    openSession(y, { role: "responder", garbage: 0, ...options }),
  ]);
}

/** Messages per second one way through a session pair, after a warm-up. */
async function throughput(options: SessionOptions, size: number, count: number): Promise<number> {
  const [a, b] = await sessionPair(options);
  const w = a.writable.getWriter(), r = b.readable.getReader();
  const payload = new Uint8Array(size).fill(7);
  const run = async (n: number) => {
    const t0 = performance.now();
    const reading = (async () => {
      for (let i = 0; i < n; i++) await r.read();
    })();
    for (let i = 0; i < n; i++) w.write({ type: "inv", payload });
    await reading;
    return performance.now() - t0;
  };
  await run(count); // warm-up: the JIT needs a full run to settle
  const ms = await run(count);
  await a.close();
  await b.closed;
  return count / ms * 1000;
}

function perSecond(fn: () => void, minMs = 1500): number {
  for (let i = 0; i < 50; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn();
    n++;
  }
  return n / (performance.now() - t0) * 1000;
}

const results: Record<string, number> = {};
const rows: [string, string][] = [];
const row = (name: string, value: string) => {
  rows.push([name, value]);
  console.log(`  ${name.padEnd(46)} ${value}`);
};

console.log("bip324 bench:report (one process)");

// Sessions: small messages, bulk per backend.
results.small_msgs_per_s = Math.round(await throughput({}, SMALL, 100_000));
row("session small messages (37 B), one way", `${results.small_msgs_per_s.toLocaleString()} msg/s`);
for (const backend of ["native", "pure"] as const) {
  const msgs = await throughput({ aeadBackend: backend }, MIB, backend === "native" ? 400 : 100);
  const key = backend === "native" ? "bulk_mb_per_s_native" : "bulk_mb_per_s_pure";
  results[key] = Math.round(msgs * MIB / 1e6 * 10) / 10;
  row(`session 1 MiB messages, ${backend} AEAD`, `${results[key]} MB/s`);
}

// Handshake: CPU of one side = key generation (ellswift create) + decode + ECDH + key schedule.
{
  const peers = Array.from({ length: 20 }, () => Bip324Cipher.create());
  let i = 0;
  const perSec = perSecond(() => {
    const c = Bip324Cipher.create();
    c.initialize(peers[i++ % peers.length].ourEllswift, true);
  }, 3000);
  results.handshake_ms_per_side = Math.round(1000 / perSec * 1000) / 1000;
  row("handshake CPU per side (create+decode+ECDH+HKDF)", `${results.handshake_ms_per_side} ms`);
  const t0 = performance.now();
  const n = 50;
  for (let k = 0; k < n; k++) {
    const [a, b] = await sessionPair();
    a.close();
    b.close();
  }
  results.handshake_ms_full_in_memory = Math.round((performance.now() - t0) / n * 1000) / 1000;
  row("full in-memory handshake, both sides", `${results.handshake_ms_full_in_memory} ms`);
}

// Idle memory: 10,000 established sessions (5,000 pairs) held open.
{
  const gc = (globalThis as { gc?: () => void }).gc;
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await settle();
  const used = () => {
    const m = Deno.memoryUsage();
    return m.heapUsed + m.external; // typed-array storage lives outside the V8 heap
  };
  const before = used();
  const held: Session[] = [];
  const pairs = 5_000;
  for (let i = 0; i < pairs && performance.now() < deadline - 15_000; i++) {
    held.push(...await sessionPair());
  }
  await settle();
  const after = used();
  results.bytes_per_idle_session = Math.round((after - before) / held.length);
  results.idle_sessions_measured = held.length;
  row(
    `memory per idle session (${held.length.toLocaleString()} sessions, heap+external${
      gc ? ", after GC" : ""
    })`,
    `${results.bytes_per_idle_session.toLocaleString()} B`,
  );
  await Promise.all(held.map((s) => s.close()));
}

// Baselines on the same sizes.
{
  const key = new Uint8Array(32).fill(1), nonce = new Uint8Array(12);
  const small = new Uint8Array(SMALL + 1), big = new Uint8Array(MIB);
  results.baseline_noble_small_pkts_per_s = Math.round(
    perSecond(() => chacha20poly1305(key, nonce).encrypt(small)),
  );
  row(
    "baseline @noble/ciphers, 38 B packets",
    `${results.baseline_noble_small_pkts_per_s.toLocaleString()} pkt/s`,
  );
  results.baseline_noble_bulk_mb_per_s =
    Math.round(perSecond(() => chacha20poly1305(key, nonce).encrypt(big), 2000) * MIB / 1e6 * 10) /
    10;
  row("baseline @noble/ciphers, 1 MiB", `${results.baseline_noble_bulk_mb_per_s} MB/s`);
  const nativeSeal = (data: Uint8Array) => {
    const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    c.update(data);
    c.final();
    c.getAuthTag();
  };
  results.baseline_native_small_pkts_per_s = Math.round(perSecond(() => nativeSeal(small)));
  row(
    "baseline node:crypto, 38 B packets",
    `${results.baseline_native_small_pkts_per_s.toLocaleString()} pkt/s`,
  );
  results.baseline_native_bulk_mb_per_s =
    Math.round(perSecond(() => nativeSeal(big), 2000) * MIB / 1e6 * 10) / 10;
  row("baseline node:crypto, 1 MiB", `${results.baseline_native_bulk_mb_per_s} MB/s`);
}

console.log(JSON.stringify(results));
