/**
 * The one shape every layer has: a pair of standard Web Streams
 * `Transformer`s, one per direction. `inbound` turns what comes up from below
 * (closer to the wire) into what the layer above wants; `outbound` does the
 * reverse. `new TransformStream(layer.inbound)` is the layer as an
 * independent stream; a session composes the transformers of all its layers
 * into one stage per direction (see `compose`).
 *
 * @module
 */

/** A duplex layer: `Lower` is the type on the wire side, `Upper` the type on the application side. */
export interface Layer<Lower, Upper> {
  /** Transforms data travelling up, from the wire to the application. */
  readonly inbound: Transformer<Lower, Upper>;
  /** Transforms data travelling down, from the application to the wire. */
  readonly outbound: Transformer<Upper, Lower>;
}

/**
 * A caller's layer, as sessions accept it: either direction may be omitted
 * (it then passes chunks through), and either may be a whole
 * `TransformStream` (or any readable/writable pair) instead of a
 * `Transformer` — that works too, at the cost of one stream hop per chunk.
 */
export interface CallerLayer<Lower, Upper> {
  /** Inbound: from the wire towards the application. */
  readonly inbound?: Transformer<Lower, Upper> | ReadableWritablePair<Upper, Lower>;
  /** Outbound: from the application towards the wire. */
  readonly outbound?: Transformer<Upper, Lower> | ReadableWritablePair<Lower, Upper>;
}
