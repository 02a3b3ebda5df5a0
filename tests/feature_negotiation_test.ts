// BIP434 negotiation: what registrations send, what comes of them, and the same end to end.
import assert from "node:assert/strict";
import {
  featureMessages,
  type FeaturePayload,
  type FeatureRegistration,
  negotiateFeatures,
  peerHandshake,
} from "../layers/bitcoin/mod.ts";
import { sessionPair, within } from "./helpers.ts";

const TIMEOUT = 10_000;

const sent = (...ids: (string | [string, number[]])[]): FeaturePayload[] =>
  ids.map((x) =>
    typeof x === "string"
      ? { featureId: x, featureData: new Uint8Array() }
      : { featureId: x[0], featureData: new Uint8Array(x[1]) }
  );
const versions = (name: string, ...ids: string[]): FeatureRegistration => ({
  approach: "versions",
  name,
  versions: ids.map((id) => ({ id, data: new Uint8Array([id.length]) })),
});

Deno.test("featureMessages: one per id, in registration order, data copied", () => {
  const data = new Uint8Array([5]);
  const out = featureMessages([
    { approach: "advertise", id: "BIP0001", data },
    versions("v", "Vvv3", "Vv2xx"),
    { approach: "coordinate", id: "BIP0002" },
  ]);
  assert.deepEqual(out, [
    { featureId: "BIP0001", featureData: new Uint8Array([5]) },
    { featureId: "Vvv3", featureData: new Uint8Array([4]) },
    { featureId: "Vv2xx", featureData: new Uint8Array([5]) },
    { featureId: "BIP0002", featureData: new Uint8Array() },
  ]);
  data[0] = 9;
  assert.equal(out[0].featureData[0], 5);
  assert.deepEqual(featureMessages([]), []);
});

Deno.test("featureMessages: malformed registrations throw TypeError/RangeError naming them", () => {
  const bad: [unknown, RegExp][] = [
    ["nope", /features must be an array/],
    [[null], /features\[0\] must be an object/],
    [[{ approach: "shout", id: "BIP0001" }], /features\[0\].approach/],
    [[{ approach: "advertise", id: "abc" }], /features\[0\].id must be 4..80/],
    [[{ approach: "advertise", id: "ab\u00e9cd" }], /features\[0\].id must be printable ASCII/],
    [[{ approach: "advertise", id: "BIP0001", data: new Uint8Array(513) }], /at most 512 bytes/],
    [
      [{ approach: "advertise", id: "BIP0001", data: [1] }],
      /features\[0\].data must be a Uint8Array/,
    ],
    [[{ approach: "coordinate", id: "BIP0001", compatible: 1 }], /compatible must be a function/],
    [[{ approach: "versions", name: "", versions: [{ id: "BIP0001" }] }], /name must be/],
    [[{ approach: "versions", name: "x", versions: [] }], /versions must be a non-empty array/],
    [[{ approach: "versions", name: "x", versions: [{ id: "BIP" }] }], /versions\[0\].id/],
    [
      [{ approach: "advertise", id: "BIP0001" }, { approach: "coordinate", id: "BIP0001" }],
      /feature "BIP0001" is registered twice/,
    ],
    [
      [versions("x", "BIP0001"), versions("y", "BIP0001")],
      /featureid "BIP0001" is registered twice/,
    ],
    [[versions("x", "XXv1", "XXv1")], /featureid "XXv1" is registered twice/],
  ];
  for (const [registrations, message] of bad) {
    assert.throws(
      () => featureMessages(registrations as FeatureRegistration[]),
      (e: unknown) =>
        (e instanceof TypeError || e instanceof RangeError) && message.test(e.message),
      String(message),
    );
  }
});

Deno.test("negotiateFeatures: advertise enables on the id alone; unknown ids are ignored", () => {
  const regs: FeatureRegistration[] = [
    { approach: "advertise", id: "BIP1000", data: new Uint8Array([1]) },
    { approach: "advertise", id: "BIP2000" },
  ];
  const out = negotiateFeatures(regs, sent("other/thing", ["BIP1000", [9, 9]]), "initiator");
  assert.deepEqual(out, {
    BIP1000: {
      approach: "advertise",
      enabled: true,
      id: "BIP1000",
      peerData: new Uint8Array([9, 9]),
    },
    BIP2000: { approach: "advertise", enabled: false },
  });
});

Deno.test("negotiateFeatures: coordinate needs compatible data; only the first message per id counts", () => {
  const regs: FeatureRegistration[] = [
    { approach: "coordinate", id: "BIP3000", data: new Uint8Array([1, 2]) },
  ];
  assert.equal(
    negotiateFeatures(regs, sent(["BIP3000", [1, 2]]), "responder").BIP3000.enabled,
    true,
  );
  assert.equal(negotiateFeatures(regs, sent(["BIP3000", [1]]), "responder").BIP3000.enabled, false);
  assert.equal(
    negotiateFeatures(regs, sent(["BIP3000", [7]], ["BIP3000", [1, 2]]), "responder").BIP3000
      .enabled,
    false,
  );
  const lenient: FeatureRegistration[] = [{
    approach: "coordinate",
    id: "BIP3000",
    compatible: (peer) => peer.length <= 1,
  }];
  assert.deepEqual(negotiateFeatures(lenient, sent(["BIP3000", [4]]), "initiator").BIP3000, {
    approach: "coordinate",
    enabled: true,
    id: "BIP3000",
    peerData: new Uint8Array([4]),
  });
  assert.equal(
    negotiateFeatures(lenient, sent(["BIP3000", [4, 4]]), "initiator").BIP3000.enabled,
    false,
  );
});

Deno.test("negotiateFeatures: versioning — listener picks its favourite, initiator the peer's first", () => {
  // BIP434's example 5: listener v3,v2,v1 / initiator v1,v2 → both select v2
  const listener = [versions("bip", "BIP434v3", "BIP434v2", "BIP434v1")];
  const initiator = [versions("bip", "BIP434v1", "BIP434v2")];
  assert.equal(
    negotiateFeatures(listener, sent("BIP434v1", "BIP434v2"), "responder").bip.id,
    "BIP434v2",
  );
  assert.equal(
    negotiateFeatures(initiator, sent("BIP434v3", "BIP434v2", "BIP434v1"), "initiator").bip.id,
    "BIP434v2",
  );
  // example 6: the roles swapped → both select v1
  const listener6 = [versions("bip", "BIP434v1", "BIP434v2")];
  const initiator6 = [versions("bip", "BIP434v3", "BIP434v2", "BIP434v1")];
  assert.equal(
    negotiateFeatures(listener6, sent("BIP434v3", "BIP434v2", "BIP434v1"), "responder").bip.id,
    "BIP434v1",
  );
  assert.equal(
    negotiateFeatures(initiator6, sent("BIP434v1", "BIP434v2"), "initiator").bip.id,
    "BIP434v1",
  );
  // the peer's data for the selected version comes along; no overlap → disabled
  const out = negotiateFeatures(listener, sent(["BIP434v2", [42]]), "responder").bip;
  assert.deepEqual(out, {
    approach: "versions",
    enabled: true,
    id: "BIP434v2",
    peerData: new Uint8Array([42]),
  });
  assert.deepEqual(negotiateFeatures(listener, sent("BIP434v9"), "initiator").bip, {
    approach: "versions",
    enabled: false,
  });
  assert.throws(() => negotiateFeatures(listener, [], "listener" as "responder"), TypeError);
});

Deno.test("negotiateFeatures: an id may be __proto__ without touching the prototype", () => {
  const out = negotiateFeatures(
    [{ approach: "advertise", id: "__proto__" }],
    sent("__proto__"),
    "initiator",
  );
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(Object.keys(out), ["__proto__"]);
  assert.equal(out["__proto__"].enabled, true);
});

Deno.test("negotiation end to end: two peerHandshake peers negotiate by BIP434's versioning rule", async () => {
  const versions = (name: string, ...ids: string[]): FeatureRegistration => ({
    approach: "versions",
    name,
    versions: ids.map((id) => ({ id })),
  });
  // BIP434's examples 5 and 6, with the listening peer first
  const cases: [string[], string[], string][] = [
    [["BIP434v3", "BIP434v2", "BIP434v1"], ["BIP434v1", "BIP434v2"], "BIP434v2"],
    [["BIP434v1", "BIP434v2"], ["BIP434v3", "BIP434v2", "BIP434v1"], "BIP434v1"],
    [["BIP434v3"], ["BIP434v1"], ""],
  ];
  for (const [listening, initiating, selected] of cases) {
    const [initiator, responder] = await sessionPair();
    try {
      const [i, r] = await within(
        Promise.all([
          peerHandshake(initiator, {
            timeout: 5000,
            features: [versions("bip434", ...initiating), { approach: "advertise", id: "BIPinit" }],
          }),
          peerHandshake(responder, {
            timeout: 5000,
            features: [versions("bip434", ...listening), { approach: "advertise", id: "BIPresp" }],
          }),
        ]),
        TIMEOUT,
        "handshakes",
      );
      assert.equal(i.negotiated.bip434.id ?? "", selected, `initiator ${initiating}`);
      assert.equal(r.negotiated.bip434.id ?? "", selected, `listener ${listening}`);
      assert.equal(i.negotiated.bip434.enabled, selected !== "");
      // each side saw exactly what the other sent, in order
      assert.deepEqual(r.features.map((x) => x.featureId), [...initiating, "BIPinit"]);
      assert.deepEqual(i.features.map((x) => x.featureId), [...listening, "BIPresp"]);
      // advertisements only enable what the peer advertised too
      assert.equal(i.negotiated.BIPinit.enabled, false);
    } finally {
      await initiator.close();
      await responder.close();
    }
  }
});
