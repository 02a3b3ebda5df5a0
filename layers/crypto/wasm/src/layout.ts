// Fixed layout of the module's linear memory (AssemblyScript; not Deno TypeScript).
// Nothing is allocated at run time: every byte has one of these roles.

/** 32-byte key, written by JavaScript before each message; zeroed by begin(). */
export const KEY: usize = 0;
/** 12-byte nonce, written by JavaScript before each message. */
export const NONCE: usize = 32;
/** The tag computed by open(), compared with the received one. */
export const TAG: usize = 48;
/** The 16 words of the ChaCha20 input block (constants, key, counter, nonce). */
export const STATE: usize = 64;
/** One keystream block of scratch (a final partial block, the one-time key). */
export const BLOCK: usize = 128;
/** One Poly1305 block of scratch (a zero-padded final block, the lengths). */
export const PAD: usize = 192;
/** End of the secret scratch: clear() zeroes [0, SCRATCH_END). */
export const SCRATCH_END: usize = 256;
/** Start of the message region: AAD, text and tag are copied here. */
export const DATA: usize = 256;
/** Bytes of memory (the module declares exactly this much and never grows). */
export const MEMORY_BYTES: usize = 2 << 16;
