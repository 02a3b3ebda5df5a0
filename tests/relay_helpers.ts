// Shared by the relay tests: a BIP324 echo responder, a raw TCP "node", raw WebSocket
// handshakes and frames, polling.
import assert from "node:assert/strict";
import {
  type Relay,
  RELAY_CLOSE_REASONS,
  type RelayMetrics,
  type RelayOptions,
  startRelay,
} from "../examples/relay.ts";
import { listen } from "../layers/session/connect.ts";
import type { Session } from "../layers/session/session.ts";
import type { SessionListener } from "../layers/session/listener.ts";
import { concat, within } from "./helpers.ts";

/** Every wait in these tests is bounded by this. */
export const TIMEOUT = 20_000;
export const ROOT = new URL("../", import.meta.url);
export const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Helpers: a BIP324 responder, a raw TCP "node", raw WebSocket handshakes, polling.

/** A BIP324 responder on loopback whose sessions echo every message. */
export function startEchoResponder(): {
  listener: SessionListener;
  port: number;
  sessions: Session[];
  close(): Promise<void>;
} {
  const listener = listen({ port: 0, hostname: "127.0.0.1", network: "regtest" });
  const sessions: Session[] = [];
  const served = (async () => {
    for await (const s of listener) {
      sessions.push(s);
      s.readable.pipeTo(s.writable).catch(() => {});
    }
  })();
  return {
    listener,
    port: listener.addr.port,
    sessions,
    async close() {
      await listener.close();
      await within(served, TIMEOUT, "responder loop");
      await Promise.all(sessions.map((s) => s.close()));
    },
  };
}

/** A raw TCP server standing in for a node: hands out accepted connections in order. */
export class RawNode {
  readonly port: number;
  readonly conns: Deno.Conn[] = [];
  accepted = 0;
  #listener: Deno.Listener;
  #waiters: ((c: Deno.Conn) => void)[] = [];
  #queue: Deno.Conn[] = [];
  #loop: Promise<void>;

  constructor() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#loop = (async () => {
      for (;;) {
        let conn: Deno.Conn;
        try {
          conn = await listener.accept();
        } catch {
          return;
        }
        this.accepted++;
        this.conns.push(conn);
        const w = this.#waiters.shift();
        if (w) w(conn);
        else this.#queue.push(conn);
      }
    })();
  }

  /** The next accepted connection. */
  accept(): Promise<Deno.Conn> {
    const c = this.#queue.shift();
    if (c) return Promise.resolve(c);
    return within(new Promise((r) => this.#waiters.push(r)), TIMEOUT, "node accept");
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#loop;
    for (const c of this.conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }
}

/** Reads exactly `n` bytes (or until EOF) from a connection. */
export async function readN(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await within(conn.read(out.subarray(got)), TIMEOUT, `read ${n} bytes`);
    if (r === null) break;
    got += r;
  }
  return out.subarray(0, got);
}

/** Writes all of `bytes` (`conn.write` may write fewer). */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let o = 0; o < bytes.length;) o += await conn.write(bytes.subarray(o));
}

/** Resolves true once the peer has closed the connection (EOF or reset), reading and dropping data. */
export async function waitEof(conn: Deno.Conn, ms = TIMEOUT): Promise<void> {
  const buf = new Uint8Array(65536);
  const deadline = Date.now() + ms;
  for (;;) {
    if (Date.now() > deadline) throw new Error("connection did not close in time");
    try {
      const r = await within(conn.read(buf), ms, "EOF");
      if (r === null) return;
    } catch (error) {
      if (error instanceof Error && /did not finish/.test(error.message)) throw error;
      return; // reset: closed as well
    }
  }
}

/** Sends a WebSocket upgrade request by hand and returns the HTTP status (and the conn). */
export async function rawUpgrade(
  port: number,
  path = "/",
): Promise<{ status: number; head: string; conn: Deno.Conn }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  await conn.write(encoder.encode(request));
  let head = "";
  const buf = new Uint8Array(1);
  // Byte by byte up to the end of the headers, so no frame bytes are consumed.
  while (!head.endsWith("\r\n\r\n") && head.length < 8192) {
    const n = await within(conn.read(buf), TIMEOUT, "HTTP response");
    if (n === null) break;
    head += String.fromCharCode(buf[0]);
  }
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, conn };
}

/** A masked binary WebSocket frame (client → server), payload < 126 bytes. */
export function clientFrame(payload: Uint8Array): Uint8Array {
  assert.ok(payload.length < 126);
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(6 + payload.length);
  frame[0] = 0x82;
  frame[1] = 0x80 | payload.length;
  frame.set(mask, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/** Opens a standard WebSocket (binary) and resolves once it is open. */
export async function openWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await within(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
    }),
    TIMEOUT,
    `open ${url}`,
  );
  return ws;
}

/** Collects a WebSocket's binary messages and its close. */
export function collect(ws: WebSocket): { bytes(): Uint8Array; closed: Promise<CloseEvent> } {
  const parts: Uint8Array[] = [];
  ws.addEventListener("message", (e) => parts.push(new Uint8Array(e.data as ArrayBuffer)));
  const closed = new Promise<CloseEvent>((r) => ws.addEventListener("close", (e) => r(e)));
  return {
    bytes: () => concat(parts),
    closed,
  };
}

/** Polls `check` every 10 ms until it returns true (bounded). */
export async function until(check: () => boolean, what: string, ms = TIMEOUT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts a relay on a free loopback port. */
export function relayTo(port: number, options: Partial<RelayOptions> = {}): Relay {
  return startRelay({ port: 0, hostname: "127.0.0.1", to: `127.0.0.1:${port}`, ...options });
}

/** Runs `body` with a raw node and a relay to it; both are closed after, however it ends. */
export async function withRelay(
  body: (node: RawNode, relay: Relay) => Promise<void>,
  options: Partial<RelayOptions> = {},
): Promise<void> {
  const node = new RawNode();
  const relay = relayTo(node.port, options);
  try {
    await body(node, relay);
  } finally {
    await relay.close();
    await node.close();
  }
}

export function url(relay: Relay, query = ""): string {
  return `ws://127.0.0.1:${relay.addr.port}/${query}`;
}

export function zeroCloses(): RelayMetrics["closes"] {
  return Object.fromEntries(RELAY_CLOSE_REASONS.map((r) => [r, 0])) as RelayMetrics["closes"];
}

// ---------------------------------------------------------------------------------------------
