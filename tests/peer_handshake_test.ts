// peerHandshake with BIP434 feature negotiation, against a scripted peer and against itself.
import assert from "node:assert/strict";
import {
  decodeFeature,
  decodeVersion,
  encodeFeature,
  encodeVersion,
  type FeaturePayload,
  type FeatureRegistration,
  ipFromString,
  MAX_PEER_FEATURES,
  NODE_NETWORK,
  peerHandshake,
  type PeerInfo,
  PROTOCOL_VERSION,
} from "../layers/bitcoin/mod.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";
import type { Session } from "../layers/session/session.ts";
import { isCode, sessionPair, within } from "./helpers.ts";

const TIMEOUT = 10_000;
const EMPTY = new Uint8Array(0);

const feature = (featureId: string, data: number[] = []): Message => ({
  type: "feature",
  payload: encodeFeature({ featureId, featureData: new Uint8Array(data) }),
});
const f = (featureId: string, data: number[] = []): FeaturePayload => ({
  featureId,
  featureData: new Uint8Array(data),
});

function versionMessage(protocolVersion: number): Message {
  return {
    type: "version",
    payload: encodeVersion({
      protocolVersion,
      services: NODE_NETWORK,
      timestamp: 0n,
      addrRecv: { services: 0n, ip: ipFromString("127.0.0.1"), port: 0 },
      addrFrom: { services: 0n, ip: ipFromString("0.0.0.0"), port: 0 },
      nonce: 1n,
      userAgent: "/scripted:0/",
      startHeight: 5,
      relay: false,
    }),
  };
}

/**
 * The scripted side of a pair: reads everything the library side sends up to
 * and including its verack (plus whatever it sends within `linger` ms after),
 * while writing `script` (in order; a "version" entry waits for ours first when
 * `answer` is set).
 */
async function scriptedPeer(
  session: Session,
  script: Message[],
  options: { answer?: boolean } = {},
): Promise<Message[]> {
  const reader = session.readable.getReader();
  const writer = session.writable.getWriter();
  const seen: Message[] = [];
  const readUntil = async (type: string) => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return false;
      seen.push(value);
      if (value.type === type) return true;
    }
  };
  if (options.answer) await readUntil("version");
  for (const m of script) await writer.write(m);
  if (!seen.some((m) => m.type === "verack")) await readUntil("verack");
  reader.releaseLock();
  writer.releaseLock();
  return seen;
}

/** Runs our peerHandshake (initiator) against a scripted responder. */
async function againstScript(
  script: Message[],
  options: Parameters<typeof peerHandshake>[1] = {},
): Promise<{ info: PeerInfo; seen: Message[]; ours: Session; theirs: Session }> {
  const [ours, theirs] = await sessionPair();
  const [info, seen] = await within(
    Promise.all([
      peerHandshake(ours, { timeout: 5000, ...options }),
      scriptedPeer(theirs, script, { answer: true }),
    ]),
    TIMEOUT,
    "handshake",
  );
  return { info, seen, ours, theirs };
}

const registrations: FeatureRegistration[] = [
  { approach: "advertise", id: "BIP9001", data: new Uint8Array([1]) },
  { approach: "coordinate", id: "BIP9002", data: new Uint8Array([2]) },
  { approach: "versions", name: "proto", versions: [{ id: "protov2" }, { id: "protov1" }] },
];

Deno.test("peerHandshake: announces protocol version 70017", async () => {
  assert.equal(PROTOCOL_VERSION, 70017);
  const { seen, ours, theirs } = await againstScript([versionMessage(70017), {
    type: "verack",
    payload: EMPTY,
  }]);
  try {
    assert.equal(decodeVersion(seen[0].payload).protocolVersion, 70017);
  } finally {
    await ours.close();
    await theirs.close();
  }
});

Deno.test("peerHandshake: our features go out after the peer's version, before our verack", async () => {
  const { seen, info, ours, theirs } = await againstScript(
    [versionMessage(70017), { type: "verack", payload: EMPTY }],
    { features: registrations },
  );
  try {
    assert.deepEqual(seen.map((m) => m.type), [
      "version",
      "wtxidrelay",
      "sendaddrv2",
      "feature",
      "feature",
      "feature",
      "feature",
      "verack",
    ]);
    assert.deepEqual(
      seen.filter((m) => m.type === "feature").map((m) => decodeFeature(m.payload)),
      [
        f("BIP9001", [1]),
        f("BIP9002", [2]),
        f("protov2"),
        f("protov1"),
      ],
    );
    // the peer sent none: nothing is enabled
    assert.deepEqual(info.features, []);
    assert.deepEqual(info.negotiated, {
      BIP9001: { approach: "advertise", enabled: false },
      BIP9002: { approach: "coordinate", enabled: false },
      proto: { approach: "versions", enabled: false },
    });
    // and nothing after our verack: the next thing we send is what the application writes
    const w = ours.writable.getWriter();
    await w.write({ type: "ping", payload: new Uint8Array(8) });
    w.releaseLock();
    const r = theirs.readable.getReader();
    assert.equal((await within(r.read(), TIMEOUT, "next")).value?.type, "ping");
    r.releaseLock();
  } finally {
    await ours.close();
    await theirs.close();
  }
});

Deno.test("peerHandshake: a peer that sends feature messages (known and unknown ids)", async () => {
  const { info, ours, theirs } = await againstScript(
    [
      versionMessage(70017),
      feature("BIP9001", [7, 7]),
      feature("https://unknown.example/feature", [1, 2, 3]),
      { type: "sendaddrv2", payload: EMPTY },
      feature("BIP9002", [2]),
      feature("protov1"),
      feature("protov2"),
      { type: "verack", payload: EMPTY },
    ],
    { features: registrations },
  );
  try {
    assert.deepEqual(info.features, [
      f("BIP9001", [7, 7]),
      f("https://unknown.example/feature", [1, 2, 3]),
      f("BIP9002", [2]),
      f("protov1"),
      f("protov2"),
    ]);
    assert.equal(info.featuresIgnored, 0);
    // the unknown id is reported but negotiates nothing
    assert.deepEqual(Object.keys(info.negotiated), ["BIP9001", "BIP9002", "proto"]);
    assert.deepEqual(info.negotiated.BIP9001, {
      approach: "advertise",
      enabled: true,
      id: "BIP9001",
      peerData: new Uint8Array([7, 7]),
    });
    assert.deepEqual(info.negotiated.BIP9002, {
      approach: "coordinate",
      enabled: true,
      id: "BIP9002",
      peerData: new Uint8Array([2]),
    });
    // we initiated: the first version the peer announced that we support
    assert.equal(info.negotiated.proto.id, "protov1");
    // feature messages are the handshake's; other messages are still reported
    assert.deepEqual(info.received.map((m) => m.type), ["sendaddrv2"]);
  } finally {
    await ours.close();
    await theirs.close();
  }
});

Deno.test("peerHandshake: coordination needs compatible data (default: the same bytes)", async () => {
  const script = [versionMessage(70017), feature("BIP9002", [3]), {
    type: "verack",
    payload: EMPTY,
  }];
  {
    const { info, ours, theirs } = await againstScript(script, { features: registrations });
    assert.equal(info.negotiated.BIP9002.enabled, false);
    await ours.close();
    await theirs.close();
  }
  {
    const { info, ours, theirs } = await againstScript(script, {
      features: [{
        approach: "coordinate",
        id: "BIP9002",
        data: new Uint8Array([2]),
        compatible: (peer, ourData) => peer[0] >= ourData[0],
      }],
    });
    assert.deepEqual(info.negotiated.BIP9002, {
      approach: "coordinate",
      enabled: true,
      id: "BIP9002",
      peerData: new Uint8Array([3]),
    });
    await ours.close();
    await theirs.close();
  }
});

Deno.test("peerHandshake: a peer below 70017 gets no feature, and its features are ignored", async () => {
  for (const peerVersion of [70016, 70015, 209]) {
    const { seen, info, ours, theirs } = await againstScript(
      [versionMessage(peerVersion), feature("BIP9001"), { type: "verack", payload: EMPTY }],
      { features: registrations },
    );
    try {
      assert.ok(!seen.some((m) => m.type === "feature"), `version ${peerVersion}`);
      assert.deepEqual(info.features, []);
      assert.equal(info.featuresIgnored, 1);
      assert.equal(info.negotiated.BIP9001.enabled, false);
    } finally {
      await ours.close();
      await theirs.close();
    }
  }
  // announcing below 70017 ourselves sends none either
  const { seen, ours, theirs } = await againstScript(
    [versionMessage(70017), { type: "verack", payload: EMPTY }],
    { features: registrations, protocolVersion: 70016 },
  );
  try {
    assert.equal(decodeVersion(seen[0].payload).protocolVersion, 70016);
    assert.ok(!seen.some((m) => m.type === "feature"));
  } finally {
    await ours.close();
    await theirs.close();
  }
});

Deno.test("peerHandshake: featureViolation disconnect → UNEXPECTED_MESSAGE, session closed", async () => {
  const cases: [string, Message[]][] = [
    ["below 70017", [versionMessage(70016), feature("BIP9001")]],
    ["before version", [feature("BIP9001"), versionMessage(70017)]],
  ];
  for (const [name, script] of cases) {
    const [ours, theirs] = await sessionPair();
    const handshake = peerHandshake(ours, { timeout: 5000, featureViolation: "disconnect" });
    const scripted = scriptedPeer(theirs, script, { answer: true }).catch(() => []);
    await assert.rejects(within(handshake, TIMEOUT, name), (e) => {
      assert.ok(isCode("UNEXPECTED_MESSAGE")(e), name);
      assert.equal((e as { origin: string }).origin, "peer");
      return true;
    });
    await within(ours.closed, TIMEOUT, `${name}: our session closes`);
    await within(theirs.closed, TIMEOUT, `${name}: the peer sees the close`);
    await scripted;
  }
  // by default a feature before the version is ignored (and counted)
  const { info, ours, theirs } = await againstScript([
    feature("BIP9001"),
    versionMessage(70017),
    { type: "verack", payload: EMPTY },
  ], { features: registrations });
  assert.equal(info.featuresIgnored, 1);
  assert.deepEqual(info.features, []);
  await ours.close();
  await theirs.close();
});

Deno.test("peerHandshake: a malformed feature → MALFORMED_MESSAGE and the session closes", async () => {
  const bad: Uint8Array[] = [
    new Uint8Array(), // no id
    new Uint8Array([3, 0x41, 0x42, 0x43, 0]), // id too short
    new Uint8Array([4, 0x41, 0x42, 0x43, 0x44]), // no data
    new Uint8Array([4, 0x41, 0x42, 0x43, 0x44, 0, 0]), // trailing byte
    new Uint8Array([4, 0x41, 0x0a, 0x43, 0x44, 0]), // not printable
  ];
  for (const payload of bad) {
    const [ours, theirs] = await sessionPair();
    const handshake = peerHandshake(ours, { timeout: 5000 });
    const scripted = scriptedPeer(theirs, [versionMessage(70017), { type: "feature", payload }], {
      answer: true,
    }).catch(() => []);
    await assert.rejects(within(handshake, TIMEOUT, "malformed"), isCode("MALFORMED_MESSAGE"));
    await within(ours.closed, TIMEOUT, "our session closes");
    await scripted;
    await theirs.close();
  }
});

Deno.test("peerHandshake: a feature after verack is not the handshake's: the session passes it on", async () => {
  const { info, ours, theirs } = await againstScript([
    versionMessage(70017),
    { type: "verack", payload: EMPTY },
    feature("BIP9001", [9]),
    { type: "inv", payload: new Uint8Array([0]) },
  ], { features: registrations });
  try {
    assert.deepEqual(info.features, []);
    assert.equal(info.negotiated.BIP9001.enabled, false);
    // the session delivers it as an ordinary message, payload untouched
    const r = ours.readable.getReader();
    const late = (await within(r.read(), TIMEOUT, "late feature")).value!;
    assert.deepEqual(late, feature("BIP9001", [9]));
    assert.equal((await within(r.read(), TIMEOUT, "inv")).value?.type, "inv");
    r.releaseLock();
  } finally {
    await ours.close();
    await theirs.close();
  }
});

Deno.test("peerHandshake: at most MAX_PEER_FEATURES are kept; the rest are counted", async () => {
  const script: Message[] = [versionMessage(70017)];
  for (let i = 0; i < MAX_PEER_FEATURES + 5; i++) script.push(feature(`feat${i}`));
  script.push({ type: "verack", payload: EMPTY });
  const { info, ours, theirs } = await againstScript(script);
  try {
    assert.equal(info.features.length, MAX_PEER_FEATURES);
    assert.equal(info.features[MAX_PEER_FEATURES - 1].featureId, `feat${MAX_PEER_FEATURES - 1}`);
    assert.equal(info.featuresIgnored, 5);
  } finally {
    await ours.close();
    await theirs.close();
  }
});

Deno.test("peerHandshake: caller mistakes in features are TypeError/RangeError", async () => {
  const [ours, theirs] = await sessionPair();
  try {
    await assert.rejects(peerHandshake(ours, { features: true } as never), /preVerackMessages/);
    await assert.rejects(
      peerHandshake(ours, { features: [{ approach: "advertise", id: "BIP" }] }),
      RangeError,
    );
    await assert.rejects(
      peerHandshake(ours, {
        features: [{ approach: "advertise", id: "BIP1234" }, {
          approach: "versions",
          name: "v",
          versions: [{ id: "BIP1234" }],
        }],
      }),
      /registered twice/,
    );
    await assert.rejects(
      peerHandshake(ours, { featureViolation: "explode" as "ignore" }),
      TypeError,
    );
    // nothing was sent: the session is still usable
    assert.ok(ours.isOpen);
  } finally {
    await ours.close();
    await theirs.close();
  }
});
