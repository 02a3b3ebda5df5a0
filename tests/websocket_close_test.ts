import assert from "node:assert/strict";
import { connectWebSocket, listenWebSocket } from "../layers/session/connect.ts";
import type { Session } from "../layers/session/session.ts";
import { serveWebSocket } from "../transports/websocket_server.ts";
import { webSocketPair } from "../transports/websocket.ts";
import { within } from "./helpers.ts";
import { rawUpgrade } from "./relay_helpers.ts";

const TIMEOUT = 20_000;

Deno.test("websocket close: the peer closing while we still send ends our session cleanly (closed by peer), both ways round", async () => {
  for (const closer of ["client", "server"] as const) {
    for (let round = 0; round < 10; round++) {
      const listener = listenWebSocket({ port: 0, network: "regtest" });
      const accepted = (async () => {
        for await (const s of listener) return s;
      })();
      const client = await connectWebSocket({
        url: `ws://127.0.0.1:${listener.addr.port}/`,
        network: "regtest",
      });
      const server = (await within(accepted, TIMEOUT, "accept"))!;
      const [quitter, sender]: Session[] = closer === "client"
        ? [client, server]
        : [server, client];
      // The sender keeps sending until its session ends.
      const sending = (async () => {
        while (sender.isOpen) {
          try {
            for (let i = 0; i < 20; i++) await sender.send("ping", new Uint8Array(4096));
          } catch { /* refused once closed */ }
          await new Promise((r) => setTimeout(r, 0));
        }
      })();
      await new Promise((r) => setTimeout(r, 20));
      await quitter.close();
      await within(sender.closed, TIMEOUT, "sender closed");
      await within(sending, TIMEOUT, "send loop");
      assert.equal(
        sender.closeReason,
        undefined,
        `${closer} closed, round ${round}: ${sender.closeReason?.code} ${sender.closeReason?.message}`,
      );
      await listener.close();
    }
  }
});

/** A WebSocket server that completes the upgrade and then never reads or answers again. */
function frozenServer(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      const buf = new Uint8Array(4096);
      const head = new TextDecoder().decode(buf.subarray(0, await conn.read(buf) ?? 0));
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
      const digest = await crypto.subtle.digest(
        "SHA-1",
        new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
      );
      const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
      await conn.write(new TextEncoder().encode(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      ));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of conns) c.close();
    },
  };
}

Deno.test("websocket close: a client whose server never answers the close frame still exits (the closing handshake is bounded)", async () => {
  const server = frozenServer();
  const module = new URL("../transports/websocket.ts", import.meta.url).href;
  const code = `
    import { webSocketPair } from ${JSON.stringify(module)};
    const pair = await webSocketPair(new WebSocket("ws://127.0.0.1:${server.port}/"), { closeTimeout: 200 });
    await pair.writable.getWriter().write(new Uint8Array([1, 2, 3]));
    await pair.close();
    console.log("closed");
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--config",
      new URL("../deno.json", import.meta.url).pathname,
      code,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const out = await within(child.output(), TIMEOUT, "the client process exiting");
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(stdout.trim(), "closed");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    server.close();
  }
});

Deno.test("websocket close: a server stopping with sockets nobody took fails their clients' pairs (1013), instead of a clean end", async () => {
  const server = serveWebSocket({ port: 0 });
  const pairs = await Promise.all(
    [0, 1, 2].map(() => webSocketPair(new WebSocket(`ws://127.0.0.1:${server.addr.port}/`))),
  );
  // Upgraded, never taken from `incoming`: the client has read nothing when the server stops.
  await server.stop();
  for (const pair of pairs) {
    const read = within(pair.readable.getReader().read(), TIMEOUT, "client read");
    await assert.rejects(read, /code 1013/);
    await pair.close();
  }
});

Deno.test("websocket close: a listener closing while handshakes wait gives its clients TRANSPORT, not V1_ONLY_PEER", async () => {
  const listener = listenWebSocket({ port: 0, network: "regtest", maxQueuedSessions: 1 });
  const url = `ws://127.0.0.1:${listener.addr.port}/`;
  const first = await connectWebSocket({ url, network: "regtest" }); // fills the queue: paused
  const clients = Array.from(
    { length: 4 },
    () =>
      connectWebSocket({ url, network: "regtest", handshakeTimeout: 10_000 }).then(
        (s) => s.close().then(() => "ok"),
        (e) => (e as { code?: string }).code ?? String(e),
      ),
  );
  await new Promise((r) => setTimeout(r, 100)); // upgraded, waiting in the paused listener
  await listener.close();
  const outcomes = await within(Promise.all(clients), TIMEOUT, "the clients");
  assert.ok(outcomes.every((o) => o === "ok" || o === "TRANSPORT"), outcomes.join());
  assert.ok(outcomes.includes("TRANSPORT"), outcomes.join());
  await first.close();
});

/** A client session (with `closeTimeout`) and the server session it reached (with `readAhead`). */
async function wsSessions(closeTimeout: number, readAhead?: number) {
  const listener = listenWebSocket({ port: 0, network: "regtest", readAhead });
  const accepted = (async () => {
    for await (const s of listener) return s;
  })();
  const client = await connectWebSocket({
    url: `ws://127.0.0.1:${listener.addr.port}/`,
    network: "regtest",
    closeTimeout,
  });
  const server = (await within(accepted, TIMEOUT, "accept"))!;
  return { listener, client, server };
}

Deno.test("websocket close: a close that gave up (TIMEOUT) reaches the peer as an error, not a clean end", async () => {
  const { listener, client, server } = await wsSessions(300, 0);
  // The server reads nothing: the client's 1 MiB messages back up until its close gives up.
  const sending = (async () => {
    try {
      for (;;) await client.send("block", new Uint8Array(1 << 20));
    } catch { /* ended */ }
  })();
  await new Promise((r) => setTimeout(r, 100));
  await within(client.close(), TIMEOUT, "client.close()");
  assert.equal(client.closeReason?.code, "TIMEOUT");
  await within(sending, TIMEOUT, "send loop");
  let read = 0;
  await within(
    (async () => {
      try {
        for await (const _ of server.readable) read++;
      } catch { /* the expected error */ }
    })(),
    TIMEOUT,
    "server reads",
  );
  assert.ok(server.closeReason !== undefined, `an error after ${read} messages, not a clean end`);
  await listener.close();
});

Deno.test("websocket close: a short closeTimeout is enough when everything was sent (the peer's handshake reply is only lingered for)", async () => {
  const { listener, client, server } = await wsSessions(10);
  let read = 0;
  const reading = (async () => {
    for await (const _ of server.readable) read++;
  })();
  for (let i = 0; i < 10; i++) await client.send("ping", new Uint8Array(8));
  await within(client.close(), TIMEOUT, "client.close()");
  assert.equal(client.closeReason, undefined, `${client.closeReason}`);
  await within(reading, TIMEOUT, "server reads");
  assert.equal(read, 10);
  assert.equal(server.closeReason, undefined);
  await listener.close();
});

Deno.test("websocket close: a frame over the limit drops the connection at once, without reading on", async () => {
  const listener = listenWebSocket({ port: 0, network: "regtest" });
  const { status, conn } = await rawUpgrade(listener.addr.port);
  assert.equal(status, 101);
  // A masked binary frame announcing 60 MiB (over the default 4 MiB limit), then its payload.
  const header = new Uint8Array(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  new DataView(header.buffer).setBigUint64(2, BigInt(60 << 20));
  const started = performance.now();
  let sent = 0;
  try {
    await conn.write(header);
    const chunk = new Uint8Array(64 * 1024);
    while (sent < 60 << 20 && performance.now() - started < 10_000) sent += await conn.write(chunk);
  } catch { /* dropped: the expected end */ }
  const took = performance.now() - started;
  conn.close();
  await listener.close();
  assert.ok(took < 1_500, `dropped after ${took.toFixed(0)} ms (a closing handshake waits 3 s)`);
  assert.ok(sent < 60 << 20, `dropped after ${sent} bytes, before the whole frame`);
});

Deno.test("websocket close: writer.abort() reaches the peer as an error, not a clean end", async () => {
  const { listener, client, server } = await wsSessions(3_000, 0);
  const writer = client.writable.getWriter();
  for (let i = 0; i < 100; i++) {
    writer.write({ type: "blk", payload: new Uint8Array(65536) }).catch(() => {});
  }
  await new Promise((r) => setTimeout(r, 20));
  await writer.abort("stop");
  let failed = false;
  try {
    for await (const _ of server.readable);
  } catch {
    failed = true;
  }
  assert.ok(failed || server.closeReason !== undefined, "the peer learns of the abort");
  await listener.close();
});
