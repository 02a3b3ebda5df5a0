/**
 * Builds the npm package into `npm/` (gitignored) from the same sources as
 * the JSR package:
 *
 * - ESM JavaScript: `deno bundle` (esbuild inside) with one output per public
 *   entry point of `deno.json`'s `exports` (plus `./cli`), code splitting so
 *   entry points share modules (one `Bip324Error` class for all of them), and
 *   npm dependencies (`@noble/*`, `ws`) left as imports;
 * - declarations: `tsc` from the npm package `typescript`
 *   (`--emitDeclarationOnly`), into `npm/types/`;
 * - `package.json` with an `exports` entry (types + import) per entry point,
 *   the dependencies the bundle imports (versions from the import map), a
 *   `bip324` bin that runs the CLI on Node.js/Bun, README.md and LICENSE.
 *
 * Every build is checked: no `node:` import at the top level of any output
 * file, no `.ts` import left in the declarations, each entry present.
 *
 * ```sh
 * deno task build:npm            # writes npm/
 * deno task build:npm --out DIR  # somewhere else
 * ```
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);
const TYPESCRIPT = "npm:typescript@5.9.3";

/** One public entry point: its subpath, source file and output paths (relative to the package). */
export interface EntryPoint {
  /** `"."`, `"./layers"`, … */
  subpath: string;
  /** Source, relative to the repository root. */
  source: string;
  /** JavaScript output, e.g. `./layers/mod.js`. */
  js: string;
  /** Declaration output, e.g. `./types/layers/mod.d.ts`. */
  types: string;
}

/** What {@linkcode buildNpm} wrote. */
export interface NpmBuild {
  /** The output directory. */
  dir: string;
  /** The entry points built. */
  entries: EntryPoint[];
  /** npm dependencies of the package, name → version. */
  dependencies: Record<string, string>;
}

function path(url: URL): string {
  return decodeURIComponent(url.pathname);
}

async function run(args: string[], what: string): Promise<void> {
  const { code, stderr, stdout } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: path(ROOT),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    throw new Error(`${what} failed (${code}):\n${text}`);
  }
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}

/** The entry points: `deno.json` exports, plus `./cli` from `cli/mod.ts` or `cli.ts` if not listed. */
export async function entryPoints(): Promise<EntryPoint[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const exports: Record<string, string> = typeof config.exports === "string"
    ? { ".": config.exports }
    : { ...config.exports };
  if (!exports["./cli"]) {
    for (const candidate of ["./cli/mod.ts", "./cli.ts"]) {
      if (await exists(new URL(candidate, ROOT))) {
        exports["./cli"] = candidate;
        break;
      }
    }
  }
  return Object.entries(exports).map(([subpath, source]) => {
    const rel = source.replace(/^\.\//, "");
    const base = rel.replace(/\.ts$/, "");
    return { subpath, source: rel, js: `./${base}.js`, types: `./types/${base}.d.ts` };
  });
}

/** npm package name and version of each `npm:` entry of the import map. */
async function npmImports(): Promise<Map<string, { name: string; version: string }>> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const map = new Map<string, { name: string; version: string }>();
  for (const [key, target] of Object.entries(config.imports ?? {}) as [string, string][]) {
    const m = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)@([^/]+)/.exec(target);
    if (m) map.set(key.replace(/\/$/, ""), { name: m[1], version: m[2] });
  }
  return map;
}

/** Bare specifiers imported (statically or dynamically) by the output files. */
function bareImports(code: string): string[] {
  const found = new Set<string>();
  const name = `((?:node:)?[@A-Za-z_][\\w@./-]*)`;
  const patterns = [
    new RegExp(`^\\s*(?:import|export)\\b[^;"']*?\\bfrom\\s*["']${name}["']`, "gm"),
    new RegExp(`\\bimport\\s*\\(\\s*["']${name}["']\\s*\\)`, "g"),
    new RegExp(`^\\s*import\\s*["']${name}["']`, "gm"),
  ];
  for (const re of patterns) {
    for (const m of code.matchAll(re)) found.add(m[1]);
  }
  return [...found];
}

/** Adds `file` and every file it imports statically (relative specifiers) to `into`. */
async function staticGraph(file: string, into: Set<string>): Promise<void> {
  if (into.has(file)) return;
  into.add(file);
  const code = await Deno.readTextFile(file);
  const re =
    /^\s*(?:import|export)\b[^;"']*?\bfrom\s*["'](\.[^"']+)["']|^\s*import\s*["'](\.[^"']+)["']/gm;
  for (const m of code.matchAll(re)) {
    const rel = m[1] ?? m[2];
    const next = new URL(rel, `file://${file}`).pathname;
    await staticGraph(decodeURIComponent(next), into);
  }
}

function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const full = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(full);
    else yield full;
  }
}

const BIN = `#!/usr/bin/env node
// The bip324 command line on Node.js or Bun: standard streams and signals as Web Streams.
import { Readable, Writable } from "node:stream";
const { main } = await import("../cli.js");
const controller = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => controller.abort());
const code = await main(process.argv.slice(2), {
  stdin: Readable.toWeb(process.stdin),
  stdout: Writable.toWeb(process.stdout),
  stderr: Writable.toWeb(process.stderr),
  signal: controller.signal,
});
process.exit(code);
`;

/** Builds the package into `outDir` (default `npm/`), replacing what was there. */
export async function buildNpm(outDir: string = path(new URL("npm/", ROOT))): Promise<NpmBuild> {
  const dir = outDir.replace(/\/$/, "");
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const entries = await entryPoints();
  const imports = await npmImports();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });

  // 1. JavaScript: one bundle per entry point, shared chunks, npm packages external.
  const externals = [...imports.keys()].flatMap((k) => ["--external", k, "--external", `${k}/*`]);
  await run([
    "bundle",
    "--quiet",
    "--format",
    "esm",
    "--platform",
    "browser",
    "--code-splitting",
    ...externals,
    "--outdir",
    dir,
    ...entries.map((e) => e.source),
  ], "deno bundle");

  // 2. Declarations.
  await run([
    "run",
    "-A",
    `${TYPESCRIPT}/tsc`,
    "--declaration",
    "--emitDeclarationOnly",
    "--noCheck",
    "--allowImportingTsExtensions",
    "--target",
    "es2022",
    "--module",
    "esnext",
    "--moduleResolution",
    "bundler",
    "--skipLibCheck",
    "--lib",
    "es2022,dom",
    "--rootDir",
    ".",
    "--outDir",
    `${dir}/types`,
    ...entries.map((e) => e.source),
  ], "tsc (declarations)");
  for await (const file of walk(`${dir}/types`)) {
    if (!file.endsWith(".d.ts")) continue;
    const text = await Deno.readTextFile(file);
    await Deno.writeTextFile(
      file,
      text.replace(/((?:from|import)\s*\(?\s*["'])(\.\.?\/[^"']*?)\.ts(["'])/g, "$1$2.js$3"),
    );
  }

  // 3. Checks, and the dependencies the output really imports. The library's entry points
  // (all but ./cli, which is a Node/Deno program) may not load a node: module at import time:
  // no static node: import anywhere in their static graphs.
  const library = new Set<string>();
  for (const e of entries) {
    if (e.subpath !== "./cli") await staticGraph(`${dir}/${e.js.slice(2)}`, library);
  }
  const dependencies: Record<string, string> = {};
  for await (const file of walk(dir)) {
    if (!file.endsWith(".js")) continue;
    const code = await Deno.readTextFile(file);
    if (library.has(file) && /^\s*import[^(]*["']node:/m.test(code)) {
      throw new Error(`${file} (library code) imports a node: module at the top level`);
    }
    for (const specifier of bareImports(code)) {
      if (specifier.startsWith("node:")) continue;
      const name = packageOf(specifier);
      const known = imports.get(name) ?? imports.get(specifier);
      if (!known) throw new Error(`${file} imports ${specifier}, which is not in the import map`);
      dependencies[known.name] = known.version;
    }
  }
  for (const e of entries) {
    for (const out of [e.js, e.types]) {
      if (!(await exists(new URL(out, `file://${dir}/`)))) {
        throw new Error(`entry ${e.subpath}: ${out} was not written`);
      }
    }
  }
  for await (const file of walk(`${dir}/types`)) {
    if (/from\s*["']\.[^"']*\.ts["']/.test(await Deno.readTextFile(file))) {
      throw new Error(`${file} still imports a .ts path`);
    }
  }

  // 4. package.json, bin, README, LICENSE.
  const hasCli = entries.some((e) => e.subpath === "./cli");
  if (hasCli) {
    await Deno.mkdir(`${dir}/bin`, { recursive: true });
    await Deno.writeTextFile(`${dir}/bin/bip324.js`, BIN);
    await Deno.chmod(`${dir}/bin/bip324.js`, 0o755);
  }
  const pkg = {
    name: config.name,
    version: config.version,
    description: "BIP324 (Bitcoin v2 P2P encrypted transport) for Node.js, Bun, Deno, browsers " +
      "and edge runtimes",
    license: config.license,
    type: "module",
    sideEffects: false,
    engines: { node: ">=20.16" },
    exports: Object.fromEntries(
      entries.map((e) => [e.subpath, { types: e.types, import: e.js, default: e.js }]),
    ),
    ...(hasCli ? { bin: { bip324: "./bin/bip324.js" } } : {}),
    dependencies: Object.fromEntries(Object.entries(dependencies).sort()),
    keywords: ["bitcoin", "bip324", "p2p", "encryption", "v2transport"],
  };
  await Deno.writeTextFile(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + "\n");
  await Deno.copyFile(new URL("LICENSE", ROOT), `${dir}/LICENSE`);
  await Deno.copyFile(new URL("README.md", ROOT), `${dir}/README.md`);
  return { dir, entries, dependencies };
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--out");
  const out = at >= 0 ? Deno.args[at + 1] : undefined;
  const result = await buildNpm(out);
  console.log(JSON.stringify({
    event: "built",
    dir: result.dir,
    entries: result.entries.map((e) => e.subpath),
    dependencies: result.dependencies,
  }));
}
