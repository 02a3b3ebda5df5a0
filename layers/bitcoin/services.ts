/**
 * Service flags of the `version` message (and of address entries).
 *
 * @module
 */

/** No services. */
export const NODE_NONE: bigint = 0n;
/** `NODE_NETWORK`: serves the full block chain. */
export const NODE_NETWORK: bigint = 1n;
/** `NODE_BLOOM` (BIP111): serves BIP37 bloom-filtered connections. */
export const NODE_BLOOM: bigint = 1n << 2n;
/** `NODE_WITNESS` (BIP144): serves witness data. */
export const NODE_WITNESS: bigint = 1n << 3n;
/** `NODE_COMPACT_FILTERS` (BIP157): serves compact block filters. */
export const NODE_COMPACT_FILTERS: bigint = 1n << 6n;
/** `NODE_NETWORK_LIMITED` (BIP159): serves the last 288 blocks. */
export const NODE_NETWORK_LIMITED: bigint = 1n << 10n;
/** `NODE_P2P_V2` (BIP324): accepts the v2 encrypted transport. */
export const NODE_P2P_V2: bigint = 1n << 11n;
