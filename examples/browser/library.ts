// What the browser bundle (`bip324.bundle.js`) carries: the session API and the Bitcoin
// application layer, from the library's own entry points.
export * from "../../mod.ts";
export * from "../../layers/bitcoin/mod.ts";
export { bytesEqual } from "../../layers/bytes.ts";
export { ecWasmAvailable } from "../../layers/cipher.ts";
