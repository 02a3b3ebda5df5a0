// Placeholder demo for the cryptographic core: replaced by the two-peer TCP demo.
import { Bip324Cipher, toHex } from "../mod.ts";

const initiator = Bip324Cipher.create();
const responder = Bip324Cipher.create();
initiator.initialize(responder.ourEllswift, true, "regtest");
responder.initialize(initiator.ourEllswift, false, "regtest");
console.log("initiator session id:", toHex(initiator.sessionId));
console.log("responder session id:", toHex(responder.sessionId));
const packet = initiator.encrypt(new TextEncoder().encode("hello"));
const length = responder.decryptLength(packet.subarray(0, 3));
console.log(
  "decrypted:",
  new TextDecoder().decode(responder.decrypt(packet.subarray(3)).contents),
  length,
);
