/**
 * Relay targets: `host:port` text ⇄ {@linkcode RelayTarget}.
 *
 * @module
 */

import type { RelayTarget } from "./metrics.ts";

/**
 * Parses `"host:port"` or `"[v6]:port"` into a {@linkcode RelayTarget}
 * (host lower-cased, brackets removed). Throws `TypeError` or `RangeError`.
 *
 * @example
 * ```ts
 * import { parseTarget } from "@bip324/bip324/relay";
 * console.assert(parseTarget("[::1]:18444").hostname === "::1");
 * ```
 */
export function parseTarget(text: string): RelayTarget {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/?#\[\]@]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) throw new TypeError(`expected host:port or [ipv6]:port, got ${JSON.stringify(text)}`);
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new RangeError(`port must be 1..65535, got ${port}`);
  return { hostname: (match[1] ?? match[2]).toLowerCase(), port };
}

/**
 * Formats a target as `host:port` (IPv6 in brackets), the form allow-lists
 * and `?target=` use.
 *
 * @example
 * ```ts
 * import { formatTarget } from "@bip324/bip324/relay";
 * console.assert(formatTarget({ hostname: "::1", port: 8333 }) === "[::1]:8333");
 * ```
 */
export function formatTarget(target: RelayTarget): string {
  const host = target.hostname.toLowerCase();
  return `${host.includes(":") ? `[${host}]` : host}:${target.port}`;
}

/** A target from text or an object, validated and normalised. */
export function toTarget(value: string | RelayTarget): RelayTarget {
  if (typeof value === "string") return parseTarget(value);
  return parseTarget(formatTarget(value));
}
