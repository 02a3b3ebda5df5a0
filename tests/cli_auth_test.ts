// Private authentication on the command line (cli/auth.ts, cli/keygen.ts): `listen` and `cat`
// as subprocesses with --identity / --accept / --accept-slots in both roles, the usage errors
// (which never print key material), and `keygen`. Loopback only.
import assert from "node:assert/strict";
import { generateIdentity, publicKeyOf } from "../layers/auth/keys.ts";
import { fromHex, toHex } from "../layers/bytes.ts";
import { connect } from "../layers/session/connect.ts";
import { Cli, isMessage, type Line, startListener, text } from "./cli_harness.ts";

const QUICK = ["--linger", "200"];

/** A fresh identity and its key file (64 hex digits and a newline) in `dir`. */
async function identityFile(dir: string, name: string) {
  const { privateKey, publicKey } = generateIdentity();
  const path = `${dir}/${name}.key`;
  await Deno.writeTextFile(path, toHex(privateKey) + "\n", { mode: 0o600 });
  privateKey.fill(0);
  return { path, publicKey: toHex(publicKey) };
}

/** Runs `cat` to `port` with `flags`, sends one message, and returns its session event. */
async function catSession(port: number, flags: string[]): Promise<{ event: Line; cli: Cli }> {
  const cli = new Cli(["cat", `127.0.0.1:${port}`, "--network", "regtest", ...QUICK, ...flags]);
  try {
    const event = await cli.stdout.next((l) => l.event === "session", "cat session event");
    await cli.send({ type: "inv", payload: "0a0b" });
    await cli.closeStdin();
    assert.equal((await cli.status()).code, 0, cli.stdout.dump() + text(cli.stderr));
    return { event, cli };
  } finally {
    await cli.dispose();
  }
}

const sessionOf = (id: unknown) => (l: Line) => l.event === "session" && l.session_id === id;

Deno.test("cli: listen --identity proves its key to cat --accept (one key, several, a wrong one)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cli_auth_" });
  const node = await identityFile(dir, "node");
  const other = toHex(generateIdentity().publicKey);
  const { cli: server, port } = await startListener(["--identity", node.path, "--echo"]);
  try {
    const listening = server.stdout.all.find((l) => l.event === "listening");
    assert.equal(listening?.public_key, node.publicKey);
    const cases: [string, boolean][] = [
      [node.publicKey, true], // Countersign (1 slot)
      [`${other},${node.publicKey}`, true], // multi-key (8 slots by default)
      [other, false],
    ];
    for (const [accept, expected] of cases) {
      const { event, cli } = await catSession(port, ["--accept", accept]);
      assert.equal(event.authenticated, expected, accept);
      assert.equal(event.transport, "v2");
      // The session carries messages after the exchange (the echo came back).
      assert.deepEqual(cli.stdout.all.filter(isMessage), [{ type: "inv", payload: "0a0b" }]);
      assert.equal(/proved none of the --accept keys/.test(text(cli.stderr)), !expected);
      // The listener challenged too (for random keys: it accepts nobody).
      const theirs = await server.stdout.next(sessionOf(event.session_id), "listen session");
      assert.equal(theirs.authenticated, false);
    }
  } finally {
    await server.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: the reverse roles: listen --accept A,B challenges, cat --identity proves; v1 is never authenticated", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cli_auth_" });
  const [a, b, stranger] = await Promise.all(["a", "b", "c"].map((n) => identityFile(dir, n)));
  const { cli: server, port } = await startListener([
    "--accept",
    `${a.publicKey},${b.publicKey}`,
  ]);
  try {
    for (const [who, expected] of [[b, true], [a, true], [stranger, false]] as const) {
      const { event } = await catSession(port, ["--identity", who.path]);
      assert.equal(event.authenticated, false, "cat accepts nobody");
      const theirs = await server.stdout.next(sessionOf(event.session_id), "listen session");
      assert.equal(theirs.authenticated, expected, who.path);
    }
    // A v1 peer has no session id to authenticate over: false, never undefined.
    const v1 = await connect({ port, network: "regtest", fallback: "v1-only" });
    const w = v1.writable.getWriter();
    await w.write({ type: "version", payload: new Uint8Array(90) });
    w.releaseLock();
    const event = await server.stdout.next((l) => l.event === "session", "v1 session event");
    assert.equal(event.transport, "v1");
    assert.equal(event.authenticated, false);
    await v1.close();
  } finally {
    await server.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: auth flag mistakes are usage errors (exit 2) that never print key material", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cli_auth_" });
  try {
    const good = generateIdentity();
    const secret = toHex(good.privateKey);
    const pub = toHex(good.publicKey);
    const files: Record<string, string> = {
      range: "ff".repeat(32), // not a scalar below n
      short: secret.slice(0, 63),
      public: pub, // a public key where the private one is due
      binary: "\u0000" + secret,
    };
    for (const [name, content] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, content, { mode: 0o600 });
    }
    const nine = Array.from({ length: 9 }, () => toHex(generateIdentity().publicKey)).join(",");
    const cases: [string[], RegExp, string[]][] = [
      [["--identity", `${dir}/range`], /key file .*range does not hold a private key/, [
        files.range,
      ]],
      [["--identity", `${dir}/short`], /does not hold a private key/, [files.short]],
      [["--identity", `${dir}/public`], /does not hold a private key/, [files.public]],
      [["--identity", `${dir}/binary`], /does not hold a private key/, [secret]],
      [["--identity", `${dir}/missing`], /cannot read the --identity key file .*no such file/, []],
      [["--identity", dir], /cannot read the --identity key file/, []],
      [["--identity", secret], /key FILE, not the key itself/, [secret]],
      [["--accept", secret], /PRIVATE key/, [secret]],
      [["--accept", `${pub},${secret.slice(2)}zz`], /public key 2 of 2 is not 66 hex/, [secret]],
      [["--accept", "02" + "f".repeat(64)], /not a point on secp256k1/, []],
      [["--accept", nine], /--accept-slots N with N ≥ 9/, []],
      [["--accept", `${pub},${nine.slice(0, 66)}`, "--accept-slots", "1"], /--accept-slots/, []],
      [["--accept-slots", "65"], /invalid --accept-slots 65/, []],
    ];
    for (const [flags, pattern, secrets] of cases) {
      for (const base of [["listen", "--port", "0"], ["cat", "127.0.0.1:1"]]) {
        const args = [...base, "--network", "regtest", ...flags];
        const cli = new Cli(args);
        try {
          assert.equal((await cli.status()).code, 2, args.join(" "));
          const stderr = text(cli.stderr);
          assert.equal(cli.stderr.all.length, 1, stderr);
          assert.match(stderr, /^error: .*Usage: cli\.ts/);
          assert.match(stderr, pattern, args.join(" "));
          for (const s of secrets) assert.ok(!stderr.toLowerCase().includes(s), stderr);
          assert.equal(cli.stdout.all.length, 0, cli.stdout.dump()); // nothing was done
        } finally {
          await cli.dispose();
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: keygen prints a key pair, or writes a new 0600 key file for --identity", async () => {
  const printed = new Cli(["keygen"]);
  try {
    assert.equal((await printed.status()).code, 0);
    assert.equal(printed.stdout.all.length, 1);
    const { private_key, public_key } = printed.stdout.all[0] as Record<string, string>;
    assert.match(private_key, /^[0-9a-f]{64}$/);
    assert.equal(public_key, toHex(publicKeyOf(fromHex(private_key))));
  } finally {
    await printed.dispose();
  }
  const dir = await Deno.makeTempDir({ prefix: "cli_auth_" });
  const path = `${dir}/node.key`;
  try {
    const written = new Cli(["keygen", "--out", path]);
    assert.equal((await written.status()).code, 0, text(written.stderr));
    const line = written.stdout.all[0];
    assert.deepEqual(Object.keys(line), ["public_key", "key_file"]);
    assert.equal(line.key_file, path);
    const content = await Deno.readTextFile(path);
    assert.match(content, /^[0-9a-f]{64}\n$/);
    assert.ok(!written.stdout.dump().includes(content.trim()), "the private key was printed");
    assert.equal(line.public_key, toHex(publicKeyOf(fromHex(content.trim()))));
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);

    // Never overwritten.
    const again = new Cli(["keygen", "--out", path]);
    assert.equal((await again.status()).code, 1);
    assert.equal(again.stdout.all[0].code, "KEY_FILE");
    assert.equal(await Deno.readTextFile(path), content);

    // The file is what --identity takes.
    const { cli: server } = await startListener(["--identity", path]);
    try {
      const listening = server.stdout.all.find((l) => l.event === "listening");
      assert.equal(listening?.public_key, line.public_key);
    } finally {
      await server.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
