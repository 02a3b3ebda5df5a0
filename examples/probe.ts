/**
 * Probes a Bitcoin node: connects with BIP324 (falling back to the legacy v1
 * transport if the node cannot speak v2), performs the `version`/`verack`
 * exchange (collecting the node's BIP434 `feature` messages), measures one
 * `ping`, closes, and reports what it learned.
 *
 * ```sh
 * deno run -A examples/probe.ts seed.bitcoin.sipa.be          # mainnet, port 8333
 * deno run -A cli.ts probe [2001:db8::1]:8333 --timeout 5000  # the same through the CLI
 * ```
 *
 * @example
 * ```ts ignore
 * import { probe } from "./probe.ts";
 * const result = await probe({ host: "seed.bitcoin.sipa.be" });
 * console.log(result.transport, result.user_agent, result.ping_ms);
 * ```
 *
 * @module
 */

import { toHex } from "../layers/bytes.ts";
import { Bip324Error } from "../layers/errors.ts";
import {
  ipFromString,
  NODE_BLOOM,
  NODE_COMPACT_FILTERS,
  NODE_NETWORK,
  NODE_NETWORK_LIMITED,
  NODE_P2P_V2,
  NODE_WITNESS,
} from "../layers/bitcoin/mod.ts";
import { DEFAULT_PORT, type Network, NETWORK_MAGIC } from "../layers/bitcoin/network.ts";
import { peerHandshake, pingPeer } from "../layers/bitcoin/peer_handshake.ts";
import type { Session } from "../layers/session/session.ts";
import { connect } from "../layers/session/connect.ts";

/** Default time allowed for a whole probe (connect, handshakes, ping), in milliseconds. */
export const DEFAULT_PROBE_TIMEOUT = 20_000;

/** How the probe treats a node that only speaks the legacy v1 protocol (see `connect`). */
export type ProbeFallback = "v1" | "none" | "v1-only";

/** Options for {@linkcode probe}. */
export interface ProbeOptions {
  /** Host name, IPv4 address or IPv6 address (without brackets). */
  host: string;
  /** TCP port. Default: the network's P2P port (`DEFAULT_PORT`, 8333 on mainnet). */
  port?: number;
  /** The node's network. Default `"mainnet"`. */
  network?: Network;
  /** Milliseconds allowed for the whole probe. Default {@linkcode DEFAULT_PROBE_TIMEOUT}. */
  timeout?: number;
  /**
   * `"v1"` (default): try v2, reconnect with v1 if the node hangs up on our
   * key; `"none"`: v2 only (a v1-only node fails with `V1_ONLY_PEER`);
   * `"v1-only"`: never try v2.
   */
  fallback?: ProbeFallback;
  /** User agent to announce. Default `/bip324.ts:0.1.0/`. */
  userAgent?: string;
  /** Aborts the probe (it rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** What {@linkcode probe} learned (snake_case, ready to print as JSON). */
export interface ProbeResult {
  /** The address probed, `host:port` (`[v6]:port` for IPv6). */
  address: string;
  /** The network the probe spoke. */
  network: Network;
  /** The transport that carried the conversation. */
  transport: "v2" | "v1";
  /** The BIP324 session id (64 hex digits); only for `transport: "v2"`. */
  session_id?: string;
  /** Whether the node's `version` advertises `NODE_P2P_V2`. */
  advertises_v2: boolean;
  /** The node's user agent (BIP14), e.g. `/Satoshi:27.0.0/`. */
  user_agent: string;
  /** The node's protocol version, e.g. 70017. */
  protocol_version: number;
  /**
   * The BIP434 `feature` messages the node sent before its `verack`, in
   * order: the `featureid` and the `featuredata` as hex. Empty for nodes
   * below protocol 70017 (or that announce nothing).
   */
  features: { id: string; data: string }[];
  /** The node's best block height at connection time. */
  start_height: number;
  /** The node's service flags: `0x` and 16 hex digits, e.g. `0x0000000000000c09`. */
  services: string;
  /** The service flags by name, as Bitcoin Core's `getpeerinfo` shows them. */
  service_names: string[];
  /** Whether the node asked for transaction relay (BIP37 relay flag). */
  relay: boolean;
  /** Round-trip time of one `ping`/`pong`, in milliseconds. */
  ping_ms: number;
}

const SERVICE_NAMES: readonly [bigint, string][] = [
  [NODE_NETWORK, "NETWORK"],
  [NODE_BLOOM, "BLOOM"],
  [NODE_WITNESS, "WITNESS"],
  [NODE_COMPACT_FILTERS, "COMPACT_FILTERS"],
  [NODE_NETWORK_LIMITED, "NETWORK_LIMITED"],
  [NODE_P2P_V2, "P2P_V2"],
];

/**
 * Names the bits of a service-flag field the way Bitcoin Core's
 * `getpeerinfo` does (`NETWORK`, `WITNESS`, `P2P_V2`, …; an unknown bit `n`
 * is `UNKNOWN[2^n]`), lowest bit first.
 *
 * @example
 * ```ts
 * import { serviceNames } from "./probe.ts";
 * console.assert(serviceNames(0xc09n).join() === "NETWORK,WITNESS,NETWORK_LIMITED,P2P_V2");
 * ```
 */
export function serviceNames(services: bigint): string[] {
  if (typeof services !== "bigint" || services < 0n) {
    throw new TypeError(`services must be a non-negative bigint, got ${services}`);
  }
  const names: string[] = [];
  for (let bit = 0n; bit < 64n; bit++) {
    const flag = 1n << bit;
    if ((services & flag) === 0n) continue;
    const known = SERVICE_NAMES.find(([f]) => f === flag);
    names.push(known ? known[1] : `UNKNOWN[2^${bit}]`);
  }
  return names;
}

/** Formats service flags as `0x` plus 16 hex digits. */
export function servicesHex(services: bigint): string {
  return `0x${BigInt.asUintN(64, services).toString(16).padStart(16, "0")}`;
}

/** A host and a port. */
export interface HostPort {
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  /** TCP port. */
  port: number;
}

/** Options for {@linkcode parseHostPort}. */
export interface ParseHostPortOptions {
  /** Port to use when the text names none; without it a port is required. */
  defaultPort?: number;
  /** Accept port 0 (for a listening address). Default false. */
  allowPortZero?: boolean;
}

/**
 * Parses `HOST`, `HOST:PORT`, `[IPV6]`, `[IPV6]:PORT` or a bare IPv6 address
 * (which cannot carry a port). Throws `TypeError` for anything else.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./probe.ts";
 * console.assert(parseHostPort("[::1]:18444").host === "::1");
 * console.assert(parseHostPort("example.com", { defaultPort: 8333 }).port === 8333);
 * ```
 */
export function parseHostPort(text: string, options: ParseHostPortOptions = {}): HostPort {
  if (typeof text !== "string") throw new TypeError("address must be a string");
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\[\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
    if (!host.includes(":")) throw new TypeError(`brackets are for IPv6 addresses: ${text}`);
  } else if ((text.match(/:/g) ?? []).length >= 2) {
    host = text; // a bare IPv6 address; a port needs brackets
  } else {
    const colon = text.indexOf(":");
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
    if (portText === "") throw new TypeError(`missing port after ":" in ${text}`);
  }
  if (host === "" || /[\s\/\[\]@]/.test(host)) {
    throw new TypeError(`invalid host in ${JSON.stringify(text)}`);
  }
  let port: number;
  if (portText === undefined) {
    if (options.defaultPort === undefined) throw new TypeError(`missing port in ${text}`);
    port = options.defaultPort;
  } else {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 0 && port <= 65535)) throw new TypeError(`invalid port ${portText}`);
  }
  if (port === 0 && !options.allowPortZero) throw new TypeError("port 0 is not a valid target");
  return { host, port };
}

/** Formats `host:port`, bracketing an IPv6 host. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Connects to a node (v2 first, v1 fallback as `options.fallback` says),
 * performs the `version`/`verack` exchange and one `ping`, closes the
 * connection, and resolves with what it learned. Rejects with a
 * {@linkcode Bip324Error}: `TRANSPORT` (cannot connect), `TIMEOUT` (no answer
 * within `options.timeout`), `V1_ONLY_PEER` (with `fallback: "none"`),
 * `UNEXPECTED_EOF` (the node hung up), … .
 *
 * @example
 * ```ts ignore
 * import { probe } from "./probe.ts";
 * const r = await probe({ host: "127.0.0.1", port: 18444, network: "regtest", timeout: 5000 });
 * if (r.transport === "v2") console.log("encrypted, session id", r.session_id);
 * ```
 */
export async function probe(options: ProbeOptions): Promise<ProbeResult> {
  const network = options.network ?? "mainnet";
  if (!Object.hasOwn(NETWORK_MAGIC, network)) {
    throw new TypeError(`network must be one of ${Object.keys(NETWORK_MAGIC).join(", ")}`);
  }
  if (typeof options.host !== "string" || options.host === "") {
    throw new TypeError("host must be a non-empty string");
  }
  const host = options.host.replace(/^\[(.*)\]$/, "$1");
  const port = options.port ?? DEFAULT_PORT[network];
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`port must be an integer 1..65535, got ${port}`);
  }
  const timeout = options.timeout ?? DEFAULT_PROBE_TIMEOUT;
  if (!(timeout > 0) || !Number.isFinite(timeout)) {
    throw new RangeError(`timeout must be a positive number of ms, got ${timeout}`);
  }
  const fallback = options.fallback ?? "v1";
  if (fallback !== "v1" && fallback !== "none" && fallback !== "v1-only") {
    throw new TypeError(`fallback must be "v1", "none" or "v1-only", got ${fallback}`);
  }
  const address = formatHostPort(host, port);

  // One deadline for everything. It aborts the handshake in flight (whose own timer is set a
  // little later, so the reported code is always TIMEOUT) and rejects whatever we wait on.
  const started = performance.now();
  const remaining = () => Math.max(1, Math.ceil(timeout - (performance.now() - started)));
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const stop = (reason: unknown) => {
      abort.abort(reason);
      reject(reason);
    };
    timer = setTimeout(() =>
      stop(
        new Bip324Error("TIMEOUT", `no complete answer from ${address} within ${timeout} ms`, {
          origin: "local",
        }),
      ), timeout);
    if (options.signal) {
      onAbort = () => stop(options.signal!.reason ?? new Error("aborted"));
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  stopped.catch(() => {});
  const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, stopped]);

  let opened: Session | undefined;
  let finished = false;
  try {
    const connecting = connect({
      hostname: host,
      port,
      network,
      fallback,
      handshakeTimeout: timeout + 1_000,
      closeTimeout: 1_000,
      signal: abort.signal,
    });
    // A connection that completes after we gave up is closed at once.
    connecting.then((session) => {
      opened = session;
      if (finished) session.close();
    }, () => {});
    const session = await race(connecting);
    let peerAddress: { host: string; port: number } | undefined;
    try {
      ipFromString(host);
      peerAddress = { host, port };
    } catch { /* a host name: addr_recv stays 0.0.0.0:0 */ }
    const info = await race(peerHandshake(session, {
      timeout: remaining(),
      relay: false,
      userAgent: options.userAgent,
      peerAddress,
    }));
    const ping = await race(pingPeer(session, { timeout: remaining() }));
    const version = info.version;
    const v2 = session.transportVersion === 2;
    return {
      address,
      network,
      transport: v2 ? "v2" : "v1",
      ...(v2 ? { session_id: toHex(session.sessionId) } : {}),
      advertises_v2: info.supportsV2,
      user_agent: version.userAgent,
      protocol_version: version.protocolVersion,
      features: info.features.map((f) => ({ id: f.featureId, data: toHex(f.featureData) })),
      start_height: version.startHeight,
      services: servicesHex(version.services),
      service_names: serviceNames(version.services),
      relay: version.relay,
      ping_ms: Math.round(ping * 1000) / 1000,
    };
  } finally {
    finished = true;
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    await (opened as Session | undefined)?.close();
  }
}

if (import.meta.main) {
  // Same command line as `cli.ts probe` (HOST[:PORT] [--network NET] [--timeout MS] …).
  const { main } = await import("../cli.ts");
  Deno.exit(await main(["probe", ...Deno.args]));
}
