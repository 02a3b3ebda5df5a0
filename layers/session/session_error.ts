/**
 * How any failure reaching a session becomes a `Bip324Error`.
 *
 * @module
 */

import { Bip324Error } from "../errors.ts";

/** Any failure as a `Bip324Error` (transport failures become `TRANSPORT`). */
export function asSessionError(error: unknown): Bip324Error {
  if (error instanceof Bip324Error) return error;
  if ((error as { code?: unknown })?.code === "OVERSIZED") {
    // A transport's own limit (e.g. a WebSocket frame over maxFrameBytes): ours, not a crash.
    return new Bip324Error("OVERSIZED", `${(error as Error).message ?? error}`, {
      cause: error,
      origin: "local",
    });
  }
  return new Bip324Error("TRANSPORT", `transport failed: ${error}`, { cause: error });
}
