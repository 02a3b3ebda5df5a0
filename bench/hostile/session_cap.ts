// `cli.ts listen --max-sessions 8 --idle-timeout 3000` as a subprocess: 12 initiators connect
// at once with the default fallback; at most 8 may get in, none on v1, every refused one gets
// a typed error; then nobody says a word and the listener must close every admitted session
// for being idle, after which a new session gets in again. Bounded: 12 + 1 connections, 20 s
// per wait.
import { Bip324Error, connect, type Session } from "../../mod.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const WAIT_MS = 20_000;
const MAX = 8;
const IDLE_MS = 3000;

type Event = Record<string, unknown>;

/** What the scenario saw. */
export interface SessionCapResult {
  ok: boolean;
  admitted: number;
  refused: Record<string, number>;
  v1: number;
  /** Sessions the listener closed with IDLE_TIMEOUT. */
  idleClosed: number;
  /** Admitted sessions whose client end saw the close. */
  clientsClosed: number;
  /** A session after the idle ones were closed. */
  lateAdmitted: boolean;
  /** Milliseconds from the last admission to the last idle close. */
  idleCloseMs: number;
}

/** Runs the scenario (see the module doc). */
export async function sessionCap(): Promise<SessionCapResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "listen",
      "--port",
      "0",
      "--network",
      "regtest",
      "--max-sessions",
      String(MAX),
      "--idle-timeout",
      String(IDLE_MS),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const events: Event[] = [];
  let wake: (() => void) | undefined;
  const reading = (async () => {
    let buffer = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        try {
          events.push(JSON.parse(buffer.slice(0, nl)));
        } catch { /* not an event */ }
        buffer = buffer.slice(nl + 1);
        wake?.();
      }
    }
  })();
  const until = async (what: string, done: () => boolean) => {
    const give = Date.now() + WAIT_MS;
    while (!done()) {
      if (Date.now() > give) throw new Error(`session cap: timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  };
  const sessions: Session[] = [];
  try {
    await until("the listening event", () => events.some((e) => e.event === "listening"));
    const port = events.find((e) => e.event === "listening")!.port as number;
    const results = await Promise.allSettled(
      Array.from(
        { length: 12 },
        () => connect({ hostname: "127.0.0.1", port, network: "regtest" }),
      ),
    );
    const refused: Record<string, number> = {};
    for (const r of results) {
      if (r.status === "fulfilled") sessions.push(r.value);
      else {
        const code = r.reason instanceof Bip324Error ? r.reason.code : `untyped ${r.reason}`;
        refused[code] = (refused[code] ?? 0) + 1;
      }
    }
    const admittedAt = Date.now();
    const idle = () => events.filter((e) => e.event === "closed" && e.reason === "IDLE_TIMEOUT");
    await until("the idle closes", () => idle().length >= sessions.length);
    const idleCloseMs = Date.now() - admittedAt;
    let clientsClosed = 0;
    for (const s of sessions) s.closed.then(() => clientsClosed++);
    await until("the clients to see the close", () => clientsClosed === sessions.length)
      .catch(() => {});
    let lateAdmitted = false;
    try {
      const late = await connect({
        hostname: "127.0.0.1",
        port,
        network: "regtest",
        fallback: "none",
      });
      sessions.push(late);
      lateAdmitted = late.transportVersion === 2;
    } catch { /* not admitted */ }
    const admitted = results.filter((r) => r.status === "fulfilled").length;
    const v1 = sessions.filter((s) => s.transportVersion === 1).length;
    const typed = Object.keys(refused).every((c) => !c.startsWith("untyped"));
    return {
      ok: admitted >= 1 && admitted <= MAX && v1 === 0 && typed && idle().length === admitted &&
        clientsClosed === admitted && lateAdmitted,
      admitted,
      refused,
      v1,
      idleClosed: idle().length,
      clientsClosed,
      lateAdmitted,
      idleCloseMs,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    const killer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 3000);
    await child.status;
    clearTimeout(killer);
    await reading.catch(() => {});
  }
}
