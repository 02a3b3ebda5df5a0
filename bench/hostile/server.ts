// A listener in a process of its own for the hostile scenarios: its memory is what they
// measure. Prints `{"port":N}` once, then `{"rss":B,"live":B}` every 200 ms (live = heap +
// external after a GC). Sessions answer pings with pongs and otherwise just read; with
// --no-read they are held and never read (what their read-ahead holds is then measured).
//   deno run -A --v8-flags=--expose-gc server.ts [--max-pending N] [--handshake-timeout MS]
//                                                [--no-read]
import { listen, type Message } from "../../mod.ts";

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
const held = new Set<unknown>();
for await (const session of listener) {
  if (Deno.args.includes("--no-read")) {
    held.add(session);
    continue;
  }
  (async () => {
    const writer = session.writable.getWriter();
    const reader = session.readable.getReader();
    // Each message is handled in a call of its own, so that nothing here keeps the last one
    // (a payload is a view into the transport chunk it arrived in) while waiting for the next.
    while (await answer(reader, writer));
  })().catch(() => {});
}

/** Reads one message and answers a ping; false once the session has ended. */
async function answer(
  reader: ReadableStreamDefaultReader<Message>,
  writer: WritableStreamDefaultWriter<Message>,
): Promise<boolean> {
  const { done, value } = await reader.read();
  if (done) return false;
  if (value.type === "ping") await writer.write({ type: "pong", payload: value.payload });
  return true;
}
