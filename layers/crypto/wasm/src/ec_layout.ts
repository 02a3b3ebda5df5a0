// Fixed layout of the secp256k1 module's linear memory (AssemblyScript; not Deno TypeScript).
// Nothing is allocated at run time. Words are 32-byte little-endian values
// exchanged with JavaScript; slots are 40-byte field elements (ten limbs).

/** Result: affine-to-be x numerator (X of the Jacobian result), normalized, as words. */
export const OUT_X: usize = 0;
/** Result: the Jacobian Z of the result, normalized, as words. */
export const OUT_Z: usize = 32;
/** Inputs as words: the starting point's X, Y, Z (multiplication) or a table entry's x, y. */
export const IN_X: usize = 64;
export const IN_Y: usize = 96;
export const IN_Z: usize = 128;
/** The GLV digits of k₁ and k₂ (26 signed bytes each, odd, ±1..±31). */
export const DIGITS1: usize = 160;
export const DIGITS2: usize = 192;
/** The fixed-base digits (32 signed 16-bit values, odd, ±1..±255). */
export const DIGITS_BASE: usize = 224;

/** The Jacobian accumulator X, Y, Z. */
export const AX: usize = 320;
export const AY: usize = 360;
export const AZ: usize = 400;
/** Temporaries of the point formulas (T0-T8) and of the table build (T9-T11). */
export const T: usize = 440;
/** 2·A while the GLV table is built, as an affine point of a scaled curve. */
export const DX: usize = 920;
export const DY: usize = 960;
/** The Z factor that maps the GLV table's curve back to the input's. */
export const ZSCALE: usize = 1000;
/** The GLV table: x, y and β·x of the odd multiples 1, 3, …, 31, then the Z ratios of its build. */
export const GX: usize = 1040;
export const GY: usize = 1680;
export const GBX: usize = 2320;
export const RATIO: usize = 2960;
/** End of the secret scratch: clear() zeroes [0, SCRATCH_END). */
export const SCRATCH_END: usize = 4096;
/**
 * The fixed-base table (public: multiples of G): 4,096 affine points, x then
 * y, 80 bytes each; entry w·128 + j is (2j + 1)·256^w·G.
 */
export const BASE: usize = 4096;
/** Bytes of memory (the module declares exactly this much and never grows). */
export const MEMORY_BYTES: usize = 6 << 16;
