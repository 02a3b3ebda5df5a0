// Fixed layout of the module's linear memory (AssemblyScript; not Deno TypeScript).
// Nothing is allocated at run time: every byte has one of these roles.

/** 32-byte key, written by JavaScript before each message; zeroed by begin(). */
export const KEY: usize = 0;
/** 12-byte nonce, written by JavaScript before each message. */
export const NONCE: usize = 32;
/** The tag computed by open(), compared with the received one. */
export const TAG: usize = 48;
/** The ChaCha20 input block: constants, key, (unused) counter, nonce. */
export const STATE: usize = 64;
/** One Poly1305 block of scratch (a zero-padded final block, the lengths). */
export const PAD: usize = 128;
/**
 * Powers of the Poly1305 key r for the four-way SIMD path: five i32x4
 * vectors, vector k holding limb k of r^4, r^3, r^2, r (lanes 0-3).
 */
export const POW: usize = 144;
/** The Poly1305 accumulator's five limbs, handed to and from the SIMD path. */
export const HACC: usize = 224;
/** Four keystream blocks (256 bytes), computed together and used up in order. */
export const KS: usize = 256;
/** End of the secret scratch: clear() zeroes [0, SCRATCH_END). */
export const SCRATCH_END: usize = 512;
/** Start of the message region: AAD, text and tag are copied here. */
export const DATA: usize = 512;
/** Bytes of memory (the module declares exactly this much and never grows). */
export const MEMORY_BYTES: usize = 2 << 16;
