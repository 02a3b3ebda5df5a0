// authenticate(): private authentication over real sessions, through the public Session API.
import assert from "node:assert/strict";
import {
  AUTH_MESSAGE_TYPE,
  authenticate,
  type AuthenticateOptions,
  generateIdentity,
} from "../layers/auth/mod.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";
import type { CallerLayer as Layer } from "../layers/layer.ts";
import { openV1Session } from "../layers/session/v1_session.ts";
import { memoryPair } from "../transports/memory.ts";
import { openSession } from "../layers/session/open.ts";
import { isCode, sessionPair, within } from "./helpers.ts";

const TIMEOUT = 10_000;
const node = generateIdentity();
const client = generateIdentity();
const stranger = generateIdentity();

/** A messages layer that records what the session sends (type and payload length). */
function recordOutbound(log: string[]): Layer<Message, Message> {
  return {
    inbound: new TransformStream<Message, Message>(),
    outbound: new TransformStream<Message, Message>({
      transform(m, controller) {
        log.push(`${m.type}:${m.payload.length}`);
        controller.enqueue(m);
      },
    }),
  };
}

/** A contents layer that records the type field of every packet sent. */
function recordTypeFields(log: string[]): Layer<Uint8Array, Uint8Array> {
  return {
    inbound: new TransformStream<Uint8Array, Uint8Array>(),
    outbound: new TransformStream<Uint8Array, Uint8Array>({
      transform(contents, controller) {
        log.push(
          contents[0] === 0
            ? `long:${new TextDecoder().decode(contents.subarray(1, 13)).replace(/\0+$/, "")}`
            : `short:${contents[0]}`,
        );
        controller.enqueue(contents);
      },
    }),
  };
}

async function pairAuth(a: AuthenticateOptions, b: AuthenticateOptions) {
  const [x, y] = await sessionPair();
  const [ra, rb] = await within(
    Promise.all([
      authenticate(x, { timeout: 5000, ...a }),
      authenticate(y, { timeout: 5000, ...b }),
    ]),
    TIMEOUT,
    "authenticate",
  );
  return { x, y, ra, rb };
}

Deno.test("authenticate: the right key → true, on the challenger's side only", async () => {
  const { x, y, ra, rb } = await pairAuth({ accept: [node.publicKey] }, {
    identity: [node.privateKey],
  });
  try {
    assert.deepEqual(ra, { authenticated: true, challenged: true, responded: true });
    assert.deepEqual(rb, { authenticated: false, challenged: true, responded: true });
  } finally {
    await x.close();
    await y.close();
  }
});

Deno.test("authenticate: both directions at once (each holds the key the other accepts)", async () => {
  for (const acceptSlots of [1, 3]) {
    const { x, y, ra, rb } = await pairAuth(
      { accept: [node.publicKey], identity: [client.privateKey], acceptSlots },
      {
        accept: [stranger.publicKey, client.publicKey],
        identity: [node.privateKey],
        acceptSlots: 3,
      },
    );
    try {
      assert.equal(ra.authenticated, true, `slots ${acceptSlots}`);
      assert.equal(rb.authenticated, true);
    } finally {
      await x.close();
      await y.close();
    }
  }
});

Deno.test("authenticate: impersonation fails (no key, wrong key)", async () => {
  for (const identity of [[], [stranger.privateKey]]) {
    const { x, y, ra } = await pairAuth({ accept: [node.publicKey] }, { identity });
    try {
      assert.equal(ra.authenticated, false);
    } finally {
      await x.close();
      await y.close();
    }
  }
});

Deno.test("authenticate: later messages stay readable, even ones sent right behind the auth", async () => {
  const [x, y] = await sessionPair();
  try {
    const bSide = (async () => {
      const result = await authenticate(y, { identity: [node.privateKey] });
      // written the moment B is done, possibly before A has read B's last auth message
      const w = y.writable.getWriter();
      await w.write({ type: "inv", payload: new Uint8Array([1, 2]) });
      await w.write({ type: "feature", payload: new Uint8Array([3]) });
      w.releaseLock();
      return result;
    })();
    const ra = await within(authenticate(x, { accept: [node.publicKey] }), TIMEOUT, "auth");
    await within(bSide, TIMEOUT, "b");
    assert.equal(ra.authenticated, true);
    const r = x.readable.getReader();
    assert.deepEqual((await within(r.read(), TIMEOUT, "inv")).value, {
      type: "inv",
      payload: new Uint8Array([1, 2]),
    });
    assert.deepEqual((await within(r.read(), TIMEOUT, "feature")).value, {
      type: "feature",
      payload: new Uint8Array([3]),
    });
    r.releaseLock();
    // and the session's streams are unlocked for anyone
    assert.equal(x.readable.locked, false);
    assert.equal(x.writable.locked, false);
  } finally {
    await x.close();
    await y.close();
  }
});

Deno.test("authenticate: one round trip of long-form privauth messages of fixed sizes", async () => {
  const logs: string[][] = [];
  for (const [accept, identity] of [[[node.publicKey], [node.privateKey]], [[], []]]) {
    const types: string[] = [], sizes: string[] = [];
    const [x, y] = await sessionPair(
      { layers: { contents: [recordTypeFields(types)], messages: [recordOutbound(sizes)] } },
      {},
    );
    try {
      await within(
        Promise.all([authenticate(x, { accept }), authenticate(y, { identity })]),
        TIMEOUT,
        "auth",
      );
      assert.deepEqual(types, [`long:${AUTH_MESSAGE_TYPE}`, `long:${AUTH_MESSAGE_TYPE}`]);
      logs.push(sizes);
    } finally {
      await x.close();
      await y.close();
    }
  }
  assert.deepEqual(logs[0], [`${AUTH_MESSAGE_TYPE}:128`, `${AUTH_MESSAGE_TYPE}:96`]);
  assert.deepEqual(logs[0], logs[1]);
});

Deno.test("authenticate: the responder behaves the same whether or not it is accepted", async () => {
  const seen: string[] = [];
  for (const accept of [[node.publicKey], [stranger.publicKey], []]) {
    const sent: string[] = [];
    const [x, y] = await sessionPair({}, { layers: { messages: [recordOutbound(sent)] } });
    try {
      const [ra, rb] = await within(
        Promise.all([
          authenticate(x, { accept, challengers: "initiator" }),
          authenticate(y, { identity: [node.privateKey], challengers: "initiator" }),
        ]),
        TIMEOUT,
        "auth",
      );
      assert.equal(ra.authenticated, accept[0] === node.publicKey);
      // then the responder carries on as usual
      const w = y.writable.getWriter();
      await w.write({ type: "ping", payload: new Uint8Array(8) });
      w.releaseLock();
      const r = x.readable.getReader();
      assert.equal((await within(r.read(), TIMEOUT, "ping")).value?.type, "ping");
      r.releaseLock();
      seen.push(JSON.stringify({ rb, sent, open: y.isOpen }));
    } finally {
      await x.close();
      await y.close();
    }
  }
  assert.equal(new Set(seen).size, 1, seen.join("\n"));
  assert.deepEqual(JSON.parse(seen[0]), {
    rb: { authenticated: false, challenged: false, responded: true },
    sent: [`${AUTH_MESSAGE_TYPE}:96`, "ping:8"],
    open: true,
  });
});

Deno.test("authenticate: challengers 'initiator' / 'responder' run one direction", async () => {
  {
    const { x, y, ra, rb } = await pairAuth(
      { identity: [client.privateKey], challengers: "responder" },
      { accept: [client.publicKey], challengers: "responder" },
    );
    assert.deepEqual(ra, { authenticated: false, challenged: false, responded: true });
    assert.deepEqual(rb, { authenticated: true, challenged: true, responded: false });
    await x.close();
    await y.close();
  }
});

Deno.test("authenticate: a peer that does not run it → UNEXPECTED_MESSAGE, session closed", async () => {
  const [x, y] = await sessionPair();
  try {
    const w = y.writable.getWriter();
    await w.write({ type: "version", payload: new Uint8Array(90) });
    w.releaseLock();
    await assert.rejects(
      within(authenticate(x, { accept: [node.publicKey] }), TIMEOUT, "auth"),
      isCode("UNEXPECTED_MESSAGE"),
    );
    await within(x.closed, TIMEOUT, "closed");
    await within(y.closed, TIMEOUT, "peer sees the close");
  } finally {
    await x.close();
    await y.close();
  }
});

Deno.test("authenticate: a malformed auth payload → MALFORMED_MESSAGE; silence → TIMEOUT; EOF", async () => {
  {
    const [x, y] = await sessionPair();
    const w = y.writable.getWriter();
    await w.write({ type: AUTH_MESSAGE_TYPE, payload: new Uint8Array(100) });
    w.releaseLock();
    await assert.rejects(within(authenticate(x), TIMEOUT, "auth"), isCode("MALFORMED_MESSAGE"));
    await within(x.closed, TIMEOUT, "closed");
    await y.close();
  }
  {
    const [x, y] = await sessionPair();
    await assert.rejects(
      within(authenticate(x, { timeout: 200 }), TIMEOUT, "auth"),
      (e) => isCode("TIMEOUT")(e) && (e as { origin: string }).origin === "local",
    );
    // a timeout leaves the session to the caller, unlocked
    assert.ok(x.isOpen);
    assert.equal(x.readable.locked, false);
    await x.close();
    await y.close();
  }
  {
    const [x, y] = await sessionPair();
    const auth = authenticate(x);
    await y.close();
    await assert.rejects(within(auth, TIMEOUT, "auth"), isCode("UNEXPECTED_EOF"));
    await x.close();
  }
});

Deno.test("authenticate: caller mistakes — a v1 session, bad options", async () => {
  const [p, q] = memoryPair();
  const v1 = openV1Session(p, { role: "initiator", network: "regtest" });
  const v1b = openV1Session(q, { role: "responder", network: "regtest" });
  try {
    await assert.rejects(authenticate(v1), /needs a v2/);
  } finally {
    await v1.close();
    await v1b.close();
  }
  const [x, y] = await sessionPair();
  try {
    await assert.rejects(authenticate(x, { timeout: 0 }), RangeError);
    await assert.rejects(authenticate(x, { accept: [node.privateKey] }), RangeError);
    await assert.rejects(authenticate(x, { acceptSlots: 99 }), RangeError);
    assert.ok(x.isOpen);
    assert.equal(x.readable.locked, false);
  } finally {
    await x.close();
    await y.close();
  }
});

Deno.test("auth option: openSession runs authentication and sets session.authenticated", async () => {
  const identity = generateIdentity();
  const [x, y] = memoryPair();
  const [client, node] = await Promise.all([
    openSession(x, { role: "initiator", auth: { accept: [identity.publicKey] } }),
    openSession(y, { role: "responder", auth: { identity: [identity.privateKey] } }),
  ]);
  assert.equal(client.authenticated, true);
  assert.equal(node.authenticated, false); // it did not challenge
  // later messages are the application's
  await node.send("ping", new Uint8Array(8));
  assert.equal((await client.readable.getReader().read()).value?.type, "ping");
  await client.close();
  await node.closed;
  // a wrong key → false; no auth option → undefined
  const [p, q] = memoryPair();
  const [c2, n2] = await Promise.all([
    openSession(p, { role: "initiator", auth: { accept: [identity.publicKey] } }),
    openSession(q, { role: "responder", auth: { identity: [stranger.privateKey] } }),
  ]);
  assert.equal(c2.authenticated, false);
  await c2.close();
  await n2.closed;
  const [plainA, plainB] = await sessionPair();
  assert.equal(plainA.authenticated, undefined);
  await plainA.close();
  await plainB.closed;
});

Deno.test("auth option: a peer without authentication makes the session fail, closed", async () => {
  const identity = generateIdentity();
  const [x, y] = memoryPair();
  const [client, node] = await Promise.allSettled([
    openSession(x, { role: "initiator", auth: { accept: [identity.publicKey], timeout: 2000 } }),
    openSession(y, { role: "responder" }).then(async (s) => {
      await s.send("ping", new Uint8Array(8));
      return s;
    }),
  ]);
  assert.equal(client.status, "rejected");
  assert.equal(node.status, "fulfilled");
  if (node.status === "fulfilled") await within(node.value.closed, 5000, "peer sees the close");
});
