/**
 * One client connection of the proxy (`examples/proxy.ts`): read the client's
 * `version`, refuse a loop back to ourselves (by resolved address and by
 * nonce), connect to the node, forward both ways, and close on idle.
 *
 * @module
 */

import type { Message } from "../layers/aliasing/aliasing.ts";
import { toHex } from "../layers/bytes.ts";
import { Bip324Error } from "../layers/errors.ts";
import type { IncomingConnection } from "../layers/session/listener.ts";
import { decodeVersion, ipToString } from "../layers/bitcoin/mod.ts";
import type { Network } from "../layers/bitcoin/network.ts";
import type { Session } from "../layers/session/session.ts";
import { openV1Session } from "../layers/session/v1_session.ts";
import { connect } from "../layers/session/connect.ts";
import { formatHostPort, type HostPort } from "./probe.ts";
import { canonicalIp, type SelfAddress } from "./proxy_address.ts";
import type { ProxyErrorCode, ProxyEvent } from "./proxy.ts";

/** Thrown (and reported as an event) when a connection cannot be served. */
export class ProxyRefusal extends Error {
  readonly code: ProxyErrorCode;
  constructor(code: ProxyErrorCode, message: string) {
    super(message);
    this.name = "ProxyRefusal";
    this.code = code;
  }
}

/** The code and message an error is reported with. */
export function errorInfo(error: unknown): { code: ProxyErrorCode; message: string } {
  if (error instanceof Bip324Error || error instanceof ProxyRefusal) {
    return { code: error.code, message: error.message };
  }
  return { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) };
}

/** A pass-through stream that counts messages and payload bytes, and calls `onMessage`. */
function counter(
  counts: { messages: number; bytes: number },
  onMessage: () => void,
): TransformStream<Message, Message> {
  return new TransformStream<Message, Message>({
    transform(message, controller) {
      counts.messages++;
      counts.bytes += message.payload.length;
      onMessage();
      controller.enqueue(message);
    },
  });
}

/**
 * Nonces of the `version` messages the proxy forwarded whose remote has not
 * answered yet, counted (two clients may share one). A client presenting one
 * of them is the proxy itself, as in Bitcoin Core's self-connection check.
 * Zero is held too: a loop must be caught even for clients that send no real
 * nonce (two such clients whose handshakes overlap collide; the second is
 * refused and may retry).
 */
export class PendingNonces {
  #held = new Map<bigint, number>();

  /** Whether `nonce` is one we forwarded and is still pending. */
  has(nonce: bigint): boolean {
    return this.#held.has(nonce);
  }

  /** Holds `nonce` until the returned function is called (idempotent). */
  hold(nonce: bigint): () => void {
    this.#held.set(nonce, (this.#held.get(nonce) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = this.#held.get(nonce)! - 1;
      if (left === 0) this.#held.delete(nonce);
      else this.#held.set(nonce, left);
    };
  }
}

/** What {@linkcode serveClient} needs from its proxy. */
export interface ServeContext {
  /** The network both sides speak. */
  network: Network;
  /** Toward the remote node: fall back to v1 or not. */
  fallback: "v1" | "none";
  /** Ms for the client's first message and for the remote handshake. */
  timeout: number;
  /** Ms without a message either way before the connection is closed (Infinity: never). */
  idleTimeout: number;
  /** The fixed target, if any. */
  fixed?: HostPort;
  /** Tells whether an address is the proxy's own. */
  self: SelfAddress;
  /** Resolves a host name to IP addresses. */
  resolve: (host: string) => Promise<string[]>;
  /** The proxy's pending version nonces. */
  nonces: PendingNonces;
  /** Aborts when the proxy is closing. */
  stopping: AbortSignal;
  /** Reports an event. */
  emit(event: ProxyEvent): void;
  /** Registers a session so that closing the proxy closes it. */
  track(session: Session): void;
}

/** The client's first message and what it says. */
interface FirstVersion {
  /** The message itself, to forward. */
  first: Message;
  /** Its nonce. */
  nonce: bigint;
  /** Its `addr_recv`. */
  addrRecv: HostPort;
}

/** Reads the client's first message, which must be a `version`; refused if its nonce is ours. */
async function firstVersion(ctx: ServeContext, local: Session): Promise<FirstVersion> {
  const reader = local.readable.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const next = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const message = `no version message from the client in ${ctx.timeout} ms`;
          reject(new Bip324Error("TIMEOUT", message, { origin: "local" }));
        }, ctx.timeout);
      }),
    ]);
    if (next.done) {
      throw local.closeReason ??
        new Bip324Error("UNEXPECTED_EOF", "client closed before sending version");
    }
    const first = next.value;
    if (first.type !== "version") {
      throw new ProxyRefusal("NO_TARGET", `first message must be version, got ${first.type}`);
    }
    const version = decodeVersion(first.payload);
    if (ctx.nonces.has(version.nonce)) {
      throw new ProxyRefusal(
        "SELF_CONNECTION",
        "the client's version nonce is one this proxy just forwarded: it connected to itself",
      );
    }
    const addrRecv = { host: ipToString(version.addrRecv.ip), port: version.addrRecv.port };
    return { first, nonce: version.nonce, addrRecv };
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}

/** Resolves `target` to the addresses to try; refused if any of them is this proxy. */
async function addressesOf(
  ctx: ServeContext,
  target: HostPort,
  fromClient: boolean,
): Promise<string[]> {
  let addresses: string[];
  try {
    const literal = canonicalIp(target.host);
    const found = literal !== null ? [literal] : await ctx.resolve(target.host);
    addresses = [...new Set(found.map((a) => canonicalIp(a)).filter((a) => a !== null))];
    if (addresses.length === 0) throw new Error("no IP address");
  } catch (error) {
    const message = `cannot resolve ${target.host}: ${errorInfo(error).message}`;
    throw new Bip324Error("TRANSPORT", message, { origin: "local", cause: error });
  }
  const us = addresses.find((ip) => ctx.self.reaches(ip, target.port));
  if (us !== undefined) {
    const to = formatHostPort(target.host, target.port);
    const via = canonicalIp(target.host) === us ? "" : ` (${formatHostPort(us, target.port)})`;
    throw new ProxyRefusal(
      "NO_TARGET",
      fromClient
        ? `version.addr_recv ${to}${via} is this proxy (give the proxy a fixed target)`
        : `to ${to}${via} is this proxy`,
    );
  }
  return addresses;
}

/** Connects to the first of `addresses` that takes a TCP connection. */
async function connectAny(ctx: ServeContext, addresses: string[], port: number): Promise<Session> {
  for (let i = 0;; i++) {
    try {
      return await connect({
        hostname: addresses[i],
        port,
        network: ctx.network,
        fallback: ctx.fallback,
        handshakeTimeout: ctx.timeout,
        signal: ctx.stopping,
      });
    } catch (error) {
      const unreachable = error instanceof Bip324Error && error.code === "TRANSPORT";
      if (!unreachable || i + 1 >= addresses.length || ctx.stopping.aborted) throw error;
    }
  }
}

/**
 * Calls `onIdle` once nothing was forwarded either way for `ms` (one timer,
 * re-armed for the time left when it fires). Call `touch` on every message
 * and `stop` when the connection ends.
 */
function idleWatch(ms: number, onIdle: () => void): { touch(): void; stop(): void } {
  if (!Number.isFinite(ms)) return { touch() {}, stop() {} };
  let last = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    const quiet = performance.now() - last;
    if (quiet < ms) timer = setTimeout(check, Math.max(1, ms - quiet));
    else onIdle();
  };
  timer = setTimeout(check, ms);
  return {
    touch: () => void (last = performance.now()),
    stop: () => clearTimeout(timer),
  };
}

/** The `transport` and `session_id` fields of an event about `remote`. */
function transportOf(remote: Session): { transport: "v2" | "v1"; session_id?: string } {
  return remote.transportVersion === 2
    ? { transport: "v2", session_id: toHex(remote.sessionId) }
    : { transport: "v1" };
}

/**
 * Serves one accepted client until either side ends or the connection idles,
 * reporting `connection` and `error` events and exactly one `closed` event.
 */
export async function serveClient(
  conn: IncomingConnection,
  id: number,
  ctx: ServeContext,
): Promise<void> {
  const { emit, fixed } = ctx;
  const started = performance.now();
  const from = conn.remote ?? "unknown";
  const local = openV1Session(conn.pair, { role: "responder", network: ctx.network });
  ctx.track(local);
  let remote: Session | undefined;
  let to: string | undefined;
  const up = { messages: 0, bytes: 0 };
  const down = { messages: 0, bytes: 0 };
  let failedSide: "client" | "remote" = "client";
  let releaseNonce = () => {};
  let idle: { touch(): void; stop(): void } | undefined;
  try {
    const { first, nonce, addrRecv } = await firstVersion(ctx, local);
    let target = fixed;
    if (!target) {
      const ip = canonicalIp(addrRecv.host);
      if (ip === "0.0.0.0" || ip === "::" || addrRecv.port === 0) {
        throw new ProxyRefusal(
          "NO_TARGET",
          `version.addr_recv ${formatHostPort(addrRecv.host, addrRecv.port)} names no node`,
        );
      }
      target = addrRecv;
    }
    to = formatHostPort(target.host, target.port);
    // A target that is this proxy is the client's fault when the client named it.
    failedSide = fixed ? "remote" : "client";
    const addresses = await addressesOf(ctx, target, !fixed);
    failedSide = "remote";
    releaseNonce = ctx.nonces.hold(nonce); // from here on, our version may come back to us
    remote = await connectAny(ctx, addresses, target.port);
    ctx.track(remote);
    emit({ event: "connection", id, from, to, ...transportOf(remote) });
    const writer = remote.writable.getWriter();
    try {
      await writer.write(first);
      up.messages++;
      up.bytes += first.payload.length;
    } finally {
      writer.releaseLock();
    }
    const sessions = [local, remote];
    idle = idleWatch(ctx.idleTimeout, () => {
      const message = `no message either way for ${ctx.idleTimeout} ms`;
      emit({ event: "error", id, from, to, code: "IDLE_TIMEOUT", message });
      for (const s of sessions) s.close();
    });
    const { touch } = idle;
    // Either side ending ends the other: a pipe closes (or aborts) its destination, and a
    // destination that closed cancels its source. The remote's first message answers our
    // version: from then on its nonce is no longer pending.
    await Promise.allSettled([
      local.readable.pipeThrough(counter(up, touch)).pipeTo(remote.writable),
      remote.readable.pipeThrough(counter(down, () => (touch(), releaseNonce())))
        .pipeTo(local.writable),
    ]);
  } catch (error) {
    if (!ctx.stopping.aborted) {
      emit({ event: "error", id, from, to, side: failedSide, ...errorInfo(error) });
    }
  } finally {
    idle?.stop();
    releaseNonce();
    await Promise.all([local.close(), remote?.close()]);
  }
  for (const [side, session] of [["client", local], ["remote", remote]] as const) {
    const reason = session?.closeReason;
    if (reason) emit({ event: "error", id, from, to, side, ...errorInfo(reason) });
  }
  emit({
    event: "closed",
    id,
    from,
    ...(to !== undefined ? { to } : {}),
    ...(remote ? transportOf(remote) : {}),
    messages: { to_remote: up.messages, to_client: down.messages },
    bytes: { to_remote: up.bytes, to_client: down.bytes },
    duration_ms: Math.round(performance.now() - started),
  });
}
