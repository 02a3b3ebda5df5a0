import assert from "node:assert/strict";
import { connect } from "../layers/session/connect.ts";
import { openV1Session } from "../layers/session/v1_session.ts";
import { peerHandshake, pingPeer } from "../layers/bitcoin/peer_handshake.ts";
import { encodeV1Message } from "../layers/v1/v1_framing.ts";
import { encodeVersion, ipFromString, NODE_NETWORK, NODE_P2P_V2 } from "../layers/bitcoin/mod.ts";
import { networkMagic } from "../layers/bitcoin/network.ts";
import { isCode, sessionPair, within } from "./helpers.ts";
import { nodeLike, v1OnlyPeer } from "./peers.ts";

Deno.test("fallback: initiator retries with v1 when a v1-only peer hangs up on our key", async () => {
  const peer = v1OnlyPeer();
  try {
    const session = await within(connect({ port: peer.port, network: "regtest" }), 5000, "connect");
    assert.equal(session.transportVersion, 1);
    assert.equal(session.sessionId.length, 0);
    const info = await peerHandshake(session, { timeout: 3000 });
    assert.equal(info.version.userAgent, "/v1-only:1/");
    assert.equal(info.supportsV2, false);
    assert.ok((await pingPeer(session, { timeout: 3000 })) >= 0);
    assert.equal(peer.connections, 2);
    await session.close();
  } finally {
    await peer.close();
  }
});

Deno.test("fallback: fallback none reports V1_ONLY_PEER; v1-only never tries v2", async () => {
  const peer = v1OnlyPeer();
  try {
    await assert.rejects(
      connect({ port: peer.port, network: "regtest", fallback: "none" }),
      isCode("V1_ONLY_PEER"),
    );
    const before = peer.connections;
    const s = await connect({ port: peer.port, network: "regtest", fallback: "v1-only" });
    assert.equal(s.transportVersion, 1);
    await peerHandshake(s, { timeout: 3000 });
    assert.equal(peer.connections, before + 1);
    await s.close();
    await assert.rejects(connect({ port: peer.port, fallback: "v3" as "v1" }), TypeError);
  } finally {
    await peer.close();
  }
});

Deno.test("fallback: a v2 listener serves a v1 initiator without losing a byte", async () => {
  const node = nodeLike({ echo: true });
  try {
    // A raw v1 client writes version + verack + ping in ONE chunk: the responder reads the
    // 16-byte prefix, recognises v1, and must replay everything to the v1 session.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: node.port });
    const magic = networkMagic("regtest");
    const version = encodeVersion({
      protocolVersion: 70016,
      services: NODE_NETWORK,
      timestamp: 0n,
      addrRecv: { services: 0n, ip: ipFromString("127.0.0.1"), port: node.port },
      addrFrom: { services: 0n, ip: ipFromString("0.0.0.0"), port: 0 },
      nonce: 42n,
      userAgent: "/raw-v1:0/",
      startHeight: 7,
      relay: false,
    });
    const ping = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const burst = new Uint8Array([
      ...encodeV1Message(magic, "version", version),
      ...encodeV1Message(magic, "verack", new Uint8Array(0)),
      ...encodeV1Message(magic, "ping", ping),
    ]);
    await conn.write(burst);
    const session = openV1Session(
      { readable: conn.readable, writable: conn.writable },
      { role: "initiator", network: "regtest" },
    );
    const seen: string[] = [];
    const r = session.readable.getReader();
    let pong: Uint8Array | undefined;
    while (!pong) {
      const { value, done } = await within(r.read(), 3000, "v1 read");
      if (done) break;
      seen.push(value.type);
      if (value.type === "pong") pong = value.payload;
    }
    assert.deepEqual(pong, ping);
    assert.ok(seen.includes("version") && seen.includes("verack"), seen.join());
    assert.equal(node.sessions[0].transportVersion, 1);
    await session.close();
  } finally {
    await node.close();
  }
});

Deno.test("fallback: library v1 initiator ↔ library listener; v1: reject closes such peers", async () => {
  {
    const node = nodeLike({ echo: true });
    const s = await connect({ port: node.port, network: "regtest", fallback: "v1-only" });
    const info = await peerHandshake(s, { timeout: 3000 });
    assert.equal(info.version.userAgent, "/node-like:2/");
    assert.equal(info.supportsV2, false); // a v1 session does not advertise NODE_P2P_V2
    const w = s.writable.getWriter(), r = s.readable.getReader();
    await w.write({ type: "custom", payload: new Uint8Array([5]) });
    assert.deepEqual((await r.read()).value, { type: "custom", payload: new Uint8Array([5]) });
    w.releaseLock();
    r.releaseLock();
    await s.close();
    await node.close();
  }
  {
    const node = nodeLike({ v1: "reject", echo: true });
    const s = await connect({ port: node.port, network: "regtest", fallback: "v1-only" });
    await assert.rejects(peerHandshake(s, { timeout: 3000 }), isCode("UNEXPECTED_EOF"));
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(node.errors.some((e) => e.code === "V1_PROTOCOL"));
    await node.close();
  }
});

Deno.test("v2 ↔ v2 with peerHandshake: both advertise NODE_P2P_V2", async () => {
  const node = nodeLike({ echo: true });
  try {
    const s = await connect({ port: node.port, network: "regtest" });
    assert.equal(s.transportVersion, 2);
    const info = await peerHandshake(s, { timeout: 3000 });
    assert.equal(info.supportsV2, true);
    assert.equal(info.version.services & NODE_P2P_V2, NODE_P2P_V2);
    await s.close();
  } finally {
    await node.close();
  }
});

Deno.test("peerHandshake and pingPeer time out with TIMEOUT on a silent peer", async () => {
  const [a, b] = await sessionPair();
  await assert.rejects(peerHandshake(a, { timeout: 100 }), isCode("TIMEOUT"));
  await assert.rejects(pingPeer(a, { timeout: 100 }), isCode("TIMEOUT"));
  // the streams are unlocked again after a failed exchange
  assert.equal(a.readable.locked, false);
  assert.equal(a.writable.locked, false);
  await a.close();
  await b.closed;
});
