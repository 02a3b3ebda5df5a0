// The handshake driver (layers/handshake/driver.ts): aborts, deadlines, what failures say,
// and that a slow handshake does not keep the chunks it already read.
import assert from "node:assert/strict";
import { performHandshake } from "../layers/handshake/driver.ts";
import { Handshake } from "../layers/handshake/handshake.ts";
import { Bip324Error } from "../layers/errors.ts";
import { openSession } from "../layers/session/open.ts";
import { memoryPair } from "../transports/memory.ts";
import { concat, fixedCipher, isCode, within } from "./helpers.ts";
import { networkMagic } from "../layers/bitcoin/network.ts";

const ROOT = new URL("../", import.meta.url);

/** Every byte the other end of `pair` receives, collected until it ends. */
function drain(readable: ReadableStream<Uint8Array>): Promise<number> {
  return (async () => {
    let n = 0;
    try {
      for await (const chunk of readable) n += chunk.length;
    } catch { /* aborted */ }
    return n;
  })();
}

for (const role of ["initiator", "responder"] as const) {
  Deno.test(`driver: an abort rejects with the signal's reason itself (${role}, silent peer)`, async () => {
    const [x, y] = memoryPair();
    const received = drain(y.readable);
    const signal = AbortSignal.timeout(100);
    const error = await within(
      openSession(x, { role, network: "regtest", signal }).then(
        () => undefined,
        (e) => e,
      ),
      5000,
      "aborted handshake",
    );
    assert.equal(error, signal.reason); // the same object, not a V1_ONLY_PEER or a wrapper
    assert.equal((error as DOMException).name, "TimeoutError");
    await y.writable.close().catch(() => {});
    await received;
  });
}

Deno.test("driver: an already-aborted signal rejects with its reason before a byte is sent", async () => {
  const [x, y] = memoryPair();
  const received = drain(y.readable);
  const reason = new Error("stop");
  await assert.rejects(
    openSession(x, { role: "initiator", signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  await x.writable.close().catch(() => {});
  assert.equal(await received, 0);
});

Deno.test("driver: an abort mid-handshake (after the peer's key) rejects with the reason", async () => {
  const [x, y] = memoryPair();
  const controller = new AbortController();
  const reason = new Error("user gave up");
  const peer = new Handshake({ role: "responder", network: "regtest" });
  peer.start();
  const pending = openSession(x, {
    role: "initiator",
    network: "regtest",
    signal: controller.signal,
  });
  const reader = y.readable.getReader();
  const { value } = await reader.read(); // our key (and garbage)
  const reply = peer.receive(value!);
  const w = y.writable.getWriter();
  await w.write(reply.subarray(0, 64)); // only the peer's key: we now wait for its terminator
  await new Promise((r) => setTimeout(r, 20));
  controller.abort(reason);
  await assert.rejects(within(pending, 2000, "abort"), (e) => e === reason);
  peer.destroy();
  reader.releaseLock();
});

Deno.test("driver: a finished handshake ignores a later abort (its listener is removed)", async () => {
  const [x, y] = memoryPair();
  const controller = new AbortController();
  const [a, b] = await Promise.all([
    openSession(x, { role: "initiator", signal: controller.signal }),
    openSession(y, { role: "responder" }),
  ]);
  controller.abort(new Error("late"));
  const w = a.writable.getWriter();
  await w.write({ type: "ping", payload: new Uint8Array(8) });
  const { value } = await within(b.readable.getReader().read(), 2000, "read");
  assert.equal(value?.type, "ping");
  assert.ok(a.isOpen);
  w.releaseLock();
  await a.close();
  await b.closed;
});

Deno.test("driver: peers on different networks time out with a hint naming the network", async () => {
  const [x, y] = memoryPair();
  const results = await Promise.allSettled([
    openSession(x, { role: "initiator", network: "regtest", garbage: 0, handshakeTimeout: 300 }),
    openSession(y, { role: "responder", network: "signet", garbage: 0, handshakeTimeout: 300 }),
  ]);
  // The first to time out closes the connection; the other sees it end (over memory, as a
  // transport failure). Both name the likely cause.
  const errors = results.map((r) => (r as PromiseRejectedResult).reason as Bip324Error);
  assert.ok(errors.every((e) => e instanceof Bip324Error), String(errors));
  const timeouts = errors.filter((e) => e.code === "HANDSHAKE_TIMEOUT");
  assert.ok(timeouts.length >= 1, errors.map((e) => e.code).join());
  assert.ok(timeouts.every((e) => e.origin === "local"));
  for (const e of errors) assert.match(e.message, /another network/);
});

Deno.test("driver: a silent peer's timeout does not blame the network", async () => {
  const [x] = memoryPair();
  const error = await openSession(x, { role: "initiator", handshakeTimeout: 100 }).catch((e) => e);
  assert.ok(isCode("HANDSHAKE_TIMEOUT")(error));
  assert.doesNotMatch(error.message, /network/);
  assert.match(error.message, /sent nothing/);
});

Deno.test("driver: NO_GARBAGE_TERMINATOR names a network mismatch as a likely cause", () => {
  const a = new Handshake({ role: "initiator", network: "regtest", garbage: 4095 });
  const b = new Handshake({ role: "responder", network: "mainnet" });
  b.start();
  const reply = b.receive(a.start());
  const last = a.receive(reply); // a cannot find b's terminator either, but b has the bytes
  assert.throws(() => b.receive(last.length > 0 ? last : new Uint8Array(40)), (e) => {
    assert.ok(isCode("NO_GARBAGE_TERMINATOR")(e));
    assert.match((e as Error).message, /another network/);
    return true;
  });
  a.destroy();
  b.destroy();
});

Deno.test("driver: UNEXPECTED_EOF after the peer's key tells a busy listener from a network mismatch", async () => {
  for (const [extra, pattern] of [[0, /BUSY/], [100, /another network/]] as const) {
    const [x, y] = memoryPair();
    const peer = (async () => {
      const reader = y.readable.getReader();
      await reader.read();
      const w = y.writable.getWriter();
      await w.write(crypto.getRandomValues(new Uint8Array(64 + extra)));
      await w.close();
      reader.cancel().catch(() => {});
    })();
    const error = await within(
      openSession(x, { role: "initiator", network: "regtest" }).catch((e) => e),
      5000,
      "handshake",
    );
    assert.ok(isCode("UNEXPECTED_EOF")(error));
    assert.match(error.message, pattern);
    await peer;
  }
});

Deno.test("driver: handshakeTimeout and signal are checked at the call", async () => {
  const [x] = memoryPair();
  for (const handshakeTimeout of [0, -1, NaN, 2 ** 31]) {
    await assert.rejects(performHandshake(x, { role: "initiator", handshakeTimeout }), RangeError);
  }
  await assert.rejects(
    performHandshake(x, { role: "initiator", signal: {} as AbortSignal }),
    TypeError,
  );
  assert.equal(x.readable.locked, false);
});

Deno.test("driver: a slow handshake does not keep the chunks it already consumed (GC)", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--v8-flags=--expose-gc", "tests/driver_retention.ts"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const result = JSON.parse(text.trim().split("\n").at(-1)!);
  assert.equal(result.done, true);
  assert.equal(result.chunks, 32);
  // With a race per read against the deadline, all 32 stay reachable until the deadline.
  assert.ok(result.alive <= 2, `${result.alive} of 32 consumed chunks still reachable`);
});

Deno.test("handshake driver: a silent peer → HANDSHAKE_TIMEOUT (origin local)", async () => {
  const [x] = memoryPair();
  await assert.rejects(
    within(openSession(x, { role: "initiator", handshakeTimeout: 100 }), 2000),
    (e) => isCode("HANDSHAKE_TIMEOUT")(e) && (e as Bip324Error).origin === "local",
  );
  const [, y] = memoryPair();
  await assert.rejects(
    openSession(y, { role: "responder", handshakeTimeout: 100 }),
    isCode("HANDSHAKE_TIMEOUT"),
  );
});

Deno.test("handshake driver: peer closes without answering our key → V1_ONLY_PEER", async () => {
  const [x, y] = memoryPair();
  const peer = (async () => {
    const r = y.readable.getReader();
    await r.read(); // our key arrives
    await y.writable.close();
    r.cancel().catch(() => {}); // our side may have aborted already
  })();
  await assert.rejects(openSession(x, { role: "initiator" }), isCode("V1_ONLY_PEER"));
  await peer;
});

Deno.test("handshake driver: peer closes mid-handshake → UNEXPECTED_EOF", async () => {
  const [x, y] = memoryPair();
  const w = y.writable.getWriter();
  await w.write(fixedCipher(3).ourEllswift.subarray(0, 40));
  await w.close();
  await assert.rejects(openSession(x, { role: "initiator" }), isCode("UNEXPECTED_EOF"));
});

Deno.test("handshake driver: V1_PROTOCOL leaves the streams open and unlocked for a v1 layer", async () => {
  const [x, y] = memoryPair();
  const v1 = concat([
    networkMagic("mainnet"),
    new TextEncoder().encode("version\0\0\0\0\0"),
    new Uint8Array([1, 2, 3]),
  ]);
  const w = x.writable.getWriter();
  await w.write(v1);
  const error = await openSession(y, { role: "responder" }).catch((e) => e);
  assert.ok(isCode("V1_PROTOCOL")(error));
  assert.deepEqual(error.v1Bytes, v1);
  assert.equal(y.readable.locked, false);
  assert.equal(y.writable.locked, false);
  // the connection still works: later bytes arrive in order
  await w.write(new Uint8Array([4, 5]));
  assert.deepEqual((await y.readable.getReader().read()).value, new Uint8Array([4, 5]));
});

Deno.test("handshake driver: WRONG_NETWORK for a v1 peer of another network", async () => {
  const [x, y] = memoryPair();
  const w = x.writable.getWriter();
  await w.write(concat([networkMagic("testnet4"), new TextEncoder().encode("version\0\0\0\0\0")]));
  await assert.rejects(
    openSession(y, { role: "responder", network: "regtest" }),
    isCode("WRONG_NETWORK"),
  );
});

Deno.test("handshake driver: garbage without terminator → NO_GARBAGE_TERMINATOR", async () => {
  const [x, y] = memoryPair();
  const w = x.writable.getWriter();
  const fake = new Handshake({ role: "initiator" });
  w.write(concat([fake.start().subarray(0, 64), new Uint8Array(5000).fill(1)])).catch(() => {});
  await assert.rejects(openSession(y, { role: "responder" }), isCode("NO_GARBAGE_TERMINATOR"));
});

Deno.test("handshake driver: peer resets the connection after our key → V1_ONLY_PEER", async () => {
  const [x, y] = memoryPair();
  const peer = (async () => {
    const r = y.readable.getReader();
    await r.read(); // our key arrives
    await y.writable.abort(new Deno.errors.ConnectionReset("connection reset by peer"));
    r.cancel().catch(() => {}); // our side may have aborted already
  })();
  await assert.rejects(openSession(x, { role: "initiator" }), isCode("V1_ONLY_PEER"));
  await peer;
});

Deno.test("handshake driver: any other failure after our key is TRANSPORT, not V1_ONLY_PEER", async () => {
  // E.g. a WebSocket server shutting down (close code 1013): not what a v1-only node does.
  for (const reason of [new Error("WebSocket closed abnormally (code 1013)"), new TypeError("x")]) {
    const [x, y] = memoryPair();
    const peer = (async () => {
      const r = y.readable.getReader();
      await r.read(); // our key arrives
      await y.writable.abort(reason);
      r.cancel().catch(() => {});
    })();
    const error = await openSession(x, { role: "initiator" }).catch((e) => e);
    assert.ok(isCode("TRANSPORT")(error), String(error));
    assert.equal(error.cause, reason);
    await peer;
  }
});

Deno.test("handshake driver: a node:net reset (ECONNRESET) after our key → V1_ONLY_PEER", async () => {
  const [x, y] = memoryPair();
  const peer = (async () => {
    const r = y.readable.getReader();
    await r.read();
    await y.writable.abort(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
    r.cancel().catch(() => {});
  })();
  await assert.rejects(openSession(x, { role: "initiator" }), isCode("V1_ONLY_PEER"));
  await peer;
});
