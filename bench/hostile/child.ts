// Starting and reading the child processes of the hostile scenarios.
const HERE = new URL("./", import.meta.url);

/** A child `deno run` process whose stdout is JSON lines; `latest` is the last line seen. */
export class Child {
  readonly process: Deno.ChildProcess;
  latest: Record<string, number> = {};
  readonly first: Promise<Record<string, number>>;
  #done: Promise<void>;

  constructor(script: string, args: string[] = []) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", new URL(script, HERE).pathname, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.process = child;
    let resolveFirst!: (v: Record<string, number>) => void;
    this.first = new Promise((r) => (resolveFirst = r));
    this.#done = (async () => {
      let buffer = "";
      for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
        buffer += text;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          try {
            const value = JSON.parse(line);
            if (Object.keys(this.latest).length === 0 && "port" in value) resolveFirst(value);
            else this.latest = value;
          } catch { /* not ours */ }
        }
      }
    })();
  }

  /** Waits for a fresh sample (two intervals). */
  async sample(): Promise<Record<string, number>> {
    await new Promise((r) => setTimeout(r, 450));
    return this.latest;
  }

  async stop(): Promise<void> {
    try {
      this.process.kill("SIGKILL");
    } catch { /* gone */ }
    await this.process.status;
    await this.#done.catch(() => {});
  }
}

export const MIB = 1 << 20;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
