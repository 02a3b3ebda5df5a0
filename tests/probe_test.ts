// examples/probe.ts and `cli.ts probe`: against local v2 and v1-only peers (loopback only).
import assert from "node:assert/strict";
import {
  formatHostPort,
  parseHostPort,
  probe,
  serviceNames,
  servicesHex,
} from "../examples/probe.ts";
import { parseCliArgs, UsageError } from "../cli.ts";
import { toHex } from "../layers/bytes.ts";
import { NODE_NETWORK, NODE_P2P_V2, NODE_WITNESS } from "../layers/bitcoin/mod.ts";
import { isCode, within } from "./helpers.ts";
import { closedPort, nodeLike, silentServer, v1OnlyPeer } from "./peers.ts";
import { assertV2Result, oneLine, runCli, TIMEOUT } from "./probe_helpers.ts";

Deno.test("probe: v2 node → transport v2, the responder's session id, advertises_v2", async () => {
  const node = nodeLike();
  try {
    const r = await within(
      probe({ host: "127.0.0.1", port: node.port, network: "regtest", timeout: 5000 }),
      TIMEOUT,
      "probe",
    );
    assert.equal(node.sessions.length, 1);
    assert.equal(node.sessions[0].transportVersion, 2);
    assertV2Result(r, node.port, toHex(node.sessions[0].sessionId));
    assert.match(r.session_id!, /^[0-9a-f]{64}$/);
    // The probe closed its connection: the node sees the end.
    await within(node.sessions[0].closed, TIMEOUT, "node session closed");
  } finally {
    await node.close();
  }
});

Deno.test("probe: v1-only node → transport v1 (after the fallback), no session id", async () => {
  const peer = v1OnlyPeer();
  try {
    const r = await within(
      probe({ host: "127.0.0.1", port: peer.port, network: "regtest", timeout: 5000 }),
      TIMEOUT,
      "probe",
    );
    assert.equal(r.transport, "v1");
    assert.equal("session_id" in r, false);
    assert.equal(r.advertises_v2, false);
    assert.equal(r.user_agent, "/v1-only:1/");
    assert.equal(r.services, "0x0000000000000001");
    assert.deepEqual(r.service_names, ["NETWORK"]);
    assert.equal(r.start_height, 123);

    await assert.rejects(
      probe({
        host: "127.0.0.1",
        port: peer.port,
        network: "regtest",
        fallback: "none",
        timeout: 5000,
      }),
      isCode("V1_ONLY_PEER"),
    );
  } finally {
    await peer.close();
  }
});

Deno.test("probe: --v1-only against a v2 node speaks v1 (and the node then hides P2P_V2)", async () => {
  const node = nodeLike();
  try {
    const r = await probe({
      host: "127.0.0.1",
      port: node.port,
      network: "regtest",
      fallback: "v1-only",
      timeout: 5000,
    });
    assert.equal(r.transport, "v1");
    assert.equal(r.advertises_v2, false);
    assert.equal(node.sessions[0].transportVersion, 1);
  } finally {
    await node.close();
  }
});

Deno.test("probe: closed port → TRANSPORT; silent peer → TIMEOUT in time; abort", async () => {
  await assert.rejects(
    probe({ host: "127.0.0.1", port: closedPort(), network: "regtest", timeout: 5000 }),
    isCode("TRANSPORT"),
  );
  const silent = silentServer();
  try {
    const started = performance.now();
    await assert.rejects(
      within(
        probe({ host: "127.0.0.1", port: silent.port, network: "regtest", timeout: 300 }),
        TIMEOUT,
        "probe timeout",
      ),
      isCode("TIMEOUT"),
    );
    assert.ok(performance.now() - started < 5000);

    const controller = new AbortController();
    const reason = new Error("stop");
    const probing = probe({ host: "127.0.0.1", port: silent.port, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(within(probing, TIMEOUT, "aborted probe"), (e) => e === reason);
  } finally {
    await silent.close();
  }
});

Deno.test("probe: prints the node's BIP434 features (cli.ts probe: id and hex data)", async () => {
  const node = nodeLike({
    features: [
      { approach: "advertise", id: "BIP9999", data: new Uint8Array([0xde, 0xad]) },
      {
        approach: "versions",
        name: "x",
        versions: [{ id: "https://x.example/v2" }, { id: "x/v1" }],
      },
    ],
  });
  try {
    const expected = [
      { id: "BIP9999", data: "dead" },
      { id: "https://x.example/v2", data: "" },
      { id: "x/v1", data: "" },
    ];
    const r = await probe({
      host: "127.0.0.1",
      port: node.port,
      network: "regtest",
      timeout: 5000,
    });
    assert.deepEqual(r.features, expected);
    const { code, stdout, stderr } = await runCli([
      "probe",
      `127.0.0.1:${node.port}`,
      "--network",
      "regtest",
      "--timeout",
      "5000",
    ]);
    assert.equal(code, 0, stderr + stdout);
    assert.deepEqual(oneLine(stdout).features, expected);
  } finally {
    await node.close();
  }
});

Deno.test("probe: a node that announces no features → features: []", async () => {
  const node = nodeLike();
  try {
    const r = await probe({
      host: "127.0.0.1",
      port: node.port,
      network: "regtest",
      timeout: 5000,
    });
    assert.deepEqual(r.features, []);
  } finally {
    await node.close();
  }
});

Deno.test("probe: over IPv6 loopback ([::1]:PORT through the CLI)", async () => {
  let node: ReturnType<typeof nodeLike>;
  try {
    node = nodeLike({ hostname: "::1" });
  } catch {
    return; // no IPv6 loopback here
  }
  try {
    const { code, stdout, stderr } = await runCli([
      "probe",
      `[::1]:${node.port}`,
      "--network",
      "regtest",
      "--timeout",
      "5000",
    ]);
    assert.equal(code, 0, stderr + stdout);
    const r = oneLine(stdout);
    assert.equal(r.address, `[::1]:${node.port}`);
    assert.equal(r.transport, "v2");
    assert.equal(r.session_id, toHex(node.sessions[0].sessionId));
  } finally {
    await node.close();
  }
});

Deno.test("probe: address parsing, service names", () => {
  assert.deepEqual(parseHostPort("seed.bitcoin.sipa.be", { defaultPort: 8333 }), {
    host: "seed.bitcoin.sipa.be",
    port: 8333,
  });
  assert.deepEqual(parseHostPort("1.2.3.4:18444"), { host: "1.2.3.4", port: 18444 });
  assert.deepEqual(parseHostPort("[::1]:8333"), { host: "::1", port: 8333 });
  assert.deepEqual(parseHostPort("[2001:db8::1]", { defaultPort: 1 }), {
    host: "2001:db8::1",
    port: 1,
  });
  assert.deepEqual(parseHostPort("2001:db8::1", { defaultPort: 2 }), {
    host: "2001:db8::1",
    port: 2,
  });
  assert.deepEqual(parseHostPort("127.0.0.1:0", { allowPortZero: true }), {
    host: "127.0.0.1",
    port: 0,
  });
  for (
    const bad of ["", "host:", ":8333", "host:x", "host:65536", "[1.2.3.4]:1", "[::1", "a b:1"]
  ) {
    assert.throws(() => parseHostPort(bad, { defaultPort: 1 }), TypeError, bad);
  }
  assert.throws(() => parseHostPort("host"), TypeError); // no default port
  assert.throws(() => parseHostPort("host:0"), TypeError);
  assert.equal(formatHostPort("::1", 8333), "[::1]:8333");
  assert.equal(formatHostPort("1.2.3.4", 8333), "1.2.3.4:8333");

  assert.deepEqual(serviceNames(NODE_NETWORK | NODE_WITNESS | (1n << 10n) | NODE_P2P_V2), [
    "NETWORK",
    "WITNESS",
    "NETWORK_LIMITED",
    "P2P_V2",
  ]);
  assert.deepEqual(serviceNames((1n << 24n) | 4n | 64n), [
    "BLOOM",
    "COMPACT_FILTERS",
    "UNKNOWN[2^24]",
  ]);
  assert.deepEqual(serviceNames(0n), []);
  assert.equal(servicesHex(0xc09n), "0x0000000000000c09");
  assert.equal(servicesHex((1n << 64n) - 1n), "0xffffffffffffffff");

  assert.deepEqual(parseCliArgs(["probe", "seed.bitcoin.sipa.be"]), {
    command: "probe",
    host: "seed.bitcoin.sipa.be",
    port: 8333,
    network: "mainnet",
    fallback: "v1",
  });
  assert.deepEqual(parseCliArgs(["probe", "[::1]", "--network", "testnet4", "--v1-only"]), {
    command: "probe",
    host: "::1",
    port: 48333,
    network: "testnet4",
    fallback: "v1-only",
  });
  assert.deepEqual(
    parseCliArgs(["probe", "10.0.0.1:1", "--no-fallback", "--timeout=2500"]),
    {
      command: "probe",
      host: "10.0.0.1",
      port: 1,
      network: "mainnet",
      timeout: 2500,
      fallback: "none",
    },
  );
  assert.throws(() => parseCliArgs(["probe", "x", "--timeout", "-5"]), UsageError);
  assert.throws(() => parseCliArgs(["probe", "x", "--timeout", "1.5"]), UsageError);
  assert.throws(() => parseCliArgs(["probe", "[x]:1"]), UsageError);
});
