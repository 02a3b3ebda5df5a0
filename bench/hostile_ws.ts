// `deno run -A bench/hostile_ws.ts`: what one oversized WebSocket frame costs a server, on
// loopback (issue 14, items 1–2): the relay (16 × 60 MiB toward a node that never reads),
// listenWebSocket before the handshake (8 × 60 MiB), and a bare Deno.upgradeWebSocket server
// for comparison (16 × 60 MiB). See bench/hostile/ws_frames.ts. Prints one JSON line last;
// `deno task soak --hostile` runs the first two among its figures.
import { frameScenario } from "./hostile/ws_frames.ts";

const relay = await frameScenario("relay", 16);
const listen = await frameScenario("listen-ws", 8);
const native = await frameScenario("deno-native", 16);

console.log(`relay, 16 × 60 MiB frames:             peak RSS +${relay.peakGrowthMib} MiB`);
console.log(`listenWebSocket, 8 × 60 MiB frames:    peak RSS +${listen.peakGrowthMib} MiB`);
console.log(`Deno.upgradeWebSocket, 16 × 60 MiB:    peak RSS +${native.peakGrowthMib} MiB`);
console.log(JSON.stringify({
  relay_big_frame_rss_mib: relay.peakGrowthMib,
  ws_handshake_frame_rss_mib: listen.peakGrowthMib,
  deno_native_big_frame_rss_mib: native.peakGrowthMib,
  relay_bytes_sent_mib: relay.bytesAcceptedMib,
  ws_handshake_bytes_sent_mib: listen.bytesAcceptedMib,
  deno_native_bytes_sent_mib: native.bytesAcceptedMib,
}));
