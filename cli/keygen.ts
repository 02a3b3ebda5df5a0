/**
 * `cli.ts keygen`: makes an identity key pair for private authentication
 * (`--identity KEYFILE` proves the private key; peers `--accept` the public
 * key). Prints both as one JSON line, or, with `--out FILE`, writes the
 * private key to a new file (mode 0600) and prints only the public key.
 *
 * @module
 */

import { generateIdentity } from "../layers/auth/keys.ts";
import { toHex } from "../layers/bytes.ts";
import { flagValue, parseFlags, UsageError } from "./args.ts";
import { type CommandContext, EXIT, EXIT_CODES_HELP } from "./output.ts";

/** Options for `keygen`. */
export interface KeygenCommand {
  /** The command. */
  command: "keygen";
  /** Write the private key to this new file instead of printing it (`--out`). */
  out?: string;
}

/** One-line synopsis. */
export const KEYGEN_SYNOPSIS = "cli.ts keygen [--out FILE]";

/** `cli.ts keygen --help`. */
export const KEYGEN_HELP: string = `Usage: ${KEYGEN_SYNOPSIS}

Make a random identity key pair for private authentication (experimental): give the
private key file to --identity, the public key to the peers' --accept.

Options:
  --out FILE        write the private key (64 hex digits and a newline) to FILE, a new
                    file readable only by you (an existing FILE is never overwritten),
                    and print only the public key
  -h, --help        show this help

Output (stdout, JSON lines):
  {"private_key":"<64 hex digits>","public_key":"<66 hex digits>"}     without --out
  {"public_key":"<66 hex digits>","key_file":"FILE"}                   with --out
  {"event":"error","code":"KEY_FILE","message":"<text>"}               FILE not written
Keep the private key secret: whoever holds it can prove your identity.

${EXIT_CODES_HELP}`;

/** Parses `keygen`'s arguments (after the command name). */
export function parseKeygen(args: readonly string[]): KeygenCommand {
  const parsed = parseFlags("keygen", args, { valued: ["out"] });
  if (parsed.positional.length !== 0) {
    throw new UsageError(`unexpected argument ${parsed.positional[0]}`, "keygen");
  }
  const out = flagValue(parsed, "out");
  return { command: "keygen", ...(out !== undefined ? { out } : {}) };
}

/** Runs `keygen`: returns the exit code. */
export async function runKeygen(command: KeygenCommand, ctx: CommandContext): Promise<number> {
  const { privateKey, publicKey } = generateIdentity();
  const encoder = new TextEncoder();
  const secret = encoder.encode(toHex(privateKey) + "\n");
  try {
    if (command.out === undefined) {
      await ctx.out.write({ private_key: toHex(privateKey), public_key: toHex(publicKey) });
      return ctx.out.failed ? EXIT.FAILURE : EXIT.OK;
    }
    try {
      await Deno.writeFile(command.out, secret, { createNew: true, mode: 0o600 });
    } catch (error) {
      const why = error instanceof Deno.errors.AlreadyExists
        ? "it already exists (never overwritten)"
        : error instanceof Error
        ? error.message
        : String(error);
      await ctx.out.write({
        event: "error",
        code: "KEY_FILE",
        message: `cannot create ${command.out}: ${why}`,
      });
      return EXIT.FAILURE;
    }
    await ctx.out.write({ public_key: toHex(publicKey), key_file: command.out });
    return ctx.out.failed ? EXIT.FAILURE : EXIT.OK;
  } finally {
    privateKey.fill(0);
    secret.fill(0);
  }
}
