// The README's quick start runs exactly as written, and its CLI section documents the exit codes.
import assert from "node:assert/strict";
import { EXIT_CODES_HELP } from "../cli/output.ts";
import { within } from "./helpers.ts";

const ROOT = new URL("../", import.meta.url);
const README = await Deno.readTextFile(new URL("README.md", ROOT));

/** The text of a `## ` section. */
function section(title: string): string {
  const start = README.indexOf(`## ${title}\n`);
  assert.ok(start >= 0, `no section ${title}`);
  const end = README.indexOf("\n## ", start + 3);
  return README.slice(start, end < 0 ? undefined : end);
}

Deno.test("readme: the quick start runs as written (its file name, its command) and prints a hex session id", async () => {
  const quick = section("Quick start");
  const file = /Save this as `([\w.-]+\.ts)`/.exec(quick)?.[1];
  assert.ok(file, "the quick start names the file to save");
  const command = /`(deno run [^`]+)`/.exec(quick)?.[1];
  assert.ok(command, "the quick start gives the command to run");
  const args = command.split(" ");
  assert.equal(args.at(-1), file, "the command runs the named file");
  const code = /```ts\n([\s\S]*?)```/.exec(quick)?.[1];
  assert.ok(code, "the quick start has a ts block");
  const path = new URL(file, ROOT);
  // Never overwrite a file of the same name.
  await Deno.writeTextFile(path, code, { createNew: true });
  try {
    const { code: status, stdout, stderr } = await within(
      new Deno.Command(Deno.execPath(), {
        args: args.slice(1),
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output(),
      30_000,
      command,
    );
    const out = new TextDecoder().decode(stdout);
    assert.equal(status, 0, new TextDecoder().decode(stderr));
    assert.match(out, /^session id [0-9a-f]{64}$/m);
    assert.match(out, /type: "ping"/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readme: the CLI section documents the exit codes (as --help prints them) and --help", () => {
  const cli = section("Command line");
  assert.ok(cli.includes(EXIT_CODES_HELP.trimEnd()), "exit codes differ from cli/output.ts");
  assert.match(cli, /COMMAND --help/);
  for (const command of ["cat", "listen", "probe", "proxy", "relay", "bundle", "keygen"]) {
    assert.match(cli, new RegExp(`\\| \`${command}\`\\s`));
  }
  assert.match(cli, /--v2-only/);
  assert.match(cli, /--linger/);
  for (
    const flag of ["--identity", "--accept", "--accept-slots", "--max-sessions", "--idle-timeout"]
  ) {
    assert.ok(cli.includes(flag), `the CLI section does not mention ${flag}`);
  }
  assert.match(cli, /"authenticated": true\|false/);
});
