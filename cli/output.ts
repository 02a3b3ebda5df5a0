/**
 * What every `cli.ts` command shares for output: the JSON-lines writer, the
 * error event (`{"event":"error","code":..,"message":..}`, always on
 * stdout), the exit codes, and the I/O a command runs with.
 *
 * stdout carries JSON lines only (events, messages, errors); stderr carries
 * text for people (usage errors, warnings such as a plaintext v1 session).
 *
 * @module
 */

import { Bip324Error } from "../layers/errors.ts";

/** Exit codes, the same for every command. */
export const EXIT: Readonly<{
  OK: 0;
  FAILURE: 1;
  USAGE: 2;
  BAD_INPUT: 3;
  INTERRUPTED: 130;
}> = Object.freeze(
  {
    /** Success: the session or server ended cleanly. */
    OK: 0,
    /** Failure: could not connect or bind, or the session ended with an error (see the error event). */
    FAILURE: 1,
    /** Usage error: the command line was not accepted (nothing was done). */
    USAGE: 2,
    /** `cat`: the session ended cleanly, but some input lines were invalid and not sent. */
    BAD_INPUT: 3,
    /** Interrupted (SIGINT/SIGTERM) before a command that finishes on its own was done. */
    INTERRUPTED: 130,
  } as const,
);

/** The exit-code table printed in every `--help`. */
export const EXIT_CODES_HELP: string = `Exit codes:
  0    success: the session ended cleanly (servers: stopped by SIGINT/SIGTERM)
  1    failure: could not connect or bind, or the session ended with an error;
       the reason is the last {"event":"error","code":..,"message":..} line on stdout
  2    usage error (one line on stderr; nothing was done)
  3    cat: the session ended cleanly but some input lines were invalid and not sent
       (each reported as {"event":"error","code":"BAD_INPUT","line":N,..})
  130  cat, probe: interrupted by SIGINT/SIGTERM before finishing
`;

/**
 * Writes JSON lines through a single writer, in call order; each call's
 * promise settles once its line has been accepted by the stream, so awaiting
 * it applies the output's backpressure. Never rejects: after an output
 * failure, lines are dropped and {@linkcode JsonLineWriter.failed} is set.
 */
export class JsonLineWriter {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #encoder = new TextEncoder();
  #failed = false;
  #last: Promise<void> = Promise.resolve();

  /** Takes the writer lock of `stream` until {@linkcode JsonLineWriter.release}. */
  constructor(stream: WritableStream<Uint8Array>) {
    this.#writer = stream.getWriter();
  }

  /** Whether a write to the output failed (e.g. a closed pipe). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Writes `value` as one JSON line. */
  write(value: Record<string, unknown>): Promise<void> {
    return this.text(JSON.stringify(value) + "\n");
  }

  /** Writes raw text (help, warnings). */
  text(text: string): Promise<void> {
    if (this.#failed) return Promise.resolve();
    const written = this.#writer.write(this.#encoder.encode(text)).catch(() => {
      this.#failed = true;
    });
    this.#last = written;
    return written;
  }

  /** Waits for every queued line, then releases the stream (without closing it). */
  async release(): Promise<void> {
    await this.#last;
    this.#writer.releaseLock();
  }
}

/** What a command runs with. */
export interface CommandContext {
  /** JSON lines (stdout). */
  out: JsonLineWriter;
  /** Text for people (stderr). */
  err: JsonLineWriter;
  /** Input (stdin; only `cat` reads it). */
  stdin: ReadableStream<Uint8Array>;
  /** Aborted on SIGINT/SIGTERM (or by the embedder). */
  signal: AbortSignal;
}

/** An error as the `code` and `message` of an error event. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof Bip324Error) return { code: error.code, message: error.message };
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return { code: "TIMEOUT", message: error.message };
  }
  if (error instanceof DOMException && error.name === "AbortError") {
    return { code: "ABORTED", message: error.message };
  }
  const errors = (globalThis as { Deno?: typeof Deno }).Deno?.errors;
  if (errors && error instanceof errors.AddrInUse) {
    return { code: "ADDR_IN_USE", message: error.message };
  }
  if (
    errors && [
      errors.ConnectionRefused,
      errors.ConnectionReset,
      errors.NotConnected,
      errors.AddrNotAvailable,
      errors.PermissionDenied,
      errors.NotCapable,
    ].some((type) => type !== undefined && error instanceof type)
  ) {
    return { code: "TRANSPORT", message: (error as Error).message };
  }
  const coded = error as { code?: unknown; message?: unknown };
  const runtime = errors && Object.values(errors).some((type) => error instanceof type);
  if (
    error instanceof Error && !runtime && typeof coded.code === "string" &&
    /^[A-Z_]+$/.test(coded.code)
  ) {
    return { code: coded.code, message: error.message }; // e.g. the proxy's NO_TARGET
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: "INTERNAL", message };
}

/** The error event for `error`, with extra fields (e.g. `session_id`). */
export function errorEvent(
  error: unknown,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { event: "error", ...describeError(error), ...extra };
}

/** The error event printed when SIGINT/SIGTERM stops a command that finishes on its own. */
export const INTERRUPTED_EVENT: Readonly<Record<string, unknown>> = Object.freeze({
  event: "error",
  code: "ABORTED",
  message: "interrupted (SIGINT/SIGTERM)",
});

/** Resolves when `signal` aborts (at once if it already has). */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * Writes why a command could not start (the interrupt event if `signal` aborted it, else the
 * error event) and returns the exit code to use.
 */
export async function startFailed(
  out: JsonLineWriter,
  signal: AbortSignal,
  error: unknown,
): Promise<number> {
  if (signal.aborted) {
    await out.write({ ...INTERRUPTED_EVENT });
    return EXIT.INTERRUPTED;
  }
  await out.write(errorEvent(error));
  return EXIT.FAILURE;
}
