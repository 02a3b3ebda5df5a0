// Receiver thread for the cross-thread bulk figures over loopback TCP: a Worker that listens
// (a BIP324 listener, or raw Deno TCP for the baseline), posts its port, reads `count`
// 1 MiB messages (or as many bytes) and posts the milliseconds from the first to the last.
import { api, type Session } from "./lib.ts";

const MIB = 1 << 20;

interface Job {
  kind: "session" | "raw";
  count: number;
  options: Record<string, unknown>;
}

async function session(job: Job, post: (v: unknown) => void): Promise<void> {
  const listener = api.listen({ hostname: "127.0.0.1", port: 0, garbage: 0, ...job.options });
  post({ port: listener.addr.port });
  const it = listener[Symbol.asyncIterator]();
  const s = (await it.next()).value as Session;
  const r = s.readable.getReader();
  await r.read(); // the first message starts the clock
  const t0 = performance.now();
  for (let i = 1; i < job.count; i++) await r.read();
  post({ ms: performance.now() - t0 });
  r.releaseLock();
  await s.closed;
  await listener.close();
}

async function raw(job: Job, post: (v: unknown) => void): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  post({ port: (listener.addr as Deno.NetAddr).port });
  const conn = await listener.accept();
  // Reads as the session's TCP transport does: up to 64 KiB at a time, each read copied out.
  const buffer = new Uint8Array(64 * 1024);
  const total = job.count * MIB;
  let got = 0, t0 = 0;
  while (got < total) {
    const n = await conn.read(buffer);
    if (n === null) break;
    buffer.slice(0, n);
    if (got < MIB && got + n >= MIB) t0 = performance.now();
    got += n;
  }
  post({ ms: performance.now() - t0 });
  conn.close();
  listener.close();
}

if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  const scope = self as unknown as {
    onmessage: (e: MessageEvent) => void;
    postMessage: (value: unknown) => void;
  };
  scope.onmessage = (e: MessageEvent) => {
    const job = e.data as Job;
    const post = (v: unknown) => scope.postMessage(v);
    (job.kind === "raw" ? raw(job, post) : session(job, post)).catch((error) =>
      post({ error: String(error) })
    );
  };
}
