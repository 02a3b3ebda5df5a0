/**
 * {@linkcode featureGuard}: enforces BIP434's "no `feature` after
 * `verack`" on a peer's inbound messages, which `peerHandshake` cannot see
 * (it stops reading at the peer's `verack`, and the session delivers
 * `feature` as an ordinary message).
 *
 * @module
 */

import type { Message } from "../aliasing/aliasing.ts";
import { Bip324Error } from "../errors.ts";

/** Options for {@linkcode featureGuard}. */
export interface FeatureGuardOptions {
  /**
   * What to do with a `feature` message after the peer's `verack`:
   * `"ignore"` (default; BIP434 "MAY ignore") drops it, `"disconnect"`
   * fails the stream with {@linkcode Bip324Error} `UNEXPECTED_MESSAGE`
   * (origin `"peer"`), which closes a session read through it, as Bitcoin
   * Core does.
   */
  afterVerack?: "ignore" | "disconnect";
  /**
   * Whether the peer's `verack` has already gone by. Default `true`: the
   * guard reads a session after `peerHandshake`. Pass `false` to put it
   * under `peerHandshake` (as a session `messages` layer): it then passes
   * `feature` messages until it has passed a `verack`.
   */
  verackSeen?: boolean;
  /** Called with each late `feature` message that is dropped. */
  onIgnored?: (message: Message) => void;
}

/**
 * A `Transformer` (use it as `new TransformStream(featureGuard()))`, or as the
 * inbound side of a session's `messages` layer) that passes a peer's messages through, except `feature` messages after its
 * `verack`, which it drops or rejects (see {@linkcode FeatureGuardOptions}).
 *
 * @example After the version/verack exchange
 * ```ts ignore
 * import { featureGuard, peerHandshake } from "@bip324/bip324/bitcoin";
 * import { connect } from "@bip324/bip324";
 * const session = await connect({ hostname: "127.0.0.1", port: 18444, network: "regtest" });
 * await peerHandshake(session);
 * const messages = session.readable.pipeThrough(new TransformStream(featureGuard({ afterVerack: "disconnect" })));
 * for await (const m of messages) console.log(m.type);
 * ```
 *
 * @example Dropping a late feature
 * ```ts
 * import { featureGuard } from "@bip324/bip324/bitcoin";
 * const payload = new Uint8Array(0);
 * const out = ReadableStream.from([{ type: "feature", payload }, { type: "ping", payload }])
 *   .pipeThrough(new TransformStream(featureGuard()));
 * console.assert((await out.getReader().read()).value?.type === "ping");
 * ```
 */
export function featureGuard(options: FeatureGuardOptions = {}): Transformer<Message, Message> {
  const policy = options.afterVerack ?? "ignore";
  if (policy !== "ignore" && policy !== "disconnect") {
    throw new TypeError(`afterVerack must be "ignore" or "disconnect", got ${String(policy)}`);
  }
  let late = options.verackSeen ?? true;
  return {
    transform(message, controller) {
      if (message.type === "verack") {
        late = true;
      } else if (message.type === "feature" && late) {
        if (policy === "disconnect") {
          throw new Bip324Error(
            "UNEXPECTED_MESSAGE",
            "the peer sent a BIP434 feature message after its verack",
          );
        }
        options.onIgnored?.(message);
        return;
      }
      controller.enqueue(message);
    },
  };
}
