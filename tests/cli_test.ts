// `cli.ts cat` (with `cli.ts listen` as its peer) as subprocesses, on loopback. `listen` on its
// own is in cli_listen_test.ts; parsing, help and the other commands in cli_commands_test.ts.
import assert from "node:assert/strict";
import { toHex } from "../layers/bytes.ts";
import { v1OnlyPeer } from "./peers.ts";
import {
  Cli,
  closedPort,
  isMessage,
  type Line,
  silentServer,
  startListener,
  text,
} from "./cli_harness.ts";

/** `cat` flags that keep tests short: no long linger after stdin ends. */
const QUICK = ["--linger", "200"];

async function echoRoundTrip(ws: boolean): Promise<void> {
  const flags = ws ? ["--ws"] : [];
  const { cli: server, port } = await startListener(["--echo", ...flags]);
  let client: Cli | undefined;
  try {
    client = new Cli(["cat", `127.0.0.1:${port}`, "--network", "regtest", ...QUICK, ...flags]);
    const ours = await client.stdout.next((l) => l.event === "session", "cat session event");
    assert.equal(ours.role, "initiator");
    assert.equal(ours.transport, "v2");
    assert.equal(ours.remote, `127.0.0.1:${port}`);
    assert.match(ours.session_id as string, /^[0-9a-f]{64}$/);
    const theirs = await server.stdout.next((l) => l.event === "session", "listen session event");
    assert.equal(theirs.role, "responder");
    assert.equal(theirs.transport, "v2");
    assert.match(theirs.remote as string, /^127\.0\.0\.1:\d+$/);
    assert.equal(theirs.session_id, ours.session_id);

    const big = toHex(crypto.getRandomValues(new Uint8Array(50_000)));
    const sent = [
      { type: "inv", payload: "0102030405" },
      { type: "mycustommsg", payload: "" },
      { type: "ping", payload: "0011223344556677" },
      { type: "block", payload: big },
      { type: "tx", payload: "ff" },
    ];
    for (const m of sent) await client.send(m);

    // Echoes in order, with the ping answered by a pong (and not echoed).
    const expected = sent.map((m) => m.type === "ping" ? { ...m, type: "pong" } : m);
    for (const want of expected) {
      const got = await client.stdout.next(isMessage, `${want.type} back`);
      assert.deepEqual(got, want);
    }
    // The listener printed each message with the session id and the remote.
    for (const want of sent) {
      const got = await server.stdout.next(isMessage, `listener printing ${want.type}`);
      assert.deepEqual(got, { ...want, session_id: ours.session_id, remote: theirs.remote });
    }

    await client.closeStdin();
    const status = await client.status();
    assert.equal(status.code, 0, text(client.stderr));
    assert.ok(!client.stdout.all.some((l) => l.type === "ping"), "the ping was echoed");
    assert.ok(!client.stdout.all.some((l) => l.event === "error"), client.stdout.dump());
    assert.equal(client.stdout.all.filter((l) => l.event === "session").length, 1);
    assert.equal(client.stdout.all.at(-1)?.event, "closed");
    assert.ok(!text(client.stderr).includes("plaintext"), text(client.stderr));

    const closed = await server.stdout.next((l) => l.event === "closed", "closed event");
    assert.equal(closed.session_id, ours.session_id);
    server.signal("SIGTERM");
    const serverStatus = await server.status();
    assert.equal(serverStatus.code, 0, text(server.stderr));
    assert.ok(!server.stdout.all.some((l) => l.event === "error"), server.stdout.dump());
  } finally {
    await client?.dispose();
    await server.dispose();
  }
}

Deno.test("cli: cat ⇄ listen --echo over TCP, with ping → pong", async () => {
  await echoRoundTrip(false);
});

Deno.test("cli: cat ⇄ listen --echo over WebSocket (--ws)", async () => {
  await echoRoundTrip(true);
});

Deno.test("cli: cat accepts a ws:// URL as its target", async () => {
  const { cli: server, port } = await startListener(["--ws", "--echo"]);
  const client = new Cli([
    "cat",
    `ws://127.0.0.1:${port}/bip324`,
    "--network",
    "regtest",
    ...QUICK,
  ]);
  try {
    const ours = await client.stdout.next((l) => l.event === "session", "session event");
    assert.equal(ours.remote, `127.0.0.1:${port}`);
    await client.send({ type: "inv", payload: "ab" });
    assert.deepEqual(await client.stdout.next(isMessage, "echo"), { type: "inv", payload: "ab" });
    await client.closeStdin();
    assert.equal((await client.status()).code, 0);
    const theirs = await server.stdout.next((l) => l.event === "session", "listen session");
    assert.equal(theirs.session_id, ours.session_id);
  } finally {
    await client.dispose();
    await server.dispose();
  }
});

Deno.test("cli: cat at the end of stdin delivers every line and prints the replies (linger)", async () => {
  for (const flags of [[], ["--ws"]]) {
    const { cli: server, port } = await startListener(["--echo", ...flags]);
    // Lines written and stdin closed at once, before the session is even up (like a pipe).
    const client = new Cli(["cat", `127.0.0.1:${port}`, "--network", "regtest", ...flags]);
    try {
      const lines = [
        { type: "ping", payload: "0102030405060708" },
        { type: "inv", payload: "01" },
        { type: "inv", payload: "02" },
        { type: "inv", payload: "03" },
      ];
      for (const line of lines) await client.send(line);
      await client.closeStdin();
      const status = await client.status();
      assert.equal(status.code, 0, client.stdout.dump() + text(client.stderr));
      // Every reply arrived during the (default 2 s) linger and was printed.
      assert.deepEqual(client.stdout.all.filter(isMessage), [
        { type: "pong", payload: "0102030405060708" },
        { type: "inv", payload: "01" },
        { type: "inv", payload: "02" },
        { type: "inv", payload: "03" },
      ]);
      // Every line reached the listener.
      for (const want of lines) {
        const got = await server.stdout.next(isMessage, `listener got ${want.payload}`);
        assert.equal(got.type, want.type);
        assert.equal(got.payload, want.payload);
      }
    } finally {
      await client.dispose();
      await server.dispose();
    }
  }
});

Deno.test("cli: cat --linger -1 waits until the peer closes, then exits 0", async () => {
  const { cli: server, port } = await startListener(["--echo"]);
  const client = new Cli(["cat", `127.0.0.1:${port}`, "--network", "regtest", "--linger", "-1"]);
  try {
    await client.stdout.next((l) => l.event === "session", "session event");
    await client.send({ type: "inv", payload: "aa" });
    await client.closeStdin();
    await client.stdout.next(isMessage, "echo");
    await new Promise((r) => setTimeout(r, 2500)); // longer than the default linger
    assert.equal(client.exited, false, "cat exited before the peer closed");
    server.signal("SIGTERM");
    assert.equal((await client.status()).code, 0, client.stdout.dump());
    assert.ok(client.stdout.all.every((l) => l.event !== "error"), client.stdout.dump());
  } finally {
    await client.dispose();
    await server.dispose();
  }
});

Deno.test("cli: cat to a closed port exits 1 with a TRANSPORT error event", async () => {
  for (const flags of [[], ["--ws"]]) {
    const client = new Cli(["cat", `127.0.0.1:${closedPort()}`, "--network", "regtest", ...flags]);
    try {
      const status = await client.status();
      assert.equal(status.code, 1);
      const error = await client.stdout.next((l) => l.event === "error", "error event");
      assert.equal(error.code, "TRANSPORT");
      assert.equal(typeof error.message, "string");
      assert.ok(client.stdout.all.every((l) => !("raw" in l)), client.stdout.dump());
    } finally {
      await client.dispose();
    }
  }
});

Deno.test("cli: cat --timeout bounds connecting over TCP and the WebSocket opening", async () => {
  const silent = silentServer();
  try {
    for (const target of [`127.0.0.1:${silent.port}`, `ws://127.0.0.1:${silent.port}/`]) {
      const started = performance.now();
      const client = new Cli(["cat", target, "--network", "regtest", "--timeout", "300"]);
      try {
        assert.equal((await client.status()).code, 1, target);
        const error = await client.stdout.next((l) => l.event === "error", "error event");
        assert.equal(error.code, "HANDSHAKE_TIMEOUT", JSON.stringify(error));
        assert.ok(performance.now() - started < 10_000);
      } finally {
        await client.dispose();
      }
    }
  } finally {
    await silent.close();
  }
});

Deno.test("cli: a v1 session says so (transport v1, stderr warning); --v2-only refuses it", async () => {
  const peer = v1OnlyPeer();
  try {
    const client = new Cli(["cat", `127.0.0.1:${peer.port}`, "--network", "regtest", ...QUICK]);
    try {
      const event = await client.stdout.next((l) => l.event === "session", "session event");
      assert.equal(event.transport, "v1");
      assert.equal(event.session_id, "");
      assert.equal(event.remote, `127.0.0.1:${peer.port}`);
      await client.closeStdin();
      await client.status();
      assert.match(text(client.stderr), /plaintext v1 session/);
    } finally {
      await client.dispose();
    }
    for (const flag of ["--v2-only", "--no-fallback"]) {
      const strict = new Cli(["cat", `127.0.0.1:${peer.port}`, "--network", "regtest", flag]);
      try {
        assert.equal((await strict.status()).code, 1);
        const error = await strict.stdout.next((l) => l.event === "error", "error event");
        assert.equal(error.code, "V1_ONLY_PEER");
        assert.ok(strict.stdout.all.every((l) => l.event !== "session"), strict.stdout.dump());
      } finally {
        await strict.dispose();
      }
    }
  } finally {
    await peer.close();
  }
});

Deno.test("cli: malformed stdin lines are error events on stdout, skipped, and exit 3", async () => {
  const { cli: server, port } = await startListener(["--echo"]);
  const client = new Cli(["cat", `127.0.0.1:${port}`, "--network", "regtest", ...QUICK]);
  try {
    await client.stdout.next((l) => l.event === "session", "session event");
    const bad = [
      "not json",
      "[1, 2]",
      '{"payload":"00"}',
      '{"type":"inv","payload":"xyz"}',
      '{"type":"inv","payload":"abc"}',
      '{"type":"inv","payload":12}',
      '{"type":"","payload":""}',
      '{"type":"muchtoolongtype","payload":""}',
      '{"type":"caf\u00e9","payload":""}',
      '{"type":"inv","payload":"zz"}',
    ];
    for (const line of bad) await client.send(line);
    await client.send("");
    await client.send({ type: "inv", payload: "c0ffee" });
    const errors: Line[] = [];
    for (let i = 0; i < bad.length; i++) {
      const error = await client.stdout.next((l) => l.event === "error", `BAD_INPUT ${i + 1}`);
      assert.equal(error.code, "BAD_INPUT");
      assert.equal(error.line, i + 1);
      errors.push(error);
    }
    assert.deepEqual(await client.stdout.next(isMessage, "echo after bad lines"), {
      type: "inv",
      payload: "c0ffee",
    });
    // "zz" is told what is wrong with it: not hex (not "an even number of digits").
    assert.match(errors.at(-1)!.message as string, /hex digits.*"z"/);
    assert.match(errors[4].message as string, /odd number/);
    await client.closeStdin();
    assert.equal((await client.status()).code, 3);
    assert.equal(text(client.stderr), "");
  } finally {
    await client.dispose();
    await server.dispose();
  }
});

Deno.test("cli: cat exits 0 when the peer closes the session (TCP and WebSocket)", async () => {
  for (const flags of [[], ["--ws"]]) {
    const { cli: server, port } = await startListener(flags);
    const client = new Cli(["cat", `127.0.0.1:${port}`, "--network", "regtest", ...flags]);
    try {
      await client.stdout.next((l) => l.event === "session", "cat session event");
      await server.stdout.next((l) => l.event === "session", "listen session event");
      server.signal("SIGTERM");
      assert.equal((await server.status()).code, 0);
      const status = await client.status(); // stdin still open
      assert.equal(status.code, 0, client.stdout.dump());
      assert.ok(client.stdout.all.every((l) => l.event !== "error"), client.stdout.dump());
    } finally {
      await client.dispose();
      await server.dispose();
    }
  }
});

Deno.test("cli: cat interrupted by SIGINT/SIGTERM: ABORTED event, exit 130", async () => {
  const { cli: server, port } = await startListener([]);
  const client = new Cli(["cat", `127.0.0.1:${port}`, "--network", "regtest"]);
  try {
    await client.stdout.next((l) => l.event === "session", "session event");
    client.signal("SIGINT");
    assert.equal((await client.status()).code, 130);
    assert.ok(client.stdout.all.some((l) => l.event === "error" && l.code === "ABORTED"));
  } finally {
    await client.dispose();
    await server.dispose();
  }
});
