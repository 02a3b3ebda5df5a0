// A listener for rssPerIdleTcpSession: holds every session open, prints its port.
import { listen, type Session } from "../../mod.ts";

const listener = listen({
  port: 0,
  hostname: "127.0.0.1",
  maxPendingHandshakes: 2048,
  maxSessions: 4096,
});
console.log(listener.addr.port);
const held: Session[] = [];
for await (const s of listener) held.push(s);
