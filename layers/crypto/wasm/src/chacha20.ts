// ChaCha20 (RFC 8439 section 2.3-2.4), four blocks at a time with 128-bit SIMD (AssemblyScript).
//
// Lane j of the sixteen vectors x0..x15 holds word i of block counter + j, so
// one pass of the 20 rounds makes 256 bytes of keystream into KS, which the
// XOR then uses up in order: a message may be fed in pieces of any size.
// For a message that fits in block 1, refill2() makes just blocks 0 and 1
// with one row of the block per vector (two blocks interleaved), which has
// half the work of the four-block pass. chachaRows(true) makes the bulk
// refills use that row-wise layout too (two pairs of blocks): it needs 8 live
// vectors instead of 16, which JavaScriptCore's register allocation turns
// into ~1.4x the speed, where V8 runs the column layout ~1.25x faster.
import { KEY, KS, NONCE, STATE } from "./layout";

/** Bytes of KS already used. */
let used: usize = 256;
/** Bytes of keystream KS holds (256, or 128 after refill2). */
let filled: usize = 256;
/** Block counter of the next refill's first block. */
let counter: u32 = 0;
/** Whether bulk refills use the row-wise pairs (see chachaRows). */
let rows = false;

/** Picks the bulk keystream layout: row-wise pairs (`on`) or four blocks column-wise. */
export function chachaRows(on: bool): void {
  rows = on;
}

/** Fills STATE from KEY and NONCE, empties KS and sets the block counter to 0. */
export function chachaSetup(): void {
  store<u32>(STATE, 0x61707865, 0); // "expand 32-byte k"
  store<u32>(STATE, 0x3320646e, 4);
  store<u32>(STATE, 0x79622d32, 8);
  store<u32>(STATE, 0x6b206574, 12);
  for (let i: usize = 0; i < 32; i += 4) store<u32>(STATE + 16 + i, load<u32>(KEY + i));
  store<u32>(STATE, 0, 48);
  store<u32>(STATE, load<u32>(NONCE, 0), 52);
  store<u32>(STATE, load<u32>(NONCE, 4), 56);
  store<u32>(STATE, load<u32>(NONCE, 8), 60);
  counter = 0;
  used = 256;
  filled = 256;
}

/** Forgets the buffered keystream and the counter (KS itself is zeroed by the caller). */
export function chachaClear(): void {
  counter = 0;
  used = 256;
  filled = 256;
}

/**
 * Makes keystream blocks `from`.. the next to be used: block `from` starts KS.
 * `two`: compute only blocks `from` and `from + 1` now (later ones follow in
 * fours as needed).
 */
export function chachaSeek(from: u32, two: bool): void {
  counter = from;
  if (two) refill2();
  else refill4();
}

// @ts-ignore: decorator
@inline
function rotl16(x: v128): v128 {
  return i8x16.shuffle(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
}

// @ts-ignore: decorator
@inline
function rotl8(x: v128): v128 {
  return i8x16.shuffle(x, x, 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
}

// @ts-ignore: decorator
@inline
function rotl12(x: v128): v128 {
  return v128.or(i32x4.shl(x, 12), i32x4.shr_u(x, 20));
}

// @ts-ignore: decorator
@inline
function rotl7(x: v128): v128 {
  return v128.or(i32x4.shl(x, 7), i32x4.shr_u(x, 25));
}

/**
 * Stores word group k (words 4k..4k+3) of the four blocks: a, b, c, d hold
 * words 4k..4k+3 across the blocks (lane = block), so transpose them first.
 */
// @ts-ignore: decorator
@inline
function store4(at: usize, a: v128, b: v128, c: v128, d: v128): void {
  const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5), t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5), t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(at, i32x4.shuffle(t0, t2, 0, 1, 4, 5), 0);
  v128.store(at, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 64);
  v128.store(at, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 128);
  v128.store(at, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 192);
}

/** Computes blocks counter..counter+3 into KS and advances the counter by 4. */
function refill(): void {
  const lanes = i32x4(0, 1, 2, 3);
  let x0 = v128.load32_splat(STATE, 0), x1 = v128.load32_splat(STATE, 4);
  let x2 = v128.load32_splat(STATE, 8), x3 = v128.load32_splat(STATE, 12);
  let x4 = v128.load32_splat(STATE, 16), x5 = v128.load32_splat(STATE, 20);
  let x6 = v128.load32_splat(STATE, 24), x7 = v128.load32_splat(STATE, 28);
  let x8 = v128.load32_splat(STATE, 32), x9 = v128.load32_splat(STATE, 36);
  let x10 = v128.load32_splat(STATE, 40), x11 = v128.load32_splat(STATE, 44);
  let x12 = i32x4.add(i32x4.splat(counter), lanes), x13 = v128.load32_splat(STATE, 52);
  let x14 = v128.load32_splat(STATE, 56), x15 = v128.load32_splat(STATE, 60);
  for (let round = 0; round < 10; round++) {
    // column round: QR(0,4,8,12) QR(1,5,9,13) QR(2,6,10,14) QR(3,7,11,15)
    x0 = i32x4.add(x0, x4); x12 = rotl16(v128.xor(x12, x0));
    x8 = i32x4.add(x8, x12); x4 = rotl12(v128.xor(x4, x8));
    x0 = i32x4.add(x0, x4); x12 = rotl8(v128.xor(x12, x0));
    x8 = i32x4.add(x8, x12); x4 = rotl7(v128.xor(x4, x8));
    x1 = i32x4.add(x1, x5); x13 = rotl16(v128.xor(x13, x1));
    x9 = i32x4.add(x9, x13); x5 = rotl12(v128.xor(x5, x9));
    x1 = i32x4.add(x1, x5); x13 = rotl8(v128.xor(x13, x1));
    x9 = i32x4.add(x9, x13); x5 = rotl7(v128.xor(x5, x9));
    x2 = i32x4.add(x2, x6); x14 = rotl16(v128.xor(x14, x2));
    x10 = i32x4.add(x10, x14); x6 = rotl12(v128.xor(x6, x10));
    x2 = i32x4.add(x2, x6); x14 = rotl8(v128.xor(x14, x2));
    x10 = i32x4.add(x10, x14); x6 = rotl7(v128.xor(x6, x10));
    x3 = i32x4.add(x3, x7); x15 = rotl16(v128.xor(x15, x3));
    x11 = i32x4.add(x11, x15); x7 = rotl12(v128.xor(x7, x11));
    x3 = i32x4.add(x3, x7); x15 = rotl8(v128.xor(x15, x3));
    x11 = i32x4.add(x11, x15); x7 = rotl7(v128.xor(x7, x11));
    // diagonal round: QR(0,5,10,15) QR(1,6,11,12) QR(2,7,8,13) QR(3,4,9,14)
    x0 = i32x4.add(x0, x5); x15 = rotl16(v128.xor(x15, x0));
    x10 = i32x4.add(x10, x15); x5 = rotl12(v128.xor(x5, x10));
    x0 = i32x4.add(x0, x5); x15 = rotl8(v128.xor(x15, x0));
    x10 = i32x4.add(x10, x15); x5 = rotl7(v128.xor(x5, x10));
    x1 = i32x4.add(x1, x6); x12 = rotl16(v128.xor(x12, x1));
    x11 = i32x4.add(x11, x12); x6 = rotl12(v128.xor(x6, x11));
    x1 = i32x4.add(x1, x6); x12 = rotl8(v128.xor(x12, x1));
    x11 = i32x4.add(x11, x12); x6 = rotl7(v128.xor(x6, x11));
    x2 = i32x4.add(x2, x7); x13 = rotl16(v128.xor(x13, x2));
    x8 = i32x4.add(x8, x13); x7 = rotl12(v128.xor(x7, x8));
    x2 = i32x4.add(x2, x7); x13 = rotl8(v128.xor(x13, x2));
    x8 = i32x4.add(x8, x13); x7 = rotl7(v128.xor(x7, x8));
    x3 = i32x4.add(x3, x4); x14 = rotl16(v128.xor(x14, x3));
    x9 = i32x4.add(x9, x14); x4 = rotl12(v128.xor(x4, x9));
    x3 = i32x4.add(x3, x4); x14 = rotl8(v128.xor(x14, x3));
    x9 = i32x4.add(x9, x14); x4 = rotl7(v128.xor(x4, x9));
  }
  // add the input block back (reloaded rather than kept live through the rounds)
  x0 = i32x4.add(x0, v128.load32_splat(STATE, 0));
  x1 = i32x4.add(x1, v128.load32_splat(STATE, 4));
  x2 = i32x4.add(x2, v128.load32_splat(STATE, 8));
  x3 = i32x4.add(x3, v128.load32_splat(STATE, 12));
  store4(KS, x0, x1, x2, x3);
  x4 = i32x4.add(x4, v128.load32_splat(STATE, 16));
  x5 = i32x4.add(x5, v128.load32_splat(STATE, 20));
  x6 = i32x4.add(x6, v128.load32_splat(STATE, 24));
  x7 = i32x4.add(x7, v128.load32_splat(STATE, 28));
  store4(KS + 16, x4, x5, x6, x7);
  x8 = i32x4.add(x8, v128.load32_splat(STATE, 32));
  x9 = i32x4.add(x9, v128.load32_splat(STATE, 36));
  x10 = i32x4.add(x10, v128.load32_splat(STATE, 40));
  x11 = i32x4.add(x11, v128.load32_splat(STATE, 44));
  store4(KS + 32, x8, x9, x10, x11);
  x12 = i32x4.add(x12, i32x4.add(i32x4.splat(counter), lanes));
  x13 = i32x4.add(x13, v128.load32_splat(STATE, 52));
  x14 = i32x4.add(x14, v128.load32_splat(STATE, 56));
  x15 = i32x4.add(x15, v128.load32_splat(STATE, 60));
  store4(KS + 48, x12, x13, x14, x15);
  counter += 4;
  used = 0;
  filled = 256;
}

/** Makes the next four blocks into KS in the layout chachaRows picked. */
function refill4(): void {
  if (rows) {
    pair(KS);
    pair(KS + 128);
    used = 0;
    filled = 256;
  } else {
    refill();
  }
}

/** Computes blocks counter and counter+1 into KS (row-wise) and advances the counter by 2. */
function refill2(): void {
  pair(KS);
  used = 0;
  filled = 128;
}

/** Computes blocks counter and counter+1 row-wise to `out` and advances the counter by 2. */
function pair(out: usize): void {
  const a = v128.load(STATE, 0), b = v128.load(STATE, 16), c = v128.load(STATE, 32);
  const d = i32x4.replace_lane(v128.load(STATE, 48), 0, counter);
  const e = i32x4.add(d, i32x4(1, 0, 0, 0));
  let a0 = a, b0 = b, c0 = c, d0 = d, a1 = a, b1 = b, c1 = c, d1 = e;
  for (let round = 0; round < 10; round++) {
    // columns
    a0 = i32x4.add(a0, b0); a1 = i32x4.add(a1, b1);
    d0 = rotl16(v128.xor(d0, a0)); d1 = rotl16(v128.xor(d1, a1));
    c0 = i32x4.add(c0, d0); c1 = i32x4.add(c1, d1);
    b0 = rotl12(v128.xor(b0, c0)); b1 = rotl12(v128.xor(b1, c1));
    a0 = i32x4.add(a0, b0); a1 = i32x4.add(a1, b1);
    d0 = rotl8(v128.xor(d0, a0)); d1 = rotl8(v128.xor(d1, a1));
    c0 = i32x4.add(c0, d0); c1 = i32x4.add(c1, d1);
    b0 = rotl7(v128.xor(b0, c0)); b1 = rotl7(v128.xor(b1, c1));
    // rotate rows so that the diagonals line up as columns
    b0 = i32x4.shuffle(b0, b0, 1, 2, 3, 0); b1 = i32x4.shuffle(b1, b1, 1, 2, 3, 0);
    c0 = i32x4.shuffle(c0, c0, 2, 3, 0, 1); c1 = i32x4.shuffle(c1, c1, 2, 3, 0, 1);
    d0 = i32x4.shuffle(d0, d0, 3, 0, 1, 2); d1 = i32x4.shuffle(d1, d1, 3, 0, 1, 2);
    // diagonals
    a0 = i32x4.add(a0, b0); a1 = i32x4.add(a1, b1);
    d0 = rotl16(v128.xor(d0, a0)); d1 = rotl16(v128.xor(d1, a1));
    c0 = i32x4.add(c0, d0); c1 = i32x4.add(c1, d1);
    b0 = rotl12(v128.xor(b0, c0)); b1 = rotl12(v128.xor(b1, c1));
    a0 = i32x4.add(a0, b0); a1 = i32x4.add(a1, b1);
    d0 = rotl8(v128.xor(d0, a0)); d1 = rotl8(v128.xor(d1, a1));
    c0 = i32x4.add(c0, d0); c1 = i32x4.add(c1, d1);
    b0 = rotl7(v128.xor(b0, c0)); b1 = rotl7(v128.xor(b1, c1));
    // and back
    b0 = i32x4.shuffle(b0, b0, 3, 0, 1, 2); b1 = i32x4.shuffle(b1, b1, 3, 0, 1, 2);
    c0 = i32x4.shuffle(c0, c0, 2, 3, 0, 1); c1 = i32x4.shuffle(c1, c1, 2, 3, 0, 1);
    d0 = i32x4.shuffle(d0, d0, 1, 2, 3, 0); d1 = i32x4.shuffle(d1, d1, 1, 2, 3, 0);
  }
  v128.store(out, i32x4.add(a0, a), 0);
  v128.store(out, i32x4.add(b0, b), 16);
  v128.store(out, i32x4.add(c0, c), 32);
  v128.store(out, i32x4.add(d0, d), 48);
  v128.store(out, i32x4.add(a1, a), 64);
  v128.store(out, i32x4.add(b1, b), 80);
  v128.store(out, i32x4.add(c1, c), 96);
  v128.store(out, i32x4.add(d1, e), 112);
  counter += 2;
}

/** XORs the next `len` keystream bytes into the bytes at `p`, in place. */
export function chachaXor(p: usize, len: usize): void {
  let pos = used;
  while (len > 0) {
    if (pos == filled) {
      refill4();
      pos = 0;
    }
    let n: usize = filled - pos;
    if (n > len) n = len;
    const ks = KS + pos;
    let i: usize = 0;
    for (; i + 16 <= n; i += 16) {
      v128.store(p + i, v128.xor(v128.load(p + i), v128.load(ks + i)));
    }
    for (; i < n; i++) store<u8>(p + i, load<u8>(p + i) ^ load<u8>(ks + i));
    p += n;
    len -= n;
    pos += n;
  }
  used = pos;
}

/** Skips `n` keystream bytes (at most what KS still holds). */
export function chachaSkip(n: usize): void {
  used += n;
}
