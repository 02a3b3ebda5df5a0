/**
 * BIP324 — Bitcoin's version 2 P2P encrypted transport — for Deno, Node.js,
 * Bun, browsers and edge runtimes.
 *
 * This entry point is the session API: {@linkcode connect} / {@linkcode listen}
 * (TCP), {@linkcode connectWebSocket} / {@linkcode listenWebSocket} and
 * {@linkcode openSession} (any byte pair, e.g. {@linkcode memoryPair}) give a
 * {@linkcode Session}: a readable and a writable of `{ type, payload }`
 * messages. It also carries the cipher API shaped like Bitcoin Core's:
 * {@linkcode Bip324Cipher}, {@linkcode ellswiftCreate},
 * {@linkcode ellswiftDecode}, {@linkcode xswiftecInv} and {@linkcode v2Ecdh}.
 *
 * The other entry points:
 *
 * - `@bip324/bip324/layers`: each protocol layer as a Web Streams
 *   `Transformer` over its pure core (length cipher, AEAD with decoys,
 *   aliasing, shaping, v1 framing), the handshake state machine, and
 *   `compose()`;
 * - `@bip324/bip324/cipher`: the cryptographic cores (FSChaCha20,
 *   FSChaCha20Poly1305, the key schedule, AEAD backends);
 * - `@bip324/bip324/bitcoin`: Bitcoin P2P message codecs, the
 *   `version`/`verack` exchange, networks;
 * - `@bip324/bip324/transports`: the raw byte pairs (TCP, WebSocket, memory).
 *
 * @example Two sessions over an in-memory pair
 * ```ts
 * import { memoryPair, openSession, toHex } from "@bip324/bip324";
 *
 * const [a, b] = memoryPair();
 * const [alice, bob] = await Promise.all([
 *   openSession(a, { role: "initiator", network: "regtest" }),
 *   openSession(b, { role: "responder", network: "regtest" }),
 * ]);
 * console.log("session id", toHex(alice.sessionId)); // equal on both ends
 * const writer = alice.writable.getWriter();
 * await writer.write({ type: "ping", payload: new Uint8Array(8) });
 * const { value } = await bob.readable.getReader().read();
 * console.assert(value?.type === "ping");
 * await alice.close();
 * await bob.closed;
 * ```
 *
 * @example The Core-shaped cipher: two peers agree on a session and exchange one packet
 * ```ts
 * import { Bip324Cipher } from "@bip324/bip324";
 *
 * const initiator = Bip324Cipher.create();
 * const responder = Bip324Cipher.create();
 * initiator.initialize(responder.ourEllswift, true, "regtest");
 * responder.initialize(initiator.ourEllswift, false, "regtest");
 *
 * const packet = initiator.encrypt(new TextEncoder().encode("hello"));
 * const length = responder.decryptLength(packet.subarray(0, 3));
 * const { contents } = responder.decrypt(packet.subarray(3, 3 + length + 17));
 * console.log(new TextDecoder().decode(contents)); // "hello"
 * ```
 *
 * @module
 */

// Errors
export { Bip324Error } from "./layers/errors.ts";
export type { Bip324ErrorCode, Bip324ErrorOptions, Bip324ErrorOrigin } from "./layers/errors.ts";

// Sessions
export { Session } from "./layers/session/session.ts";
export { recycle } from "./layers/buffer_pool.ts";
export type {
  HandshakeInfo,
  SessionBaseOptions,
  SessionInit,
  SessionStack,
  SessionStats,
} from "./layers/session/session.ts";
export { openSession } from "./layers/session/open.ts";
export type { ExtraLayers, OpenSessionOptions, SessionOptions } from "./layers/session/open.ts";
export type { CallerLayer } from "./layers/layer.ts";
export { openV1Session } from "./layers/session/v1_session.ts";
export type { OpenV1SessionOptions } from "./layers/session/v1_session.ts";
export { connect, connectWebSocket, listen, listenWebSocket } from "./layers/session/connect.ts";
export type {
  ConnectOptions,
  ConnectWebSocketOptions,
  ListenOptions,
  ListenWebSocketOptions,
  TcpAddress,
} from "./layers/session/connect.ts";
export { acceptSessions, DEFAULT_MAX_PENDING_HANDSHAKES } from "./layers/session/listener.ts";
export type {
  AcceptOptions,
  IncomingConnection,
  ListenerStats,
  SessionListener,
} from "./layers/session/listener.ts";
export { DEFAULT_HANDSHAKE_TIMEOUT } from "./layers/handshake/driver.ts";
export type { HandshakeDriverOptions } from "./layers/handshake/driver.ts";
export type { HandshakeOptions, Role } from "./layers/handshake/handshake.ts";
export type { Message } from "./layers/aliasing/aliasing.ts";
export type { AliasingOptions } from "./layers/aliasing/aliasing_layer.ts";
export type { Network } from "./layers/bitcoin/network.ts";
export { randomDecoys } from "./layers/shaping.ts";
export type { RandomDecoyOptions, ShapingPolicy } from "./layers/shaping.ts";
export type { BytePair } from "./layers/bytes.ts";
export { fromHex, toHex } from "./layers/bytes.ts";

// The in-memory transport (the others are in `@bip324/bip324/transports`)
export { memoryPair } from "./transports/memory.ts";
export type { MemoryPairOptions } from "./transports/memory.ts";

// The cipher API shaped like Bitcoin Core's
export { Bip324Cipher } from "./layers/packet_cipher.ts";
export type {
  Bip324CipherOptions,
  DecryptedPacket,
  DirectionalCiphers,
} from "./layers/packet_cipher.ts";
export {
  ellswiftCreate,
  ellswiftDecode,
  v2Ecdh,
  xswiftecInv,
} from "./layers/handshake/ellswift.ts";
export type { AeadBackend, AeadBackendKind } from "./layers/crypto/backend.ts";
