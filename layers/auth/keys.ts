/**
 * Identity keys for private authentication, as the CLI and configuration
 * files spell them: a private key is 32 bytes written as 64 hex digits (a
 * key file holds exactly that, surrounding whitespace allowed); a public key
 * is a 33-byte compressed SEC1 point written as 66 hex digits (`02…`/`03…`).
 *
 * Errors never quote a private key.
 *
 * @module
 */

import { Point } from "@noble/secp256k1";
import { checkBytes, fromHex, randomBytes } from "../bytes.ts";
import { N } from "../crypto/secp256k1_xonly.ts";
import { toBig } from "./group.ts";

/** Bytes of a private key. */
export const PRIVATE_KEY_LEN = 32;
/** Bytes of a compressed SEC1 public key. */
export const PUBLIC_KEY_LEN = 33;

/** Throws `RangeError` unless `key` (32 bytes) is a scalar in 1..n-1. */
function checkScalar(name: string, key: Uint8Array): void {
  const k = toBig(key);
  if (k === 0n || k >= N) throw new RangeError(`${name} must be a secp256k1 scalar in 1..n-1`);
}

/**
 * Parses a private key from 64 hex digits (e.g. a key file's contents;
 * leading and trailing whitespace is ignored). Throws `TypeError` for
 * anything else, `RangeError` for a value outside 1..n-1; the message never
 * contains the input.
 *
 * @example
 * ```ts
 * import { parsePrivateKey } from "@bip324/bip324/auth";
 * const key = parsePrivateKey("01".repeat(32) + "\n");
 * console.assert(key.length === 32 && key[31] === 1);
 * ```
 */
export function parsePrivateKey(text: string): Uint8Array {
  if (typeof text !== "string") {
    throw new TypeError(`private key must be a string of hex digits, got ${typeof text}`);
  }
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new TypeError(
      `private key must be ${PRIVATE_KEY_LEN * 2} hex digits (got ${hex.length} characters)`,
    );
  }
  const key = fromHex(hex);
  try {
    checkScalar("private key", key);
  } catch (error) {
    key.fill(0);
    throw error;
  }
  return key;
}

/**
 * Parses a compressed SEC1 public key from 66 hex digits (`02` or `03`,
 * then x). Throws `TypeError` unless it is a point on secp256k1.
 *
 * @example
 * ```ts
 * import { parsePublicKey } from "@bip324/bip324/auth";
 * const g = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
 * console.assert(parsePublicKey(g).length === 33);
 * ```
 */
export function parsePublicKey(text: string): Uint8Array {
  if (typeof text !== "string") {
    throw new TypeError(`public key must be a string of hex digits, got ${typeof text}`);
  }
  const hex = text.trim();
  if (!/^0[23][0-9a-fA-F]{64}$/.test(hex)) {
    throw new TypeError(
      `public key must be ${
        PUBLIC_KEY_LEN * 2
      } hex digits of a compressed SEC1 point (02… or 03…), got ${
        JSON.stringify(hex.slice(0, 80))
      }`,
    );
  }
  const key = fromHex(hex);
  checkPublicKey("public key", key);
  return key;
}

/**
 * Parses a comma-separated list of public keys (as `--accept A,B` gives
 * them); repeated keys are kept once. Throws `TypeError` naming the bad
 * entry's position, or for an empty list.
 *
 * @example
 * ```ts
 * import { parsePublicKeys } from "@bip324/bip324/auth";
 * const g = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
 * console.assert(parsePublicKeys(`${g},${g}`).length === 1);
 * ```
 */
export function parsePublicKeys(text: string): Uint8Array[] {
  if (typeof text !== "string") throw new TypeError("public keys must be a string");
  const parts = text.split(",");
  const seen = new Set<string>();
  const keys: Uint8Array[] = [];
  parts.forEach((part, i) => {
    let key: Uint8Array;
    try {
      key = parsePublicKey(part);
    } catch (error) {
      throw new TypeError(`public key ${i + 1} of ${parts.length}: ${(error as Error).message}`);
    }
    const id = part.trim().toLowerCase();
    if (!seen.has(id)) {
      seen.add(id);
      keys.push(key);
    }
  });
  return keys;
}

/** Throws `TypeError`/`RangeError` naming `name` unless `key` is a valid 33-byte compressed point. */
export function checkPublicKey(name: string, key: unknown): Point {
  checkBytes(name, key, PUBLIC_KEY_LEN);
  const bytes = key as Uint8Array;
  if (bytes[0] !== 0x02 && bytes[0] !== 0x03) {
    throw new TypeError(`${name} must be a compressed SEC1 point (02… or 03…)`);
  }
  try {
    return Point.fromBytes(bytes);
  } catch {
    throw new TypeError(`${name} is not a point on secp256k1`);
  }
}

/** Throws `TypeError`/`RangeError` naming `name` unless `key` is a valid 32-byte private key. */
export function checkPrivateKey(name: string, key: unknown): Uint8Array {
  checkBytes(name, key, PRIVATE_KEY_LEN);
  checkScalar(name, key as Uint8Array);
  return key as Uint8Array;
}

/**
 * The compressed SEC1 public key (33 bytes) of a private key, the form
 * `--accept` takes.
 *
 * @example
 * ```ts
 * import { publicKeyOf } from "@bip324/bip324/auth";
 * const one = new Uint8Array(32);
 * one[31] = 1;
 * console.assert(publicKeyOf(one)[0] === 0x02); // G has even y
 * ```
 */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  checkPrivateKey("privateKey", privateKey);
  return Point.BASE.multiply(toBig(privateKey)).toBytes(true);
}

/** A fresh identity key pair. */
export interface Identity {
  /** 32-byte private key (wipe it with `fill(0)` when done). */
  privateKey: Uint8Array;
  /** Its 33-byte compressed public key. */
  publicKey: Uint8Array;
}

/**
 * Generates a random identity key pair (Web Crypto randomness).
 *
 * @example
 * ```ts
 * import { generateIdentity, publicKeyOf } from "@bip324/bip324/auth";
 * const { privateKey, publicKey } = generateIdentity();
 * console.assert(publicKeyOf(privateKey).every((b, i) => b === publicKey[i]));
 * ```
 */
export function generateIdentity(): Identity {
  for (;;) {
    const privateKey = randomBytes(PRIVATE_KEY_LEN);
    const k = toBig(privateKey);
    if (k > 0n && k < N) return { privateKey, publicKey: publicKeyOf(privateKey) };
    privateKey.fill(0);
  }
}
