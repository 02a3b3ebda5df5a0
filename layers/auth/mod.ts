/**
 * Private authentication over the BIP324 session id (experimental): a
 * challenger learns whether its peer holds the private key of one of the
 * public keys it accepts, and nothing else; the peer, and anyone watching,
 * cannot tell whether authentication was wanted, for whom, or whether it
 * succeeded. Countersign for one acceptable key, the simple multi-key
 * protocol for up to 64 (sipa's "Private authentication protocols",
 * examples 5 and 4), in one round trip of `privauth` messages.
 *
 * No deployed Bitcoin node speaks this: both ends must run this library.
 * See `docs/authentication.md` for the design and the wire format.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@bip324/bip324";
 * import { authenticate, parsePublicKeys } from "@bip324/bip324/auth";
 * const session = await connect({ hostname: "127.0.0.1", port: 18444, network: "regtest" });
 * const { authenticated } = await authenticate(session, {
 *   accept: parsePublicKeys("02…"),
 * });
 * console.log(authenticated ? "the node proved its identity" : "unauthenticated");
 * ```
 *
 * @module
 */

export { authenticate } from "./authenticate.ts";
export type { AuthenticatableSession, AuthenticateOptions, AuthResult } from "./authenticate.ts";
export {
  AUTH_MESSAGE_TYPE,
  MAX_ACCEPT_SLOTS,
  MAX_IDENTITY_SLOTS,
  PrivateAuth,
} from "./private_auth.ts";
export type { AuthChallengers, PrivateAuthOptions, PrivateAuthSession } from "./private_auth.ts";
export type { RandomSource } from "./group.ts";
export {
  generateIdentity,
  parsePrivateKey,
  parsePublicKey,
  parsePublicKeys,
  PRIVATE_KEY_LEN,
  PUBLIC_KEY_LEN,
  publicKeyOf,
} from "./keys.ts";
export type { Identity } from "./keys.ts";
