import assert from "node:assert/strict";
import { DEFAULT_MAX_FRAME_BYTES, serveHttp } from "../transports/http_server.ts";
import { FrameTooLargeError, webSocketPair } from "../transports/websocket.ts";
import { serveWebSocket } from "../transports/websocket_server.ts";
import { within } from "./helpers.ts";

const TIMEOUT = 10_000;

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("WebSocket failed to open"));
  });
}

Deno.test("serveHttp: fetch-style requests, bodies, the client address; bound at once in Deno", async () => {
  const server = serveHttp({ port: 0 }, async (request, context) => {
    const url = new URL(request.url);
    if (url.pathname === "/echo") {
      return new Response(await request.text(), {
        headers: { "x-remote": context.remote.hostname },
      });
    }
    assert.throws(() => context.upgrade(), TypeError);
    return new Response("nope", { status: 404 });
  });
  try {
    assert.ok(server.addr.port > 0, "port known when serveHttp returns");
    await server.ready;
    const base = `http://127.0.0.1:${server.addr.port}`;
    const echo = await fetch(`${base}/echo`, { method: "POST", body: "hello" });
    assert.equal(await echo.text(), "hello");
    assert.equal(echo.headers.get("x-remote"), "127.0.0.1");
    const missing = await fetch(`${base}/other`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const big = await fetch(`${base}/echo`, { method: "POST", body: new Uint8Array(2 << 20) });
    assert.equal(big.status, 413);
    await big.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("serveHttp: options are checked", () => {
  assert.throws(() => serveHttp({ port: -1 }, () => new Response()), RangeError);
  assert.throws(() => serveHttp({ port: 0, maxFrameBytes: 0 }, () => new Response()), RangeError);
  assert.equal(DEFAULT_MAX_FRAME_BYTES, 4 << 20);
});

Deno.test("serveHttp: upgrades; a frame over maxFrameBytes closes that socket (1009) before it is read; a refused upgrade gets the handler's status", async () => {
  const errors: unknown[] = [];
  const received: number[] = [];
  const server = serveHttp({ port: 0, maxFrameBytes: 1024 }, (request, context) => {
    if (new URL(request.url).pathname === "/no") return new Response("busy", { status: 503 });
    const { response, socket } = context.upgrade();
    socket.then((ws) => {
      ws.binaryType = "arraybuffer";
      ws.addEventListener("message", (e) => received.push((e.data as ArrayBuffer).byteLength));
      ws.addEventListener("error", (e) => errors.push((e as ErrorEvent).error));
    });
    return response;
  });
  try {
    const url = `ws://127.0.0.1:${server.addr.port}/`;
    const ws = new WebSocket(url);
    await within(opened(ws), TIMEOUT, "open");
    const closed = new Promise<CloseEvent>((r) => (ws.onclose = r));
    ws.send(new Uint8Array(1024));
    ws.send(new Uint8Array(1025));
    const event = await within(closed, TIMEOUT, "close");
    assert.equal(event.code, 1009);
    assert.deepEqual(received, [1024]);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as { code?: string }).code, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
    // A refused upgrade: the handler's status, no socket.
    const refused = await fetch(`http://127.0.0.1:${server.addr.port}/no`, {
      headers: {
        upgrade: "websocket",
        connection: "upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    assert.equal(refused.status, 503);
    await refused.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("serveWebSocket: an oversized frame fails the byte pair with FrameTooLargeError (code OVERSIZED); others still work", async () => {
  const server = serveWebSocket({ port: 0, maxFrameBytes: 4096 });
  try {
    const iterator = server.incoming[Symbol.asyncIterator]();
    const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
    await within(opened(ws), TIMEOUT, "open");
    const { value: incoming } = await within(iterator.next(), TIMEOUT, "accept");
    const reader = incoming.pair.readable.getReader();
    ws.send(new Uint8Array(10).fill(3));
    assert.deepEqual((await reader.read()).value, new Uint8Array(10).fill(3));
    ws.send(new Uint8Array(5000));
    const error = await within(reader.read().then(() => null, (e: unknown) => e), TIMEOUT, "error");
    assert.ok(error instanceof FrameTooLargeError, String(error));
    assert.equal((error as FrameTooLargeError).code, "OVERSIZED");
    assert.equal((error as FrameTooLargeError).limit, 4096);
    // A second client is unaffected, and its pair echoes.
    const other = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
    const pair = await within(webSocketPair(other), TIMEOUT, "second open");
    const { value: second } = await within(iterator.next(), TIMEOUT, "accept 2");
    second.pair.readable.pipeTo(second.pair.writable).catch(() => {});
    const w = pair.writable.getWriter();
    await w.write(new Uint8Array([1, 2, 3]));
    assert.deepEqual((await pair.readable.getReader().read()).value, new Uint8Array([1, 2, 3]));
    await pair.close();
    second.close();
    incoming.close();
  } finally {
    await server.stop();
  }
});

Deno.test("serveHttp: context.upgradable says before the handler runs whether upgrade() can work; upgrading an invalid request gets 400", async () => {
  const seen: boolean[] = [];
  const server = serveHttp({ port: 0 }, (_request, context) => {
    seen.push(context.upgradable);
    const { response, socket } = context.upgrade();
    socket.then((ws) => ws.close(), () => {});
    return response;
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
    await within(opened(ws), TIMEOUT, "open");
    ws.close();
    for (const key of ["short", ""]) {
      const bad = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
        headers: {
          upgrade: "websocket",
          connection: "upgrade",
          "sec-websocket-version": "13",
          ...(key ? { "sec-websocket-key": key } : {}),
        },
      });
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /Sec-WebSocket-Key/);
    }
    assert.deepEqual(seen, [true, false, false]);
  } finally {
    await server.close();
  }
});
