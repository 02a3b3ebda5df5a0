import assert from "node:assert/strict";

/** The demo must finish well within this (it takes a few seconds). */
const TIMEOUT = 60_000;

Deno.test("demo: runs to completion with matching session ids and its figures", async () => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT);
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(Deno.execPath(), {
      // The same permissions as `deno task demo`: no internet, no environment.
      args: ["run", "--allow-net=127.0.0.1", "--allow-read", "examples/demo.ts"],
      cwd: new URL("../", import.meta.url),
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
  } finally {
    clearTimeout(timer);
  }
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `demo failed:\n${stdout}\n${stderr}`);

  const initiator = /initiator session id\s+([0-9a-f]{64})/.exec(stdout)?.[1];
  const responder = /responder session id\s+([0-9a-f]{64})/.exec(stdout)?.[1];
  assert.ok(initiator, stdout);
  assert.equal(responder, initiator);
  assert.match(stdout, /session ids equal\s+yes/);
  assert.match(stdout, /pong matches ping\s+yes/);

  const rate = /([\d,]+) messages\/s/.exec(stdout)?.[1];
  assert.ok(rate && Number(rate.replaceAll(",", "")) > 0, stdout);
  const mbps = /([\d,.]+) MB\/s/.exec(stdout)?.[1];
  assert.ok(mbps && Number(mbps.replaceAll(",", "")) > 0, stdout);

  const wire = /wire bytes.*chi-square = ([\d,.]+), p = ([\d.]+)/.exec(stdout);
  assert.ok(wire, stdout);
  const chi = Number(wire[1].replaceAll(",", ""));
  assert.ok(chi > 0 && Number.isFinite(chi), stdout);
  // A real break in the cipher would give a huge statistic; allow chance fluctuations.
  assert.ok(chi < 400, `wire chi-square ${chi} is far from 255:\n${stdout}`);
  const plain = /plaintext.*chi-square = ([\d,.]+)/.exec(stdout);
  assert.ok(plain && Number(plain[1].replaceAll(",", "")) > 10_000, stdout);
  assert.match(stdout, /closed cleanly \(initiator: ok, responder: ok\)/);
});
