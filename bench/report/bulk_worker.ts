// Receiver thread for the cross-thread bulk figure: a responder session over a MessagePort,
// reading `count` messages, then posting the time it took.
import { type AnyOptions, api } from "./lib.ts";

/**
 * A byte pair over a MessagePort. Chunks move between threads without a copy: a chunk that
 * is its whole buffer (every large packet: the outbox seals it in a buffer of its own and
 * never touches it again) is transferred; a view into a batch is copied out first.
 */
export function portPair(port: MessagePort): ReadableWritablePair<Uint8Array, Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
  });
  port.onmessage = (e) => {
    try {
      if (e.data === null) controller.close();
      else controller.enqueue(e.data as Uint8Array);
    } catch { /* cancelled */ }
  };
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => {
      const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
        ? chunk
        : chunk.slice();
      port.postMessage(own, [own.buffer as ArrayBuffer]);
    },
    close: () => port.postMessage(null),
  });
  return { readable, writable };
}

if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  const scope = self as unknown as {
    onmessage: (e: MessageEvent) => void;
    postMessage: (value: unknown) => void;
  };
  scope.onmessage = async (e: MessageEvent) => {
    const { port, count, options } = e.data as {
      port: MessagePort;
      count: number;
      options: AnyOptions;
    };
    const session = await api.openSession(portPair(port), {
      role: "responder",
      garbage: 0,
      ...options,
    });
    const r = session.readable.getReader();
    await r.read(); // the first message starts the clock
    const t0 = performance.now();
    for (let i = 1; i < count; i++) await r.read();
    scope.postMessage(performance.now() - t0);
    r.releaseLock();
    await session.close();
  };
}
