/**
 * {@linkcode openV1Session}: gives a legacy (v1) connection the same
 * {@linkcode Session} interface as BIP324 (`session.transportVersion === 1`,
 * empty session id).
 *
 * Used for fallback: a responder that sees a v1 `version` message replays the
 * bytes it already read (`Bip324Error.v1Bytes`) into a v1 session; an
 * initiator whose v2 attempt is met by a silent disconnect reconnects with v1.
 *
 * @module
 */

import type { BytePair } from "../bytes.ts";
import type { Role } from "../handshake/handshake.ts";
import { v1Decoder, v1Encoder } from "../v1/v1_layer.ts";
import { markPeer, Session } from "./session.ts";
import { callerStages, type SessionOptions } from "./open.ts";

/** Options for {@linkcode openV1Session}. */
export interface OpenV1SessionOptions extends SessionOptions {
  /** Initiator or responder (informational for v1). */
  role: Role;
  /** Bytes already read from the peer (e.g. `Bip324Error.v1Bytes`), parsed first. */
  replay?: Uint8Array;
}

/**
 * Wraps a byte pair as a v1 session. There is no handshake at the transport
 * level in v1, so this resolves at once; `version`/`verack` are ordinary
 * messages (see `peerHandshake`). Caller layers at the `wire` and `messages`
 * positions apply (v1 has no packets or contents layer).
 *
 * @example
 * ```ts
 * import { memoryPair, openV1Session } from "@bip324/bip324";
 *
 * const [x, y] = memoryPair();
 * const a = openV1Session(x, { role: "initiator" });
 * const b = openV1Session(y, { role: "responder" });
 * await a.send("verack");
 * console.assert((await b.readable.getReader().read()).value?.type === "verack");
 * console.assert(a.transportVersion === 1);
 * ```
 */
export function openV1Session(pair: BytePair, options: OpenV1SessionOptions): Session {
  const network = options.network ?? "mainnet";
  const wire = callerStages(options.layers?.wire, "wire");
  const messages = callerStages(options.layers?.messages, "messages");
  const session = new Session(pair, {
    transportVersion: 1,
    role: options.role,
    network,
    sessionId: new Uint8Array(0),
    peerVersionContents: new Uint8Array(0),
    handshake: { garbageSent: 0, garbageReceived: 0, decoysSent: [], decoysReceived: 0 },
    leftover: options.replay ?? new Uint8Array(0),
    destroy: () => {},
    stack: () => ({
      inbound: [
        ...wire.inbound,
        v1Decoder({ network }),
        ...messages.inbound,
      ],
      outbound: [...messages.outbound, v1Encoder({ network }), ...wire.outbound],
    }),
  }, options);
  // v1 has no session id to authenticate over: never authenticated.
  if (options.auth !== undefined) markPeer(session, { authenticated: false });
  return session;
}
