// Session throughput and idle memory, in memory (one thread), plus the seal+open ceilings.
import { createCipheriv } from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { type AnyOptions, api, perSecond, type Session, sessionPair } from "./lib.ts";

/**
 * Messages per second one way through a session pair, after a warm-up run. `viaSend`: each
 * written with `await session.send()` instead of a writer (no WritableStream). `recycle`: the
 * receiver gives each payload back with `recycle()` once it has it.
 */
export async function throughput(
  options: AnyOptions,
  size: number,
  count: number,
  viaSend = false,
  recycle = false,
): Promise<number> {
  const [a, b] = await sessionPair(options);
  const w = viaSend ? undefined : a.writable.getWriter(), r = b.readable.getReader();
  const payload = new Uint8Array(size).fill(7);
  const run = async (n: number) => {
    const t0 = performance.now();
    const reading = (async () => {
      if (recycle) {
        for (let i = 0; i < n; i++) api.recycle((await r.read()).value!.payload);
      } else for (let i = 0; i < n; i++) await r.read();
    })();
    if (w === undefined) { for (let i = 0; i < n; i++) await a.send("inv", payload); }
    else for (let i = 0; i < n; i++) w.write({ type: "inv", payload });
    await reading;
    return performance.now() - t0;
  };
  await run(count); // warm-up: the JIT needs a full run to settle
  const ms = await run(count);
  w?.releaseLock();
  r.releaseLock();
  await a.close();
  await b.closed;
  return count / ms * 1000;
}

/**
 * Seal + open of one packet of `contents` bytes with a backend, per second (the ceiling);
 * `fresh`: into a new packet buffer each time, as a session hands each message on in its own.
 */
export function sealOpenPerSecond(
  backend: "pure" | "native" | "wasm" | "auto",
  contents: number,
  minMs = 1000,
  fresh = false,
): number {
  const a = api.Bip324Cipher.create({ aeadBackend: backend });
  const b = api.Bip324Cipher.create({ aeadBackend: backend });
  a.initialize(b.ourEllswift, true);
  b.initialize(a.ourEllswift, false);
  const plain = new Uint8Array(1 + contents);
  const box = new Uint8Array(1 + contents + 16);
  const { sendPacket, sendLength } = a.ciphers, { recvPacket, recvLength } = b.ciphers;
  const field = new Uint8Array(3);
  const empty = new Uint8Array(0);
  return perSecond(() => {
    const out = fresh ? new Uint8Array(box.length) : box;
    sendLength.encryptLength(contents, field, 0);
    sendPacket.encrypt(empty, plain, out);
    recvLength.decryptLength(field, 0);
    recvPacket.decrypt(empty, out, out);
  }, minMs);
}

/** Heap + external bytes per idle in-memory session (5,000 pairs held open). */
export async function idleBytes(deadline: number): Promise<{ bytes: number; sessions: number }> {
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
    return m.heapUsed + m.external;
  };
  const before = used();
  const held: Session[] = [];
  for (let i = 0; i < 5_000 && performance.now() < deadline; i++) held.push(...await sessionPair());
  await settle();
  const bytes = Math.round((used() - before) / held.length);
  await Promise.all(held.map((s) => s.close()));
  return { bytes, sessions: held.length };
}

/** Handshake CPU of one side: create + decode + ECDH + HKDF. */
export function handshakeMsPerSide(): number {
  const peers = Array.from({ length: 20 }, () => api.Bip324Cipher.create());
  let i = 0;
  const perSec = perSecond(() => {
    const c = api.Bip324Cipher.create();
    c.initialize(peers[i++ % peers.length].ourEllswift, true);
  }, 2000);
  return 1000 / perSec;
}

/** Both sides of a full in-memory handshake, ms. */
export async function fullHandshakeMs(): Promise<number> {
  const n = 50;
  const t0 = performance.now();
  for (let k = 0; k < n; k++) {
    const [a, b] = await sessionPair();
    a.close();
    b.close();
  }
  return (performance.now() - t0) / n;
}

/** Raw ChaCha20-Poly1305 baselines from @noble/ciphers and node:crypto (seal only). */
export function baselines(): Record<string, number> {
  const key = new Uint8Array(32).fill(1), nonce = new Uint8Array(12);
  const small = new Uint8Array(38), big = new Uint8Array(1 << 20);
  const nativeSeal = (data: Uint8Array) => {
    const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    c.update(data);
    c.final();
    c.getAuthTag();
  };
  const mb = (perSec: number) => Math.round(perSec * (1 << 20) / 1e6 * 10) / 10;
  return {
    baseline_noble_small_pkts_per_s: Math.round(
      perSecond(() => chacha20poly1305(key, nonce).encrypt(small)),
    ),
    baseline_noble_bulk_mb_per_s: mb(perSecond(() => chacha20poly1305(key, nonce).encrypt(big))),
    baseline_native_small_pkts_per_s: Math.round(perSecond(() => nativeSeal(small))),
    baseline_native_bulk_mb_per_s: mb(perSecond(() => nativeSeal(big))),
  };
}
