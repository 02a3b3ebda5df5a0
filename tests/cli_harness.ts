// The CLI as a subprocess, for the cli tests: JSON lines from stdout/stderr, stdin, signals.
import assert from "node:assert/strict";
import { readJsonLines, within } from "./helpers.ts";

/** Every wait in these tests is bounded by this, so a broken CLI fails instead of hanging. */
export const TIMEOUT = 20_000;

export const ROOT: URL = new URL("../", import.meta.url);

export type Line = Record<string, unknown>;

/** Rejects after `ms` unless `promise` settles first. */
export const withTimeout = <T>(promise: Promise<T>, what: string, ms = TIMEOUT): Promise<T> =>
  within(promise, ms, what);

/** JSON lines from a byte stream, readable one by one with a predicate. */
export class LineReader {
  /** Every line read so far (parsed, or `{ raw }` if it was not JSON). */
  readonly all: Line[] = [];
  /** Resolves once the stream has ended. */
  readonly done: Promise<void>;
  #pending: Line[] = [];
  #wake?: () => void;
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#pump(stream);
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    try {
      rest = await readJsonLines(stream, (line) => {
        this.all.push(line);
        this.#pending.push(line);
        this.#wake?.();
      });
    } finally {
      if (rest) this.all.push({ raw: rest });
      this.#ended = true;
      this.#wake?.();
    }
  }

  /** The next unread line matching `match` (lines before it are consumed). */
  async next(match: (line: Line) => boolean = () => true, what = "a line"): Promise<Line> {
    const find = async (): Promise<Line> => {
      for (;;) {
        while (this.#pending.length > 0) {
          const line = this.#pending.shift()!;
          if (match(line)) return line;
        }
        if (this.#ended) throw new Error(`stream ended before ${what}; saw ${this.dump()}`);
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
    };
    return await withTimeout(find(), `${what}; saw ${this.dump()}`);
  }

  /** Waits until `test` holds for every line read so far (lines are not consumed). */
  async until(test: (all: Line[]) => boolean, what: string): Promise<void> {
    const deadline = performance.now() + TIMEOUT;
    while (!test(this.all)) {
      if (this.#ended) throw new Error(`stream ended before ${what}; saw ${this.dump()}`);
      if (performance.now() > deadline) throw new Error(`timed out: ${what}; saw ${this.dump()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Every line so far, for failure messages. */
  dump(): string {
    return this.all.map((l) => JSON.stringify(l)).join("\n");
  }
}

/** The CLI as a subprocess. */
export class Cli {
  readonly stdout: LineReader;
  readonly stderr: LineReader;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stdinClosed = false;
  #exited = false;

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  #status?: Promise<Deno.CommandStatus>;

  constructor(args: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli.ts", ...args],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#child.status.then(() => (this.#exited = true));
    this.stdout = new LineReader(this.#child.stdout);
    this.stderr = new LineReader(this.#child.stderr);
  }

  /** Writes one line to stdin (an object is sent as JSON). */
  async send(line: Line | string): Promise<void> {
    const text = typeof line === "string" ? line : JSON.stringify(line);
    await withTimeout(this.#stdin.write(new TextEncoder().encode(text + "\n")), "stdin write");
  }

  /** Closes stdin (EOF). */
  async closeStdin(): Promise<void> {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    await withTimeout(this.#stdin.close(), "stdin close").catch(() => {});
  }

  /** The exit status, once the process ends (bounded by the timeout). */
  async status(): Promise<Deno.CommandStatus> {
    this.#status ??= this.#child.status;
    const status = await withTimeout(this.#status, "process exit");
    await withTimeout(Promise.all([this.stdout.done, this.stderr.done]), "output end");
    return status;
  }

  /** Sends a signal (if the process still runs). */
  signal(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch { /* already exited */ }
  }

  /** SIGTERM (then SIGKILL if needed), and waits for everything to end. */
  async dispose(): Promise<void> {
    await this.closeStdin();
    this.signal("SIGTERM");
    try {
      await this.status();
    } catch {
      this.signal("SIGKILL");
      await this.#child.status;
      await Promise.all([this.stdout.done, this.stderr.done]);
    }
  }
}

/** Starts `listen --port 0` with `flags` and returns it with its port. */
export async function startListener(flags: string[]): Promise<{ cli: Cli; port: number }> {
  const cli = new Cli(["listen", "--port", "0", "--network", "regtest", ...flags]);
  try {
    const line = await cli.stdout.next((l) => l.event === "listening", "listening event");
    assert.equal(typeof line.port, "number");
    assert.ok((line.port as number) > 0);
    return { cli, port: line.port as number };
  } catch (error) {
    await cli.dispose();
    throw error;
  }
}

/** Whether a line is a received message. */
export const isMessage = (l: Line): boolean => typeof l.type === "string";

/** Every stderr line as text. */
export function text(reader: LineReader): string {
  return reader.all.map((l) => typeof l.raw === "string" ? l.raw : JSON.stringify(l)).join("\n");
}

export { closedPort, silentServer } from "./peers.ts";
