// Shared by the probe tests: running `cli.ts`, its one-line output, a v2 probe result's fields.
import assert from "node:assert/strict";
import type { ProbeResult } from "../examples/probe.ts";
import { within } from "./helpers.ts";

/** Every wait is bounded by this. */
export const TIMEOUT = 20_000;
export const ROOT: URL = new URL("../", import.meta.url);

/** Runs `cli.ts ARGS` to completion (killed after TIMEOUT) and returns its output. */
export async function runCli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const [status, stdout, stderr] = await within(
      Promise.all([
        child.status,
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ]),
      TIMEOUT,
      `cli.ts ${args.join(" ")}`,
    );
    return { code: status.code, stdout, stderr };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
  }
}

/** The one JSON line the CLI must print. */
export function oneLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `expected one line, got:\n${stdout}`);
  assert.ok(stdout.endsWith("\n"));
  return JSON.parse(lines[0]);
}

export function assertV2Result(
  r: ProbeResult | Record<string, unknown>,
  port: number,
  id: string,
): void {
  assert.equal(r.address, `127.0.0.1:${port}`);
  assert.equal(r.network, "regtest");
  assert.equal(r.transport, "v2");
  assert.equal(r.session_id, id);
  assert.equal(r.advertises_v2, true);
  assert.equal(r.user_agent, "/node-like:2/");
  assert.equal(r.protocol_version, 70017);
  assert.equal(r.start_height, 123);
  assert.match(r.services as string, /^0x[0-9a-f]{16}$/);
  assert.ok((r.service_names as string[]).includes("P2P_V2"), String(r.service_names));
  assert.equal(r.relay, false);
  assert.equal(typeof r.ping_ms, "number");
  assert.ok((r.ping_ms as number) >= 0 && (r.ping_ms as number) < TIMEOUT);
}
