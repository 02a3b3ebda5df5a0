// `cli.ts` as a whole: argument parsing, per-command help, one-line usage errors, exit codes,
// and the relay and bundle commands' error events. Loopback only.
import assert from "node:assert/strict";
import { main, MAX_INPUT_PAYLOAD, parseCliArgs, parseInputLine, UsageError } from "../cli.ts";
import { EXIT_CODES_HELP } from "../cli/output.ts";
import { peerHandshake } from "../layers/bitcoin/peer_handshake.ts";
import { Cli, LineReader, text, withTimeout } from "./cli_harness.ts";
import { echoNode, ended, v1Client } from "./proxy_helpers.ts";

const COMMANDS = ["cat", "listen", "probe", "proxy", "relay", "bundle", "keygen"];

Deno.test("cli: every command has its own --help with its synopsis and the exit codes", async () => {
  for (const command of COMMANDS) {
    for (const args of [[command, "--help"], [command, "-h"], ["help", command]]) {
      const cli = new Cli(args);
      try {
        assert.equal((await cli.status()).code, 0, args.join(" "));
        const help = text(cli.stdout);
        assert.match(help, new RegExp(`cli\\.ts ${command}\\b`), args.join(" "));
        assert.match(help, /Exit codes:/);
        for (const other of COMMANDS.filter((c) => c !== command)) {
          assert.ok(!help.includes(`cli.ts ${other} `), `${args.join(" ")} shows ${other}`);
        }
      } finally {
        await cli.dispose();
      }
    }
  }
  const global = new Cli(["--help"]);
  try {
    assert.equal((await global.status()).code, 0);
    const help = text(global.stdout);
    for (const command of COMMANDS) assert.match(help, new RegExp(`^  ${command} `, "m"));
    assert.ok(help.includes(EXIT_CODES_HELP.trim()), help);
  } finally {
    await global.dispose();
  }
});

Deno.test("cli: usage errors are one line on stderr with a hint, exit 2, nothing on stdout", async () => {
  const cases: [string[], RegExp][] = [
    [[], /no command given.*cli\.ts --help/],
    [["frobnicate"], /unknown command frobnicate/],
    [["cat"], /exactly one target.*cli\.ts cat --help/],
    [["cat", "127.0.0.1:1", "--bogus"], /--bogus is not an option of cat/],
    [["cat", "127.0.0.1:1", "--echo"], /--echo is not an option of cat/],
    [["cat", "127.0.0.1:1", "--linger", "-5"], /--linger/],
    [["cat", "127.0.0.1:1", "--timeout", "0"], /--timeout/],
    [["cat", "127.0.0.1:1", "--v2-only", "--no-fallback"], /given twice/],
    [["cat", "localhost"], /invalid target/],
    [["listen"], /--port/],
    [["listen", "--port", "99999"], /invalid port/],
    [["listen", "--port", "0", "--network", "moon"], /unknown network moon/],
    [["listen", "--port", "0", "--max-sessions", "0"], /invalid --max-sessions 0/],
    [["listen", "--port", "0", "--idle-timeout", "-1"], /invalid --idle-timeout -1/],
    [["proxy", "--idle-timeout", "soon"], /invalid --idle-timeout soon.*cli\.ts proxy --help/],
    [["keygen", "extra"], /unexpected argument extra.*cli\.ts keygen --help/],
    [["relay", "--bogus", "x"], /unknown option --bogus.*cli\.ts relay --help/],
    [["bundle", "--serve", "x"], /invalid port.*cli\.ts bundle --help/],
    [["proxy", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:0"], /port 0/],
  ];
  for (const [args, pattern] of cases) {
    const cli = new Cli(args);
    try {
      assert.equal((await cli.status()).code, 2, args.join(" "));
      const stderr = text(cli.stderr);
      assert.equal(cli.stderr.all.length, 1, `${args.join(" ")}: ${stderr}`);
      assert.match(stderr, /^error: .*Usage: cli\.ts/);
      assert.match(stderr, pattern, args.join(" "));
      assert.equal(cli.stdout.all.length, 0, args.join(" "));
    } finally {
      await cli.dispose();
    }
  }
});

Deno.test("cli: argument and input parsing", () => {
  assert.deepEqual(parseCliArgs(["cat", "127.0.0.1:8333"]), {
    command: "cat",
    target: { kind: "tcp", hostname: "127.0.0.1", port: 8333 },
    network: "mainnet",
    linger: 2000,
    v2Only: false,
  });
  assert.deepEqual(
    parseCliArgs(["cat", "[::1]:18444", "--network=regtest", "--ws", "--timeout", "500"]),
    {
      command: "cat",
      target: { kind: "ws", url: "ws://[::1]:18444/" },
      network: "regtest",
      timeout: 500,
      linger: 2000,
      v2Only: false,
    },
  );
  const cat = parseCliArgs(["cat", "h:1", "--linger", "-1", "--no-fallback"]);
  assert.ok(cat.command === "cat" && cat.linger === -1 && cat.v2Only);
  assert.equal(parseCliArgs(["cat", "wss://example.com/p2p"]).command, "cat");
  assert.deepEqual(parseCliArgs(["listen", "--port", "0", "--echo", "--hostname", "::"]), {
    command: "listen",
    port: 0,
    hostname: "::",
    network: "mainnet",
    ws: false,
    echo: true,
    v2Only: false,
  });
  assert.deepEqual(
    parseCliArgs(["listen", "--port", "0", "--max-sessions", "8", "--idle-timeout", "3000"]),
    {
      command: "listen",
      port: 0,
      hostname: "127.0.0.1",
      network: "mainnet",
      ws: false,
      echo: false,
      v2Only: false,
      maxSessions: 8,
      idleTimeout: 3000,
    },
  );
  const never = parseCliArgs(["listen", "--port", "0", "--idle-timeout", "0"]);
  assert.ok(never.command === "listen" && never.idleTimeout === 0);
  const g = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
  const g2 = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";
  const one = parseCliArgs(["cat", "h:1", "--accept", g]);
  assert.ok(one.command === "cat" && one.auth?.acceptSlots === 1 && one.auth.accept.length === 1);
  const two = parseCliArgs(["listen", "--port", "0", "--accept", `${g},${g2},${g}`]);
  assert.ok(two.command === "listen" && two.auth?.acceptSlots === 8);
  assert.equal(two.auth.accept.length, 2); // repeated keys kept once
  const slots = parseCliArgs(["cat", "h:1", "--identity", "k", "--accept-slots", "3"]);
  assert.deepEqual(slots.command === "cat" && slots.auth, {
    identityFile: "k",
    accept: [],
    acceptSlots: 3,
  });
  const idle = parseCliArgs(["proxy", "--idle-timeout", "0", "--timeout", "500"]);
  assert.ok(idle.command === "proxy" && idle.idleTimeout === Infinity && idle.timeout === 500);
  assert.deepEqual(parseCliArgs(["keygen", "--out", "k"]), { command: "keygen", out: "k" });
  const listen = parseCliArgs(["listen", "--port", "1", "--v2-only"]);
  assert.ok(listen.command === "listen" && listen.v2Only);
  assert.throws(() => parseCliArgs(["listen", "--port", "1", "--no-fallback"]), UsageError);
  assert.deepEqual(parseCliArgs(["listen", "-h"]), { command: "help", topic: "listen" });
  assert.deepEqual(parseCliArgs(["--help"]), { command: "help" });
  assert.throws(() => parseCliArgs(["listen", "--port", "1", "--port", "2"]), UsageError);
  assert.throws(() => parseCliArgs(["cat", "host:0"]), UsageError);
  // One spelling of v2-only on every command that connects (the old one kept as an alias).
  for (const flag of ["--v2-only", "--no-fallback"]) {
    const probe = parseCliArgs(["probe", "127.0.0.1:1", flag]);
    assert.ok(probe.command === "probe" && probe.fallback === "none");
    const proxy = parseCliArgs(["proxy", "--listen", "127.0.0.1:0", flag]);
    assert.ok(proxy.command === "proxy" && proxy.fallback === "none");
  }
  assert.throws(() => parseCliArgs(["probe", "127.0.0.1:1", "--v1-only", "--v2-only"]), UsageError);
  assert.deepEqual(parseCliArgs(["bundle", "--serve", "0", "--minify"]), {
    command: "bundle",
    minify: true,
    serve: 0,
    hostname: "127.0.0.1",
  });

  assert.deepEqual(parseInputLine('{"type":"ping","payload":"00FF"}'), {
    type: "ping",
    payload: new Uint8Array([0, 255]),
  });
  assert.deepEqual(parseInputLine('{"type":"verack"}'), {
    type: "verack",
    payload: new Uint8Array(0),
  });
  assert.equal(parseInputLine("   "), undefined);
  assert.throws(() => parseInputLine("{"), TypeError);
  assert.throws(() => parseInputLine('{"type":"inv","payload":"0"}'), /odd number/);
  assert.throws(() => parseInputLine('{"type":"inv","payload":"zz"}'), /hex digits/);
  assert.throws(
    () => parseInputLine(`{"type":"inv","payload":"${"00".repeat(MAX_INPUT_PAYLOAD + 1)}"}`),
    RangeError,
  );
});

Deno.test("cli: relay runs in process (listening, stopped by the signal) and reports errors with a code", async () => {
  const stdout = new TransformStream<Uint8Array, Uint8Array>();
  const stderr = new TransformStream<Uint8Array, Uint8Array>();
  const lines = new LineReader(stdout.readable);
  const errors = new LineReader(stderr.readable);
  const controller = new AbortController();
  const running = main(["relay", "--port", "0", "--to", "127.0.0.1:18444"], {
    stdout: stdout.writable,
    stderr: stderr.writable,
    signal: controller.signal,
  });
  let port = 0;
  try {
    const listening = await lines.next((l) => l.event === "listening", "relay listening");
    port = listening.port as number;
    assert.ok(port > 0);
    // A second relay on the same port: an error event with a code, exit 1.
    const busy = new Cli(["relay", "--port", String(port), "--to", "127.0.0.1:18444"]);
    try {
      assert.equal((await busy.status()).code, 1);
      const error = busy.stdout.all.find((l) => l.event === "error");
      assert.equal(error?.code, "ADDR_IN_USE", busy.stdout.dump());
      assert.equal(typeof error?.message, "string");
    } finally {
      await busy.dispose();
    }
  } finally {
    controller.abort();
    assert.equal(await withTimeout(running, "relay exit"), 0, errors.dump());
    await stdout.writable.close();
    await stderr.writable.close();
  }
  await lines.next((l) => l.event === "stopped", "relay stopped line");
});

Deno.test("cli: bundle --serve on a port in use: ADDR_IN_USE error event, no stack trace", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    const cli = new Cli(["bundle", "--serve", String(port), "--out-dir", "/nonexistent/never"]);
    try {
      assert.equal((await cli.status()).code, 1);
      assert.equal(cli.stdout.all.length, 1, cli.stdout.dump());
      assert.equal(cli.stdout.all[0].event, "error");
      assert.equal(cli.stdout.all[0].code, "ADDR_IN_USE");
      assert.doesNotMatch(text(cli.stderr), /\bat /);
    } finally {
      await cli.dispose();
    }
  } finally {
    busy.close();
  }
});

Deno.test("cli: proxy --idle-timeout closes a quiet connection (IDLE_TIMEOUT, then closed)", async () => {
  const node = echoNode("v2");
  const proxy = new Cli([
    "proxy",
    "--listen",
    "127.0.0.1:0",
    "--to",
    `127.0.0.1:${node.port}`,
    "--network",
    "regtest",
    "--idle-timeout",
    "1000",
  ]);
  try {
    const listening = await proxy.stdout.next((l) => l.event === "listening", "listening");
    const client = await v1Client(listening.port as number);
    try {
      await withTimeout(peerHandshake(client, { timeout: 5000 }), "handshake through the proxy");
      const connection = await proxy.stdout.next((l) => l.event === "connection", "connection");
      assert.equal(connection.transport, "v2");
      // Then nobody says anything.
      const idle = await proxy.stdout.next((l) => l.event === "error", "the idle error");
      assert.equal(idle.code, "IDLE_TIMEOUT", proxy.stdout.dump());
      assert.equal(idle.id, connection.id);
      const closed = await proxy.stdout.next((l) => l.event === "closed", "closed");
      assert.equal(closed.id, connection.id);
      await withTimeout(ended(client), "the client is disconnected");
    } finally {
      await client.close();
    }
  } finally {
    await proxy.dispose();
    await node.close();
  }
});
