/**
 * Checks of the options every session and listener takes, so that a caller
 * mistake throws `TypeError`/`RangeError` naming the option at the call
 * (before any connection is made), not later on every connection. Internal.
 *
 * @module
 */

import { magicView } from "../bitcoin/network.ts";
import type { AcceptOptions } from "./listener.ts";
import type { SessionOptions } from "./open.ts";

/** Largest delay `setTimeout` honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function checkMs(name: string, value: unknown, min: number): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !(value >= min && value <= MAX_TIMER_MS)) {
    throw new RangeError(`${name} must be a number of milliseconds ${min}..${MAX_TIMER_MS}`);
  }
}

function checkCount(name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new RangeError(`${name} must be an integer ${min}..${max}, got ${value}`);
  }
}

/**
 * Checks the options every session takes, so that a caller mistake throws
 * `TypeError`/`RangeError` naming the option at the call (before any
 * connection), not later on every connection. Internal.
 */
export function checkSessionOptions(options: SessionOptions): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError("options must be an object");
  }
  magicView(options.network); // an unknown network name or a bad magic
  checkMs("handshakeTimeout", options.handshakeTimeout, 1);
  checkMs("idleTimeout", options.idleTimeout, 1);
  checkMs("closeTimeout", options.closeTimeout, 0);
  checkCount("readAhead", options.readAhead, 0, Number.MAX_SAFE_INTEGER);
  checkCount("maxMessageSize", options.maxMessageSize, 0, 0xffffff);
  const garbage = options.garbage;
  if (typeof garbage === "number") checkCount("garbage", garbage, 0, 4095);
  else if (garbage !== undefined && !(garbage instanceof Uint8Array)) {
    throw new TypeError("garbage must be a length or a Uint8Array");
  }
  if (options.decoys !== undefined) {
    if (!Array.isArray(options.decoys)) throw new TypeError("decoys must be an array of lengths");
    for (const d of options.decoys) checkCount("decoys[]", d, 0, 0xffffff);
  }
  const backend = options.aeadBackend;
  if (
    backend !== undefined && backend !== "auto" && backend !== "pure" && backend !== "native" &&
    backend !== "wasm" &&
    (backend === null || typeof backend !== "object")
  ) {
    throw new TypeError(`aeadBackend must be "auto", "pure", "native", "wasm" or a backend object`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError("signal must be an AbortSignal");
  }
}

/** Checks a listener's options (see {@linkcode checkSessionOptions}). Internal. */
export function checkAcceptOptions(options: AcceptOptions): void {
  // A listener's idleTimeout may be 0 (never); a session's must be positive.
  checkSessionOptions(options.idleTimeout === 0 ? { ...options, idleTimeout: undefined } : options);
  checkCount("maxPendingHandshakes", options.maxPendingHandshakes, 0, Number.MAX_SAFE_INTEGER);
  checkCount("maxSessions", options.maxSessions, 1, Number.MAX_SAFE_INTEGER);
  checkCount("maxQueuedSessions", options.maxQueuedSessions, 1, Number.MAX_SAFE_INTEGER);
  if (options.releaseMemory !== undefined && typeof options.releaseMemory !== "boolean") {
    throw new TypeError(`releaseMemory must be a boolean, got ${typeof options.releaseMemory}`);
  }
  if (options.v1 !== undefined && options.v1 !== "accept" && options.v1 !== "reject") {
    throw new TypeError(`v1 must be "accept" or "reject", got ${options.v1}`);
  }
  for (const name of ["onError", "onV1"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new TypeError(`${name} must be a function`);
    }
  }
}
