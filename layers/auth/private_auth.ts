/**
 * {@linkcode PrivateAuth}: the sans-I/O core of private authentication over
 * an established BIP324 session. It turns configuration (acceptable public
 * keys, our private keys, the public slot counts) into the payloads of
 * `privauth` messages to send and consumes the peer's, ending with one
 * boolean: did the peer prove an acceptable key?
 *
 * The protocol is chosen by the challenger's public `acceptSlots`, never by
 * how many keys are configured: 1 slot runs Countersign (the most private:
 * the responder learns nothing), 2..64 slots run the simple multi-key
 * protocol. An empty key set is padded with random keys, so the messages
 * are the same size and equally random whether or not anybody is accepted
 * or any identity is held. See `docs/authentication.md` for the wire format.
 *
 * @module
 */

import { checkBytes, randomBytes, wipe } from "../bytes.ts";
import { Bip324Error } from "../errors.ts";
import {
  COUNTERSIGN_CHALLENGE_LEN,
  countersignChallenge,
  countersignRespond,
  countersignResponseLength,
  type CountersignState,
  countersignVerify,
} from "./countersign.ts";
import { Point, randomScalar, type RandomSource, toBig } from "./group.ts";
import { checkPrivateKey, checkPublicKey } from "./keys.ts";
import {
  MULTIKEY_RESPONSE_LEN,
  multiKeyChallenge,
  multiKeyChallengeLength,
  multiKeyRespond,
  type MultiKeyState,
  multiKeyVerify,
} from "./multikey.ts";

/** The long-form message type that carries authentication payloads. */
export const AUTH_MESSAGE_TYPE = "privauth";
/** The most acceptable-key slots a challenge may have (multi-key protocol). */
export const MAX_ACCEPT_SLOTS = 64;
/** The most identity slots a Countersign response may have. */
export const MAX_IDENTITY_SLOTS = 16;

/** Which side(s) of the session send a challenge: both (default), or only the initiator or responder. */
export type AuthChallengers = "both" | "initiator" | "responder";

/** Configuration of {@linkcode PrivateAuth} (and `authenticate`). */
export interface PrivateAuthOptions {
  /**
   * Public keys (33-byte compressed SEC1) we accept from the peer. Default
   * none: we still send a challenge (for random keys), so nobody can tell.
   */
  accept?: readonly Uint8Array[];
  /** Our private keys (32 bytes each) to prove to a challenging peer. Default none. */
  identity?: readonly Uint8Array[];
  /**
   * Slots in our challenge, a public bound on `accept` (the message size
   * shows it). 1 (default) runs Countersign; 2..64 the multi-key protocol.
   * Use the same value on every session, whatever `accept` holds.
   */
  acceptSlots?: number;
  /**
   * Proof values in our Countersign responses, a public bound on
   * `identity` (1..16). Default 1.
   */
  identitySlots?: number;
  /** Who challenges. Both ends must agree. Default `"both"`. */
  challengers?: AuthChallengers;
  /** Random bytes (default: Web Crypto). For reproducible tests only. */
  random?: RandomSource;
}

/** The session facts {@linkcode PrivateAuth} binds to. */
export interface PrivateAuthSession {
  /** Our role in the BIP324 session. */
  role: "initiator" | "responder";
  /** The 32-byte BIP324 session id. */
  sessionId: Uint8Array;
}

type Pending =
  | { kind: "countersign"; state: CountersignState }
  | { kind: "multikey"; state: MultiKeyState };

function checkSlots(name: string, value: unknown, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be an integer 1..${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * One private-authentication exchange, without I/O: call
 * {@linkcode PrivateAuth.start} and send what it returns, then feed every
 * `privauth` payload from the peer to {@linkcode PrivateAuth.receive} and
 * send what that returns, until {@linkcode PrivateAuth.done}.
 *
 * @example Both directions over an in-memory "session"
 * ```ts
 * import { generateIdentity, PrivateAuth } from "@bip324/bip324/auth";
 * const sessionId = crypto.getRandomValues(new Uint8Array(32));
 * const node = generateIdentity();
 * const a = new PrivateAuth({ role: "initiator", sessionId }, { accept: [node.publicKey] });
 * const b = new PrivateAuth({ role: "responder", sessionId }, { identity: [node.privateKey] });
 * const toB = a.start(), toA = b.start();
 * toA.push(...b.receive(toB[0]));
 * toB.push(...a.receive(toA[0]));
 * a.receive(toA[1]);
 * b.receive(toB[1]);
 * console.assert(a.done && a.authenticated && b.done && !b.authenticated);
 * ```
 */
export class PrivateAuth {
  #role: "initiator" | "responder";
  #sessionId: Uint8Array;
  #accept: Point[];
  #realAccept: boolean;
  #identity: Uint8Array[];
  #acceptSlots: number;
  #identitySlots: number;
  #random: RandomSource;
  #weChallenge: boolean;
  #peerChallenges: boolean;
  #destroyed = false;
  /** What we still expect from the peer, in order. */
  #expect: ("challenge" | "response")[] = [];
  #pending?: Pending;
  #started = false;
  #authenticated = false;

  /** Checks the configuration (`TypeError`/`RangeError` naming the bad option). */
  constructor(session: PrivateAuthSession, options: PrivateAuthOptions = {}) {
    if (session === null || typeof session !== "object") {
      throw new TypeError("session must be an object { role, sessionId }");
    }
    if (session.role !== "initiator" && session.role !== "responder") {
      throw new TypeError(`session.role must be "initiator" or "responder", got ${session.role}`);
    }
    this.#role = session.role;
    this.#sessionId = checkBytes("session.sessionId", session.sessionId, 32).slice();
    this.#acceptSlots = checkSlots("acceptSlots", options.acceptSlots ?? 1, MAX_ACCEPT_SLOTS);
    this.#identitySlots = checkSlots(
      "identitySlots",
      options.identitySlots ?? 1,
      MAX_IDENTITY_SLOTS,
    );
    const accept = options.accept ?? [];
    if (!Array.isArray(accept)) throw new TypeError("accept must be an array of public keys");
    if (accept.length > this.#acceptSlots) {
      throw new RangeError(
        `accept has ${accept.length} keys but acceptSlots is ${this.#acceptSlots}: raise acceptSlots (it is public; use one value on every session)`,
      );
    }
    this.#accept = accept.map((k, i) => checkPublicKey(`accept[${i}]`, k));
    this.#realAccept = this.#accept.length > 0;
    const identity = options.identity ?? [];
    if (!Array.isArray(identity)) throw new TypeError("identity must be an array of private keys");
    if (identity.length > this.#identitySlots) {
      throw new RangeError(
        `identity has ${identity.length} keys but identitySlots is ${this.#identitySlots}`,
      );
    }
    this.#identity = identity.map((k, i) => checkPrivateKey(`identity[${i}]`, k).slice());
    this.#random = options.random ?? randomBytes;
    if (typeof this.#random !== "function") throw new TypeError("random must be a function");
    const challengers = options.challengers ?? "both";
    if (challengers !== "both" && challengers !== "initiator" && challengers !== "responder") {
      throw new TypeError(
        `challengers must be "both", "initiator" or "responder", got ${String(challengers)}`,
      );
    }
    this.#weChallenge = challengers === "both" || challengers === this.#role;
    this.#peerChallenges = challengers === "both" || challengers !== this.#role;
    if (this.#peerChallenges) this.#expect.push("challenge");
    if (this.#weChallenge) this.#expect.push("response");
  }

  /** Whether every message we expect from the peer has arrived. */
  get done(): boolean {
    return this.#started && !this.#destroyed && this.#expect.length === 0;
  }

  /** Whether we send a challenge in this exchange. */
  get challenges(): boolean {
    return this.#weChallenge;
  }

  /** Whether we answer a challenge from the peer in this exchange. */
  get responds(): boolean {
    return this.#peerChallenges;
  }

  /**
   * Whether the peer proved one of the accepted keys: `false` until
   * {@linkcode PrivateAuth.done}, and always when we do not challenge or accept nobody.
   */
  get authenticated(): boolean {
    // (the peer's response is always the last message we expect)
    return this.#authenticated;
  }

  /** The payloads to send first: our challenge, if we challenge. Call once. */
  start(): Uint8Array[] {
    if (this.#started) throw new TypeError("start() was already called");
    if (this.#destroyed) throw new TypeError("the exchange was destroyed");
    this.#started = true;
    if (!this.#weChallenge) return [];
    const context = this.#context(this.#role);
    if (this.#acceptSlots === 1) {
      const Q = this.#accept[0] ?? this.#randomPoint();
      const { message, state } = countersignChallenge(Q, context, this.#random);
      this.#pending = { kind: "countersign", state };
      return [message];
    }
    const keys = [...this.#accept];
    while (keys.length < this.#acceptSlots) keys.push(this.#randomPoint());
    const { message, state } = multiKeyChallenge(keys, context, this.#random);
    this.#pending = { kind: "multikey", state };
    return [message];
  }

  /**
   * Consumes the peer's next `privauth` payload and returns what to send in
   * reply (our response to its challenge, or nothing). A payload of the
   * wrong size, or one more than expected, throws {@linkcode Bip324Error}
   * (`MALFORMED_MESSAGE` or `UNEXPECTED_MESSAGE`, origin `"peer"`).
   */
  receive(payload: Uint8Array): Uint8Array[] {
    checkBytes("payload", payload);
    if (!this.#started) throw new TypeError("call start() before receive()");
    if (this.#destroyed) throw new TypeError("the exchange was destroyed");
    const kind = this.#expect.shift();
    if (kind === undefined) {
      throw new Bip324Error("UNEXPECTED_MESSAGE", "privauth: more messages than the exchange has");
    }
    if (kind === "challenge") return [this.#respond(payload)];
    this.#check(payload);
    return [];
  }

  #respond(challenge: Uint8Array): Uint8Array {
    const peerRole = this.#role === "initiator" ? "responder" : "initiator";
    const context = this.#context(peerRole);
    const keys = this.#identity.map(toBig);
    if (challenge.length === COUNTERSIGN_CHALLENGE_LEN) {
      return countersignRespond(challenge, keys, this.#identitySlots, context, this.#random);
    }
    const slots = (challenge.length - multiKeyChallengeLength(0)) / 32;
    if (Number.isInteger(slots) && slots >= 2 && slots <= MAX_ACCEPT_SLOTS) {
      return multiKeyRespond(challenge, keys, context, this.#random);
    }
    throw new Bip324Error(
      "MALFORMED_MESSAGE",
      `privauth: a challenge of ${challenge.length} bytes (expected ${COUNTERSIGN_CHALLENGE_LEN}, or ${
        multiKeyChallengeLength(2)
      }..${multiKeyChallengeLength(MAX_ACCEPT_SLOTS)} in steps of 32)`,
    );
  }

  #check(response: Uint8Array): void {
    const pending = this.#pending!;
    this.#pending = undefined;
    let ok: boolean;
    if (pending.kind === "countersign") {
      const slots = (response.length - countersignResponseLength(0)) / 32;
      if (!Number.isInteger(slots) || slots < 1 || slots > MAX_IDENTITY_SLOTS) {
        throw new Bip324Error(
          "MALFORMED_MESSAGE",
          `privauth: a Countersign response of ${response.length} bytes (expected ${
            countersignResponseLength(1)
          }..${countersignResponseLength(MAX_IDENTITY_SLOTS)} in steps of 32)`,
        );
      }
      ok = countersignVerify(pending.state, response, this.#context(this.#role));
      pending.state.y = 0n;
    } else {
      if (response.length !== MULTIKEY_RESPONSE_LEN) {
        wipe(pending.state.y);
        throw new Bip324Error(
          "MALFORMED_MESSAGE",
          `privauth: a multi-key response of ${response.length} bytes (expected ${MULTIKEY_RESPONSE_LEN})`,
        );
      }
      ok = multiKeyVerify(pending.state, response);
      wipe(pending.state.y);
    }
    this.#authenticated = ok && this.#realAccept;
  }

  /** Session id ‖ the challenger's role (0 initiator, 1 responder). */
  #context(challenger: "initiator" | "responder"): Uint8Array {
    const out = new Uint8Array(33);
    out.set(this.#sessionId);
    out[32] = challenger === "initiator" ? 0 : 1;
    return out;
  }

  #randomPoint(): Point {
    return Point.BASE.multiply(randomScalar(this.#random));
  }

  /** Wipes our copies of the private keys and any pending secret. Safe to call more than once. */
  destroy(): void {
    wipe(...this.#identity);
    if (this.#pending?.kind === "multikey") wipe(this.#pending.state.y);
    if (this.#pending?.kind === "countersign") this.#pending.state.y = 0n;
    this.#pending = undefined;
    this.#destroyed = true;
  }
}
