import assert from "node:assert/strict";
import {
  findMallocTrim,
  releaseCount,
  releaseFreedMemory,
  WAVE_MIN,
  WaveWatcher,
} from "../layers/session/release_memory.ts";
import { connect, listen } from "../layers/session/connect.ts";
import type { Session } from "../layers/session/session.ts";

const ffiGranted = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
const glibc = Deno.build.os === "linux" && findMallocTrim() !== null;

Deno.test("WaveWatcher: releases once the open count is down to a quarter of its peak, 32 fewer", () => {
  let released = 0;
  const wave = new WaveWatcher(() => released++);
  for (let open = 1; open <= 100; open++) wave.opened(open);
  for (let open = 99; open > 25; open--) wave.closed(open);
  assert.equal(released, 0, "above a quarter");
  wave.closed(25);
  assert.equal(released, 1, "at a quarter of 100");
  // The peak is now 25: shedding fewer than WAVE_MIN more never releases again.
  for (let open = 24; open >= 0; open--) wave.closed(open);
  assert.equal(released, 1);
  // A small listener (peak under WAVE_MIN) never releases.
  const small = new WaveWatcher(() => released++);
  for (let open = 1; open < WAVE_MIN; open++) small.opened(open);
  for (let open = WAVE_MIN - 2; open >= 0; open--) small.closed(open);
  assert.equal(released, 1);
  // A failing release is swallowed.
  const failing = new WaveWatcher(() => {
    throw new Error("no");
  });
  for (let open = 1; open <= 40; open++) failing.opened(open);
  failing.closed(0);
});

Deno.test("findMallocTrim: nothing without FFI permission, off Linux, in Node.js or Bun", () => {
  let dlopened = 0;
  const deno = (state: string, os = "linux") => ({
    Deno: {
      dlopen: () => {
        dlopened++;
        return { symbols: { malloc_trim: () => 1 } };
      },
      permissions: { querySync: () => ({ state }) },
      build: { os },
    },
  });
  assert.equal(findMallocTrim(deno("prompt")), null);
  assert.equal(findMallocTrim(deno("denied")), null);
  assert.equal(findMallocTrim(deno("granted", "darwin")), null);
  assert.equal(dlopened, 0, "dlopen is not even tried");
  assert.equal(typeof findMallocTrim(deno("granted")), "function");
  assert.equal(findMallocTrim({}), null, "Node.js, browsers: no FFI");
  assert.equal(findMallocTrim({ Bun: {}, process: { platform: "linux" } }), null, "Bun: no");
  const broken = {
    Deno: {
      ...deno("granted").Deno,
      dlopen: () => {
        throw new Error("musl");
      },
    },
  };
  assert.equal(findMallocTrim(broken), null, "no glibc: nothing, no error");
});

Deno.test({
  name: "releaseFreedMemory hands freed pages back: RSS falls after fragmented buffers are freed",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // In a process of its own, with V8's gc() to free the buffers first: 64 MiB in 64 KiB
    // buffers, each followed by a small one that stays, so glibc keeps the pages between.
    const module = new URL("../layers/session/release_memory.ts", import.meta.url).href;
    const script = `
      import { releaseFreedMemory } from ${JSON.stringify(module)};
      const keep = [];
      let big = [];
      for (let i = 0; i < 1024; i++) {
        big.push(new Uint8Array(64 * 1024).fill(1));
        keep.push(new Uint8Array(256).fill(2));
      }
      big = [];
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 30));
      }
      const before = Deno.memoryUsage().rss;
      const released = releaseFreedMemory();
      console.log(JSON.stringify({ released, before, after: Deno.memoryUsage().rss, keep: keep.length }));
    `;
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    try {
      await Deno.writeTextFile(file, script);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-ffi", "--allow-read", "--v8-flags=--expose-gc", file],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      assert.equal(out.code, 0);
      const r = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.equal(r.released, true);
      assert.ok(r.before - r.after > 32 * 2 ** 20, `RSS ${r.before} → ${r.after}`);
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test("releaseFreedMemory counts its releases (here, with FFI granted)", () => {
  const count = releaseCount();
  assert.equal(releaseFreedMemory(), glibc && ffiGranted);
  assert.equal(releaseCount(), count + (glibc && ffiGranted ? 1 : 0));
});

Deno.test("listener: releases memory once a wave of sessions has ended (not with releaseMemory: false)", async () => {
  for (const releaseMemory of [true, false]) {
    const listener = listen({ port: 0, releaseMemory });
    const served: Session[] = [];
    const serving = (async () => {
      for await (const s of listener) served.push(s);
    })();
    const clients = await Promise.all(
      Array.from({ length: WAVE_MIN + 8 }, () => connect({ port: listener.addr.port })),
    );
    while (served.length < clients.length) await new Promise((r) => setTimeout(r, 5));
    const count = releaseCount();
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(served.map((s) => s.closed));
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(
      releaseCount() - count,
      releaseMemory && glibc && ffiGranted ? 1 : 0,
      `${releaseMemory}`,
    );
    await listener.close();
    await serving;
  }
});
