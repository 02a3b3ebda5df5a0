/**
 * Builds the browser example: the library as one ES module
 * (`bip324.bundle.js`, from `library.ts`) and the page's script (`app.bundle.js`,
 * from `app.ts`, which imports `./bip324.bundle.js`). Uses `deno bundle`
 * (esbuild inside; its binary comes from the npm registry on first use).
 *
 * ```sh
 * deno task bundle                     # writes examples/browser/*.bundle.js
 * deno task bundle --serve 8000        # … then serves the page on 127.0.0.1:8000
 * deno task bundle --out-dir /tmp/b    # somewhere else
 * ```
 *
 * Every build is checked: the library bundle must be self-contained (no
 * `import`/`require` left, in particular no static `node:crypto`), the app
 * bundle may import only `./bip324.bundle.js`.
 *
 * @module
 */

/** The library bundle's file name. */
export const LIBRARY_BUNDLE = "bip324.bundle.js";
/** The page script bundle's file name. */
export const APP_BUNDLE = "app.bundle.js";

const HERE = new URL("./", import.meta.url);
const ROOT = new URL("../../", import.meta.url);

/** A problem with a build or its output. */
export class BundleError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "BundleError";
  }
}

/** Options for {@linkcode buildBrowserBundles}. */
export interface BuildOptions {
  /** Directory for the two bundles. Default: `examples/browser/`. */
  outDir?: string | URL;
  /** Minify the output. Default false. */
  minify?: boolean;
}

/** What {@linkcode buildBrowserBundles} wrote. */
export interface BuildResult {
  /** Path of the library bundle. */
  library: string;
  /** Path of the page script bundle. */
  app: string;
  /** Sizes in bytes. */
  bytes: { library: number; app: number };
}

function toPath(dir: string | URL): string {
  return typeof dir === "string" ? dir : decodeURIComponent(dir.pathname);
}

function join(dir: string, file: string): string {
  return dir.endsWith("/") ? dir + file : `${dir}/${file}`;
}

async function denoBundle(args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "browser", "--format", "esm", ...args],
    cwd: toPath(ROOT),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new BundleError(
      `deno bundle ${args.join(" ")} failed (${code}):\n${new TextDecoder().decode(stderr)}`,
    );
  }
}

/**
 * Import/require statements left in bundled code, as `[statement, specifier]`.
 * Strings inside the code (e.g. `getBuiltinModule("node:crypto")`) do not count.
 *
 * @example
 * ```ts
 * import { moduleImports } from "./build.ts";
 * console.assert(moduleImports('import { a } from "./x.js";\nf("node:crypto");').length === 1);
 * ```
 */
export function moduleImports(code: string): [string, string][] {
  const found: [string, string][] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;'"]*?from\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const m of code.matchAll(pattern)) found.push([m[0].trim(), m[1]]);
  }
  return found;
}

/**
 * Checks a library bundle for browsers: fully self-contained (no imports at
 * all, so no static `node:` module) and not empty. Throws {@linkcode BundleError}.
 */
export function checkLibraryBundle(code: string): void {
  const imports = moduleImports(code);
  if (imports.length > 0) {
    throw new BundleError(
      `the library bundle must be self-contained, but imports ${
        imports.map(([, s]) => s).join(", ")
      }`,
    );
  }
  if (!/export\s*\{[^}]*\bconnectWebSocket\b/.test(code)) {
    throw new BundleError("the library bundle does not export connectWebSocket");
  }
}

/** Checks the page bundle: it may import only the library bundle. Throws {@linkcode BundleError}. */
export function checkAppBundle(code: string): void {
  const other = moduleImports(code).filter(([, s]) => s !== `./${LIBRARY_BUNDLE}`);
  if (other.length > 0) {
    throw new BundleError(`the app bundle imports ${other.map(([, s]) => s).join(", ")}`);
  }
}

/**
 * Bundles the library (`examples/browser/library.ts`: `mod.ts` plus the Bitcoin layer) and `examples/browser/app.ts` for browsers and checks the
 * output.
 *
 * @example
 * ```ts ignore
 * import { buildBrowserBundles } from "./build.ts";
 * const { library, bytes } = await buildBrowserBundles({ outDir: await Deno.makeTempDir() });
 * console.log(library, bytes.library);
 * ```
 */
export async function buildBrowserBundles(options: BuildOptions = {}): Promise<BuildResult> {
  const outDir = toPath(options.outDir ?? HERE);
  await Deno.mkdir(outDir, { recursive: true });
  const library = join(outDir, LIBRARY_BUNDLE);
  const app = join(outDir, APP_BUNDLE);
  const minify = options.minify ? ["--minify"] : [];
  await denoBundle([...minify, "-o", library, "examples/browser/library.ts"]);
  await denoBundle([
    ...minify,
    "--external",
    `./${LIBRARY_BUNDLE}`,
    "-o",
    app,
    "examples/browser/app.ts",
  ]);
  const libraryCode = await Deno.readTextFile(library);
  const appCode = await Deno.readTextFile(app);
  checkLibraryBundle(libraryCode);
  checkAppBundle(appCode);
  return {
    library,
    app,
    bytes: {
      library: new TextEncoder().encode(libraryCode).length,
      app: new TextEncoder().encode(appCode).length,
    },
  };
}

/** Options for {@linkcode serveBrowserExample}. */
export interface ServeOptions {
  /** Port (0 picks a free one). Default 8000. */
  port?: number;
  /** Address to bind. Default `"127.0.0.1"`. */
  hostname?: string;
  /** Where the bundles are. Default: `examples/browser/`. */
  bundleDir?: string | URL;
}

/** A running static server for the page. */
export interface ExampleServer {
  /** The page's URL. */
  readonly url: string;
  /** The bound address. */
  readonly addr: { hostname: string; port: number };
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * Serves the page (`/`, `/index.html`) and the two bundles, nothing else.
 *
 * @example
 * ```ts ignore
 * import { serveBrowserExample } from "./build.ts";
 * const server = serveBrowserExample({ port: 0 });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export function serveBrowserExample(options: ServeOptions = {}): ExampleServer {
  const bundleDir = toPath(options.bundleDir ?? HERE);
  const files: Record<string, { path: string; type: string }> = {
    "/": { path: toPath(new URL("index.html", HERE)), type: "text/html; charset=utf-8" },
    "/index.html": { path: toPath(new URL("index.html", HERE)), type: "text/html; charset=utf-8" },
    [`/${LIBRARY_BUNDLE}`]: {
      path: join(bundleDir, LIBRARY_BUNDLE),
      type: "text/javascript; charset=utf-8",
    },
    [`/${APP_BUNDLE}`]: {
      path: join(bundleDir, APP_BUNDLE),
      type: "text/javascript; charset=utf-8",
    },
  };
  const server = Deno.serve({
    port: options.port ?? 8000,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: () => {},
  }, async (request) => {
    const file = files[new URL(request.url).pathname];
    if (!file || request.method !== "GET") return new Response("not found\n", { status: 404 });
    try {
      return new Response(await Deno.readFile(file.path), {
        headers: { "content-type": file.type, "cache-control": "no-store" },
      });
    } catch {
      return new Response(`missing ${file.path}: run deno task bundle\n`, { status: 500 });
    }
  });
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `http://${host}:${addr.port}/`,
    addr: { hostname: addr.hostname, port: addr.port },
    close: () => server.shutdown(),
  };
}

/** Command line: `build.ts [--out-dir DIR] [--minify] [--serve PORT]`. Returns the exit code. */
export async function runBuildCli(args: string[]): Promise<number> {
  let outDir: string | undefined;
  let serve: number | undefined;
  let minify = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--out-dir" && args[i + 1]) outDir = args[++i];
    else if (arg === "--serve" && /^\d+$/.test(args[i + 1] ?? "")) serve = Number(args[++i]);
    else if (arg === "--minify") minify = true;
    else {
      console.error("Usage: build.ts [--out-dir DIR] [--minify] [--serve PORT]");
      return 2;
    }
  }
  try {
    const result = await buildBrowserBundles({ outDir, minify });
    console.log(JSON.stringify({ event: "built", ...result }));
  } catch (error) {
    console.error(error instanceof BundleError ? error.message : error);
    return 1;
  }
  if (serve === undefined) return 0;
  const server = serveBrowserExample({ port: serve, bundleDir: outDir });
  console.log(JSON.stringify({ event: "serving", url: server.url }));
  await new Promise<void>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.addSignalListener(sig, () => resolve());
      } catch { /* unsupported here */ }
    }
  });
  await server.close();
  return 0;
}

if (import.meta.main) Deno.exit(await runBuildCli(Deno.args));
