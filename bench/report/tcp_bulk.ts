// Cross-thread bulk over loopback TCP: 1 MiB messages from this thread to a receiver in a
// Worker (tcp_bulk_worker.ts), through two sessions, next to raw Deno TCP moving the same
// bytes with the same writes (the receiver reading as the session's transport does).
import { type AnyOptions, api } from "./lib.ts";

const MIB = 1 << 20;

/** MB/s from the receiver's first message to its last (`count` messages of 1 MiB). */
export async function tcpBulkMbPerSecond(
  kind: "session" | "raw",
  count: number,
  options: AnyOptions = {},
): Promise<number> {
  const worker = new Worker(new URL("./tcp_bulk_worker.ts", import.meta.url), { type: "module" });
  const queue: Record<string, number | string>[] = [];
  const waiting: ((v: Record<string, number | string>) => void)[] = [];
  worker.onmessage = (e) => {
    const w = waiting.shift();
    if (w) w(e.data);
    else queue.push(e.data);
  };
  const next = () =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise<Record<string, number | string>>((r) => waiting.push(r));
  try {
    worker.postMessage({ kind, count, options });
    const { port } = await next() as { port: number };
    const payload = new Uint8Array(MIB).fill(3);
    let done: Record<string, number | string>;
    if (kind === "raw") {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      for (let i = 0; i < count; i++) {
        let offset = 0;
        while (offset < MIB) offset += await conn.write(payload.subarray(offset));
      }
      done = await next();
      conn.close();
    } else {
      const session = await api.connect({ hostname: "127.0.0.1", port, garbage: 0, ...options });
      const w = session.writable.getWriter();
      for (let i = 0; i < count; i++) await w.write({ type: "block", payload });
      done = await next();
      w.releaseLock();
      await session.close();
    }
    if (typeof done.error === "string") throw new Error(done.error);
    return (count - 1) * MIB / 1e6 / ((done.ms as number) / 1000);
  } finally {
    worker.terminate();
  }
}
