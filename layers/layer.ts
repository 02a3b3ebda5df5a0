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

/**
 * A transformer that can say where its next input should be written: a view
 * into the buffer it is filling. A chunk that is that view (or its start)
 * then needs no copy. `controller` is the stage's own; its `landing()` asks
 * the stage after it (`compose` provides it). Internal to the session's
 * layers: how a large body is read straight into the buffer it is decrypted in.
 */
export interface LandingTransformer<I, O> extends Transformer<I, O> {
  /** The region the next chunk should be written to, or undefined. */
  landing?(
    controller: TransformStreamDefaultController<O> & LandingController,
  ): Uint8Array | undefined;
}

/** The `landing()` a composed stage's controller adds for its transformer. */
export interface LandingController {
  /** Where the next stage would like its next bytes, if anywhere. */
  landing(): Uint8Array | undefined;
}
