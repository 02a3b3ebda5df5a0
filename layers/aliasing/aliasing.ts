/**
 * Message-type aliasing: the first bytes of a v2 packet's contents name the
 * application message type, either as a one-byte short ID (1..255) or as
 * `0x00` followed by the 12-byte NUL-padded ASCII type of the v1 protocol.
 *
 * The table is pluggable. The default ({@linkcode DEFAULT_MESSAGE_TYPES},
 * built from {@linkcode CORE_SHORT_IDS}) is exactly what Bitcoin Core's
 * master assigns, so a node and this library agree on every byte:
 *
 * | IDs    | Types                              | Source                                   | Default |
 * | ------ | ---------------------------------- | ---------------------------------------- | ------- |
 * | 1..28  | `addr` … `addrv2`                  | BIP324's own table ({@linkcode BIP324_SHORT_IDS}) | yes |
 * | 29..36 | `uproof` … `geturoot` (utreexo)    | BIP183 draft, via BIP324's auxiliary table ({@linkcode PROPOSED_SHORT_IDS}) | opt-in |
 * | 37     | `feature`                          | BIP434; Bitcoin Core master ("BIP434: FEATURE message support") ({@linkcode BIP434_SHORT_IDS}) | yes |
 * | others | caller-defined                     | `new MessageTypeTable({ … })`            | opt-in  |
 *
 * Where the BIP documents and Core differ, Core wins: BIP324's auxiliary
 * table lists 37 among other proposals, but Core master receives it as
 * `feature`, so it is in the default table.
 *
 * @module
 */

import { checkBytes } from "../bytes.ts";
import { Bip324Error } from "../errors.ts";

/** Bytes of an ASCII message type in the long encoding. */
export const MESSAGE_TYPE_LEN = 12;

/** A decoded application message. */
export interface Message {
  /** The message type, e.g. `"ping"` (at most 12 printable ASCII characters). */
  type: string;
  /** The message payload. */
  payload: Uint8Array;
}

/**
 * The short IDs defined by BIP324 itself (its "Message type IDs" table,
 * IDs 1..28), which every BIP324 implementation knows.
 */
export const BIP324_SHORT_IDS: Readonly<Record<number, string>> = Object.freeze({
  1: "addr",
  2: "block",
  3: "blocktxn",
  4: "cmpctblock",
  5: "feefilter",
  6: "filteradd",
  7: "filterclear",
  8: "filterload",
  9: "getblocks",
  10: "getblocktxn",
  11: "getdata",
  12: "getheaders",
  13: "headers",
  14: "inv",
  15: "mempool",
  16: "merkleblock",
  17: "notfound",
  18: "ping",
  19: "pong",
  20: "sendcmpct",
  21: "tx",
  22: "getcfilters",
  23: "cfilter",
  24: "getcfheaders",
  25: "cfheaders",
  26: "getcfcheckpt",
  27: "cfcheckpt",
  28: "addrv2",
});

/**
 * BIP434's short ID: `feature` is 37 ("MUST treat a message with a 1-byte
 * message_type equal to 37 … as the feature message"). Bitcoin Core master
 * has it in its default table.
 */
export const BIP434_SHORT_IDS: Readonly<Record<number, string>> = Object.freeze({
  37: "feature",
});

/**
 * Bitcoin Core's current default table: BIP324's IDs 1..28 plus 37
 * `feature` (BIP434). This is what {@linkcode DEFAULT_MESSAGE_TYPES} uses.
 */
export const CORE_SHORT_IDS: Readonly<Record<number, string>> = Object.freeze({
  ...BIP324_SHORT_IDS,
  ...BIP434_SHORT_IDS,
});

/**
 * IDs proposed by BIP183 (utreexo, still a draft: bitcoin/bips PR 1923) in
 * BIP324's auxiliary table. Not used unless a caller opts in
 * (`new MessageTypeTable(PROPOSED_SHORT_IDS)`), since Bitcoin Core does not
 * know them.
 */
export const PROPOSED_SHORT_IDS: Readonly<Record<number, string>> = Object.freeze({
  29: "uproof",
  30: "getuproof",
  31: "uttls",
  32: "getuttls",
  33: "usummary",
  34: "utreexotx",
  35: "uroot",
  36: "geturoot",
});

function isTypeChar(c: number): boolean {
  return c >= 0x20 && c <= 0x7f;
}

/**
 * Throws `TypeError` unless `type` is a valid message type: 1..12 printable
 * ASCII characters (0x20..0x7f, as Bitcoin Core accepts).
 */
export function checkMessageType(type: unknown): string {
  if (typeof type !== "string") throw new TypeError(`type must be a string, got ${typeof type}`);
  if (type.length === 0 || type.length > MESSAGE_TYPE_LEN) {
    throw new TypeError(`type must be 1..${MESSAGE_TYPE_LEN} ASCII characters, got "${type}"`);
  }
  for (let i = 0; i < type.length; i++) {
    if (!isTypeChar(type.charCodeAt(i))) {
      throw new TypeError(`type must be printable ASCII, got ${JSON.stringify(type)}`);
    }
  }
  return type;
}

/**
 * A two-way table between message types and short IDs.
 *
 * @example Core's table plus a private ID
 * ```ts
 * import { MessageTypeTable } from "@bip324/bip324/layers";
 * const table = new MessageTypeTable({ 200: "myproto" });
 * const contents = table.encode({ type: "myproto", payload: new Uint8Array([9]) });
 * console.assert(contents[0] === 200 && table.decode(contents).type === "myproto");
 * ```
 */
export class MessageTypeTable {
  #byId: (string | undefined)[] = new Array(256);
  #byType = new Map<string, number>();

  /**
   * Builds a table from `base` plus `extra` (an ID or type in `extra` replaces the base's).
   *
   * @param extra short IDs to add to (or override in) the base table.
   * @param base the starting table; defaults to {@linkcode CORE_SHORT_IDS}.
   */
  constructor(
    extra: Readonly<Record<number, string>> = {},
    base: Readonly<Record<number, string>> = CORE_SHORT_IDS,
  ) {
    for (const table of [base, extra]) {
      for (const [key, type] of Object.entries(table)) {
        const id = Number(key);
        if (!Number.isInteger(id) || id < 1 || id > 255) {
          throw new RangeError(`short ID must be an integer 1..255, got ${key}`);
        }
        checkMessageType(type);
        const previous = this.#byId[id];
        if (previous !== undefined) this.#byType.delete(previous);
        const previousId = this.#byType.get(type);
        if (previousId !== undefined) this.#byId[previousId] = undefined;
        this.#byId[id] = type;
        this.#byType.set(type, id);
      }
    }
  }

  /** The short ID of `type`, or `undefined` if it has none. */
  idOf(type: string): number | undefined {
    return this.#byType.get(type);
  }

  /** The type a short ID stands for, or `undefined` if the ID is unassigned. */
  typeOf(id: number): string | undefined {
    return this.#byId[id];
  }

  /** Bytes the type field of `type` takes: 1 with a short ID, 13 without. */
  typeLength(type: string): number {
    return this.#byType.has(type) ? 1 : 1 + MESSAGE_TYPE_LEN;
  }

  /**
   * Writes the type field of `type` into `out` at `offset` and returns the
   * number of bytes written (1 or 13).
   */
  writeType(type: string, out: Uint8Array, offset = 0): number {
    const id = this.#byType.get(type);
    if (id !== undefined) {
      out[offset] = id;
      return 1;
    }
    checkMessageType(type);
    out[offset] = 0;
    for (let i = 0; i < MESSAGE_TYPE_LEN; i++) {
      out[offset + 1 + i] = i < type.length ? type.charCodeAt(i) : 0;
    }
    return 1 + MESSAGE_TYPE_LEN;
  }

  /** Encodes a message as packet contents: type field followed by the payload. */
  encode(message: Message): Uint8Array {
    if (message === null || typeof message !== "object") {
      throw new TypeError("message must be an object { type, payload }");
    }
    checkBytes("message.payload", message.payload);
    const typeLength = this.typeLength(checkMessageType(message.type));
    const out = new Uint8Array(typeLength + message.payload.length);
    this.writeType(message.type, out, 0);
    out.set(message.payload, typeLength);
    return out;
  }

  /**
   * Decodes packet contents into a message. The payload is a view into
   * `contents`. Malformed type fields throw {@linkcode Bip324Error}
   * `INVALID_MESSAGE_TYPE`.
   */
  decode(contents: Uint8Array): Message {
    checkBytes("contents", contents);
    if (contents.length === 0) {
      throw new Bip324Error("INVALID_MESSAGE_TYPE", "empty contents: no message type");
    }
    const first = contents[0];
    if (first !== 0) {
      const type = this.#byId[first];
      if (type === undefined) {
        throw new Bip324Error("INVALID_MESSAGE_TYPE", `unknown short message type ID ${first}`);
      }
      return { type, payload: contents.subarray(1) };
    }
    if (contents.length < 1 + MESSAGE_TYPE_LEN) {
      throw new Bip324Error(
        "INVALID_MESSAGE_TYPE",
        `long message type needs ${MESSAGE_TYPE_LEN} bytes, got ${contents.length - 1}`,
      );
    }
    let length = 0;
    while (length < MESSAGE_TYPE_LEN && contents[1 + length] !== 0) {
      if (!isTypeChar(contents[1 + length])) {
        throw new Bip324Error("INVALID_MESSAGE_TYPE", "message type is not printable ASCII");
      }
      length++;
    }
    if (length === 0) throw new Bip324Error("INVALID_MESSAGE_TYPE", "empty message type");
    for (let i = length; i < MESSAGE_TYPE_LEN; i++) {
      if (contents[1 + i] !== 0) {
        throw new Bip324Error("INVALID_MESSAGE_TYPE", "message type padding is not all NUL");
      }
    }
    const type = String.fromCharCode(...contents.subarray(1, 1 + length));
    return { type, payload: contents.subarray(1 + MESSAGE_TYPE_LEN) };
  }
}

/** The default table: Bitcoin Core's ({@linkcode CORE_SHORT_IDS}: IDs 1..28 and 37). */
export const DEFAULT_MESSAGE_TYPES: MessageTypeTable = new MessageTypeTable();
