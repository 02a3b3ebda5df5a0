// AEAD backends head to head: one seal + one open of the same message per iteration, with
// WasmAead (all JS <-> WebAssembly copies included), PureAead and NativeAead (node:crypto).
//
//   deno bench bench/wasm_bench.ts             (all sizes)
//   deno bench bench/wasm_bench.ts --filter 38  (one size)
//
// Sizes are plaintext bytes; 38 B is a typical small BIP324 packet body (header + 37 bytes), 1 MiB
// a bulk message; the sizes between locate the crossovers for the "auto" thresholds. The key and
// nonce change every iteration, as they do packet to packet on the wire.
import type { AeadBackend } from "../layers/crypto/aead_types.ts";
import { PureAead } from "../layers/crypto/pure_aead.ts";
import { NativeAead, nativeAeadAvailable } from "../layers/crypto/native_aead.ts";
import { WasmAead, wasmAeadAvailable } from "../layers/crypto/wasm_aead.ts";

const SIZES = [38, 256, 1024, 2048, 4096, 16384, 65536, 1 << 20];
const EMPTY = new Uint8Array(0);

const backends: AeadBackend[] = [
  ...(wasmAeadAvailable() ? [new WasmAead()] : []),
  new PureAead(),
  ...(nativeAeadAvailable() ? [new NativeAead()] : []),
];

function label(size: number): string {
  return size >= 1 << 20 ? `${size >> 20} MiB` : size >= 1024 ? `${size >> 10} KiB` : `${size} B`;
}

for (const size of SIZES) {
  const plaintext = Uint8Array.from({ length: size }, (_, i) => (i * 131) & 0xff);
  for (const aead of backends) {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i * 3 + 1);
    const nonce = new Uint8Array(12);
    const sealed = new Uint8Array(size + 16), opened = new Uint8Array(size);
    let n = 0;
    Deno.bench(
      `${label(size)} seal+open [${aead.name}]`,
      { group: label(size), baseline: aead.name === "pure" },
      () => {
        nonce[0] = n;
        nonce[1] = n >> 8;
        n++;
        aead.seal(key, nonce, EMPTY, plaintext, sealed);
        if (!aead.open(key, nonce, EMPTY, sealed, opened)) throw new Error("open failed");
      },
    );
  }
}
