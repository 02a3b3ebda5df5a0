// Run by driver_test.ts as `deno run --v8-flags=--expose-gc tests/driver_retention.ts`:
// a slow handshake (the peer streams many decoys before its version packet, one chunk
// per read) must not keep the chunks it has already consumed reachable. Prints one JSON
// line: {"chunks": N, "alive": K, "done": true} — K counts the decoy chunks still alive
// after a forced GC, while the handshake is still waiting for the version packet.
import { performHandshake } from "../layers/handshake/driver.ts";
import { Handshake } from "../layers/handshake/handshake.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

const DECOYS = 32;
const DECOY_LEN = 60_000;
const PACKET_OVERHEAD = 3 + 1 + 16; // length, header, tag
const TERMINATOR_LEN = 16;

const peer = new Handshake({
  role: "initiator",
  network: "regtest",
  garbage: 0,
  decoys: new Array(DECOYS).fill(DECOY_LEN),
});
const key = peer.start();
let reply: Uint8Array | undefined; // the peer's terminator, decoys and version packet
let offset = 0;
let served = 0; // chunks handed out (the key first)
const refs: WeakRef<Uint8Array>[] = [];
let alive = -1;

const collect = async () => {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
  }
};

/** The next chunk the peer sends, as a fresh array (only weakly held here). */
const nextChunk = (): Uint8Array => {
  if (served++ === 0) return key;
  if (!reply) throw new Error("the driver read before answering the peer's key");
  const length = offset === 0
    ? TERMINATOR_LEN
    : reply.length - offset <= PACKET_OVERHEAD
    ? PACKET_OVERHEAD
    : DECOY_LEN + PACKET_OVERHEAD;
  const chunk = reply.slice(offset, offset + length);
  offset += length;
  return chunk;
};

const readable = new ReadableStream<Uint8Array>({
  async pull(controller) {
    if (reply && offset === reply.length - PACKET_OVERHEAD) {
      // Every decoy was read; only the version packet is left. What is still reachable?
      await collect();
      alive = refs.filter((ref) => ref.deref() !== undefined).length;
    }
    const chunk = nextChunk();
    if (offset > TERMINATOR_LEN && offset < (reply?.length ?? 0)) refs.push(new WeakRef(chunk));
    controller.enqueue(chunk);
  },
}, { highWaterMark: 0 });

const writable = new WritableStream<Uint8Array>({
  write(chunk) {
    const out = peer.receive(chunk);
    if (out.length > 0) reply = out;
  },
});

const result = await performHandshake({ readable, writable }, {
  role: "responder",
  network: "regtest",
  handshakeTimeout: 60_000,
});
result.cipher.destroy();
console.log(JSON.stringify({ chunks: refs.length, alive, done: true }));
