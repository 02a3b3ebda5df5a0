// ChaCha20-Poly1305 (RFC 8439 section 2.8) over the fixed memory layout (AssemblyScript).
//
// JavaScript writes the key at KEY, the nonce at NONCE and the message into
// the DATA region, then calls either a one-shot seal()/open() (AAD and text
// both in memory) or the piecewise begin()/absorb()/crypt()/finish() for a
// message larger than the region. Every call sequence ends with clear(),
// which zeroes the key, the cipher state and the one-time key.
import { chachaClear, chachaRows, chachaSeek, chachaSetup, chachaSkip, chachaXor } from "./chacha20";
import { polyClear, polyFinish, polyLengths, polySetup, polyUpdate } from "./poly1305";
import { DATA, KEY, KS, MEMORY_BYTES, NONCE, SCRATCH_END, TAG } from "./layout";

export { DATA, KEY, MEMORY_BYTES, NONCE, TAG };

/**
 * Keys ChaCha20 from KEY and NONCE, derives the Poly1305 one-time key from
 * block 0 and leaves the keystream at block 1. Zeroes KEY (the key now lives
 * only in STATE). `short`: the text fits in block 1 (at most 64 bytes).
 */
export function begin(short: bool): void {
  chachaSetup();
  store<u64>(KEY, 0, 0);
  store<u64>(KEY, 0, 8);
  store<u64>(KEY, 0, 16);
  store<u64>(KEY, 0, 24);
  chachaSeek(0, short); // keystream blocks 0, 1 (and 2, 3 unless short) into KS
  polySetup(KS); // block 0 is the one-time key: its first 32 bytes
  chachaSkip(64); // the text starts with block 1
}

/**
 * Tunes the module for the engine running it (no effect on results): `rows`
 * 1 makes bulk ChaCha20 keystream in row-wise pairs of blocks (faster in
 * JavaScriptCore), 0 four blocks column-wise (faster in V8; the default).
 */
export function tune(rows: u32): void {
  chachaRows(rows != 0);
}

/** Authenticates `len` bytes at `p` (AAD or ciphertext); pieces but the last are multiples of 16. */
export function absorb(p: usize, len: usize): void {
  polyUpdate(p, len);
}

/** XORs the next `len` keystream bytes into `p` in place (pieces of any size). */
export function crypt(p: usize, len: usize): void {
  chachaXor(p, len);
}

/** Goes back to the start of the text's keystream (block 1), to decrypt after authenticating. */
export function rewind(): void {
  chachaSeek(0, false);
  chachaSkip(64);
}

/** Absorbs the lengths and writes the tag to `out`. Lengths are exact integers in f64. */
export function finish(aadLength: f64, textLength: f64, out: usize): void {
  polyLengths(<u64>aadLength, <u64>textLength);
  polyFinish(out);
}

/** 1 if the 16 bytes at TAG equal those at `expected`, else 0, in constant time. */
export function verify(expected: usize): u32 {
  const diff = (load<u64>(TAG, 0) ^ load<u64>(expected, 0)) |
    (load<u64>(TAG, 8) ^ load<u64>(expected, 8));
  const folded = <u32>diff | <u32>(diff >> 32);
  return 1 ^ ((folded | (0 - folded)) >>> 31);
}

/** Zeroes the key, nonce, computed tag, cipher state, scratch blocks and Poly1305 state. */
export function clear(): void {
  const zero = i32x4.splat(0);
  for (let p: usize = 0; p < SCRATCH_END; p += 16) v128.store(p, zero);
  polyClear();
  chachaClear();
}

/** Zeroes all of memory (message region included) and the Poly1305 state. */
export function wipe(): void {
  memory.fill(0, 0, MEMORY_BYTES);
  polyClear();
  chachaClear();
}

/**
 * Seals in one call: AAD at `aad`, plaintext at `p` (encrypted in place), tag
 * written at `p + len`. Clears the secret state before returning.
 */
export function seal(aad: usize, aadLen: usize, p: usize, len: usize): void {
  begin(len <= 64);
  polyUpdate(aad, aadLen);
  chachaXor(p, len);
  polyUpdate(p, len);
  polyLengths(<u64>aadLen, <u64>len);
  polyFinish(p + len);
  clear();
}

/**
 * Opens in one call: AAD at `aad`, ciphertext at `p`, received tag at
 * `p + len`. Decrypts in place and returns 1 only if the tag verifies;
 * otherwise returns 0 and leaves the ciphertext as it was. Clears the secret
 * state before returning.
 */
export function open(aad: usize, aadLen: usize, p: usize, len: usize): u32 {
  begin(len <= 64);
  polyUpdate(aad, aadLen);
  polyUpdate(p, len);
  polyLengths(<u64>aadLen, <u64>len);
  polyFinish(TAG);
  const ok = verify(p + len);
  if (ok) chachaXor(p, len); // whether the tag verified is public
  clear();
  return ok;
}
