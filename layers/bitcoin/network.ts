/**
 * Bitcoin network magics. The magic is mixed into the BIP324 key schedule, so
 * peers on different networks cannot complete a handshake, and it prefixes
 * every v1 message.
 *
 * @module
 */

/** A network this library knows by name. */
export type Network = "mainnet" | "testnet3" | "testnet4" | "signet" | "regtest";

/** The 4-byte message start ("magic") of each known network. */
export const NETWORK_MAGIC: Readonly<Record<Network, Uint8Array>> = Object.freeze({
  mainnet: new Uint8Array([0xf9, 0xbe, 0xb4, 0xd9]),
  testnet3: new Uint8Array([0x0b, 0x11, 0x09, 0x07]),
  testnet4: new Uint8Array([0x1c, 0x16, 0x3f, 0x28]),
  signet: new Uint8Array([0x0a, 0x03, 0xcf, 0x40]),
  regtest: new Uint8Array([0xfa, 0xbf, 0xb5, 0xda]),
});

/** The default P2P port of each known network. */
export const DEFAULT_PORT: Readonly<Record<Network, number>> = Object.freeze({
  mainnet: 8333,
  testnet3: 18333,
  testnet4: 48333,
  signet: 38333,
  regtest: 18444,
});

/**
 * Returns the 4-byte magic for a named network, or checks and copies a
 * caller-supplied magic (for custom signets or private networks).
 *
 * @example
 * ```ts
 * import { networkMagic } from "@bip324/bip324/bitcoin";
 * console.assert(networkMagic("mainnet")[0] === 0xf9);
 * console.assert(networkMagic(new Uint8Array([1, 2, 3, 4]))[3] === 4);
 * ```
 */
export function networkMagic(network: Network | Uint8Array = "mainnet"): Uint8Array {
  return magicView(network).slice();
}

/**
 * Internal: {@linkcode networkMagic} without the copy, for callers that only
 * read it (the table's own array, or the caller's after its checks).
 */
export function magicView(network: Network | Uint8Array = "mainnet"): Uint8Array {
  if (network instanceof Uint8Array) {
    if (network.length !== 4) {
      throw new RangeError(`network magic must be 4 bytes, got ${network.length}`);
    }
    return network;
  }
  const magic = NETWORK_MAGIC[network as Network];
  if (!magic || !Object.hasOwn(NETWORK_MAGIC, network)) {
    throw new TypeError(
      `network must be one of ${Object.keys(NETWORK_MAGIC).join(", ")} or a 4-byte magic`,
    );
  }
  return magic;
}

/**
 * The name of the network with this magic, or `undefined` for a custom one.
 *
 * @example
 * ```ts
 * import { networkName } from "@bip324/bip324/bitcoin";
 * console.assert(networkName(new Uint8Array([0xfa, 0xbf, 0xb5, 0xda])) === "regtest");
 * ```
 */
export function networkName(magic: Uint8Array): Network | undefined {
  for (const [name, m] of Object.entries(NETWORK_MAGIC)) {
    if (m.every((b, i) => b === magic[i])) return name as Network;
  }
  return undefined;
}
