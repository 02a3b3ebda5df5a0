/// <reference lib="dom" />
/**
 * The browser example's page script: connects through a relay to a node,
 * runs the BIP324 handshake in the page, shows the session's facts and a live
 * log of messages, and measures ping/pong round trips.
 *
 * Bundled by `build.ts` into `app.bundle.js`, which imports the library from
 * `./bip324.bundle.js` at run time. Query parameters prefill the form:
 * `?relay=ws://…&network=regtest&decoys=10,20&p2p=0&autoconnect=1`.
 *
 * @module
 */

// @ts-types="./library.ts"
import {
  Bip324Error,
  bytesEqual,
  connectWebSocket,
  ecWasmAvailable,
  encodePing,
  type Message,
  type Network,
  NETWORK_MAGIC,
  peerHandshake,
  type Session,
  toHex,
} from "./bip324.bundle.js";

/** Milliseconds to wait for a pong. */
const PING_TIMEOUT = 10_000;
/** Log entries kept on the page. */
const MAX_LOG = 500;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing element #${id}`);
  return found as T;
}

const ui = {
  form: element<HTMLFormElement>("connect-form"),
  relay: element<HTMLInputElement>("relay-url"),
  network: element<HTMLSelectElement>("network"),
  decoys: element<HTMLInputElement>("decoys"),
  p2p: element<HTMLInputElement>("p2p-handshake"),
  connect: element<HTMLButtonElement>("connect"),
  ping: element<HTMLButtonElement>("ping"),
  disconnect: element<HTMLButtonElement>("disconnect"),
  status: element("status"),
  sessionId: element("session-id"),
  transport: element("transport-version"),
  keyMath: element("key-math"),
  garbageSent: element("garbage-sent"),
  garbageReceived: element("garbage-received"),
  decoysSent: element("decoys-sent"),
  decoysReceived: element("decoys-received"),
  peer: element("peer"),
  pong: element("pong-status"),
  log: element<HTMLOListElement>("log"),
};

/** A ping waiting for its pong. */
interface PendingPing {
  payload: Uint8Array;
  start: number;
  resolve: (ms: number) => void;
}

let session: Session | undefined;
let writer: WritableStreamDefaultWriter<Message> | undefined;
let pending: PendingPing | undefined;
let pongs = 0;

function log(text: string, error = false): void {
  const li = document.createElement("li");
  li.textContent = `${new Date().toISOString().slice(11, 23)} ${text}`;
  if (error) li.className = "error";
  ui.log.append(li);
  while (ui.log.childElementCount > MAX_LOG) ui.log.firstElementChild?.remove();
  ui.log.scrollTop = ui.log.scrollHeight;
}

function describe(error: unknown): string {
  if (error instanceof Bip324Error) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function setConnected(connected: boolean): void {
  ui.connect.disabled = connected;
  ui.ping.disabled = !connected;
  ui.disconnect.disabled = !connected;
}

function parseDecoys(text: string): number[] {
  const sizes = text.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  for (const n of sizes) {
    if (!Number.isInteger(n) || n < 0 || n > 65536) {
      throw new RangeError(`decoy sizes must be integers 0..65536, got ${text}`);
    }
  }
  return sizes;
}

function summarize(m: Message): string {
  const preview = toHex(m.payload.subarray(0, 16));
  return `${m.type} (${m.payload.length} bytes${
    m.payload.length ? `: ${preview}${m.payload.length > 16 ? "…" : ""}` : ""
  })`;
}

/** Sends a ping and resolves with the round trip in ms once the matching pong arrives. */
async function ping(): Promise<number> {
  if (!writer) throw new Error("not connected");
  if (pending) throw new Error("a ping is already in flight");
  const payload = encodePing({ nonce: crypto.getRandomValues(new BigUint64Array(1))[0] });
  ui.pong.textContent = "waiting for pong…";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const rtt = new Promise<number>((resolve, reject) => {
    pending = { payload, start: performance.now(), resolve };
    timer = setTimeout(() => reject(new Error(`no pong within ${PING_TIMEOUT} ms`)), PING_TIMEOUT);
  });
  try {
    await writer.write({ type: "ping", payload });
    log(`→ ping ${toHex(payload)}`);
    const ms = await rtt;
    pongs++;
    ui.pong.textContent = `pong ok ${ms.toFixed(1)} ms`;
    ui.pong.dataset.pongs = String(pongs);
    return ms;
  } catch (error) {
    ui.pong.textContent = `pong failed: ${describe(error)}`;
    throw error;
  } finally {
    clearTimeout(timer);
    pending = undefined;
  }
}

/** Reads the peer's messages until the session ends: logs them, answers pings, matches pongs. */
async function readLoop(s: Session): Promise<void> {
  const reader = s.readable.getReader();
  try {
    for (;;) {
      const { value: m, done } = await reader.read();
      if (done) break;
      log(`← ${summarize(m)}`);
      if (m.type === "ping") {
        await writer?.write({ type: "pong", payload: m.payload });
        log(`→ pong ${toHex(m.payload)}`);
      } else if (m.type === "pong" && pending && bytesEqual(m.payload, pending.payload)) {
        pending.resolve(performance.now() - pending.start);
      }
    }
  } catch (error) {
    log(`read failed: ${describe(error)}`, true);
  } finally {
    reader.releaseLock();
  }
  const reason = s.closeReason;
  ui.status.textContent = reason ? `closed: ${describe(reason)}` : "closed";
  log(reason ? `session closed: ${describe(reason)}` : "session closed", !!reason);
  if (session === s) {
    session = undefined;
    writer = undefined;
    setConnected(false);
  }
}

async function connect(): Promise<void> {
  ui.connect.disabled = true;
  ui.ping.disabled = true;
  ui.disconnect.disabled = true;
  ui.status.textContent = "connecting…";
  for (
    const el of [
      ui.sessionId,
      ui.transport,
      ui.keyMath,
      ui.garbageSent,
      ui.garbageReceived,
      ui.decoysSent,
      ui.decoysReceived,
      ui.peer,
      ui.pong,
    ]
  ) el.textContent = "–";
  ui.pong.dataset.pongs = "0";
  pongs = 0;
  const url = ui.relay.value.trim();
  const network = ui.network.value as Network;
  try {
    const decoys = parseDecoys(ui.decoys.value);
    log(`connecting to ${url} (${network})`);
    const start = performance.now();
    const s = await connectWebSocket({ url, network, decoys, handshakeTimeout: 15_000 });
    session = s;
    const ms = performance.now() - start;
    ui.sessionId.textContent = toHex(s.sessionId);
    ui.transport.textContent = `v${s.transportVersion}`;
    ui.keyMath.textContent = ecWasmAvailable() ? "WebAssembly" : "bigint";
    ui.garbageSent.textContent = String(s.handshake.garbageSent);
    ui.garbageReceived.textContent = String(s.handshake.garbageReceived);
    ui.decoysSent.textContent = s.handshake.decoysSent.length
      ? `${s.handshake.decoysSent.length} (${s.handshake.decoysSent.join(", ")} bytes)`
      : "0";
    ui.decoysReceived.textContent = String(s.handshake.decoysReceived);
    log(`BIP324 handshake done in ${ms.toFixed(1)} ms, session id ${toHex(s.sessionId)}`);
    ui.status.textContent = "encrypted session established";
    if (ui.p2p.checked) {
      log("→ version (P2P handshake)");
      const info = await peerHandshake(s, {
        timeout: 15_000,
        userAgent: "/bip324.ts-browser:0.1.0/",
      });
      for (const m of info.received) log(`← ${summarize(m)}`);
      ui.peer.textContent =
        `${info.version.userAgent} (protocol ${info.version.protocolVersion}, ` +
        `height ${info.version.startHeight}${info.supportsV2 ? ", NODE_P2P_V2" : ""})`;
      log(`← version/verack from ${info.version.userAgent}`);
      ui.status.textContent = "connected";
    }
    writer = s.writable.getWriter();
    readLoop(s);
    setConnected(true);
  } catch (error) {
    ui.status.textContent = `error: ${describe(error)}`;
    log(`error: ${describe(error)}`, true);
    const failed = session;
    session = undefined;
    await failed?.close();
    setConnected(false);
    return;
  }
  await ping().catch((error) => log(`ping: ${describe(error)}`, true));
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  connect();
});
ui.ping.addEventListener("click", () => {
  ping().catch((error) => log(`ping: ${describe(error)}`, true));
});
ui.disconnect.addEventListener("click", () => {
  const s = session;
  if (!s) return;
  ui.disconnect.disabled = true;
  log("disconnecting");
  s.close();
});

// Prefill from the query string.
const params = new URLSearchParams(location.search);
if (params.get("relay")) ui.relay.value = params.get("relay")!;
const requested = params.get("network");
if (requested && requested in NETWORK_MAGIC) ui.network.value = requested;
if (params.has("decoys")) ui.decoys.value = params.get("decoys")!;
if (params.get("p2p") === "0") ui.p2p.checked = false;
document.body.dataset.ready = "true";
if (params.get("autoconnect") === "1") connect();
