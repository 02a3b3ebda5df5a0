// ChaCha20 (RFC 8439 section 2.3-2.4) over the fixed STATE block (AssemblyScript).
import { BLOCK, KEY, NONCE, STATE } from "./layout";

/** Fills STATE from KEY and NONCE with block counter `counter`. */
export function chachaSetup(counter: u32): void {
  store<u32>(STATE, 0x61707865, 0); // "expand 32-byte k"
  store<u32>(STATE, 0x3320646e, 4);
  store<u32>(STATE, 0x79622d32, 8);
  store<u32>(STATE, 0x6b206574, 12);
  for (let i: usize = 0; i < 32; i += 4) store<u32>(STATE + 16 + i, load<u32>(KEY + i));
  store<u32>(STATE, counter, 48);
  store<u32>(STATE, load<u32>(NONCE, 0), 52);
  store<u32>(STATE, load<u32>(NONCE, 4), 56);
  store<u32>(STATE, load<u32>(NONCE, 8), 60);
}

/** Sets the block counter in STATE. */
export function chachaCounter(counter: u32): void {
  store<u32>(STATE, counter, 48);
}

/**
 * XORs the keystream block for the current counter into the 64 bytes at `p`
 * and advances the counter. Words are little-endian, as WebAssembly loads are.
 */
// @ts-ignore: decorator
@inline
function xorBlock(p: usize): void {
  const j0 = load<u32>(STATE, 0), j1 = load<u32>(STATE, 4);
  const j2 = load<u32>(STATE, 8), j3 = load<u32>(STATE, 12);
  const j4 = load<u32>(STATE, 16), j5 = load<u32>(STATE, 20);
  const j6 = load<u32>(STATE, 24), j7 = load<u32>(STATE, 28);
  const j8 = load<u32>(STATE, 32), j9 = load<u32>(STATE, 36);
  const j10 = load<u32>(STATE, 40), j11 = load<u32>(STATE, 44);
  const j12 = load<u32>(STATE, 48), j13 = load<u32>(STATE, 52);
  const j14 = load<u32>(STATE, 56), j15 = load<u32>(STATE, 60);
  let x0 = j0, x1 = j1, x2 = j2, x3 = j3, x4 = j4, x5 = j5, x6 = j6, x7 = j7;
  let x8 = j8, x9 = j9, x10 = j10, x11 = j11, x12 = j12, x13 = j13, x14 = j14, x15 = j15;
  for (let round = 0; round < 10; round++) {
    // column round: QR(0,4,8,12) QR(1,5,9,13) QR(2,6,10,14) QR(3,7,11,15)
    x0 += x4; x12 = rotl<u32>(x12 ^ x0, 16); x8 += x12; x4 = rotl<u32>(x4 ^ x8, 12);
    x0 += x4; x12 = rotl<u32>(x12 ^ x0, 8); x8 += x12; x4 = rotl<u32>(x4 ^ x8, 7);
    x1 += x5; x13 = rotl<u32>(x13 ^ x1, 16); x9 += x13; x5 = rotl<u32>(x5 ^ x9, 12);
    x1 += x5; x13 = rotl<u32>(x13 ^ x1, 8); x9 += x13; x5 = rotl<u32>(x5 ^ x9, 7);
    x2 += x6; x14 = rotl<u32>(x14 ^ x2, 16); x10 += x14; x6 = rotl<u32>(x6 ^ x10, 12);
    x2 += x6; x14 = rotl<u32>(x14 ^ x2, 8); x10 += x14; x6 = rotl<u32>(x6 ^ x10, 7);
    x3 += x7; x15 = rotl<u32>(x15 ^ x3, 16); x11 += x15; x7 = rotl<u32>(x7 ^ x11, 12);
    x3 += x7; x15 = rotl<u32>(x15 ^ x3, 8); x11 += x15; x7 = rotl<u32>(x7 ^ x11, 7);
    // diagonal round: QR(0,5,10,15) QR(1,6,11,12) QR(2,7,8,13) QR(3,4,9,14)
    x0 += x5; x15 = rotl<u32>(x15 ^ x0, 16); x10 += x15; x5 = rotl<u32>(x5 ^ x10, 12);
    x0 += x5; x15 = rotl<u32>(x15 ^ x0, 8); x10 += x15; x5 = rotl<u32>(x5 ^ x10, 7);
    x1 += x6; x12 = rotl<u32>(x12 ^ x1, 16); x11 += x12; x6 = rotl<u32>(x6 ^ x11, 12);
    x1 += x6; x12 = rotl<u32>(x12 ^ x1, 8); x11 += x12; x6 = rotl<u32>(x6 ^ x11, 7);
    x2 += x7; x13 = rotl<u32>(x13 ^ x2, 16); x8 += x13; x7 = rotl<u32>(x7 ^ x8, 12);
    x2 += x7; x13 = rotl<u32>(x13 ^ x2, 8); x8 += x13; x7 = rotl<u32>(x7 ^ x8, 7);
    x3 += x4; x14 = rotl<u32>(x14 ^ x3, 16); x9 += x14; x4 = rotl<u32>(x4 ^ x9, 12);
    x3 += x4; x14 = rotl<u32>(x14 ^ x3, 8); x9 += x14; x4 = rotl<u32>(x4 ^ x9, 7);
  }
  store<u32>(p, load<u32>(p, 0) ^ (x0 + j0), 0);
  store<u32>(p, load<u32>(p, 4) ^ (x1 + j1), 4);
  store<u32>(p, load<u32>(p, 8) ^ (x2 + j2), 8);
  store<u32>(p, load<u32>(p, 12) ^ (x3 + j3), 12);
  store<u32>(p, load<u32>(p, 16) ^ (x4 + j4), 16);
  store<u32>(p, load<u32>(p, 20) ^ (x5 + j5), 20);
  store<u32>(p, load<u32>(p, 24) ^ (x6 + j6), 24);
  store<u32>(p, load<u32>(p, 28) ^ (x7 + j7), 28);
  store<u32>(p, load<u32>(p, 32) ^ (x8 + j8), 32);
  store<u32>(p, load<u32>(p, 36) ^ (x9 + j9), 36);
  store<u32>(p, load<u32>(p, 40) ^ (x10 + j10), 40);
  store<u32>(p, load<u32>(p, 44) ^ (x11 + j11), 44);
  store<u32>(p, load<u32>(p, 48) ^ (x12 + j12), 48);
  store<u32>(p, load<u32>(p, 52) ^ (x13 + j13), 52);
  store<u32>(p, load<u32>(p, 56) ^ (x14 + j14), 56);
  store<u32>(p, load<u32>(p, 60) ^ (x15 + j15), 60);
  store<u32>(STATE, j12 + 1, 48);
}

/**
 * XORs `len` keystream bytes into the bytes at `p`, in place. A final partial
 * block goes through BLOCK, which is zeroed afterwards; so a message cut into
 * pieces gives the same result only if every piece but the last is a multiple
 * of 64 bytes.
 */
export function chachaXor(p: usize, len: usize): void {
  while (len >= 64) {
    xorBlock(p);
    p += 64;
    len -= 64;
  }
  if (len > 0) {
    memory.copy(BLOCK, p, len);
    xorBlock(BLOCK);
    memory.copy(p, BLOCK, len);
    memory.fill(BLOCK, 0, 64);
  }
}
