/**
 * A terminating edge Worker: it speaks BIP324 itself. `POST /broadcast`
 * with a raw transaction (hex, or bytes) opens a v2 session to each node in
 * `NODES` (`host:port,…`, over `cloudflare:sockets`), does the
 * version/verack exchange, sends the transaction as a `tx` message, and
 * answers with each node's session id (or its error):
 *
 * ```json
 * {"results":[{"node":"127.0.0.1:18444","session_id":"…"},{"node":"…","error":"TRANSPORT"}]}
 * ```
 *
 * Variables: `NODES` (required), `NETWORK` (default `mainnet`), `P2P`
 * (`"0"` skips version/verack, for peers that do not do it).
 *
 * Workers compile no WebAssembly from bytes, so the handshakes' secp256k1
 * arithmetic runs on `bigint`s unless an entry module imports the compiled
 * module and hands it to {@linkcode initEcWasm} (re-exported here for that;
 * docs/relay.md shows the entry module). The response header
 * `x-bip324-key-math` says which ran (`webassembly` or `bigint`).
 *
 * @module
 */

// @ts-ignore: provided by the Workers runtime
import { connect } from "cloudflare:sockets";
import { Bip324Error, openSession, toHex } from "../../mod.ts";
import { ecWasmAvailable } from "../../layers/cipher.ts";
import { fromHex } from "../../layers/bytes.ts";
import { peerHandshake } from "../../layers/bitcoin/mod.ts";
import type { Network } from "../../layers/bitcoin/network.ts";
import { parseTarget, socketsConnector } from "../../transports/relay/mod.ts";

export { initEcWasm } from "../../layers/cipher.ts";

/** The Worker's variables. */
export interface BroadcastEnv {
  /** The nodes, `host:port,…`. */
  NODES: string;
  /** `mainnet` (default), `testnet`, `signet`, `regtest`, … */
  NETWORK?: string;
  /** `"0"`: no version/verack exchange. */
  P2P?: string;
}

/** One node's outcome. */
export interface BroadcastResult {
  /** The node, `host:port`. */
  node: string;
  /** The BIP324 session id (hex) on success. */
  session_id?: string;
  /** The error code (or message) on failure. */
  error?: string;
}

const MAX_TX_BYTES = 400_000;

async function broadcastTo(
  node: string,
  tx: Uint8Array,
  env: BroadcastEnv,
): Promise<BroadcastResult> {
  const open = socketsConnector(connect);
  let pair;
  try {
    pair = await open(parseTarget(node));
  } catch (error) {
    return { node, error: `TRANSPORT: ${(error as Error).message}` };
  }
  try {
    const session = await openSession(pair, {
      role: "initiator",
      network: (env.NETWORK ?? "mainnet") as Network,
      handshakeTimeout: 10_000,
    });
    if (env.P2P !== "0") await peerHandshake(session, { timeout: 10_000 });
    const writer = session.writable.getWriter();
    await writer.write({ type: "tx", payload: tx });
    writer.releaseLock();
    const id = toHex(session.sessionId);
    await session.close();
    return { node, session_id: id };
  } catch (error) {
    pair.close();
    return { node, error: error instanceof Bip324Error ? error.code : String(error) };
  }
}

/** The Worker. */
export default {
  async fetch(request: Request, env: BroadcastEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/broadcast") return new Response("not found\n", { status: 404 });
    if (request.method !== "POST") return new Response("POST a raw transaction\n", { status: 405 });
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.length > MAX_TX_BYTES * 2) return new Response("too large\n", { status: 413 });
    let tx: Uint8Array;
    const text = new TextDecoder().decode(body).trim();
    try {
      tx = /^[0-9a-fA-F]+$/.test(text) ? fromHex(text) : body;
    } catch {
      return new Response("bad hex\n", { status: 400 });
    }
    if (tx.length === 0 || tx.length > MAX_TX_BYTES) {
      return new Response("empty or too large transaction\n", { status: 400 });
    }
    const nodes = (env.NODES ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
    const results = await Promise.all(nodes.map((node) => broadcastTo(node, tx, env)));
    return Response.json({ results }, {
      headers: { "x-bip324-key-math": ecWasmAvailable() ? "webassembly" : "bigint" },
    });
  },
};
