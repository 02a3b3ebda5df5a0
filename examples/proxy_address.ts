/**
 * How the proxy (`examples/proxy.ts`) tells that a target is itself: targets
 * are resolved and normalised to the one address they reach, and compared with
 * the address the proxy listens on.
 *
 * - Every IPv4 spelling the resolver accepts (`127.0.0.1`, `127.1`,
 *   `2130706433`, `0x7f000001`, `0177.0.0.1`, …) normalises to the dotted
 *   quad; IPv6 to its canonical text; IPv4-mapped IPv6 (`::ffff:127.0.0.1`,
 *   `::ffff:7f00:1`, with or without brackets) to the IPv4 address it reaches.
 * - Names are resolved with the system resolver (the one the connection itself
 *   uses), and the proxy then connects to the resolved address it checked, so
 *   a name cannot resolve differently between the check and the connection.
 * - A proxy bound to `0.0.0.0` or `::` listens on every local address: a
 *   target is then the proxy when it is an address of this host, which is
 *   tested by binding a socket to it (this needs no permission beyond
 *   `--allow-net`). The unspecified addresses themselves reach the local host.
 *
 * @module
 */

import { lookup } from "node:dns/promises";

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * The canonical text of an IP address literal in any spelling (IPv4-mapped
 * IPv6 becomes IPv4; brackets are dropped), or `null` if `text` is not an IP
 * literal (e.g. a host name).
 *
 * @example
 * ```ts
 * import { canonicalIp } from "./proxy_address.ts";
 * console.assert(canonicalIp("2130706433") === "127.0.0.1");
 * console.assert(canonicalIp("[::ffff:127.0.0.1]") === "127.0.0.1");
 * console.assert(canonicalIp("localhost") === null);
 * ```
 */
export function canonicalIp(text: string): string | null {
  if (typeof text !== "string") throw new TypeError("text must be a string");
  let host = text;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host.includes(":")) {
    const zoneAt = host.indexOf("%");
    const zone = zoneAt >= 0 ? host.slice(zoneAt) : "";
    let v6: string;
    try {
      v6 = new URL(`http://[${zoneAt >= 0 ? host.slice(0, zoneAt) : host}]/`).hostname.slice(1, -1);
    } catch {
      return null;
    }
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
    if (mapped) {
      const hi = parseInt(mapped[1], 16), lo = parseInt(mapped[2], 16);
      return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
    }
    return v6 + zone;
  }
  // IPv4 in the forms inet_aton accepts (1 to 4 parts, decimal, octal or hex), as the URL
  // standard's host parser reads them. Only digits, dots and hex can make one: a name with
  // other letters is left to the resolver.
  if (!/^[0-9a-fA-FxX.]+$/.test(host)) return null;
  try {
    const parsed = new URL(`http://${host}/`).hostname;
    return IPV4.test(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Every address `host` reaches, canonical and without duplicates: the
 * literal itself, or what the system resolver returns for a name. Rejects
 * with the resolver's error when a name does not resolve.
 *
 * @example
 * ```ts
 * import { resolveAddresses } from "./proxy_address.ts";
 * console.assert((await resolveAddresses("0x7f000001"))[0] === "127.0.0.1");
 * ```
 */
export async function resolveAddresses(host: string): Promise<string[]> {
  const literal = canonicalIp(host);
  if (literal !== null) return [literal];
  const found = await lookup(host, { all: true, verbatim: true });
  const out: string[] = [];
  for (const { address } of found) {
    const ip = canonicalIp(address);
    if (ip !== null && !out.includes(ip)) out.push(ip);
  }
  if (out.length === 0) throw new Error(`${host} resolved to no address`);
  return out;
}

/** Whether `ip` (canonical) is unspecified: 0.0.0.0 or ::. */
function isUnspecified(ip: string): boolean {
  return ip === "0.0.0.0" || ip === "::";
}

/** Whether `ip` (canonical) is a loopback address. */
function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}

/**
 * Whether `ip` (canonical) is an address of this host: binding a socket to it
 * (port 0, closed at once) succeeds. The unspecified addresses always are
 * (connecting to them reaches this host). Where binding is not allowed (a
 * narrower `--allow-net`), loopback addresses still count.
 */
export function isLocalAddress(ip: string): boolean {
  if (isUnspecified(ip)) return true;
  try {
    Deno.listen({ hostname: ip, port: 0, transport: "tcp" }).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return true;
    if (error instanceof Deno.errors.AddrNotAvailable) return false;
    // No permission, or not bindable as written (e.g. link-local without a zone).
    return isLoopback(ip);
  }
}

/**
 * Answers "would connecting to this address reach us?" for a listener bound
 * to `listening` (its real address, as the listener reports it).
 *
 * @example
 * ```ts
 * import { SelfAddress } from "./proxy_address.ts";
 * const self = new SelfAddress({ hostname: "127.0.0.1", port: 8333 });
 * console.assert(self.reaches("2130706433", 8333));
 * console.assert(!self.reaches("127.0.0.2", 8333) && !self.reaches("127.0.0.1", 8334));
 * ```
 */
export class SelfAddress {
  /** The port we listen on. */
  readonly port: number;
  /** The canonical address we are bound to (`0.0.0.0` or `::` for every address). */
  readonly address: string;

  /** `listening` is the listener's own address. */
  constructor(listening: { hostname: string; port: number }) {
    const ip = canonicalIp(listening.hostname);
    if (ip === null) throw new TypeError(`listening.hostname must be an IP address`);
    this.address = ip;
    this.port = listening.port;
  }

  /**
   * Whether connecting to `ip` (any spelling of an IP literal) at `port`
   * reaches this listener. Host names are not resolved here: pass what
   * {@linkcode resolveAddresses} returns.
   */
  reaches(ip: string, port: number): boolean {
    if (port !== this.port) return false;
    let target = canonicalIp(ip);
    if (target === null) return false;
    const ours = this.address;
    if (isUnspecified(ours)) {
      // 0.0.0.0 takes IPv4 only; :: takes both (dual stack, the default on Linux and macOS).
      if (ours === "0.0.0.0" && target.includes(":")) return false;
      return isLocalAddress(target);
    }
    // Connecting to an unspecified address reaches the local host's loopback.
    if (target === "0.0.0.0") target = "127.0.0.1";
    if (target === "::") target = "::1";
    return target === ours;
  }

  /**
   * Whether `host` at `port` reaches this listener, judged without the
   * resolver: IP literals in any spelling, and `localhost`.
   */
  reachesLiteral(host: string, port: number): boolean {
    const name = host.toLowerCase().replace(/\.$/, "");
    if (name === "localhost") {
      return this.reaches("127.0.0.1", port) || this.reaches("::1", port);
    }
    return this.reaches(host, port);
  }
}
