// `cli.ts listen` as a subprocess, with in-process clients, on loopback.
import assert from "node:assert/strict";
import { connect } from "../layers/session/connect.ts";
import { toHex } from "../layers/bytes.ts";
import { Bip324Error } from "../layers/errors.ts";
import type { Session } from "../layers/session/session.ts";
import { Cli, isMessage, type Line, startListener, text, withTimeout } from "./cli_harness.ts";

Deno.test("cli: listen --v2-only refuses v1 peers with an error event; v2 peers get in", async () => {
  const { cli: server, port } = await startListener(["--v2-only"]);
  try {
    const v1 = await connect({ port, network: "regtest", fallback: "v1-only" });
    const w = v1.writable.getWriter();
    await w.write({ type: "version", payload: new Uint8Array(90) });
    await withTimeout(v1.closed, "the v1 peer is closed");
    w.releaseLock();
    const refused = await server.stdout.next((l) => l.event === "error", "refusal event");
    assert.equal(refused.code, "V1_PROTOCOL");
    assert.match(refused.remote as string, /^127\.0\.0\.1:\d+$/);
    const v2 = await connect({ port, network: "regtest", fallback: "none" });
    const event = await server.stdout.next((l) => l.event === "session", "session event");
    assert.equal(event.transport, "v2");
    assert.equal(event.session_id, toHex(v2.sessionId));
    await v2.close();
    assert.ok(!server.stdout.all.some((l) => l.event === "session" && l.transport === "v1"));
  } finally {
    await server.dispose();
  }
});

Deno.test("cli: listen without --v2-only accepts a v1 peer and warns on stderr", async () => {
  const { cli: server, port } = await startListener([]);
  try {
    const v1 = await connect({ port, network: "regtest", fallback: "v1-only" });
    const w = v1.writable.getWriter();
    await w.write({ type: "version", payload: new Uint8Array(90) });
    const event = await server.stdout.next((l) => l.event === "session", "session event");
    assert.equal(event.transport, "v1");
    await server.stdout.next(isMessage, "the version line");
    w.releaseLock();
    await v1.close();
    await server.stdout.next((l) => l.event === "closed", "closed event");
    server.signal("SIGTERM");
    await server.status();
    assert.match(text(server.stderr), /plaintext v1 session with 127\.0\.0\.1:\d+/);
  } finally {
    await server.dispose();
  }
});

Deno.test("cli: listen on a port in use: ADDR_IN_USE error event, exit 1", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    for (const flags of [[], ["--ws"]]) {
      const cli = new Cli(["listen", "--port", String(port), ...flags]);
      try {
        assert.equal((await cli.status()).code, 1);
        assert.deepEqual(Object.keys(cli.stdout.all[0] ?? {}), ["event", "code", "message"]);
        assert.equal(cli.stdout.all[0].code, "ADDR_IN_USE");
        assert.equal(text(cli.stderr), "");
      } finally {
        await cli.dispose();
      }
    }
  } finally {
    busy.close();
  }
});

Deno.test("cli: listen prints an in-process client's messages and answers its ping", async () => {
  const { cli: server, port } = await startListener([]);
  try {
    const session = await connect({ hostname: "127.0.0.1", port, network: "regtest" });
    const id = toHex(session.sessionId);
    const writer = session.writable.getWriter();
    const reader = session.readable.getReader();
    try {
      const event = await server.stdout.next((l) => l.event === "session", "session event");
      const remote = event.remote as string;
      assert.deepEqual(event, {
        event: "session",
        session_id: id,
        role: "responder",
        transport: "v2",
        remote,
      });

      await writer.write({ type: "inv", payload: new Uint8Array([1, 2, 3]) });
      await writer.write({ type: "ping", payload: new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]) });
      const pong = await withTimeout(reader.read(), "pong");
      assert.equal(pong.value?.type, "pong");
      assert.deepEqual(pong.value?.payload, new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]));

      const tags = { session_id: id, remote };
      assert.deepEqual(await server.stdout.next(isMessage, "inv line"), {
        type: "inv",
        payload: "010203",
        ...tags,
      });
      assert.deepEqual(await server.stdout.next(isMessage, "ping line"), {
        type: "ping",
        payload: "0807060504030201",
        ...tags,
      });
    } finally {
      reader.releaseLock();
      await writer.close().catch(() => {});
      await session.close();
    }
    const closed = await server.stdout.next((l) => l.event === "closed", "closed event");
    assert.equal(closed.session_id, id);
  } finally {
    await server.dispose();
  }
});

Deno.test("cli: listen serves concurrent sessions and tells them apart", async () => {
  const { cli: server, port } = await startListener(["--echo"]);
  try {
    const sessions = await Promise.all(
      [0, 1, 2].map(() => connect({ hostname: "127.0.0.1", port, network: "regtest" })),
    );
    try {
      await Promise.all(sessions.map(async (s, i) => {
        const w = s.writable.getWriter(), r = s.readable.getReader();
        await w.write({ type: "inv", payload: new Uint8Array([i]) });
        const { value } = await withTimeout(r.read(), `echo ${i}`);
        assert.deepEqual(value?.payload, new Uint8Array([i]));
        w.releaseLock();
        r.releaseLock();
      }));
      for (let i = 0; i < 3; i++) {
        const line = await server.stdout.next(isMessage, `message ${i}`);
        const index = sessions.findIndex((s) => toHex(s.sessionId) === line.session_id);
        assert.ok(index >= 0, `unknown session id in ${JSON.stringify(line)}`);
        assert.equal(line.payload, toHex(new Uint8Array([index])));
      }
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
  } finally {
    await server.dispose();
  }
});

Deno.test("cli: listen --max-sessions 8 --idle-timeout 3000: 8 of 12 get in, never v1; idle ones are closed", async () => {
  const { cli: server, port } = await startListener([
    "--max-sessions",
    "8",
    "--idle-timeout",
    "3000",
  ]);
  const sessions: Session[] = [];
  try {
    // The default fallback ("v1"): a refusal must not look like a v1-only peer.
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => connect({ port, network: "regtest" })),
    );
    for (const r of results) if (r.status === "fulfilled") sessions.push(r.value);
    const refused = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
    assert.equal(sessions.length, 8, `admitted ${sessions.length}: ${refused.join("; ")}`);
    assert.ok(sessions.every((s) => s.transportVersion === 2));
    for (const error of refused) assert.ok(error instanceof Bip324Error, String(error));
    const ids = new Set(sessions.map((s) => toHex(s.sessionId)));

    const isSession = (l: Line) => l.event === "session";
    const isBusy = (l: Line) => l.event === "error" && l.code === "BUSY";
    await server.stdout.until(
      (all) => all.filter(isSession).length === 8 && all.filter(isBusy).length === 4,
      "8 session events and 4 BUSY refusals",
    );
    assert.ok(server.stdout.all.filter(isSession).every((l) => ids.has(l.session_id as string)));
    assert.ok(!server.stdout.all.some((l) => l.transport === "v1"), server.stdout.dump());

    // Nobody says a word: the listener closes every session for being idle.
    const idle = (l: Line) => l.event === "closed" && l.reason === "IDLE_TIMEOUT";
    await server.stdout.until((all) => all.filter(idle).length === 8, "8 idle closes");
    const closed = server.stdout.all.filter(idle).map((l) => l.session_id as string);
    assert.deepEqual(new Set(closed), ids);
    await withTimeout(Promise.all(sessions.map((s) => s.closed)), "the clients see the close");
    // Their slots are free again.
    const late = await connect({ port, network: "regtest", fallback: "none" });
    sessions.push(late);
    const event = await server.stdout.next(
      (l) => l.event === "session" && l.session_id === toHex(late.sessionId),
      "a session after the idle ones closed",
    );
    assert.equal(event.transport, "v2");
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    await server.dispose();
  }
});
