// Sessions and `cli.ts listen --echo` carry BIP434 `feature` (short ID 37) as an ordinary message.
import assert from "node:assert/strict";
import { connect } from "../layers/session/connect.ts";
import { encodeFeature } from "../layers/bitcoin/mod.ts";
import type { Message } from "../layers/aliasing/aliasing.ts";
import { readJsonLines, sessionPair, within } from "./helpers.ts";

const TIMEOUT = 20_000;
const ROOT = new URL("../", import.meta.url);

const payloads = [
  encodeFeature({ featureId: "BIP434", featureData: new Uint8Array([1, 2, 3]) }),
  new Uint8Array([0xff, 0x00]), // not a valid feature payload: the session does not care
  new Uint8Array(0),
];

/** A contents layer that records the first byte (the message type field) of each packet we send. */
function typeBytes(seen: number[]) {
  return {
    outbound: {
      transform(contents: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) {
        seen.push(contents[0]);
        controller.enqueue(contents);
      },
    },
  };
}

for (const layered of [false, true]) {
  Deno.test(`bip434: a session passes feature through untouched, as short ID 37 (${layered ? "with a contents layer" : "plain"})`, async () => {
    const seen: number[] = [];
    const [a, b] = await sessionPair(
      layered ? { layers: { contents: [typeBytes(seen)] } } : {},
      {},
    );
    try {
      const w = a.writable.getWriter();
      for (const payload of payloads) await w.write({ type: "feature", payload });
      const r = b.readable.getReader();
      for (const payload of payloads) {
        const { value } = await within(r.read(), TIMEOUT, "feature");
        assert.deepEqual(value, { type: "feature", payload });
      }
      assert.equal(b.stats.messagesDropped, 0);
      if (layered) assert.deepEqual(seen, [37, 37, 37]);
      r.releaseLock();
      w.releaseLock();
    } finally {
      await a.close();
      await b.close();
    }
  });
}

Deno.test("bip434: cli.ts listen --echo echoes a feature message back as feature", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", "listen", "--port", "0", "--network", "regtest", "--echo"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  const reading = readJsonLines(child.stdout, (line) => {
    lines.push(line);
    wake?.();
  });
  const next = (match: (l: Record<string, unknown>) => boolean, what: string) =>
    within(
      (async () => {
        for (;;) {
          const found = lines.find(match);
          if (found) return found;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      })(),
      TIMEOUT,
      what,
    );
  try {
    const listening = await next((l) => l.event === "listening", "listening");
    const session = await within(
      connect({ hostname: "127.0.0.1", port: listening.port as number, network: "regtest" }),
      TIMEOUT,
      "connect",
    );
    try {
      const w = session.writable.getWriter();
      const r = session.readable.getReader();
      for (const payload of payloads) {
        await w.write({ type: "feature", payload });
        const echoed: Message | undefined = (await within(r.read(), TIMEOUT, "echo")).value;
        assert.deepEqual(echoed, { type: "feature", payload });
      }
      // and the listener printed it as an ordinary message
      const hex = [...payloads[0]].map((b) => b.toString(16).padStart(2, "0")).join("");
      const line = await next((l) => l.type === "feature" && l.payload === hex, "printed line");
      assert.equal(line.type, "feature");
      r.releaseLock();
      w.releaseLock();
    } finally {
      await session.close();
    }
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    await child.status;
    await reading.catch(() => {});
  }
});
