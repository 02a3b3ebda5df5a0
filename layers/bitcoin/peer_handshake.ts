/**
 * The Bitcoin P2P application handshake on top of any session (v1 or v2):
 * `version` → (`wtxidrelay`, `sendaddrv2`, BIP434 `feature`s) → `verack`
 * both ways, answering pings meanwhile, plus a `ping` round-trip helper.
 *
 * BIP434, as Bitcoin Core master implements it: we advertise protocol
 * version 70017 and send our registered `feature` messages right after the
 * peer's `version`, before our `verack`, and only if both versions are at
 * least 70017. The peer's `feature` messages count between its `version` and
 * its `verack`; unknown ids are reported but otherwise ignored. Messages
 * after the peer's `verack` are the application's: `featureGuard()`
 * drops (or rejects) late `feature`s there.
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";
import { Bip324Error } from "../errors.ts";
import { ipFromString } from "./addresses.ts";
import { decodeFeature, encodeFeature, FEATURE_VERSION, type FeaturePayload } from "./feature.ts";
import {
  featureMessages,
  type FeatureOutcome,
  type FeatureRegistration,
  negotiateFeatures,
} from "./feature_negotiation.ts";
import { NODE_NETWORK_LIMITED, NODE_P2P_V2, NODE_WITNESS } from "./services.ts";
import { decodePing, encodePing } from "./small_messages.ts";
import { decodeVersion, encodeVersion, type VersionPayload } from "./version.ts";
import type { Session } from "../session/session.ts";

/** Protocol version we announce: Bitcoin Core master's (70017, BIP434 `feature` support). */
export const PROTOCOL_VERSION = 70017;

/** The most peer `feature` messages {@linkcode PeerInfo.features} keeps (the rest are ignored). */
export const MAX_PEER_FEATURES = 256;

/** Options for {@linkcode peerHandshake}. */
export interface PeerHandshakeOptions {
  /** Our service flags. Default: `NODE_NETWORK_LIMITED | NODE_WITNESS`, plus `NODE_P2P_V2` on a v2 session. */
  services?: bigint;
  /** Our user agent. Default `/bip324.ts:0.1.0/`. */
  userAgent?: string;
  /** Our best height. Default 0. */
  startHeight?: number;
  /** Whether we want transaction relay. Default false (a light client or probe). */
  relay?: boolean;
  /** The peer's address as we see it (`addr_recv`). Default `0.0.0.0:0`. */
  peerAddress?: { host: string; port: number };
  /**
   * Protocol version to announce. Default {@linkcode PROTOCOL_VERSION}
   * (70017). Below 70017 no `feature` is sent, and the peer's are ignored.
   */
  protocolVersion?: number;
  /** Send `wtxidrelay` (BIP339) and `sendaddrv2` (BIP155) before `verack`, as Core does. Default true. */
  preVerackMessages?: boolean;
  /**
   * BIP434 features to send and negotiate: `feature` messages in this
   * order, sent only to a peer whose version is at least 70017. What came
   * of each is {@linkcode PeerInfo.negotiated}. Default none.
   */
  features?: readonly FeatureRegistration[];
  /**
   * A `feature` the peer may not send (before its `version`, or when
   * either version is below 70017): `"ignore"` (default, counted in
   * {@linkcode PeerInfo.featuresIgnored}) or `"disconnect"` (close the
   * session; reject with `UNEXPECTED_MESSAGE`, as Core disconnects).
   */
  featureViolation?: "ignore" | "disconnect";
  /** Milliseconds to wait for the peer's `version` and `verack`. Default 20,000. */
  timeout?: number;
}

/** What {@linkcode peerHandshake} learned. */
export interface PeerInfo {
  /** The peer's `version` message, decoded. */
  version: VersionPayload;
  /** Whether the peer advertises BIP324 support (`NODE_P2P_V2`). */
  supportsV2: boolean;
  /**
   * The peer's BIP434 `feature` messages (between its `version` and
   * `verack`), in order, known ids or not; at most {@linkcode MAX_PEER_FEATURES}.
   */
  features: FeaturePayload[];
  /** What came of each registered feature, keyed by its id (or a versioned feature's name). */
  negotiated: Record<string, FeatureOutcome>;
  /** `feature` messages ignored: sent when not allowed, or beyond {@linkcode MAX_PEER_FEATURES}. */
  featuresIgnored: number;
  /** Other messages that arrived during the handshake (e.g. `sendaddrv2`), in order. */
  received: Message[];
}

const EMPTY = new Uint8Array(0);

/**
 * Performs the version/verack exchange and resolves with the peer's version
 * and features. As initiator we send our `version` first; as responder we
 * answer theirs. The session's streams are unlocked again afterwards. A
 * peer that breaks the protocol (a malformed `version` or `feature`, or a
 * forbidden `feature` with `featureViolation: "disconnect"`) gets its
 * session closed, and the promise rejects with the `Bip324Error`.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@bip324/bip324";
 * import { peerHandshake } from "@bip324/bip324/bitcoin";
 * const session = await connect({ hostname: "seed.bitcoin.sipa.be", port: 8333 });
 * const peer = await peerHandshake(session, {
 *   features: [{ approach: "advertise", id: "https://example.com/my-feature" }],
 * });
 * console.log(peer.version.userAgent, peer.features, peer.negotiated);
 * ```
 */
export async function peerHandshake(
  session: Session,
  options: PeerHandshakeOptions = {},
): Promise<PeerInfo> {
  const timeoutMs = options.timeout ?? 20_000;
  if (typeof (options as { features?: unknown }).features === "boolean") {
    throw new TypeError(
      "options.features lists BIP434 feature registrations; use preVerackMessages for wtxidrelay/sendaddrv2",
    );
  }
  const registrations = options.features ?? [];
  const ourFeatures = featureMessages(registrations).map(encodeFeature);
  const violation = options.featureViolation ?? "ignore";
  if (violation !== "ignore" && violation !== "disconnect") {
    throw new TypeError(
      `featureViolation must be "ignore" or "disconnect", got ${String(violation)}`,
    );
  }
  const services = options.services ??
    (NODE_NETWORK_LIMITED | NODE_WITNESS | (session.transportVersion === 2 ? NODE_P2P_V2 : 0n));
  const nonce = randomNonce();
  const ours: VersionPayload = {
    protocolVersion: options.protocolVersion ?? PROTOCOL_VERSION,
    services,
    timestamp: BigInt(Math.floor(Date.now() / 1000)),
    addrRecv: {
      services: 0n,
      ip: ipFromString(options.peerAddress?.host ?? "0.0.0.0"),
      port: options.peerAddress?.port ?? 0,
    },
    addrFrom: { services, ip: ipFromString("0.0.0.0"), port: 0 },
    nonce,
    userAgent: options.userAgent ?? "/bip324.ts:0.1.0/",
    startHeight: options.startHeight ?? 0,
    relay: options.relay ?? false,
  };
  try {
    return await exchange(session, timeoutMs, "no version/verack from the peer", async (io) => {
      // The initiator speaks first; a responder answers the peer's version with its own (as Core).
      const sendVersion = () => io.write({ type: "version", payload: encodeVersion(ours) });
      if (session.role === "initiator") await sendVersion();
      let version: VersionPayload | undefined;
      let bip434 = false;
      let verack = false;
      const received: Message[] = [];
      const features: FeaturePayload[] = [];
      let featuresIgnored = 0;
      while (!version || !verack) {
        const m = await io.read("peer closed the connection during version/verack");
        if (m.type === "version" && !version) {
          version = decodeVersion(m.payload);
          if (version.nonce === nonce && nonce !== 0n) {
            throw new Bip324Error(
              "MALFORMED_MESSAGE",
              "connected to ourselves (version nonce matches)",
            );
          }
          bip434 = Math.min(version.protocolVersion, ours.protocolVersion) >= FEATURE_VERSION;
          if (session.role === "responder") await sendVersion();
          if (options.preVerackMessages ?? true) {
            await io.write({ type: "wtxidrelay", payload: EMPTY });
            await io.write({ type: "sendaddrv2", payload: EMPTY });
          }
          if (bip434) {
            for (const payload of ourFeatures) await io.write({ type: "feature", payload });
          }
          await io.write({ type: "verack", payload: EMPTY });
        } else if (m.type === "verack") {
          verack = true;
        } else if (m.type === "ping") {
          await io.write({ type: "pong", payload: m.payload });
        } else if (m.type === "feature") {
          if (!bip434) {
            if (violation === "disconnect") {
              throw new Bip324Error(
                "UNEXPECTED_MESSAGE",
                version
                  ? `BIP434 feature message, but the common version ${
                    Math.min(version.protocolVersion, ours.protocolVersion)
                  } is below ${FEATURE_VERSION}`
                  : "BIP434 feature message before the peer's version",
              );
            }
            featuresIgnored++;
          } else {
            const feature = decodeFeature(m.payload);
            if (features.length < MAX_PEER_FEATURES) features.push(feature);
            else featuresIgnored++;
          }
        } else {
          received.push(m);
        }
      }
      return {
        version,
        supportsV2: (version.services & NODE_P2P_V2) !== 0n,
        features,
        negotiated: negotiateFeatures(registrations, features, session.role),
        featuresIgnored,
        received,
      };
    });
  } catch (error) {
    if (error instanceof Bip324Error && error.origin === "peer") await session.close();
    throw error;
  }
}

/**
 * Sends a `ping` and resolves with the round-trip time in milliseconds once
 * the matching `pong` arrives (other messages are passed to `onOther`; pings
 * from the peer are answered).
 *
 * @example
 * ```ts ignore
 * import { pingPeer } from "@bip324/bip324/bitcoin";
 * declare const session: import("../session/session.ts").Session;
 * console.log(await pingPeer(session), "ms");
 * ```
 */
export async function pingPeer(
  session: Session,
  options: { timeout?: number; onOther?: (m: Message) => void } = {},
): Promise<number> {
  const timeoutMs = options.timeout ?? 20_000;
  const nonce = randomNonce();
  return await exchange(session, timeoutMs, "no pong", async (io) => {
    const start = performance.now();
    await io.write({ type: "ping", payload: encodePing({ nonce }) });
    for (;;) {
      const m = await io.read("peer closed before answering the ping");
      if (m.type === "pong" && m.payload.length === 8 && decodePing(m.payload).nonce === nonce) {
        return performance.now() - start;
      }
      if (m.type === "ping") await io.write({ type: "pong", payload: m.payload });
      else options.onOther?.(m);
    }
  });
}

/** Locked access to a session's streams for a bounded request/response exchange. */
interface ExchangeIo {
  /** The next message; `UNEXPECTED_EOF` (with `eofMessage`) if the stream ends. */
  read(eofMessage: string): Promise<Message>;
  /** Sends a message. */
  write(message: Message): Promise<void>;
}

/**
 * Runs `body` with the session's reader and writer locked, failing with
 * `TIMEOUT` after `timeoutMs`; the streams are unlocked again afterwards.
 */
async function exchange<T>(
  session: Session,
  timeoutMs: number,
  what: string,
  body: (io: ExchangeIo) => Promise<T>,
): Promise<T> {
  const reader = session.readable.getReader();
  const writer = session.writable.getWriter();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Bip324Error("TIMEOUT", `${what} within ${timeoutMs} ms`, { origin: "local" })),
      timeoutMs,
    );
  });
  deadline.catch(() => {});
  const io: ExchangeIo = {
    read: async (eofMessage) => {
      const next = await Promise.race([reader.read(), deadline]);
      if (next.done) throw new Bip324Error("UNEXPECTED_EOF", eofMessage);
      return next.value;
    },
    write: (message) => Promise.race([writer.write(message), deadline]),
  };
  try {
    return await Promise.race([body(io), deadline]);
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
    writer.releaseLock();
  }
}

function randomNonce(): bigint {
  const b = new BigUint64Array(1);
  crypto.getRandomValues(b);
  return b[0];
}
