// Flooding peers for pingUnderFlood: N sessions that send 1 MB decoys back to back (each
// message is preceded by one). Prints `{"port":…}` once all are connected and sending.
import { connect } from "../../mod.ts";

const arg = (name: string) => Number(Deno.args[Deno.args.indexOf(`--${name}`) + 1]);
const port = arg("port"), peers = arg("peers");
const sessions = await Promise.all(
  Array.from(
    { length: peers },
    () => connect({ hostname: "127.0.0.1", port, network: "regtest", shaping: () => [1_000_000] }),
  ),
);
console.log(JSON.stringify({ port }));
await Promise.all(sessions.map(async (s) => {
  const w = s.writable.getWriter();
  for (let i = 0; i < 100_000; i++) await w.write({ type: "inv", payload: new Uint8Array(1) });
}));
