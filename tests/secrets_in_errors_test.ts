// No key, ECDH secret or garbage terminator in any error (every code provoked) or log line.
import assert from "node:assert/strict";
import { Bip324Error, type Bip324ErrorCode } from "../layers/errors.ts";
import { encryptPacket } from "../layers/packet_cipher.ts";
import { v2Ecdh } from "../layers/handshake/ellswift.ts";
import { deriveSessionKeys } from "../layers/handshake/key_schedule.ts";
import { Handshake, MAX_GARBAGE_LEN } from "../layers/handshake/handshake.ts";
import { performHandshake } from "../layers/handshake/driver.ts";
import { networkMagic } from "../layers/bitcoin/network.ts";
import { openSession, type OpenSessionOptions } from "../layers/session/open.ts";
import { openV1Session } from "../layers/session/v1_session.ts";
import { decodePayload } from "../layers/bitcoin/mod.ts";
import { V1Decoder } from "../layers/v1/v1_framing.ts";
import { peerHandshake, pingPeer } from "../layers/bitcoin/peer_handshake.ts";
import { listen } from "../layers/session/connect.ts";
import { memoryPair } from "../transports/memory.ts";
import { concat, within } from "./helpers.ts";
import { textsOf } from "./wiping.ts";
import {
  Feed,
  handshakeOverFeed,
  I,
  initiatorCipher,
  KEY_LEN,
  msg,
  R,
  responderCipher,
  TERMINATOR_LEN,
  until,
} from "./bounds_helpers.ts";

// ---------------------------------------------------------------------------
// No secret in any error or log line

/** Every secret of the fixed I/R key pairs: private keys, ECDH secret, the four keys, terminators. */
function secrets(): Map<string, Uint8Array> {
  const shared = v2Ecdh(I.priv, R.ell, I.ell, true);
  assert.deepEqual(shared, v2Ecdh(R.priv, I.ell, R.ell, false));
  const k = deriveSessionKeys(shared, true, "regtest");
  return new Map([
    ["initiator private key", I.priv],
    ["responder private key", R.priv],
    ["ECDH secret", shared],
    ["initiator length key", k.sendLengthKey],
    ["initiator packet key", k.sendPacketKey],
    ["responder length key", k.recvLengthKey],
    ["responder packet key", k.recvPacketKey],
    ["initiator garbage terminator", k.sendGarbageTerminator],
    ["responder garbage terminator", k.recvGarbageTerminator],
  ]);
}

const hex = (b: Uint8Array) => Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
const base64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/** Ways a byte array could end up in text: hex, decimal lists, base64 (whole or first 8 bytes). */
function renderings(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (const b of [bytes, bytes.subarray(0, 8)]) {
    out.push(hex(b), hex(b).toUpperCase(), Array.from(b).join(","));
  }
  out.push(base64(bytes));
  return out;
}

Deno.test("bounds: no key, secret or terminator appears in any error (every code provoked) or log line", async () => {
  const errors: unknown[] = [];
  const logged: string[] = [];
  const methods = ["log", "info", "warn", "error", "debug"] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) {
    console[m] = (...args: unknown[]) => {
      logged.push(args.map((a) => Deno.inspect(a, { depth: 8 })).join(" "));
    };
  }
  const catchAll = async (p: Promise<unknown>): Promise<void> => {
    try {
      await within(p, 10_000, "scenario");
    } catch (e) {
      errors.push(e);
    }
  };
  try {
    // DECRYPTION (session), then CLOSED on write
    {
      const { feed, session, ciphers } = await handshakeOverFeed({ cipher: responderCipher() });
      const p = encryptPacket(ciphers, new Uint8Array([18, 1, 2, 3, 4, 5, 6, 7, 8]));
      p[5] ^= 4;
      feed.push(p);
      await catchAll(session.readable.getReader().read());
      errors.push(session.closeReason);
      await catchAll(session.writable.getWriter().write(msg("ping", new Uint8Array(8))));
    }
    // OVERSIZED, INVALID_MESSAGE_TYPE, UNEXPECTED_EOF, IDLE_TIMEOUT (sessions)
    {
      const { feed, session, ciphers } = await handshakeOverFeed({
        cipher: responderCipher(),
        maxMessageSize: 100,
      });
      const field = new Uint8Array(3);
      ciphers.sendLength.encryptLength(101, field);
      feed.push(field);
      await catchAll(session.readable.getReader().read());
    }
    {
      const { feed, session, ciphers } = await handshakeOverFeed({
        cipher: responderCipher(),
        aliasing: { onInvalid: "error" },
      });
      feed.push(encryptPacket(ciphers, new Uint8Array([0, 0xff, 1, 2])));
      await catchAll(session.readable.getReader().read());
    }
    {
      const { feed, session, ciphers } = await handshakeOverFeed({ cipher: responderCipher() });
      feed.push(encryptPacket(ciphers, new Uint8Array([18, 1])).subarray(0, 9));
      feed.end();
      await catchAll(session.readable.getReader().read());
    }
    {
      const { session } = await handshakeOverFeed({ cipher: responderCipher(), idleTimeout: 30 });
      await catchAll(session.readable.getReader().read());
    }
    // Handshake failures with the keys in play
    const responderOver = (feed: Feed, options: Partial<OpenSessionOptions> = {}) =>
      openSession(feed, {
        role: "responder",
        network: "regtest",
        cipher: responderCipher(),
        ...options,
      });
    {
      // DECRYPTION during the handshake: tampered garbage
      const feed = new Feed();
      const machine = new Handshake({
        role: "initiator",
        network: "regtest",
        cipher: initiatorCipher(),
        garbage: 30,
      });
      feed.onWrite = (chunk) => {
        if (!machine.done) {
          const out = machine.receive(chunk);
          if (out.length > 0) feed.push(out);
        }
      };
      const first = machine.start().slice();
      first[KEY_LEN + 3] ^= 1;
      const opening = responderOver(feed);
      feed.push(first);
      await catchAll(opening);
    }
    {
      const feed = new Feed(); // NO_GARBAGE_TERMINATOR
      const opening = responderOver(feed);
      feed.push(concat([I.ell, new Uint8Array(MAX_GARBAGE_LEN + TERMINATOR_LEN)]));
      await catchAll(opening);
    }
    {
      const feed = new Feed(); // HANDSHAKE_TIMEOUT after the key exchange
      const opening = responderOver(feed, { handshakeTimeout: 30 });
      feed.push(concat([I.ell, new Uint8Array(100)]));
      await catchAll(opening);
    }
    {
      const feed = new Feed(); // UNEXPECTED_EOF during the handshake
      const opening = responderOver(feed);
      feed.push(concat([I.ell, new Uint8Array(100)]));
      feed.end();
      await catchAll(opening);
    }
    {
      const feed = new Feed(); // V1_PROTOCOL
      const opening = responderOver(feed);
      feed.push(concat([networkMagic("regtest"), new TextEncoder().encode("version\0\0\0\0\0")]));
      await catchAll(opening);
      feed.readable.cancel().catch(() => {});
    }
    {
      const feed = new Feed(); // WRONG_NETWORK
      const opening = responderOver(feed);
      feed.push(concat([networkMagic("mainnet"), new TextEncoder().encode("version\0\0\0\0\0")]));
      await catchAll(opening);
    }
    {
      const feed = new Feed(); // V1_ONLY_PEER: the peer hangs up after our key
      feed.onWrite = () => feed.end();
      await catchAll(
        openSession(feed, { role: "initiator", network: "regtest", cipher: initiatorCipher() }),
      );
    }
    {
      // TRANSPORT: the connection is reset under an established session
      const [x, y] = memoryPair();
      const [, session] = await Promise.all([
        performHandshake(x, {
          role: "initiator",
          network: "regtest",
          cipher: initiatorCipher(),
        }),
        openSession(y, { role: "responder", network: "regtest", cipher: responderCipher() }),
      ]);
      await x.writable.abort(new Error("connection reset by test"));
      await catchAll(session.readable.getReader().read());
    }
    {
      // TIMEOUT: peerHandshake and pingPeer against a peer that never answers
      const [x, y] = memoryPair();
      const [a, b] = await Promise.all([
        openSession(x, { role: "initiator", network: "regtest", cipher: initiatorCipher() }),
        openSession(y, { role: "responder", network: "regtest", cipher: responderCipher() }),
      ]);
      await catchAll(peerHandshake(a, { timeout: 30 }));
      await catchAll(pingPeer(a, { timeout: 30 }));
      await a.close();
      await b.closed;
    }
    {
      // BUSY: a listener that admits no handshake at all
      const busy: Bip324Error[] = [];
      const listener = listen({ port: 0, maxPendingHandshakes: 0, onError: (e) => busy.push(e) });
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
      await until(() => busy.length > 0, "BUSY");
      errors.push(...busy);
      conn.close();
      await listener.close();
    }
    // V1_FRAMING, MALFORMED_MESSAGE: peer-controlled bytes only, checked all the same
    errors.push(
      (() => {
        try {
          new V1Decoder({ magic: networkMagic("regtest") }).push(new Uint8Array(30).fill(9));
        } catch (e) {
          return e;
        }
      })(),
      (() => {
        try {
          decodePayload("ping", new Uint8Array(3));
        } catch (e) {
          return e;
        }
      })(),
    );
    {
      const [x, y] = memoryPair();
      const v1 = openV1Session(y, { role: "responder", network: "regtest" });
      await x.writable.getWriter().write(new Uint8Array(30).fill(7));
      await catchAll(v1.readable.getReader().read());
    }
  } finally {
    methods.forEach((m, i) => (console[m] = saved[i]));
  }

  const codes = new Set(errors.map((e) => (e instanceof Bip324Error ? e.code : `not typed: ${e}`)));
  const expected: Bip324ErrorCode[] = [
    "DECRYPTION",
    "NO_GARBAGE_TERMINATOR",
    "V1_PROTOCOL",
    "WRONG_NETWORK",
    "HANDSHAKE_TIMEOUT",
    "OVERSIZED",
    "INVALID_MESSAGE_TYPE",
    "CLOSED",
    "UNEXPECTED_EOF",
    "V1_ONLY_PEER",
    "IDLE_TIMEOUT",
    "V1_FRAMING",
    "MALFORMED_MESSAGE",
    "TIMEOUT",
    "BUSY",
    "TRANSPORT",
  ];
  assert.deepEqual(
    [...codes].sort(),
    [...expected].sort(),
    "every error code was provoked, all typed",
  );

  const table = [...secrets()].map(([name, bytes]) => [name, renderings(bytes)] as const);
  const texts = [...errors.flatMap(textsOf), ...logged].map((t) => t.replace(/\s+/g, ""));
  for (const text of texts) {
    for (const [name, forms] of table) {
      for (const form of forms) {
        assert.ok(
          !text.includes(form.replace(/\s+/g, "")),
          `${name} appears in: ${text.slice(0, 300)}`,
        );
      }
    }
  }
});
