// A listener in a process of its own for the hostile scenarios: its memory is what they
// measure. Prints `{"port":N}` once, then `{"rss":B,"live":B}` every 200 ms (live = heap +
// external after a GC). Sessions answer pings with pongs and otherwise just read.
//   deno run -A --v8-flags=--expose-gc server.ts [--max-pending N] [--handshake-timeout MS]
import { listen } from "../../mod.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const gc = (globalThis as { gc?: () => void }).gc;
const listener = listen({
  port: 0,
  hostname: "127.0.0.1",
  network: "regtest",
  maxPendingHandshakes: arg("max-pending", 128),
  handshakeTimeout: arg("handshake-timeout", 60_000),
  onError: () => {},
});
console.log(JSON.stringify({ port: listener.addr.port }));
setInterval(() => {
  if (!Deno.env.get("NO_GC")) gc?.();
  const m = Deno.memoryUsage();
  console.log(
    JSON.stringify({
      rss: m.rss,
      live: m.heapUsed + m.external,
      pending: listener.pendingHandshakes,
    }),
  );
}, 200);
for await (const session of listener) {
  (async () => {
    const writer = session.writable.getWriter();
    for await (const m of session.readable.values({ preventCancel: true })) {
      if (m.type === "ping") await writer.write({ type: "pong", payload: m.payload });
    }
  })().catch(() => {});
}
