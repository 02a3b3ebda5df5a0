// Receiver thread for the cross-thread bulk figure: a responder session over a MessagePort,
// reading `count` messages, then posting the time it took.
import { type AnyOptions, api } from "./lib.ts";

/** A byte pair over a MessagePort (each chunk copied by structured clone, as a socket copies). */
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
    // A view is cloned with its whole buffer: send exactly its bytes.
    write: (chunk) =>
      port.postMessage(chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice()),
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
