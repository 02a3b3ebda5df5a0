/**
 * Streams over a `ByteChannel` (see `layers/bytes.ts`), for transports that
 * drive their connection directly and build the standard `readable` /
 * `writable` only when someone uses them. Internal.
 *
 * @module
 */

import type { ByteChannel } from "../layers/bytes.ts";

/** Where a pair offers its channel (see `layers/channel.ts`). */
export const BYTE_CHANNEL: unique symbol = Symbol.for("bip324.byteChannel") as never;

/** A resolved promise to hand out where nothing waits. */
export const RESOLVED: Promise<void> = Promise.resolve();

/** A pull-based readable over the channel's reads (nothing read ahead). */
export function readableOver(
  channel: Pick<ByteChannel, "read" | "cancel">,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const next = await channel.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: (reason) => channel.cancel(reason),
  }, { highWaterMark: 0 });
}

/** A writable over the channel's writes. */
export function writableOver(
  channel: Pick<ByteChannel, "write" | "close" | "abort">,
): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: (chunk) => channel.write(chunk),
    close: () => channel.close(),
    abort: (reason) => channel.abort(reason),
  });
}

/** What a pair's streams are once a session has taken it as a channel: locked. */
export function lockedReadable(): ReadableStream<Uint8Array> {
  const stream = new ReadableStream<Uint8Array>();
  stream.getReader();
  return stream;
}
export function lockedWritable(): WritableStream<Uint8Array> {
  const stream = new WritableStream<Uint8Array>();
  stream.getWriter();
  return stream;
}
