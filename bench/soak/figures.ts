// Issue 14's figures (`deno task soak --hostile`): every scenario of its table, each judged
// against a bound from budgets.ts, after the soak's own load and hostile phases (which give
// the soak_* figures and part of busy_downgrades). Scenarios that measure a server's memory
// run that server in a process of its own; all talk to loopback only, with bounded counts and
// times. Figures marked "extra" are not in issue 14's table: they show gaps it describes.
import {
  BASE_ALLOWANCE,
  type Bound,
  GOALS,
  limit,
  loadBounds,
  pendingHandshakeBudget,
  relayBudget,
  SESSION_OBJECTS,
  sessionBudget,
  tighter,
  webSocketBudget,
} from "./budgets.ts";
import type { SoakReport } from "./run.ts";
import { type Figure, judge, mallocSettings } from "./report.ts";
import { KIB, MIB } from "./util.ts";
import { frameScenario } from "../hostile/ws_frames.ts";
import { busyDowngrades, pendingDecoyRssMib, pingUnderFlood } from "../hostile/scenarios.ts";
import { idleAfterBigPacketTcp, readAheadRetainedMib } from "../hostile/idle.ts";
import { sessionCap } from "../hostile/session_cap.ts";

const base = BASE_ALLOWANCE / MIB;
const round = (v: number) => Math.round(v * 10) / 10;
const mibOf = (bytes: number) => round(bytes / MIB);

/** `n` connections × `perBytes` (the budget `name`) + the base allowance, MiB. */
function perConnections(n: number, perBytes: number, name: string): [number, string] {
  return [n * perBytes / MIB + base, `${n} × ${mibOf(perBytes)} MiB (${name}) + ${base}`];
}

const budgetBound = (value: number, basis: string): Bound => ({ value, basis: `budget ${basis}` });

/** Runs every scenario after the soak and judges each figure. */
export async function hostileFigures(
  soak: SoakReport,
  log: (line: string) => void,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const add = (...args: Parameters<typeof judge>) => {
    const f = judge(...args);
    figures.push(f);
    log(`  ${f.key} = ${f.value} ${f.verdict}`);
  };
  const step = <T>(what: string, run: () => Promise<T>): Promise<T> => {
    log(`figure: ${what}`);
    return run();
  };

  // --- WebSocket frames (items 1, 2)
  const relay = await step("relay, 16 × 60 MiB frames", () => frameScenario("relay", 16));
  add(
    "relay_big_frame_rss_mib",
    relay.peakGrowthMib,
    budgetBound(...perConnections(16, relayBudget().total, "relay")),
    "the relay's peak RSS growth (VmHWM) with 16 WebSockets each announcing one 60 MiB frame " +
      `toward a node that never reads (${relay.bytesAcceptedMib} MiB sent before it closed them)`,
  );
  const ws = await step("listenWebSocket, 8 × 60 MiB frames", () => frameScenario("listen-ws", 8));
  const wsHandshake = webSocketBudget(limit("maxMessageSize"), true).total;
  add(
    "ws_handshake_frame_rss_mib",
    ws.peakGrowthMib,
    tighter(GOALS.smallRssMib, ...perConnections(8, wsHandshake, "WebSocket handshake")),
    "listenWebSocket's peak RSS growth with 8 WebSockets each announcing one 60 MiB frame " +
      `before the handshake (${ws.bytesAcceptedMib} MiB sent before it closed them)`,
  );

  // --- pending handshakes (item 3)
  const decoys = await step("128 pending handshakes × 4 MB decoy", () => pendingDecoyRssMib(128));
  const pendingDecoys = pendingHandshakeBudget().total;
  add(
    "pending_decoy_rss_mib",
    round(decoys),
    tighter(GOALS.smallRssMib, ...perConnections(128, pendingDecoys, "pending handshake, decoys")),
    "the listener's RSS growth with 128 pending handshakes, each 2 MiB into a 4 MB " +
      "handshake-phase decoy",
  );
  const version = await step(
    "extra: 128 pending handshakes × 4 MB version packet",
    () => pendingDecoyRssMib(128, "version"),
  );
  const pendingVersion = pendingHandshakeBudget(2 * MIB).total;
  add(
    "pending_version_packet_rss_mib",
    round(version),
    budgetBound(...perConnections(128, pendingVersion, "pending handshake, 2 MiB of its version")),
    "extra: as pending_decoy_rss_mib, but the 4 MB packet is the version packet, a real packet " +
      "that is gathered whole as it arrives: no listener-wide budget bounds 128 of them",
  );

  // --- idle sessions (item 4)
  const idle = await step(
    "30 idle TCP sessions, then one 4 MB decoy each",
    () => idleAfterBigPacketTcp(30),
  );
  add(
    "idle_session_bytes",
    Math.round(idle.idle),
    budgetBound(SESSION_OBJECTS, `(its JS objects term, ${SESSION_OBJECTS / KIB} KiB)`),
    "extra: the listener's live memory (heap + external after GC) per idle TCP session, " +
      "30 sessions, after a warm-up round",
  );
  add(
    "idle_after_big_packet_bytes",
    Math.round(idle.afterBigPacket),
    {
      value: GOALS.idleFactor * idle.idle,
      basis: `${GOALS.idleFactor} × the idle figure (${Math.round(idle.idle)} B)`,
    },
    "the listener's live memory per idle TCP session after each of 30 received one 4 MB " +
      "decoy (sent with a ping, answered), 1.2 s later",
  );

  // --- fairness (item 8)
  const ping = await step("honest ping under 3 floods", () => pingUnderFlood(10));
  const calm = await step("honest ping without floods (baseline)", () => pingUnderFlood(3, 0));
  add(
    "honest_ping_p99_ms_under_flood",
    round(ping.p99),
    {
      value: GOALS.pingP99Ms,
      basis: `goal ${GOALS.pingP99Ms} ms (a flooder works through at most ` +
        `${limit("fairShare") / MIB} MiB per turn while another socket waits)`,
    },
    "an honest ping every 20 ms for 10 s while 3 peers flood 1 MB decoys at a listener in " +
      `another process: p50 ${round(ping.p50)} ms, max ${round(ping.max)} ms (without the ` +
      `floods: p50 ${round(calm.p50)} ms, p99 ${round(calm.p99)} ms)`,
  );

  // --- refusals for load (item 5)
  const oneByOne = await step("busy listener, 20 initiators one by one", () => busyDowngrades(20));
  const bursts = [];
  for (let i = 1; i <= 3; i++) {
    bursts.push(
      await step(
        `busy listener, 300 initiators at once (${i} of 3)`,
        () => busyDowngrades(300, true),
      ),
    );
  }
  // The flood phase's honest peers connect v2-only: each V1_ONLY_PEER they saw is a refusal
  // that the default fallback ("v1", layers/session/connect.ts) turns into a v1 session.
  const flood = soak.hostile;
  const floodV1 = flood?.honestSawV1Only ?? 0;
  const burstV1 = bursts.reduce((a, b) => a + b.downgrades, 0);
  add(
    "busy_downgrades",
    oneByOne.downgrades + burstV1 + floodV1,
    { value: 0, basis: "0: a refusal for load must never look like a v1-only peer" },
    "initiators with the default fallback that ended on v1 against a v2 listener whose 8 " +
      `handshake slots are held: ${oneByOne.downgrades} of 20 one by one; ` +
      `${bursts.map((b) => b.downgrades).join(" + ")} of 3 × 300 at once (more refusals than ` +
      `the ${limit("busyLingering")} the listener lets linger); plus ${floodV1} of the flood ` +
      `phase's ${flood?.honestRetries ?? 0} refusals of honest v2-only peers seen as V1_ONLY_PEER`,
  );

  // --- the session cap and idle timeout of the CLI (item 4)
  const cap = await step("cli.ts listen --max-sessions 8 --idle-timeout 3000", sessionCap);
  add(
    "session_cap_ok",
    cap.ok,
    undefined,
    `12 initiators at once: ${cap.admitted} admitted (on v1: ${cap.v1}), refused ` +
      `${JSON.stringify(cap.refused)}; ${cap.idleClosed} closed for being idle (the last ` +
      `${cap.idleCloseMs} ms after admission), ${cap.clientsClosed} clients saw it; a later ` +
      `session ${cap.lateAdmitted ? "got in" : "did NOT get in"}`,
  );

  // --- read-ahead (what a session nobody reads holds)
  const retained = await step("extra: read-ahead of a session nobody reads", readAheadRetainedMib);
  const session = sessionBudget().total;
  add(
    "read_ahead_retained_mib",
    round(retained.mib),
    budgetBound(session / MIB, `(a whole TCP session at the defaults, ${mibOf(session)} MiB)`),
    "extra: one session at a listener that never reads it; the peer sent " +
      `${retained.messages} 1-byte messages, each after a 65,000-byte decoy (nearly every ` +
      "transport chunk carries one message), until its writes stalled: the listener's " +
      "live-memory growth",
  );

  // --- the soak's load phase (item 11)
  const load = soak.load;
  if (load) {
    const m = load.memory;
    const bounds = loadBounds(soak.config.sessions, soak.config.maxPayload, m.start.rss / MIB);
    const live = (f: { heapUsed: number; external: number }) => mibOf(f.heapUsed + f.external);
    add(
      "soak_peak_rss_mib",
      mibOf(m.peak.rss),
      bounds.peak,
      `load phase, ${soak.config.sessions} sessions with both ends in this process: peak RSS; ` +
        `at that sample heap total ${mibOf(m.atPeakRss.heapTotal)} MiB, external ` +
        `${mibOf(m.atPeakRss.external)} MiB; peak external ${mibOf(m.peak.external)} MiB`,
    );
    const alloc = m.allocatorEnd;
    add(
      "soak_end_rss_mib",
      mibOf(m.end.rss),
      bounds.end,
      "load phase end, every session closed, after a full GC: live (heap + external) " +
        `${live(m.end)} MiB (start ${live(m.start)} MiB)` +
        (alloc
          ? `; glibc (${mallocSettings()}): ${
            mibOf(alloc.free)
          } MiB free in its arenas (pages a trim handed back included), ` +
            `${mibOf(alloc.inUse)} MiB in use`
          : "") +
        (m.endRssAfterTrim !== undefined
          ? `; RSS right after malloc_trim(0): ${mibOf(m.endRssAfterTrim)} MiB`
          : ""),
    );
  }
  return figures;
}
