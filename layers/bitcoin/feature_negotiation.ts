/**
 * BIP434 feature negotiation as pure functions: which `feature` messages a
 * set of registered features sends ({@linkcode featureMessages}), and what
 * comes of each registration once the peer's `feature` messages are known
 * ({@linkcode negotiateFeatures}). `peerHandshake` drives them; they are
 * exported for callers with their own version/verack loop.
 *
 * The three approaches are the BIP's:
 *
 * - **advertise**: send the id unconditionally; messages defined by the
 *   feature may be *sent* only if the peer advertised the id too
 *   (`enabled`). Accepting them is up to the application (unconditionally,
 *   per the BIP).
 * - **coordinate**: send the id unconditionally; the feature is enabled
 *   only if the peer sent the same id with compatible data (by default:
 *   the same bytes).
 * - **versions**: send several incompatible ids, most preferred first. The
 *   listening peer (our `role` is `"responder"`) enables its most preferred
 *   version that the peer also sent; the initiating peer enables the first
 *   version the peer sent that it also supports. Both ends pick the same.
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";
import { checkFeatureId, type FeaturePayload, MAX_FEATURE_DATA_LENGTH } from "./feature.ts";

/** A feature sent unconditionally; its messages may be sent if the peer sent the same id. */
export interface AdvertisedFeature {
  /** The BIP434 approach. */
  approach: "advertise";
  /** The `featureid` (4..80 printable ASCII characters). The outcome is keyed by it. */
  id: string;
  /** Our `featuredata`, at most 512 bytes. Default empty. */
  data?: Uint8Array;
}

/** A feature enabled only if both ends send it with compatible data. */
export interface CoordinatedFeature {
  /** The BIP434 approach. */
  approach: "coordinate";
  /** The `featureid`. The outcome is keyed by it. */
  id: string;
  /** Our `featuredata`, at most 512 bytes. Default empty. */
  data?: Uint8Array;
  /** Whether the peer's data is compatible with ours. Default: the same bytes. */
  compatible?: (peerData: Uint8Array, ourData: Uint8Array) => boolean;
}

/** One version of a {@linkcode VersionedFeature}. */
export interface FeatureVersion {
  /** The version's `featureid`, e.g. `"BIP434v2"`. */
  id: string;
  /** Our `featuredata` for this version, at most 512 bytes. Default empty. */
  data?: Uint8Array;
}

/** Incompatible versions of one feature, of which at most one is enabled. */
export interface VersionedFeature {
  /** The BIP434 approach. */
  approach: "versions";
  /** What the outcome is keyed by (not sent; must differ from every registered id and name). */
  name: string;
  /** The versions, most preferred first (at least one). */
  versions: readonly FeatureVersion[];
}

/** A feature the caller registers with `peerHandshake`. */
export type FeatureRegistration = AdvertisedFeature | CoordinatedFeature | VersionedFeature;

/** What came of one registered feature. */
export interface FeatureOutcome {
  /** The registration's approach. */
  approach: FeatureRegistration["approach"];
  /**
   * advertise: the peer advertised the id, so we may send the feature's
   * messages. coordinate: the peer sent the id with compatible data.
   * versions: a version was selected.
   */
  enabled: boolean;
  /** The enabled id (for versions: the selected version's); `undefined` when not enabled. */
  id?: string;
  /** The peer's `featuredata` for {@linkcode FeatureOutcome.id}; `undefined` when not enabled. */
  peerData?: Uint8Array;
}

function checkData(name: string, data: unknown): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  checkBytes(name, data);
  const bytes = data as Uint8Array;
  if (bytes.length > MAX_FEATURE_DATA_LENGTH) {
    throw new RangeError(
      `${name} must be at most ${MAX_FEATURE_DATA_LENGTH} bytes, got ${bytes.length}`,
    );
  }
  return bytes;
}

/** A registration, checked, with its key and the messages it sends. */
interface Checked {
  key: string;
  registration: FeatureRegistration;
  sends: FeaturePayload[];
}

function checkRegistrations(registrations: readonly FeatureRegistration[]): Checked[] {
  if (!Array.isArray(registrations)) {
    throw new TypeError("features must be an array of feature registrations");
  }
  const keys = new Set<string>();
  const ids = new Set<string>();
  const claim = (set: Set<string>, value: string, what: string) => {
    if (set.has(value)) throw new RangeError(`${what} "${value}" is registered twice`);
    set.add(value);
  };
  return registrations.map((r, i) => {
    const at = `features[${i}]`;
    if (r === null || typeof r !== "object") throw new TypeError(`${at} must be an object`);
    let key: string;
    let sends: FeaturePayload[];
    if (r.approach === "advertise" || r.approach === "coordinate") {
      key = checkFeatureId(r.id, `${at}.id`);
      sends = [{ featureId: key, featureData: checkData(`${at}.data`, r.data) }];
      if (r.approach === "coordinate" && r.compatible !== undefined) {
        if (typeof r.compatible !== "function") {
          throw new TypeError(`${at}.compatible must be a function`);
        }
      }
    } else if (r.approach === "versions") {
      if (typeof r.name !== "string" || r.name === "") {
        throw new TypeError(`${at}.name must be a non-empty string`);
      }
      key = r.name;
      const versions: readonly FeatureVersion[] = r.versions;
      if (!Array.isArray(versions) || versions.length === 0) {
        throw new RangeError(`${at}.versions must be a non-empty array`);
      }
      sends = versions.map((v: FeatureVersion, j: number) => {
        if (v === null || typeof v !== "object") {
          throw new TypeError(`${at}.versions[${j}] must be an object`);
        }
        return {
          featureId: checkFeatureId(v.id, `${at}.versions[${j}].id`),
          featureData: checkData(`${at}.versions[${j}].data`, v.data),
        };
      });
    } else {
      throw new TypeError(
        `${at}.approach must be "advertise", "coordinate" or "versions", got ${
          String((r as { approach?: unknown }).approach)
        }`,
      );
    }
    claim(keys, key, "feature");
    for (const s of sends) claim(ids, s.featureId, "featureid");
    return { key, registration: r, sends };
  });
}

/**
 * The `feature` messages the registrations send, in order (a versioned
 * feature's versions in preference order). Throws `TypeError`/`RangeError`
 * for a malformed registration, a duplicate id or a duplicate name.
 *
 * @example
 * ```ts
 * import { featureMessages } from "@bip324/bip324/bitcoin";
 * const sent = featureMessages([
 *   { approach: "advertise", id: "BIP9999" },
 *   { approach: "versions", name: "demo", versions: [{ id: "demo/v2" }, { id: "demo/v1" }] },
 * ]);
 * console.assert(sent.map((f) => f.featureId).join() === "BIP9999,demo/v2,demo/v1");
 * ```
 */
export function featureMessages(registrations: readonly FeatureRegistration[]): FeaturePayload[] {
  return checkRegistrations(registrations).flatMap((c) =>
    c.sends.map((s) => ({ featureId: s.featureId, featureData: s.featureData.slice() }))
  );
}

function bytesSame(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * What comes of each registration, keyed by its id (advertise, coordinate)
 * or name (versions), given the peer's `feature` messages in the order they
 * arrived. Only the first message for an id counts; ids nobody registered
 * are ignored. `role` is ours: `"responder"` is the listening peer.
 *
 * @example Versioning: both ends select the same version
 * ```ts
 * import { negotiateFeatures } from "@bip324/bip324/bitcoin";
 * const versions = (...ids: string[]) => ids.map((id) => ({ id }));
 * const listener = [{ approach: "versions", name: "x", versions: versions("x/v3", "x/v2", "x/v1") }] as const;
 * const initiator = [{ approach: "versions", name: "x", versions: versions("x/v1", "x/v2") }] as const;
 * const sent = (ids: string[]) => ids.map((featureId) => ({ featureId, featureData: new Uint8Array() }));
 * const a = negotiateFeatures(listener, sent(["x/v1", "x/v2"]), "responder");
 * const b = negotiateFeatures(initiator, sent(["x/v3", "x/v2", "x/v1"]), "initiator");
 * console.assert(a.x.id === "x/v2" && b.x.id === "x/v2");
 * ```
 */
export function negotiateFeatures(
  registrations: readonly FeatureRegistration[],
  peerFeatures: readonly FeaturePayload[],
  role: "initiator" | "responder",
): Record<string, FeatureOutcome> {
  if (role !== "initiator" && role !== "responder") {
    throw new TypeError(`role must be "initiator" or "responder", got ${String(role)}`);
  }
  const checked = checkRegistrations(registrations);
  // The first message per id, and the order ids first arrived in.
  const peer = new Map<string, Uint8Array>();
  for (const f of peerFeatures) if (!peer.has(f.featureId)) peer.set(f.featureId, f.featureData);
  const peerOrder = [...peer.keys()];
  const outcomes: Record<string, FeatureOutcome> = {};
  for (const { key, registration: r, sends } of checked) {
    let id: string | undefined;
    if (r.approach === "advertise") {
      if (peer.has(key)) id = key;
    } else if (r.approach === "coordinate") {
      const theirs = peer.get(key);
      const ours = sends[0].featureData;
      if (theirs !== undefined && (r.compatible ?? bytesSame)(theirs, ours)) id = key;
    } else if (role === "responder") {
      id = sends.find((s) => peer.has(s.featureId))?.featureId;
    } else {
      const ours = new Set(sends.map((s) => s.featureId));
      id = peerOrder.find((p) => ours.has(p));
    }
    const outcome: FeatureOutcome = id === undefined
      ? { approach: r.approach, enabled: false }
      : { approach: r.approach, enabled: true, id, peerData: peer.get(id)!.slice() };
    // (defineProperty: an id may be "__proto__")
    Object.defineProperty(outcomes, key, {
      value: outcome,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return outcomes;
}
