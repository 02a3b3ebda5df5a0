// The sans-I/O private authentication core: the PAP properties, for Countersign and multi-key.
import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { Bip324Error } from "../layers/errors.ts";
import {
  generateIdentity,
  type Identity,
  PrivateAuth,
  type PrivateAuthOptions,
  type RandomSource,
} from "../layers/auth/mod.ts";
import { decodePoint, encodePoint, M, Point } from "../layers/auth/group.ts";

/** A deterministic random source (SHA256 in counter mode) that counts what it hands out. */
function seeded(seed: number): RandomSource & { drawn: () => number } {
  let counter = 0;
  let drawn = 0;
  let pool = new Uint8Array(0);
  const source = (length: number): Uint8Array => {
    drawn += length;
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (pool.length === 0) {
        const block = new Uint8Array(8);
        new DataView(block.buffer).setUint32(0, seed);
        new DataView(block.buffer).setUint32(4, counter++);
        pool = sha256(block);
      }
      const n = Math.min(pool.length, length - filled);
      out.set(pool.subarray(0, n), filled);
      pool = pool.subarray(n);
      filled += n;
    }
    return out;
  };
  return Object.assign(source, { drawn: () => drawn });
}

type Role = "initiator" | "responder";

/** Runs one exchange between two configurations over the same (or distinct) session ids. */
function run(
  a: PrivateAuthOptions,
  b: PrivateAuthOptions,
  sessionId: Uint8Array = crypto.getRandomValues(new Uint8Array(32)),
) {
  const ia = new PrivateAuth({ role: "initiator", sessionId }, a);
  const ib = new PrivateAuth({ role: "responder", sessionId }, b);
  const toB = ia.start();
  const toA = ib.start();
  // Deliver in order; each side answers the other's challenge as it arrives.
  const sentByA = [...toB], sentByB = [...toA];
  for (let i = 0; i < Math.max(sentByA.length, sentByB.length) + 1; i++) {
    if (i < sentByA.length && !ib.done) sentByB.push(...ib.receive(sentByA[i]));
    if (i < sentByB.length && !ia.done) sentByA.push(...ia.receive(sentByB[i]));
  }
  assert.ok(ia.done && ib.done, "both sides finished");
  return { a: ia.authenticated, b: ib.authenticated, sentByA, sentByB };
}

const alice: Identity = generateIdentity();
const bob: Identity = generateIdentity();
const carol: Identity = generateIdentity();

const SLOTS = [1, 2, 5];

Deno.test("auth core: correctness — the right key authenticates, in either direction", () => {
  for (const acceptSlots of SLOTS) {
    // A accepts B's key; B accepts A's: both succeed (both directions at once)
    const both = run(
      { accept: [bob.publicKey], identity: [alice.privateKey], acceptSlots },
      { accept: [alice.publicKey], identity: [bob.privateKey], acceptSlots },
    );
    assert.deepEqual([both.a, both.b], [true, true], `slots ${acceptSlots}`);
    // only A challenges for B's key
    const one = run({ accept: [bob.publicKey], acceptSlots }, { identity: [bob.privateKey] });
    assert.deepEqual([one.a, one.b], [true, false]);
  }
});

Deno.test("auth core: correctness with several identities and several accepted keys", () => {
  // Countersign: the matching identity may be any of the responder's (up to identitySlots)
  for (const order of [[alice, bob, carol], [carol, alice, bob], [bob, carol, alice]]) {
    const r = run(
      { accept: [alice.publicKey] },
      { identity: order.map((k) => k.privateKey), identitySlots: 4 },
    );
    assert.equal(r.a, true);
  }
  // multi-key: any accepted key may match, and any of several identities
  for (const acceptSlots of [3, 8]) {
    for (const target of [alice, bob, carol]) {
      const r = run(
        { accept: [alice.publicKey, bob.publicKey, carol.publicKey], acceptSlots },
        { identity: [generateIdentity().privateKey, target.privateKey], identitySlots: 2 },
      );
      assert.equal(r.a, true, `slots ${acceptSlots}`);
    }
  }
});

Deno.test("auth core: impersonation fails — no key, wrong key, nobody accepted", () => {
  for (const acceptSlots of SLOTS) {
    const cases: [string, PrivateAuthOptions, PrivateAuthOptions][] = [
      ["no key", { accept: [bob.publicKey], acceptSlots }, {}],
      ["wrong key", { accept: [bob.publicKey], acceptSlots }, { identity: [carol.privateKey] }],
      ["accepts nobody", { acceptSlots }, { identity: [bob.privateKey] }],
      [
        "knows only the public key",
        { accept: [bob.publicKey], acceptSlots },
        { accept: [bob.publicKey], identity: [alice.privateKey] },
      ],
    ];
    for (const [name, a, b] of cases) {
      assert.equal(run(a, b).a, false, `${name}, slots ${acceptSlots}`);
    }
  }
});

Deno.test("auth core: a response relayed from another session does not authenticate", () => {
  for (const acceptSlots of SLOTS) {
    // Mallory sits between Alice (session 1, accepts Bob) and Bob (session 2): she relays
    // Alice's challenge to Bob and Bob's answer back to Alice.
    const s1 = crypto.getRandomValues(new Uint8Array(32));
    const s2 = crypto.getRandomValues(new Uint8Array(32));
    const aliceSide = new PrivateAuth({ role: "initiator", sessionId: s1 }, {
      accept: [bob.publicKey],
      acceptSlots,
      challengers: "initiator",
    });
    const bobSide = new PrivateAuth({ role: "responder", sessionId: s2 }, {
      identity: [bob.privateKey],
      challengers: "initiator",
    });
    const [challenge] = aliceSide.start();
    bobSide.start();
    const [answer] = bobSide.receive(challenge);
    aliceSide.receive(answer);
    assert.equal(aliceSide.authenticated, false, `slots ${acceptSlots}`);
    // the same relay within one session id does authenticate (the binding is the session id)
    const a2 = new PrivateAuth({ role: "initiator", sessionId: s1 }, {
      accept: [bob.publicKey],
      acceptSlots,
      challengers: "initiator",
    });
    const b2 = new PrivateAuth({ role: "responder", sessionId: s1 }, {
      identity: [bob.privateKey],
      challengers: "initiator",
    });
    const [c2] = a2.start();
    b2.start();
    a2.receive(b2.receive(c2)[0]);
    assert.equal(a2.authenticated, true);
  }
});

Deno.test("auth core: a challenge reflected back to its sender does not authenticate", () => {
  // Alice accepts her own key (a cluster sharing one identity); Mallory has no key. Mallory
  // sends Alice's challenge back as her own, and Alice's answer to it back as her answer.
  for (const acceptSlots of SLOTS) {
    const sessionId = crypto.getRandomValues(new Uint8Array(32));
    const a = new PrivateAuth({ role: "initiator", sessionId }, {
      accept: [alice.publicKey],
      identity: [alice.privateKey],
      acceptSlots,
    });
    const [challenge] = a.start();
    const [answer] = a.receive(challenge); // "Mallory's challenge"
    a.receive(answer); // "Mallory's answer"
    assert.equal(a.done, true);
    assert.equal(a.authenticated, false, `slots ${acceptSlots}`);
  }
});

Deno.test("auth core: fixed sizes, whatever is configured", () => {
  for (const acceptSlots of SLOTS) {
    for (const identitySlots of [1, 3]) {
      const sizes = new Set<string>();
      for (
        const [a, b] of [
          [{ accept: [bob.publicKey] }, { identity: [bob.privateKey] }],
          [{}, {}],
          [{ accept: [carol.publicKey] }, { identity: [alice.privateKey] }],
        ] as [PrivateAuthOptions, PrivateAuthOptions][]
      ) {
        const r = run(
          { ...a, acceptSlots, identitySlots },
          { ...b, acceptSlots, identitySlots },
        );
        sizes.add(JSON.stringify([r.sentByA.map((m) => m.length), r.sentByB.map((m) => m.length)]));
      }
      assert.equal(sizes.size, 1, `slots ${acceptSlots}/${identitySlots}: ${[...sizes]}`);
      const [[challenge, response]] = [...sizes].map((s) => JSON.parse(s)[0]);
      assert.equal(challenge, acceptSlots === 1 ? 128 : 96 + 32 * acceptSlots);
      assert.equal(response, acceptSlots === 1 ? 64 + 32 * identitySlots : 32);
    }
  }
});

/** Pearson's chi-square statistic of the byte histogram against uniform. */
function chiSquare(data: Uint8Array): number {
  const counts = new Array(256).fill(0);
  for (const b of data) counts[b]++;
  const expected = data.length / 256;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

/** 255 degrees of freedom: P(χ² > 400) ≈ 2·10⁻⁸ (Wilson–Hilferty). */
const CHI_SQUARE_LIMIT = 400;

function collect(runs: number, make: (i: number) => [PrivateAuthOptions, PrivateAuthOptions]) {
  const challenges: Uint8Array[] = [];
  const responses: Uint8Array[] = [];
  for (let i = 0; i < runs; i++) {
    const [a, b] = make(i);
    const sessionId = seeded(1000 + i)(32);
    const r = run(a, b, sessionId);
    challenges.push(r.sentByA[0]);
    responses.push(r.sentByB[1]); // [0] is B's own challenge
  }
  const flat = (xs: Uint8Array[]) => new Uint8Array(xs.flatMap((x) => [...x]));
  return { challenges: flat(challenges), responses: flat(responses) };
}

Deno.test("auth core: messages pass the same randomness test with or without keys", () => {
  // the test itself can fail: a compressed point (02/03 prefix) or zero padding is caught
  const reference = seeded(7)(8000);
  assert.ok(chiSquare(reference) < CHI_SQUARE_LIMIT, "uniform bytes pass");
  const prefixed = reference.map((b, i) => (i % 33 === 0 ? 2 + ((i / 33) & 1) : b));
  assert.ok(chiSquare(prefixed) > CHI_SQUARE_LIMIT, "compressed-point prefixes fail");
  const zeroPadded = reference.map((b, i) => (i % 96 >= 64 ? 0 : b));
  assert.ok(chiSquare(zeroPadded) > CHI_SQUARE_LIMIT, "zero padding fails");

  for (const acceptSlots of [1, 4]) {
    // at least 5 expected per histogram bin for the 32-byte multi-key responses
    const runs = acceptSlots === 1 ? 60 : 48;
    const configured = collect(runs, (i) => [
      { accept: [bob.publicKey], acceptSlots, random: seeded(i) },
      { identity: [bob.privateKey], random: seeded(500 + i) },
    ]);
    const unconfigured = collect(runs, (i) => [
      { acceptSlots, random: seeded(2000 + i) },
      { random: seeded(2500 + i) },
    ]);
    for (
      const [name, set] of [["configured", configured], ["unconfigured", unconfigured]] as const
    ) {
      assert.equal(set.challenges.length, unconfigured.challenges.length);
      assert.equal(set.responses.length, unconfigured.responses.length);
      const c = chiSquare(set.challenges), r = chiSquare(set.responses);
      assert.ok(c < CHI_SQUARE_LIMIT, `${name} challenges (slots ${acceptSlots}): χ² = ${c}`);
      assert.ok(r < CHI_SQUARE_LIMIT, `${name} responses (slots ${acceptSlots}): χ² = ${r}`);
    }
  }
});

Deno.test("auth core: the responder's behaviour does not depend on whether it is accepted", () => {
  for (const acceptSlots of [1, 3]) {
    const observed: string[] = [];
    for (const accept of [[bob.publicKey], [carol.publicKey], []]) {
      const sessionId = seeded(42)(32);
      const random = seeded(99); // the responder's randomness, the same in every case
      const a = new PrivateAuth({ role: "initiator", sessionId }, {
        accept,
        acceptSlots,
        challengers: "initiator",
      });
      const b = new PrivateAuth({ role: "responder", sessionId }, {
        identity: [bob.privateKey],
        challengers: "initiator",
        random,
      });
      const [challenge] = a.start();
      assert.deepEqual(b.start(), []);
      const replies = b.receive(challenge);
      a.receive(replies[0]);
      assert.equal(a.authenticated, accept[0] === bob.publicKey);
      // what the responder does and shows: one reply of a fixed size, the same randomness
      // drawn, no result of its own; with Countersign even R is identical (it never depends
      // on the challenge)
      observed.push(JSON.stringify({
        replies: replies.map((r) => r.length),
        drawn: random.drawn(),
        done: b.done,
        authenticated: b.authenticated,
        responds: b.responds,
        challenges: b.challenges,
        r: acceptSlots === 1 ? [...replies[0].subarray(0, 64)] : null,
      }));
    }
    assert.equal(new Set(observed).size, 1, `slots ${acceptSlots}:\n${observed.join("\n")}`);
  }
});

Deno.test("auth core: the generator M is a valid point with even y, and points round trip", () => {
  M.assertValidity();
  assert.equal(M.toAffine().y & 1n, 0n);
  assert.ok(!M.equals(Point.BASE));
  const random = seeded(3);
  for (let i = 1n; i < 20n; i++) {
    const point = Point.BASE.multiply(i * 7919n);
    const decoded = decodePoint(encodePoint(point, random));
    assert.equal(decoded.toAffine().x, point.toAffine().x);
  }
});

Deno.test("auth core: malformed or extra peer messages → Bip324Error", () => {
  const sessionId = new Uint8Array(32).fill(1);
  const isPeer = (code: string) => (e: unknown) =>
    e instanceof Bip324Error && e.code === code && e.origin === "peer";
  for (const length of [0, 32, 96, 127, 129, 161, 96 + 32 * 65]) {
    const b = new PrivateAuth({ role: "responder", sessionId }, { challengers: "initiator" });
    b.start();
    assert.throws(
      () => b.receive(new Uint8Array(length)),
      isPeer("MALFORMED_MESSAGE"),
      `${length}`,
    );
  }
  for (
    const [acceptSlots, bad] of [[1, [0, 32, 64, 95, 97, 64 + 32 * 17]], [2, [
      0,
      31,
      33,
      96,
    ]]] as const
  ) {
    for (const length of bad) {
      const a = new PrivateAuth({ role: "initiator", sessionId }, {
        acceptSlots,
        challengers: "initiator",
      });
      a.start();
      assert.throws(
        () => a.receive(new Uint8Array(length)),
        isPeer("MALFORMED_MESSAGE"),
        `${length}`,
      );
    }
  }
  // a well-sized message after the exchange is done
  const a = new PrivateAuth({ role: "initiator", sessionId }, { challengers: "initiator" });
  a.start();
  a.receive(new Uint8Array(96));
  assert.equal(a.done, true);
  assert.equal(a.authenticated, false);
  assert.throws(() => a.receive(new Uint8Array(96)), isPeer("UNEXPECTED_MESSAGE"));
});

Deno.test("auth core: configuration mistakes are TypeError/RangeError", () => {
  const s = { role: "initiator" as Role, sessionId: new Uint8Array(32) };
  const bad: [unknown, PrivateAuthOptions, RegExp][] = [
    [{ ...s, sessionId: new Uint8Array(16) }, {}, /sessionId must be 32 bytes/],
    [{ ...s, role: "peer" }, {}, /session.role/],
    [s, { acceptSlots: 0 }, /acceptSlots must be an integer 1..64/],
    [s, { acceptSlots: 65 }, /acceptSlots/],
    [s, { identitySlots: 17 }, /identitySlots must be an integer 1..16/],
    [s, { accept: [bob.publicKey, carol.publicKey] }, /acceptSlots is 1/],
    [s, { identity: [bob.privateKey, carol.privateKey] }, /identitySlots is 1/],
    [s, { accept: [new Uint8Array(33)] }, /accept\[0\] must be a compressed SEC1 point/],
    [s, { accept: [bob.privateKey] }, /accept\[0\] must be 33 bytes/],
    [s, { identity: [new Uint8Array(32)] }, /identity\[0\] must be a secp256k1 scalar/],
    [s, { challengers: "me" as "both" }, /challengers must be/],
  ];
  for (const [session, options, message] of bad) {
    assert.throws(
      () => new PrivateAuth(session as { role: Role; sessionId: Uint8Array }, options),
      (e: unknown) =>
        (e instanceof TypeError || e instanceof RangeError) && message.test(e.message),
      String(message),
    );
  }
  const ok = new PrivateAuth(s);
  assert.throws(() => ok.receive(new Uint8Array(0)), /start\(\)/);
  ok.start();
  assert.throws(() => ok.start(), /already/);
  ok.destroy();
  assert.throws(() => ok.receive(new Uint8Array(128)), /destroyed/);
  // the caller's keys are copied, not consumed
  const key = bob.privateKey.slice();
  new PrivateAuth(s, { identity: [key] }).destroy();
  assert.deepEqual(key, bob.privateKey);
});
