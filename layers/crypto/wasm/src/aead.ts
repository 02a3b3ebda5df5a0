// ChaCha20-Poly1305 (RFC 8439 section 2.8) over the fixed memory layout (AssemblyScript).
//
// JavaScript writes the key at KEY, the nonce at NONCE and the message into
// the DATA region, then calls either a one-shot seal()/open() (AAD and text
// both in memory) or the piecewise begin()/aad()/text... functions for a
// message larger than the region. Every call sequence ends with clear(),
// which zeroes the key, the cipher state and the one-time key.
import { chachaCounter, chachaSetup, chachaXor } from "./chacha20";
import { polyClear, polyFinish, polyLengths, polySetup, polyUpdate } from "./poly1305";
import { BLOCK, DATA, KEY, MEMORY_BYTES, NONCE, SCRATCH_END, TAG } from "./layout";

export { DATA, KEY, MEMORY_BYTES, NONCE };

/**
 * Keys ChaCha20 from KEY and NONCE, derives the Poly1305 one-time key from
 * block 0 and leaves the counter at 1. Zeroes KEY (the key now lives only in
 * STATE) and the one-time key block.
 */
export function begin(): void {
  chachaSetup(0);
  memory.fill(KEY, 0, 32);
  chachaXor(BLOCK, 64); // BLOCK is zero, so this writes keystream block 0
  polySetup(BLOCK);
  memory.fill(BLOCK, 0, 64);
}

/** Authenticates `len` bytes at `p` (AAD or ciphertext); pieces but the last are multiples of 16. */
export function absorb(p: usize, len: usize): void {
  polyUpdate(p, len);
}

/** XORs `len` keystream bytes into `p` in place; pieces but the last are multiples of 64. */
export function crypt(p: usize, len: usize): void {
  chachaXor(p, len);
}

/** Sets the ChaCha20 block counter back to 1 (for decrypting after authenticating). */
export function rewind(): void {
  chachaCounter(1);
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
  memory.fill(0, 0, SCRATCH_END);
  polyClear();
}

/** Zeroes all of memory (message region included) and the Poly1305 state. */
export function wipe(): void {
  memory.fill(0, 0, MEMORY_BYTES);
  polyClear();
}

/**
 * Seals in one call: AAD at `aad`, plaintext at `p` (encrypted in place), tag
 * written at `p + len`. Clears the secret state before returning.
 */
export function seal(aad: usize, aadLen: usize, p: usize, len: usize): void {
  begin();
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
  begin();
  polyUpdate(aad, aadLen);
  polyUpdate(p, len);
  polyLengths(<u64>aadLen, <u64>len);
  polyFinish(TAG);
  const ok = verify(p + len);
  if (ok) chachaXor(p, len); // whether the tag verified is public
  clear();
  return ok;
}
