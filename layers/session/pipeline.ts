/**
 * Duplex layers and the one function that stacks them.
 *
 * A layer is a pair of `TransformStream`s: `inbound` turns what comes up from
 * below (closer to the wire) into what the layer above wants, `outbound` does
 * the reverse. Layers know nothing of each other, so any layer — ours or a
 * caller's logging or metrics layer — can sit between any two others whose
 * types fit.
 *
 * @module
 */

/** A duplex layer: `Lower` is the type on the wire side, `Upper` the type on the application side. */
export interface Layer<Lower, Upper> {
  /** Transforms data travelling up, from the wire to the application. */
  readonly inbound: TransformStream<Lower, Upper>;
  /** Transforms data travelling down, from the application to the wire. */
  readonly outbound: TransformStream<Upper, Lower>;
}

/** A readable and a writable of the same element type (a transport, or a stack of layers). */
export type Duplex<T> = ReadableWritablePair<T, T>;

/**
 * Puts `layer` on top of `below` and returns the new top of the stack.
 * Errors and cancellation propagate through the pipes in both directions.
 *
 * @example A layer that counts bytes on the wire
 * ```ts
 * import { stack } from "./pipeline.ts";
 * let seen = 0;
 * const counter = () => new TransformStream<Uint8Array, Uint8Array>({
 *   transform(chunk, c) { seen += chunk.length; c.enqueue(chunk); },
 * });
 * const wire = new TransformStream<Uint8Array, Uint8Array>();
 * const top = stack(wire, { inbound: counter(), outbound: counter() });
 * const w = top.writable.getWriter();
 * w.write(new Uint8Array(3));
 * await top.readable.getReader().read();
 * console.assert(seen === 6);
 * ```
 */
export function stack<Lower, Upper>(
  below: Duplex<Lower>,
  layer: Layer<Lower, Upper>,
): Duplex<Upper> {
  const readable = below.readable.pipeThrough(layer.inbound);
  layer.outbound.readable.pipeTo(below.writable).catch(() => {
    // The failure reaches the writer through the errored outbound stream.
  });
  return { readable, writable: layer.outbound.writable };
}

/**
 * Stacks layers bottom-up: the first layer sits on `bottom` (usually a
 * transport's byte pair), the last one faces the application.
 *
 * @example
 * ```ts
 * import { pipeline } from "./pipeline.ts";
 * const identity = () => ({ inbound: new TransformStream(), outbound: new TransformStream() });
 * const top = pipeline(new TransformStream(), identity(), identity());
 * console.assert(top.readable instanceof ReadableStream);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function pipeline<T = any>(bottom: Duplex<any>, ...layers: Layer<any, any>[]): Stack<T> {
  // deno-lint-ignore no-explicit-any
  let top: Duplex<any> = bottom;
  let delivered: Promise<void> = Promise.resolve();
  layers.forEach((layer, i) => {
    if (i === 0) {
      // The first layer's pipe into the transport: settles once the transport's writable
      // has closed (or failed), i.e. everything written has been handed to the transport.
      const readable = top.readable.pipeThrough(layer.inbound);
      delivered = layer.outbound.readable.pipeTo(top.writable).catch(() => {});
      top = { readable, writable: layer.outbound.writable };
    } else {
      top = stack(top, layer);
    }
  });
  return { ...top, delivered };
}

/** The top of a stack of layers, as {@linkcode pipeline} returns it. */
export interface Stack<T> extends Duplex<T> {
  /**
   * Settles (never rejects) when the bottom layer has finished writing to
   * the transport and closed it, or when that failed.
   */
  delivered: Promise<void>;
}

/**
 * A readable that first yields `head` and then everything from `rest`
 * (how leftover handshake bytes are handed to the session's stack).
 *
 * @example
 * ```ts
 * import { prepend } from "./pipeline.ts";
 * const rest = ReadableStream.from([new Uint8Array([2])]);
 * const r = prepend(new Uint8Array([1]), rest).getReader();
 * console.assert((await r.read()).value?.[0] === 1);
 * ```
 */
export function prepend(
  head: Uint8Array,
  rest: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  if (head.length === 0) return rest;
  const reader = rest.getReader();
  let pending: Uint8Array | undefined = head;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending) {
        controller.enqueue(pending);
        pending = undefined;
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
