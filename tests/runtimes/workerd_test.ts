/**
 * The relay and the terminating edge example inside workerd, Cloudflare's
 * Workers runtime (binary from the npm package `@cloudflare/workerd-linux-64`),
 * on loopback (`deno task test:workerd`):
 *
 * - a client from this library ⇄ WebSocket ⇄ `examples/workers/relay_worker.ts`
 *   in workerd ⇄ TCP ⇄ a tap ⇄ a library listener: ping/pong, 1,000 messages,
 *   equal session ids, and the tap (what the relay sent to the node) holds no
 *   plaintext;
 * - `examples/workers/broadcast_worker.ts`: `POST /broadcast` sends a `tx` over
 *   v2 to two library listeners and answers with their session ids; once as
 *   it is (its secp256k1 arithmetic on bigints) and once behind an entry
 *   module that imports the compiled secp256k1 module (WebAssembly).
 *
 * Every wait is bounded; workerd is stopped at the end of each test.
 */

import assert from "node:assert/strict";
import { connectWebSocket, listen, type Session, toHex } from "../../mod.ts";
import { peerHandshake } from "../../layers/bitcoin/mod.ts";
import { within } from "../helpers.ts";
import { ecWasmBytes } from "../../layers/cipher.ts";
import { packagedBinary } from "./tools.ts";

const ROOT = new URL("../../", import.meta.url);
const TIMEOUT = 30_000;
const NETWORK = "regtest";

async function bundleWorker(name: string, dir: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--format",
      "esm",
      "--platform",
      "browser",
      "--external",
      "cloudflare:sockets",
      "-o",
      `${dir}/${name}.js`,
      `examples/workers/${name}.ts`,
    ],
    cwd: decodeURIComponent(ROOT.pathname),
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** workerd serving one worker module on 127.0.0.1:port, with loopback-only outbound TCP. */
async function startWorkerd(
  module: string,
  dir: string,
  bindings: Record<string, string>,
  extraModules = "",
): Promise<{ port: number; stop(): Promise<void>; log(): string }> {
  const bin = await packagedBinary("workerd");
  const port = freePort();
  const text = Object.entries(bindings)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(", ");
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "${module}.js")${extraModules} ],
  compatibilityDate = "2025-09-01",
  bindings = [ ${text} ],
  globalOutbound = "loopback",
);
`;
  await Deno.writeTextFile(`${dir}/${module}.capnp`, config);
  const child = new Deno.Command(bin, {
    args: ["serve", `${dir}/${module}.capnp`],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) output += decoder.decode(chunk);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    const killer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
    }, 3000);
    await child.status;
    clearTimeout(killer);
    await drained;
  };
  // Up once /healthz (relay) or any answer comes back.
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      await response.body?.cancel();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`workerd did not start: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { port, stop, log: () => output };
}

/** A TCP tap: forwards port → target and records what it forwarded toward the target. */
function startTap(target: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: Uint8Array[] = [];
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      const node = await Deno.connect({ hostname: "127.0.0.1", port: target });
      conns.push(conn, node);
      const tee = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, c) {
          seen.push(chunk.slice());
          c.enqueue(chunk);
        },
      });
      conn.readable.pipeThrough(tee).pipeTo(node.writable).catch(() => {});
      node.readable.pipeTo(conn.writable).catch(() => {});
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    bytes: () => {
      const total = seen.reduce((n, c) => n + c.length, 0);
      const all = new Uint8Array(total);
      let o = 0;
      for (const c of seen) {
        all.set(c, o);
        o += c.length;
      }
      return all;
    },
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await accepting.catch(() => {});
    },
  };
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("workerd: library client ⇄ WebSocket ⇄ relay in workerd ⇄ TCP ⇄ library listener: ping/pong, 1,000 messages, only ciphertext", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bip324-workerd-" });
  await bundleWorker("relay_worker", dir);
  const node = listen({ port: 0, network: NETWORK });
  const served: Session[] = [];
  const serving = (async () => {
    for await (const session of node) {
      served.push(session);
      const writer = session.writable.getWriter();
      (async () => {
        for await (const m of session.readable) {
          await writer.write(m.type === "ping" ? { type: "pong", payload: m.payload } : m);
        }
        await writer.close().catch(() => {});
      })().catch(() => {});
    }
  })();
  const tap = startTap(node.addr.port);
  const worker = await startWorkerd("relay_worker", dir, { RELAY_TO: `127.0.0.1:${tap.port}` });
  try {
    const client = await within(
      connectWebSocket({ url: `ws://127.0.0.1:${worker.port}/`, network: NETWORK }),
      TIMEOUT,
      "connect through workerd",
    );
    const writer = client.writable.getWriter();
    const reader = client.readable.getReader();
    const nonce = crypto.getRandomValues(new Uint8Array(8));
    await writer.write({ type: "ping", payload: nonce });
    const pong = await within(reader.read(), TIMEOUT, "pong");
    assert.equal(pong.value?.type, "pong");
    assert.deepEqual(pong.value?.payload, nonce);
    const marker = new TextEncoder().encode("PLAINTEXT-MARKER-0123456789");
    const sending = (async () => {
      for (let i = 0; i < 1000; i++) {
        const payload = new Uint8Array(marker.length + 4);
        payload.set(marker);
        new DataView(payload.buffer).setUint32(marker.length, i);
        await writer.write({ type: "tx", payload });
      }
    })();
    for (let i = 0; i < 1000; i++) {
      const { value } = await within(reader.read(), TIMEOUT, `echo ${i}`);
      assert.equal(value?.type, "tx");
      assert.equal(
        new DataView(value!.payload.buffer, value!.payload.byteOffset).getUint32(marker.length),
        i,
      );
    }
    await sending;
    assert.equal(served.length, 1);
    assert.equal(toHex(client.sessionId), toHex(served[0].sessionId), "equal session ids");
    const wire = tap.bytes();
    assert.ok(wire.length > 1000 * marker.length, "the relay forwarded the traffic");
    assert.ok(!contains(wire, marker), "no plaintext on the relay's TCP side");
    const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics?format=json`))
      .json();
    assert.equal(metrics.connectionsOpen, 1);
    assert.ok(metrics.bytesClientToNode >= wire.length - 64);
    writer.releaseLock();
    await client.close();
    await within(served[0].closed, TIMEOUT, "node side closed");
    // Refusals work there too.
    const forbidden = await fetch(`http://127.0.0.1:${worker.port}/?target=127.0.0.1:1`, {
      headers: { upgrade: "websocket" },
    });
    await forbidden.body?.cancel();
    assert.equal(forbidden.status, 403);
  } finally {
    await worker.stop();
    await tap.close();
    await node.close();
    await serving.catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The Worker entry module docs/relay.md describes: it imports the compiled secp256k1 module and
 * hands it to the example before its first request.
 */
const WASM_ENTRY = `import ec from "./secp256k1.wasm";
import worker, { initEcWasm } from "./broadcast_worker.js";
let ready;
export default {
  async fetch(request, env, ctx) {
    await (ready ??= initEcWasm(ec));
    return worker.fetch(request, env, ctx);
  },
};
`;

for (const wasm of [false, true]) {
  Deno.test(`workerd: the terminating edge Worker broadcasts a tx over v2 to two library listeners and answers with their session ids${wasm ? " (secp256k1 module imported)" : ""}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "bip324-workerd-" });
    await bundleWorker("broadcast_worker", dir);
    if (wasm) {
      await Deno.writeTextFile(`${dir}/entry.js`, WASM_ENTRY);
      await Deno.writeFile(`${dir}/secp256k1.wasm`, ecWasmBytes());
    }
    const tx = crypto.getRandomValues(new Uint8Array(250));
    const nodes = [0, 1].map(() => {
      const listener = listen({ port: 0, network: NETWORK });
      const got = (async () => {
        for await (const session of listener) {
          await peerHandshake(session, { timeout: TIMEOUT });
          for await (const m of session.readable) {
            if (m.type === "tx") {
              return { id: toHex(session.sessionId), payload: m.payload, session };
            }
          }
        }
        throw new Error("no session");
      })();
      return { listener, got };
    });
    const worker = await startWorkerd(
      wasm ? "entry" : "broadcast_worker",
      dir,
      { NODES: nodes.map((n) => `127.0.0.1:${n.listener.addr.port}`).join(","), NETWORK },
      wasm
        ? `, (name = "broadcast_worker.js", esModule = embed "broadcast_worker.js"), (name = "secp256k1.wasm", wasm = embed "secp256k1.wasm")`
        : "",
    );
    try {
      const response = await within(
        fetch(`http://127.0.0.1:${worker.port}/broadcast`, { method: "POST", body: toHex(tx) }),
        TIMEOUT,
        "broadcast",
      );
      assert.equal(response.status, 200);
      // workerd compiles no WebAssembly from bytes: only the imported module makes it WebAssembly
      assert.equal(response.headers.get("x-bip324-key-math"), wasm ? "webassembly" : "bigint");
      const { results } = await response.json() as {
        results: { node: string; session_id?: string; error?: string }[];
      };
      assert.equal(results.length, 2, JSON.stringify(results));
      for (const [i, n] of nodes.entries()) {
        const got = await within(n.got, TIMEOUT, `node ${i} got the tx`);
        assert.deepEqual(got.payload, tx);
        assert.equal(results[i].session_id, got.id, JSON.stringify(results[i]));
        await got.session.close();
      }
      const bad = await fetch(`http://127.0.0.1:${worker.port}/broadcast`, { method: "GET" });
      await bad.body?.cancel();
      assert.equal(bad.status, 405);
    } finally {
      await worker.stop();
      for (const n of nodes) await n.listener.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
