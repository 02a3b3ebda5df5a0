// `cli.ts probe`: one JSON line per result, errors as one line and exit 1, usage errors exit 2.
import assert from "node:assert/strict";
import { toHex } from "../layers/bytes.ts";
import { closedPort, nodeLike, silentServer, v1OnlyPeer } from "./peers.ts";
import { assertV2Result, oneLine, runCli } from "./probe_helpers.ts";

Deno.test("cli: probe prints one JSON line for a v2 node and for a v1-only node", async () => {
  const node = nodeLike();
  const peer = v1OnlyPeer();
  try {
    {
      const { code, stdout, stderr } = await runCli([
        "probe",
        `127.0.0.1:${node.port}`,
        "--network",
        "regtest",
      ]);
      assert.equal(code, 0, stderr + stdout);
      assertV2Result(oneLine(stdout), node.port, toHex(node.sessions[0].sessionId));
    }
    {
      const { code, stdout, stderr } = await runCli([
        "probe",
        `127.0.0.1:${peer.port}`,
        "--network=regtest",
        "--timeout",
        "5000",
      ]);
      assert.equal(code, 0, stderr + stdout);
      const r = oneLine(stdout);
      assert.equal(r.transport, "v1");
      assert.equal(r.advertises_v2, false);
      assert.equal(r.session_id, undefined);
      assert.equal(r.user_agent, "/v1-only:1/");
    }
    {
      const { code, stdout } = await runCli([
        "probe",
        `127.0.0.1:${peer.port}`,
        "--network",
        "regtest",
        "--no-fallback",
      ]);
      assert.equal(code, 1);
      assert.equal(oneLine(stdout).code, "V1_ONLY_PEER");
    }
  } finally {
    await node.close();
    await peer.close();
  }
});

Deno.test("cli: probe to a closed port / a silent peer → one error line, exit 1", async () => {
  {
    const { code, stdout } = await runCli([
      "probe",
      `127.0.0.1:${closedPort()}`,
      "--network",
      "regtest",
    ]);
    assert.equal(code, 1);
    const line = oneLine(stdout);
    assert.equal(line.event, "error");
    assert.equal(line.code, "TRANSPORT");
    assert.equal(typeof line.message, "string");
  }
  const silent = silentServer();
  try {
    const { code, stdout } = await runCli([
      "probe",
      `127.0.0.1:${silent.port}`,
      "--network",
      "regtest",
      "--timeout",
      "300",
    ]);
    assert.equal(code, 1);
    assert.deepEqual(Object.keys(oneLine(stdout)), ["event", "code", "message"]);
    assert.equal(oneLine(stdout).code, "TIMEOUT");
  } finally {
    await silent.close();
  }
});

Deno.test("cli: probe usage errors exit 2", async () => {
  for (
    const args of [
      ["probe"],
      ["probe", "a", "b"],
      ["probe", "127.0.0.1:0"],
      ["probe", "127.0.0.1:8333", "--timeout", "0"],
      ["probe", "127.0.0.1:8333", "--v1-only", "--no-fallback"],
      ["probe", "127.0.0.1:8333", "--echo"],
    ]
  ) {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "");
    assert.match(stderr, /Usage:/);
  }
});
