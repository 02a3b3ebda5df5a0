// Session options for running one test over each way a caller layer can be inserted.
import type { SessionOptions } from "../layers/session/open.ts";
import type { CallerLayer } from "../layers/layer.ts";

/** Pass-through caller layers at every position: none, as Transformers, or as whole TransformStreams. */
export const VARIANTS = ["plain", "transformers", "streams"] as const;
export function variant(kind: (typeof VARIANTS)[number]): Partial<SessionOptions> {
  if (kind === "plain") return {};
  // deno-lint-ignore no-explicit-any
  const pass = (): CallerLayer<any, any> =>
    kind === "transformers"
      ? { inbound: { transform: (c, ctl) => ctl.enqueue(c) }, outbound: {} }
      : { inbound: new TransformStream(), outbound: new TransformStream() };
  return {
    layers: { wire: [pass()], packets: [pass()], contents: [pass()], messages: [pass()] },
  };
}
