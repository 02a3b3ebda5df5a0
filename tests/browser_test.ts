/**
 * End to end in a real headless Chromium: the page (examples/browser) runs the
 * BIP324 handshake in the browser, through the relay (examples/relay.ts), with
 * a responder from this library as the node.
 *
 * The browser is driven with playwright-core in a child process
 * (`deno run -A tests/browser_test.ts --driver URL`): playwright needs
 * permissions the `test` task does not grant (`--allow-sys`, and reads of
 * `/proc/sys`, which only `--allow-all` allows), and it must not be loaded in
 * the test process. The servers run here, in the test process.
 *
 * Chromium is found, in this order: the `CHROMIUM_PATH` environment variable; a
 * system Chromium (`/usr/bin/chromium`, `chromium-browser`, Google Chrome); else
 * the npm package `@sparticuz/chromium`, whose tarball carries a headless
 * Chromium that it unpacks on first use. It is unpacked into a temporary
 * directory of this run's own (`TMPDIR` of the driver), removed afterwards, so
 * parallel runs never collide and a machine with only Node and npm needs no apt.
 * If no Chromium can be started, the test fails (it never skips).
 */
import assert from "node:assert/strict";
import { buildBrowserBundles, serveBrowserExample } from "../examples/browser/build.ts";
import { startRelay } from "../examples/relay.ts";
import { listen } from "../layers/session/connect.ts";
import { peerHandshake } from "../layers/bitcoin/peer_handshake.ts";
import type { Session } from "../layers/session/session.ts";
import { toHex } from "../layers/bytes.ts";
import { within } from "./helpers.ts";

/** System locations tried when `CHROMIUM_PATH` is not set. */
const SYSTEM_CHROMIUMS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
/** Bound on the whole browser session in the driver. */
const DRIVER_TIMEOUT = 90_000;
/** Bound on any single wait in the driver. */
const STEP_TIMEOUT = 30_000;

/** What the driver reads off the page. */
interface PageResult {
  sessionId: string;
  transport: string;
  keyMath: string;
  garbageSent: string;
  garbageReceived: string;
  decoysSent: string;
  decoysReceived: string;
  peer: string;
  pongStatus: string;
  pongStatusAfterClick: string;
  pongs: string;
  statusAfterDisconnect: string;
  log: string[];
  consoleErrors: string[];
}

// ---------------------------------------------------------------------------------------------
// The driver (child process).

/** Whether `path` names an executable file. */
async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Finds a Chromium: `CHROMIUM_PATH`, else a system one, else the binary from the
 * `@sparticuz/chromium` npm tarball (unpacked below this process's `TMPDIR`).
 */
export async function findChromium(): Promise<{ path: string; source: string }> {
  const fromEnv = Deno.env.get("CHROMIUM_PATH");
  if (fromEnv) {
    if (!(await isExecutable(fromEnv))) {
      throw new Error(`CHROMIUM_PATH=${fromEnv} is not an executable file`);
    }
    return { path: fromEnv, source: "CHROMIUM_PATH" };
  }
  for (const path of SYSTEM_CHROMIUMS) {
    if (await isExecutable(path)) return { path, source: "system" };
  }
  const { default: packaged } = await import("@sparticuz/chromium");
  return { path: await packaged.executablePath(), source: "@sparticuz/chromium" };
}

async function drive(pageUrl: string, relayUrl: string): Promise<PageResult> {
  const { chromium } = await import("playwright-core");
  const found = await findChromium().catch((error) => {
    throw new Error(
      "no Chromium could be found or unpacked (set CHROMIUM_PATH, install one, or let " +
        `@sparticuz/chromium unpack its binary): ${error}`,
    );
  });
  const browser = await chromium.launch({
    executablePath: found.path,
    args: CHROMIUM_ARGS,
    timeout: STEP_TIMEOUT,
  });
  const consoleErrors: string[] = [];
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(`console: ${m.text()}`);
    });
    await page.goto(pageUrl);
    await page.waitForSelector("body[data-ready=true]");
    await page.fill("#relay-url", relayUrl);
    await page.selectOption("#network", "regtest");
    await page.fill("#decoys", "3,70");
    await page.click("#connect");
    const text = (id: string) => page.textContent(`#${id}`).then((t) => (t ?? "").trim());
    try {
      // The automatic ping on connect.
      await page.waitForSelector('#pong-status[data-pongs="1"]', { state: "attached" });
    } catch (error) {
      const status = await text("status");
      const log = await page.locator("#log li").allTextContents();
      throw new Error(
        `no pong on the page: ${error}\nstatus: ${status}\nlog:\n${log.join("\n")}\n` +
          `console:\n${consoleErrors.join("\n")}`,
      );
    }
    const pongStatus = await text("pong-status");
    // A second ping, from the button.
    await page.click("#ping");
    await page.waitForSelector('#pong-status[data-pongs="2"]', { state: "attached" });
    const result: PageResult = {
      sessionId: await text("session-id"),
      transport: await text("transport-version"),
      keyMath: await text("key-math"),
      garbageSent: await text("garbage-sent"),
      garbageReceived: await text("garbage-received"),
      decoysSent: await text("decoys-sent"),
      decoysReceived: await text("decoys-received"),
      peer: await text("peer"),
      pongStatus,
      pongStatusAfterClick: await text("pong-status"),
      pongs: await page.getAttribute("#pong-status", "data-pongs") ?? "",
      statusAfterDisconnect: "",
      log: [],
      consoleErrors,
    };
    await page.click("#disconnect");
    await page.waitForSelector("#status:text-matches('^closed')", { state: "attached" });
    result.statusAfterDisconnect = await text("status");
    result.log = await page.locator("#log li").allTextContents();
    return result;
  } finally {
    await browser.close();
  }
}

async function driverMain(args: string[]): Promise<number> {
  const [flag, pageUrl, relayUrl] = args;
  if (flag !== "--driver" || !pageUrl || !relayUrl) {
    console.error("usage: browser_test.ts --driver PAGE_URL RELAY_URL");
    return 2;
  }
  const watchdog = setTimeout(() => {
    console.error(`driver: gave up after ${DRIVER_TIMEOUT} ms`);
    Deno.exit(3);
  }, DRIVER_TIMEOUT);
  try {
    const result = await drive(pageUrl, relayUrl);
    console.log(JSON.stringify(result));
    return 0;
  } catch (error) {
    console.error(
      `driver failed: ${error instanceof Error ? error.stack ?? error.message : error}`,
    );
    return 1;
  } finally {
    clearTimeout(watchdog);
  }
}

if (import.meta.main) Deno.exit(await driverMain(Deno.args));

// ---------------------------------------------------------------------------------------------
// The test (test process).

Deno.test({
  name: "browser: a page in headless Chromium runs BIP324 through the relay to a node; ping → pong",
  fn: async () => {
    const bundleDir = await Deno.makeTempDir({ prefix: "bip324-browser-" });
    // A node stand-in: a BIP324 responder that does version/verack and answers pings.
    const node = listen({
      port: 0,
      hostname: "127.0.0.1",
      network: "regtest",
      garbage: 123,
      decoys: [5, 300],
    });
    const sessions: Session[] = [];
    const handled: Promise<void>[] = [];
    const served = (async () => {
      for await (const session of node) {
        sessions.push(session);
        handled.push((async () => {
          try {
            await peerHandshake(session, { timeout: 20_000, userAgent: "/test-node:1.0/" });
            const reader = session.readable.getReader();
            const writer = session.writable.getWriter();
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              if (value.type === "ping") {
                await writer.write({ type: "pong", payload: value.payload });
              }
            }
          } catch {
            /* the session ended */
          } finally {
            await session.close();
          }
        })());
      }
    })();
    const relay = startRelay({ port: 0, hostname: "127.0.0.1", to: `127.0.0.1:${node.addr.port}` });
    let server: ReturnType<typeof serveBrowserExample> | undefined;
    let child: Deno.ChildProcess | undefined;
    let childOutput: Promise<Deno.CommandOutput> | undefined;
    // The driver's own TMPDIR: @sparticuz/chromium unpacks its binary there.
    const driverTmp = await Deno.makeTempDir({ prefix: "bip324-chromium-" });
    try {
      await within(buildBrowserBundles({ outDir: bundleDir }), 120_000, "deno task bundle");
      server = serveBrowserExample({ port: 0, bundleDir });
      const relayUrl = `ws://127.0.0.1:${relay.addr.port}/`;

      child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL(import.meta.url).pathname, "--driver", server.url, relayUrl],
        env: { TMPDIR: driverTmp },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      childOutput = child.output();
      const output = await within(childOutput, DRIVER_TIMEOUT + 30_000, "browser driver");
      child = undefined;
      const stdout = new TextDecoder().decode(output.stdout).trim();
      const stderr = new TextDecoder().decode(output.stderr).trim();
      assert.equal(
        output.code,
        0,
        `the browser driver failed (Chromium or playwright could not run, or the page broke):\n${stderr}\n${stdout}`,
      );
      const page = JSON.parse(stdout.split("\n").at(-1)!) as PageResult;

      // The session the page shows is the node's session.
      await within(
        (async () => {
          while (sessions.length === 0) await new Promise((r) => setTimeout(r, 10));
        })(),
        10_000,
        "node session",
      );
      assert.equal(sessions.length, 1);
      assert.match(page.sessionId, /^[0-9a-f]{64}$/);
      assert.equal(page.sessionId, toHex(sessions[0].sessionId));
      assert.equal(page.transport, "v2");
      // the handshake's secp256k1 arithmetic ran in WebAssembly on the page
      assert.equal(page.keyMath, "WebAssembly");
      // Handshake facts, both ways.
      assert.equal(page.garbageReceived, "123");
      assert.equal(page.decoysReceived, "2");
      assert.match(page.garbageSent, /^\d+$/);
      assert.equal(page.decoysSent, "2 (3, 70 bytes)");
      assert.match(page.peer, /\/test-node:1\.0\//);
      // Ping → pong, automatic and from the button.
      assert.match(page.pongStatus, /^pong ok \d+(\.\d+)? ms$/);
      assert.match(page.pongStatusAfterClick, /^pong ok \d+(\.\d+)? ms$/);
      assert.equal(page.pongs, "2");
      assert.ok(page.log.some((l) => / ← pong /.test(l)), page.log.join("\n"));
      assert.match(page.statusAfterDisconnect, /^closed/);
      assert.deepEqual(page.consoleErrors, []);

      // The relay carried the session and saw the page go away.
      await within(
        (async () => {
          while (relay.metrics().connectionsOpen > 0) await new Promise((r) => setTimeout(r, 10));
        })(),
        10_000,
        "relay connection closed",
      );
      const m = relay.metrics();
      assert.equal(m.connectionsTotal, 1);
      assert.equal(m.closes.client_closed, 1);
      assert.ok(m.bytesClientToNode > 64 && m.bytesNodeToClient > 64 + 123);
      await within(sessions[0].closed, 10_000, "node session closed");
    } finally {
      if (child) {
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
        await childOutput?.catch(() => {});
      }
      await server?.close();
      await relay.close();
      await node.close();
      await within(served, 10_000, "responder loop").catch(() => {});
      await Promise.all(sessions.map((s) => s.close()));
      await within(Promise.all(handled), 10_000, "responder sessions").catch(() => {});
      await Deno.remove(bundleDir, { recursive: true }).catch(() => {});
      await Deno.remove(driverTmp, { recursive: true }).catch(() => {});
    }
  },
});
