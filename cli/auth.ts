/**
 * The private-authentication flags `cat` and `listen` share (experimental;
 * both ends must run this library; see docs/authentication.md):
 * `--identity KEYFILE` (prove the private key in the file to a challenging
 * peer), `--accept PUBKEY[,PUBKEY…]` (challenge the peer for one of these
 * keys) and `--accept-slots N` (the public size of our challenge). Any of
 * them runs authentication on every session, with random keys where none is
 * given, so nobody can tell which sessions check.
 *
 * The key file is read when the command runs, not when it is parsed. A bad
 * or unreadable key is a usage error whose message never contains key
 * material (not even a private key given to `--accept` by mistake).
 *
 * @module
 */

import type { AuthenticateOptions } from "../layers/auth/authenticate.ts";
import { parsePrivateKey, parsePublicKey, publicKeyOf } from "../layers/auth/keys.ts";
import { MAX_ACCEPT_SLOTS } from "../layers/auth/private_auth.ts";
import { toHex } from "../layers/bytes.ts";
import { flagValue, parseCount, type ParsedArgs, UsageError } from "./args.ts";

/** The valued flags every command with private authentication takes. */
export const AUTH_FLAGS: readonly string[] = ["identity", "accept", "accept-slots"];

/** Default `--accept-slots` when `--accept` names several keys. */
export const DEFAULT_MULTI_KEY_SLOTS = 8;

/** A key file is a line of 64 hex digits; anything much longer is not one. */
const MAX_KEY_FILE_BYTES = 1024;

/** The private-authentication flags, as parsed (no secret: the key file is read later). */
export interface AuthFlags {
  /** `--identity KEYFILE`: the file holding our private key (64 hex digits). */
  identityFile?: string;
  /** `--accept`: the public keys we accept from the peer (empty: we challenge for random keys). */
  accept: Uint8Array[];
  /** `--accept-slots`: slots in our challenge (1 runs Countersign, 2..64 the multi-key protocol). */
  acceptSlots: number;
}

/** The options lines of `--help` for the authentication flags. */
export const AUTH_HELP =
  `Private authentication (experimental; both ends must run this library): any of
these runs it on every session, before the session event; a peer that does not run it
fails with UNEXPECTED_MESSAGE or TIMEOUT.
  --identity FILE   prove the private key in FILE (64 hex digits, as keygen writes it)
                    to a peer that challenges for it
  --accept KEYS     challenge the peer for one of these public keys (66 hex digits each,
                    compressed SEC1, comma-separated); the session event then says
                    "authenticated": true|false
  --accept-slots N  keys our challenge can hold, 1..${MAX_ACCEPT_SLOTS} (default 1 for one key, ${DEFAULT_MULTI_KEY_SLOTS} for
                    several); its size is public, so keep N the same everywhere`;

const PRIVATE_KEY_HEX = /^[0-9a-fA-F]{64}$/;
const PUBLIC_KEY_HEX = /^0[23][0-9a-fA-F]{64}$/;

/** Parses `--accept`'s list; messages name an entry by position, never by its text. */
function parseAcceptList(command: string, text: string): Uint8Array[] {
  const parts = text.split(",");
  const seen = new Set<string>();
  const keys: Uint8Array[] = [];
  parts.forEach((raw, i) => {
    const part = raw.trim();
    const which = parts.length > 1 ? `public key ${i + 1} of ${parts.length}` : "the public key";
    if (!PUBLIC_KEY_HEX.test(part)) {
      const why = PRIVATE_KEY_HEX.test(part)
        ? "is 64 hex digits, the length of a PRIVATE key: never pass that on a command line"
        : `is not 66 hex digits starting 02 or 03 (got ${part.length} characters)`;
      throw new UsageError(`--accept: ${which} ${why}`, command);
    }
    let key: Uint8Array;
    try {
      key = parsePublicKey(part);
    } catch {
      throw new UsageError(`--accept: ${which} is not a point on secp256k1`, command);
    }
    const id = part.toLowerCase();
    if (!seen.has(id)) {
      seen.add(id);
      keys.push(key);
    }
  });
  return keys;
}

/**
 * The authentication flags of `parsed`, or `undefined` when none is given
 * (authentication off). Throws {@linkcode UsageError} for a bad public key,
 * a bad slot count, more keys than slots, or a key where a file is due.
 */
export function parseAuthFlags(command: string, parsed: ParsedArgs): AuthFlags | undefined {
  if (!AUTH_FLAGS.some((flag) => parsed.flags.has(flag))) return undefined;
  const identityFile = flagValue(parsed, "identity");
  if (identityFile !== undefined && PRIVATE_KEY_HEX.test(identityFile.trim())) {
    throw new UsageError(
      "--identity takes the name of a key FILE, not the key itself (keep keys out of " +
        "command lines and shell history)",
      command,
    );
  }
  const acceptText = flagValue(parsed, "accept");
  const accept = acceptText === undefined ? [] : parseAcceptList(command, acceptText);
  const slotsText = flagValue(parsed, "accept-slots");
  const acceptSlots = slotsText === undefined
    ? (accept.length > 1 ? DEFAULT_MULTI_KEY_SLOTS : 1)
    : parseCount(command, "accept-slots", slotsText, 1, MAX_ACCEPT_SLOTS);
  if (accept.length > acceptSlots) {
    throw new UsageError(
      `--accept names ${accept.length} keys but the challenge holds ${acceptSlots}: give ` +
        `--accept-slots N with N ≥ ${accept.length} (at most ${MAX_ACCEPT_SLOTS})`,
      command,
    );
  }
  return { ...(identityFile !== undefined ? { identityFile } : {}), accept, acceptSlots };
}

/** The authentication options a command runs with, once the key file is read. */
export interface LoadedAuth {
  /** For `SessionOptions.auth`. */
  options: AuthenticateOptions;
  /** The public key of `--identity` (hex), if given. */
  publicKey?: string;
  /** Zeroes our private key (call when every session is over). */
  wipe(): void;
}

function readFailure(error: unknown): string {
  const errors = Deno.errors;
  if (error instanceof errors.NotFound) return "no such file";
  if (
    error instanceof errors.PermissionDenied ||
    (errors.NotCapable !== undefined && error instanceof errors.NotCapable)
  ) {
    return "permission denied";
  }
  if (error instanceof errors.IsADirectory) return "it is a directory";
  return error instanceof Error ? error.name : "unreadable";
}

/** Reads at most {@linkcode MAX_KEY_FILE_BYTES} of `path` (a device or a huge file is refused). */
async function readKeyFile(command: string, path: string): Promise<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw new UsageError(
      `cannot read the --identity key file ${path}: ${readFailure(error)}`,
      command,
    );
  }
  const buffer = new Uint8Array(MAX_KEY_FILE_BYTES + 1);
  let length = 0;
  try {
    while (length < buffer.length) {
      const n = await file.read(buffer.subarray(length));
      if (n === null) break;
      length += n;
    }
  } catch (error) {
    buffer.fill(0);
    throw new UsageError(
      `cannot read the --identity key file ${path}: ${readFailure(error)}`,
      command,
    );
  } finally {
    file.close();
  }
  if (length > MAX_KEY_FILE_BYTES) {
    buffer.fill(0);
    throw new UsageError(
      `the --identity key file ${path} is not a key file (over ${MAX_KEY_FILE_BYTES} bytes)`,
      command,
    );
  }
  return buffer.subarray(0, length);
}

/**
 * Reads the key file (if any) and returns the session's `auth` options.
 * `timeout` (the command's `--timeout`) also bounds the exchange. Throws
 * {@linkcode UsageError} for an unreadable file or one that does not hold a
 * private key; the message names the file, never its contents.
 */
export async function loadAuth(
  command: string,
  flags: AuthFlags,
  timeout?: number,
): Promise<LoadedAuth> {
  let identity: Uint8Array | undefined;
  if (flags.identityFile !== undefined) {
    const bytes = await readKeyFile(command, flags.identityFile);
    try {
      identity = parsePrivateKey(new TextDecoder("utf-8", { fatal: false }).decode(bytes));
    } catch (error) {
      // parsePrivateKey's messages give a length or a range, never the key.
      throw new UsageError(
        `the --identity key file ${flags.identityFile} does not hold a private key: ` +
          (error as Error).message,
        command,
      );
    } finally {
      bytes.fill(0);
    }
  }
  const key = identity;
  return {
    options: {
      accept: flags.accept,
      acceptSlots: flags.acceptSlots,
      identity: key ? [key] : [],
      ...(timeout !== undefined ? { timeout } : {}),
    },
    ...(key ? { publicKey: toHex(publicKeyOf(key)) } : {}),
    wipe: () => key?.fill(0),
  };
}
