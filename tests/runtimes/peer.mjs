// A BIP324 peer in Node.js or Bun, run from the npm build by tests/runtimes/interop_test.ts.
// Usage: peer.mjs connect|listen tcp|ws PORT|URL NETWORK COUNT
//        peer.mjs relay ws HOST:PORT (a relay to that node, until stdin ends)
//        peer.mjs capabilities (which AEAD backend this runtime gets, and why)
//        peer.mjs close-race (both ends here, over TCP: a close still sending meets the peer's)
// Prints JSON lines: listening, session, done, closed, error (typed errors), peer_error.
import { connect, connectWebSocket, listen, listenWebSocket, toHex } from "@bip324/bip324";
import { serveRelay } from "@bip324/bip324/relay";
import { createAeadBackend, nativeAeadAvailable } from "@bip324/bip324/cipher";

const [mode, transport, where, network, countText] = process.argv.slice(2);
const count = Number(countText);
const out = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const describe = (e) => ({
  name: e?.name,
  code: e?.code,
  origin: e?.origin,
  message: String(e?.message ?? e),
});

/** Message i: a deterministic payload both sides can check. */
function payload(i, from) {
  const bytes = new Uint8Array(1 + ((i * 37) % 1500));
  for (let j = 0; j < bytes.length; j++) bytes[j] = (i + j * 7 + from) & 0xff;
  return bytes;
}

/** Sends `count` messages and reads `count` (checked); then the connector closes. */
async function exchange(session, we, they) {
  const writer = session.writable.getWriter();
  const reader = session.readable.getReader();
  const sending = (async () => {
    for (let i = 0; i < count; i++) await writer.write({ type: "tx", payload: payload(i, we) });
  })();
  let received = 0;
  while (received < count) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`ended after ${received} messages`);
    const expected = payload(received, they);
    if (value.type !== "tx" || value.payload.length !== expected.length) {
      throw new Error(`message ${received} has the wrong type or length`);
    }
    for (let j = 0; j < expected.length; j++) {
      if (value.payload[j] !== expected[j]) throw new Error(`message ${received} differs`);
    }
    received++;
  }
  await sending;
  writer.releaseLock();
  return { reader, received };
}

/**
 * Both ends in this runtime over loopback TCP: `a` queues 200 messages of 50 kB and closes while
 * `b` reads one and closes. The peer's FIN must not end our writes (sockets are half-open, as
 * Deno's), so `a`'s close still sends everything and both end cleanly. Three rounds.
 */
async function closeRace() {
  const listener = listen({ port: 0, network: "regtest" });
  for (let i = 0; i < 200 && listener.addr.port === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const incoming = listener[Symbol.asyncIterator]();
  for (let round = 0; round < 3; round++) {
    const accepted = incoming.next();
    const a = await connect({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      network: "regtest",
    });
    const b = (await accepted).value;
    let refused = 0;
    const sends = [];
    for (let i = 0; i < 200; i++) {
      sends.push(a.send("tx", new Uint8Array(50_000)).catch(() => refused++));
    }
    const closing = a.close();
    const reader = b.readable.getReader();
    await reader.read();
    reader.releaseLock();
    await b.close();
    await closing;
    await Promise.all(sends);
    out({
      event: "close_race",
      round,
      a: a.closeReason ? describe(a.closeReason) : null,
      b: b.closeReason ? describe(b.closeReason) : null,
      refused,
    });
  }
  await listener.close();
}

function untilStdinEnds() {
  return new Promise((resolve) => {
    process.stdin.on("end", resolve);
    process.stdin.on("close", resolve);
    process.stdin.resume();
  });
}

/**
 * Seals and opens with `aead` and the pure backend at sizes around every boundary, in place and
 * not, and with a bad tag; returns what differed (empty when everything agreed).
 */
function checkAgainstPure(aead) {
  const pure = createAeadBackend("pure"), failures = [];
  const bytes = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (i * seed + 3) & 0xff);
  const equal = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  for (
    const length of [0, 1, 15, 16, 17, 63, 64, 65, 255, 256, 1000, 8191, 8192, 65_537, 1 << 20]
  ) {
    const key = bytes(32, length + 1), nonce = bytes(12, length + 7), aad = bytes(length % 9, 5);
    const plaintext = bytes(length, 13);
    const expected = new Uint8Array(length + 16), got = new Uint8Array(length + 16);
    pure.seal(key, nonce, aad, plaintext, expected);
    aead.seal(key, nonce, aad, plaintext, got);
    if (!equal(got, expected)) failures.push(`seal ${length}`);
    const back = new Uint8Array(length);
    if (!aead.open(key, nonce, aad, expected, back) || !equal(back, plaintext)) {
      failures.push(`open ${length}`);
    }
    const inPlace = expected.slice();
    if (
      !aead.open(key, nonce, aad, inPlace, inPlace) ||
      !equal(inPlace.subarray(0, length), plaintext)
    ) {
      failures.push(`open in place ${length}`);
    }
    const bad = expected.slice();
    bad[length + 15] ^= 1;
    const copy = bad.slice(), untouched = new Uint8Array(length).fill(0xee);
    if (aead.open(key, nonce, aad, bad, untouched) || !untouched.every((v) => v === 0xee)) {
      failures.push(`bad tag ${length}`);
    }
    if (aead.open(key, nonce, aad, copy, copy) || !equal(copy, bad)) {
      failures.push(`bad tag in place ${length}`);
    }
    // sealParts: a header in place at the start of out, the rest read from where it is.
    for (const head of [1, 2, 13]) {
      if (head > length || typeof aead.sealParts !== "function") continue;
      const box = new Uint8Array(length + 16);
      box.set(plaintext.subarray(0, head));
      aead.sealParts(key, nonce, aad, box.subarray(0, head), plaintext.subarray(head), box);
      if (!equal(box, expected)) failures.push(`sealParts ${head} + ${length - head}`);
    }
  }
  return failures;
}

async function main() {
  if (mode === "capabilities") {
    let nativeError = null;
    try {
      createAeadBackend("native");
    } catch (error) {
      nativeError = String(error?.message ?? error);
    }
    const native = nativeAeadAvailable();
    out({
      event: "capabilities",
      native,
      native_error: nativeError,
      native_source: native ? createAeadBackend("native").source : null,
      auto_threshold: createAeadBackend("auto").threshold,
      native_disagreements: native ? checkAgainstPure(createAeadBackend("native")) : null,
      native_seal_parts: native && typeof createAeadBackend("native").sealParts === "function",
    });
    return;
  }
  if (mode === "close-race") return await closeRace();
  if (mode === "relay") {
    const relay = serveRelay({
      port: 0,
      to: where,
      maxPerIp: 2,
      idleTimeout: 1500,
      maxFrameBytes: 64 * 1024,
      onEvent: (e) => out({ event: "relay", ...e }),
    });
    await relay.ready;
    out({ event: "listening", port: relay.addr.port });
    await untilStdinEnds();
    await relay.close();
    return;
  }
  if (mode === "connect") {
    const open = (net) =>
      transport === "tcp"
        ? connect({
          hostname: "127.0.0.1",
          port: Number(where),
          network: net,
          fallback: "none",
          handshakeTimeout: 3000,
        })
        : connectWebSocket({ url: where, network: net, handshakeTimeout: 3000 });
    const session = await open(network);
    out({ event: "session", session_id: toHex(session.sessionId) });
    const { received } = await exchange(session, 1, 2);
    await session.close();
    out({ event: "done", received });
    // A second connection on the wrong network: a typed error, no crash.
    try {
      const wrong = await open(network === "regtest" ? "mainnet" : "regtest");
      out({ event: "unexpected_session", session_id: toHex(wrong.sessionId) });
      await wrong.close();
    } catch (error) {
      out({ event: "error", ...describe(error) });
    }
    return;
  }
  const options = {
    port: 0,
    network,
    handshakeTimeout: 3000,
    onError: (error) => out({ event: "peer_error", ...describe(error) }),
  };
  const listener = transport === "tcp" ? listen(options) : listenWebSocket(options);
  // node:net binds a moment later: wait (bounded) until the port is known.
  for (let i = 0; i < 200 && listener.addr.port === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  out({ event: "listening", port: listener.addr.port });
  const stdinEnded = untilStdinEnds();
  const serving = (async () => {
    for await (const session of listener) {
      out({ event: "session", session_id: toHex(session.sessionId) });
      const { reader, received } = await exchange(session, 2, 1);
      out({ event: "done", received });
      const end = await reader.read(); // the initiator closes: a clean end
      out({ event: "closed", clean: end.done === true });
      await session.close();
    }
  })();
  await Promise.race([stdinEnded, serving]);
  await listener.close();
}

main().then(
  () => process.exit(0),
  (error) => {
    out({ event: "fatal", ...describe(error) });
    process.exit(1);
  },
);
