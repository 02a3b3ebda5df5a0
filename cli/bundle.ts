/**
 * `cli.ts bundle`: builds the browser example (and serves it); see
 * `examples/browser/build.ts`, which does the work. `deno task bundle` runs
 * this command.
 *
 * @module
 */

import {
  buildBrowserBundles,
  type BuildResult,
  BundleError,
  type ExampleServer,
  serveBrowserExample,
} from "../examples/browser/build.ts";
import { flagValue, parseFlags, parsePort, UsageError } from "./args.ts";
import { aborted, type CommandContext, errorEvent, EXIT, EXIT_CODES_HELP } from "./output.ts";

/** Options for `bundle`. */
export interface BundleCommand {
  /** The command. */
  command: "bundle";
  /** Where the bundles go (default `examples/browser/`). */
  outDir?: string;
  /** Minify the output. */
  minify: boolean;
  /** Serve the page on this port after building (0 picks a free one). */
  serve?: number;
  /** Address to serve on (default 127.0.0.1). */
  hostname: string;
}

/** One-line synopsis. */
export const BUNDLE_SYNOPSIS = "cli.ts bundle [--out-dir DIR] [--minify] [--serve PORT]";

/** `cli.ts bundle --help`. */
export const BUNDLE_HELP: string = `Usage: ${BUNDLE_SYNOPSIS}

Build the browser example (the library and the page's script, with deno bundle) and
check the output; with --serve, then serve the page until SIGINT/SIGTERM.

Options:
  --out-dir DIR     where to write the bundles (default examples/browser/)
  --minify          minify the bundles
  --serve PORT      serve the page on 127.0.0.1:PORT after building (0 picks a free one)
  --hostname ADDR   address to serve on (default 127.0.0.1)
  -h, --help        show this help

Output (stdout, JSON lines):
  {"event":"built","library":..,"app":..,"bytes":{..}}
  {"event":"serving","url":"http://HOST:PORT/"}
  {"event":"error","code":"<CODE>","message":"<text>"}  (BUNDLE: the build failed;
                                                          ADDR_IN_USE: the port is taken)

${EXIT_CODES_HELP}`;

/** Parses `bundle`'s arguments (after the command name). */
export function parseBundle(args: readonly string[]): BundleCommand {
  const parsed = parseFlags("bundle", args, {
    valued: ["out-dir", "serve", "hostname"],
    boolean: ["minify"],
  });
  if (parsed.positional.length !== 0) {
    throw new UsageError(`unexpected argument ${parsed.positional[0]}`, "bundle");
  }
  const outDir = flagValue(parsed, "out-dir");
  const serve = flagValue(parsed, "serve");
  return {
    command: "bundle",
    ...(outDir !== undefined ? { outDir } : {}),
    minify: parsed.flags.has("minify"),
    ...(serve !== undefined ? { serve: parsePort("bundle", serve) } : {}),
    hostname: flagValue(parsed, "hostname") ?? "127.0.0.1",
  };
}

/** Runs `bundle`: returns the exit code. */
export async function runBundle(command: BundleCommand, ctx: CommandContext): Promise<number> {
  const { out, signal } = ctx;
  // Bind first: a taken port fails at once, before a build that takes a while.
  let server: ExampleServer | undefined;
  if (command.serve !== undefined) {
    try {
      server = serveBrowserExample({
        port: command.serve,
        hostname: command.hostname,
        bundleDir: command.outDir,
      });
    } catch (error) {
      await out.write(errorEvent(error));
      return EXIT.FAILURE;
    }
  }
  try {
    let result: BuildResult;
    try {
      result = await buildBrowserBundles({ outDir: command.outDir, minify: command.minify });
    } catch (error) {
      await out.write(
        error instanceof BundleError
          ? { event: "error", code: "BUNDLE", message: error.message }
          : errorEvent(error),
      );
      return EXIT.FAILURE;
    }
    await out.write({ event: "built", ...result });
    if (!server) return out.failed ? EXIT.FAILURE : EXIT.OK;
    await out.write({ event: "serving", url: server.url });
    await aborted(signal);
    return out.failed ? EXIT.FAILURE : EXIT.OK;
  } finally {
    await server?.close();
  }
}
