/**
 * Runtime interop, from the npm build (`deno task test:runtimes`): a Node.js
 * and a Bun process (and the machine's Node 20, for TCP and the WebSocket
 * server) each (a) connect to a Deno listener and (b) listen for a Deno
 * initiator, over TCP and over WebSocket: 1,000 messages each way, equal
 * session ids, a clean close; a wrong-network peer and a garbage-sending
 * peer get typed errors on both sides. Loopback only, every wait bounded.
 */

import assert from "node:assert/strict";
import {
  Bip324Error,
  connect,
  connectWebSocket,
  listen,
  listenWebSocket,
  type Session,
  toHex,
} from "../../mod.ts";
import { readJsonLines, systemLibcrypto, within } from "../helpers.ts";
import { npmBuild, type Runtime, runtimes } from "./tools.ts";

const COUNT = 1000;
const TIMEOUT = 60_000;
const NETWORK = "regtest";

/** Same payload rule as peer.mjs. */
function payload(i: number, from: number): Uint8Array {
  const bytes = new Uint8Array(1 + ((i * 37) % 1500));
  for (let j = 0; j < bytes.length; j++) bytes[j] = (i + j * 7 + from) & 0xff;
  return bytes;
}

async function exchange(session: Session, we: number, they: number) {
  const writer = session.writable.getWriter();
  const reader = session.readable.getReader();
  const sending = (async () => {
    for (let i = 0; i < COUNT; i++) await writer.write({ type: "tx", payload: payload(i, we) });
  })();
  for (let received = 0; received < COUNT; received++) {
    const { value, done } = await reader.read();
    assert.ok(!done, `ended after ${received} messages`);
    assert.equal(value.type, "tx");
    assert.deepEqual(value.payload, payload(received, they), `message ${received}`);
  }
  await sending;
  writer.releaseLock();
  return reader;
}

/** A peer process: its JSON lines as they arrive, and a way to wait for one. */
class Peer {
  lines: Record<string, unknown>[] = [];
  #child: Deno.ChildProcess;
  #reading: Promise<string>;
  #stderr: Promise<string>;
  constructor(runtime: Runtime, dir: string, args: string[]) {
    this.#child = new Deno.Command(runtime.bin, {
      args: [`${dir}/peer.mjs`, ...args],
      cwd: dir,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#reading = readJsonLines(this.#child.stdout, (line) => this.lines.push(line));
    this.#stderr = new Response(this.#child.stderr).text();
  }
  async next(event: string, after = 0): Promise<Record<string, unknown>> {
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      const found = this.lines.slice(after).find((l) => l.event === event);
      if (found) return found;
      const fatal = this.lines.find((l) => l.event === "fatal");
      if (fatal) throw new Error(`peer failed: ${JSON.stringify(fatal)}`);
      if (Date.now() > deadline) {
        throw new Error(
          `no ${event} line: ${JSON.stringify(this.lines)} ${await this.#stderrSoFar()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  async #stderrSoFar(): Promise<string> {
    return await Promise.race([
      this.#stderr,
      new Promise<string>((r) => setTimeout(() => r(""), 50)),
    ]);
  }
  /** Closes stdin (a listening peer stops) and waits for the exit code. */
  async finish(): Promise<number> {
    await this.#child.stdin.close().catch(() => {});
    const status = await within(this.#child.status, TIMEOUT, "peer exit");
    await this.#reading;
    await this.#stderr;
    return status.code;
  }
  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* exited */ }
  }
}

const dir = await npmBuild();
const all = await runtimes();

for (const runtime of all) {
  for (const transport of ["tcp", "ws"] as const) {
    if (transport === "ws" && !runtime.webSocketClient) {
      // No global WebSocket (Node 20): only the server side is tested below.
    } else {
      Deno.test(`runtimes: ${runtime.name} connects to a Deno ${transport} listener, 1,000 messages each way; wrong network → typed errors`, async () => {
        const errors: Bip324Error[] = [];
        const options = {
          port: 0,
          network: NETWORK,
          handshakeTimeout: 3000,
          onError: (e: Bip324Error) => errors.push(e),
        } as const;
        const listener = transport === "tcp" ? listen(options) : listenWebSocket(options);
        const where = transport === "tcp"
          ? String(listener.addr.port)
          : `ws://127.0.0.1:${listener.addr.port}/`;
        const peer = new Peer(runtime, dir, ["connect", transport, where, NETWORK, String(COUNT)]);
        try {
          const iterator = listener[Symbol.asyncIterator]();
          const accepted = await within(iterator.next(), TIMEOUT, "session");
          const session = accepted.value as Session;
          const reader = await within(exchange(session, 2, 1), TIMEOUT, "exchange");
          const end = await within(reader.read(), TIMEOUT, "clean end");
          assert.equal(end.done, true, "the peer closed cleanly");
          await session.closed;
          const line = await peer.next("session");
          assert.equal(line.session_id, toHex(session.sessionId), "equal session ids");
          assert.equal((await peer.next("done")).received, COUNT);
          const wrong = await peer.next("error");
          assert.equal(wrong.name, "Bip324Error", JSON.stringify(wrong));
          assert.equal(typeof wrong.code, "string");
          assert.equal(await peer.finish(), 0);
          // The Deno side saw the wrong-network handshake fail with a typed error too.
          const deadline = Date.now() + TIMEOUT;
          while (errors.length === 0 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 20));
          }
          assert.ok(errors.length >= 1 && errors.every((e) => e instanceof Bip324Error));
          await session.close();
        } finally {
          peer.kill();
          await listener.close();
        }
      });
    }

    Deno.test(`runtimes: ${runtime.name} listens (${transport}) for a Deno initiator, 1,000 messages each way; wrong network and garbage → typed errors`, async () => {
      const peer = new Peer(runtime, dir, ["listen", transport, "0", NETWORK, String(COUNT)]);
      try {
        const { port } = await peer.next("listening") as { port: number };
        assert.ok(port > 0);
        const open = (network: "regtest" | "mainnet") =>
          transport === "tcp"
            ? connect({ port, network, fallback: "none", handshakeTimeout: 3000 })
            : connectWebSocket({ url: `ws://127.0.0.1:${port}/`, network, handshakeTimeout: 3000 });
        const session = await within(open(NETWORK), TIMEOUT, "connect");
        await within(exchange(session, 1, 2), TIMEOUT, "exchange");
        await session.close();
        assert.equal((await peer.next("session")).session_id, toHex(session.sessionId));
        assert.equal((await peer.next("done")).received, COUNT);
        assert.equal((await peer.next("closed")).clean, true, "the peer saw a clean end");

        // Wrong network: typed errors here and there.
        await assert.rejects(open("mainnet"), (e) => e instanceof Bip324Error);
        const first = await peer.next("peer_error");
        assert.equal(first.name, "Bip324Error", JSON.stringify(first));
        const seen = peer.lines.length;

        // Garbage: 5,000 random bytes, no terminator.
        const garbage = crypto.getRandomValues(new Uint8Array(5000));
        if (transport === "tcp") {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port });
          await conn.write(garbage).catch(() => {});
          await within(conn.read(new Uint8Array(16)).catch(() => null), TIMEOUT, "close");
          try {
            conn.close();
          } catch { /* closed by the peer */ }
        } else {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
          await within(
            new Promise((r, j) => {
              ws.onopen = r;
              ws.onerror = j;
            }),
            TIMEOUT,
            "ws open",
          );
          const closed = new Promise((r) => (ws.onclose = r));
          ws.onmessage = () => {};
          ws.send(garbage);
          await within(closed, TIMEOUT, "garbage sender closed");
        }
        const garbageError = await peer.next("peer_error", seen);
        assert.equal(garbageError.name, "Bip324Error", JSON.stringify(garbageError));
        assert.equal(garbageError.code, "NO_GARBAGE_TERMINATOR", JSON.stringify(garbageError));
        assert.equal(await peer.finish(), 0);
      } finally {
        peer.kill();
      }
    });
  }
}

for (const runtime of all) {
  Deno.test(`runtimes: the relay (serveRelay) in ${runtime.name}: a Deno session through it, /healthz, /metrics, allow-list, per-IP limit, frame limit, idle timeout`, async () => {
    const node = listen({ port: 0, network: NETWORK });
    const sessions: Session[] = [];
    const serving = (async () => {
      for await (const s of node) {
        sessions.push(s);
        s.readable.pipeTo(s.writable).catch(() => {});
      }
    })();
    const peer = new Peer(runtime, dir, ["relay", "ws", `127.0.0.1:${node.addr.port}`]);
    try {
      const { port } = await peer.next("listening") as { port: number };
      const base = `127.0.0.1:${port}`;
      assert.equal(await (await fetch(`http://${base}/healthz`)).text(), "ok\n");
      const session = await within(
        connectWebSocket({ url: `ws://${base}/`, network: NETWORK }),
        TIMEOUT,
        "session through the relay",
      );
      const writer = session.writable.getWriter();
      const reader = session.readable.getReader();
      for (let i = 0; i < 100; i++) {
        await writer.write({ type: "tx", payload: payload(i, 1) });
        assert.deepEqual(
          (await within(reader.read(), TIMEOUT, "echo")).value?.payload,
          payload(i, 1),
        );
      }
      assert.deepEqual(session.sessionId, sessions[0].sessionId, "equal session ids");
      const forbidden = await fetch(`http://${base}/?target=127.0.0.1:1`, {
        headers: { upgrade: "websocket" },
      });
      await forbidden.body?.cancel();
      assert.equal(forbidden.status, 403);
      // Per-IP limit 2: one more socket is admitted, the third is refused.
      const second = new WebSocket(`ws://${base}/`);
      await within(new Promise((r) => (second.onopen = r)), TIMEOUT, "second");
      const third = new WebSocket(`ws://${base}/`);
      await within(new Promise((r) => (third.onerror = r)), TIMEOUT, "third refused");
      // Frame limit 64 KiB: the second socket is closed with 1009.
      const closed = new Promise<CloseEvent>((r) => (second.onclose = r));
      second.send(new Uint8Array(64 * 1024 + 1));
      assert.equal((await within(closed, TIMEOUT, "1009")).code, 1009);
      const metrics = await (await fetch(`http://${base}/metrics?format=json`)).json();
      assert.ok(metrics.bytesClientToNode > 100 * 16, JSON.stringify(metrics));
      assert.equal(metrics.closes.forbidden, 1);
      assert.equal(metrics.closes.limit, 1);
      assert.equal(metrics.closes.error, 1);
      // Idle timeout 1.5 s closes the BIP324 session's link.
      writer.releaseLock();
      const end = await within(reader.read().catch(() => ({ done: true })), TIMEOUT, "idle close");
      assert.equal(end.done, true);
      await session.close().catch(() => {});
      const prom = await (await fetch(`http://${base}/metrics`)).text();
      assert.match(prom, /bip324_relay_closes_total\{reason="idle"\} 1/);
      assert.equal(await peer.finish(), 0);
    } finally {
      peer.kill();
      await node.close();
      await serving.catch(() => {});
    }
  });
}

Deno.test("runtimes: over node:net TCP (Node.js, Bun), a close still sending meets the peer's close: both end cleanly, nothing refused (sockets are half-open, as Deno's)", async () => {
  for (const runtime of all) {
    const peer = new Peer(runtime, dir, ["close-race"]);
    try {
      for (let round = 0; round < 3; round++) {
        const line = await peer.next("close_race", round);
        const info = `${runtime.name}: ${JSON.stringify(line)}`;
        assert.equal(line.round, round, info);
        assert.equal(line.a, null, info);
        assert.equal(line.b, null, info);
        assert.equal(line.refused, 0, info);
      }
      assert.equal(await peer.finish(), 0);
    } finally {
      peer.kill();
    }
  }
});

Deno.test("runtimes: capability checks pick the AEAD backend: node:crypto in Node.js, libcrypto through bun:ffi in Bun (whose node:crypto lacks chacha20-poly1305), else an error naming what is missing", async () => {
  const libcrypto = systemLibcrypto();
  for (const runtime of all) {
    const peer = new Peer(runtime, dir, ["capabilities"]);
    const line = await peer.next("capabilities");
    assert.equal(await peer.finish(), 0);
    const info = `${runtime.name}: ${JSON.stringify(line)}`;
    if (runtime.name === "bun" && !libcrypto) {
      assert.equal(line.native, false, info);
      assert.match(String(line.native_error), /Bun .*chacha20-poly1305.*libcrypto/, info);
      continue;
    }
    assert.equal(line.native, true, info);
    assert.equal(line.native_error, null, info);
    const bun = runtime.name === "bun";
    assert.equal(line.native_source, bun ? "libcrypto (bun:ffi)" : "node:crypto", info);
    // auto: native from 512 bytes over bun:ffi (cheap calls), from 8 KiB over node:crypto
    assert.equal(line.auto_threshold, bun ? 512 : 8192, info);
    assert.deepEqual(line.native_disagreements, [], info);
    assert.equal(line.native_seal_parts, true, info); // so the sealParts checks ran
  }
});

Deno.test("runtimes: the npm build's declarations type-check in a strict TypeScript consumer (bundler and nodenext)", async () => {
  const file = `${dir}/consumer_check.ts`;
  await Deno.writeTextFile(
    file,
    `import { Bip324Error, connect, listen, openSession } from "@bip324/bip324";
import * as layers from "@bip324/bip324/layers";
import * as cipher from "@bip324/bip324/cipher";
import { peerHandshake } from "@bip324/bip324/bitcoin";
import { connectTcp, FrameTooLargeError, serveHttp } from "@bip324/bip324/transports";
import { createRelay, serveRelay } from "@bip324/bip324/relay";
const listener = listen({ port: 0, network: "regtest" });
const relay = serveRelay({ to: "127.0.0.1:1", port: 0, maxFrameBytes: 1 << 20 });
const code: string = new Bip324Error("OVERSIZED", "x").code;
export { cipher, code, connect, connectTcp, createRelay, FrameTooLargeError, layers, listener };
export { openSession, peerHandshake, relay, serveHttp };
`,
  );
  for (const resolution of ["bundler", "nodenext"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "npm:typescript@5.9.3/tsc",
        "--noEmit",
        "--strict",
        "--target",
        "es2022",
        "--module",
        resolution === "bundler" ? "esnext" : "nodenext",
        "--moduleResolution",
        resolution,
        "--lib",
        // Sessions and listeners are AsyncDisposable (TypeScript ≥ 5.2's esnext.disposable).
        "es2022,esnext.disposable,dom",
        file,
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `tsc (${resolution}): ${text}`);
  }
});

Deno.test("runtimes: the build's versions are what we ran", () => {
  for (const r of all) assert.ok(r.version.length > 0, r.name);
  for (const name of ["bun", "node22", "node24", "node26"]) {
    assert.ok(all.some((r) => r.name === name), name);
  }
});
