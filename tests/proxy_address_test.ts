// examples/proxy_address.ts: how the proxy recognises its own address in any spelling.
import assert from "node:assert/strict";
import {
  canonicalIp,
  isLocalAddress,
  resolveAddresses,
  SelfAddress,
} from "../examples/proxy_address.ts";

/** Every spelling of 127.0.0.1 the system resolver (and so a connection) accepts. */
const LOOPBACK_SPELLINGS = [
  "127.0.0.1",
  "2130706433",
  "0x7f000001",
  "0X7F000001",
  "127.1",
  "127.0.1",
  "0177.0.0.1",
  "0x7f.0.0.1",
  "0x7f.1",
  "::ffff:127.0.0.1",
  "[::ffff:127.0.0.1]",
  "::ffff:7f00:1",
  "0:0:0:0:0:ffff:7f00:1",
  "::FFFF:127.0.0.1",
];

Deno.test("canonicalIp: every IPv4 spelling and IPv4-mapped IPv6 form of 127.0.0.1", () => {
  for (const spelling of LOOPBACK_SPELLINGS) {
    assert.equal(canonicalIp(spelling), "127.0.0.1", spelling);
  }
  assert.equal(canonicalIp("0"), "0.0.0.0");
  assert.equal(canonicalIp("0xffffffff"), "255.255.255.255");
  assert.equal(canonicalIp("[::ffff:10.1.2.3]"), "10.1.2.3");
  assert.equal(canonicalIp("0:0:0:0:0:0:0:1"), "::1");
  assert.equal(canonicalIp("[FE80::1%eth0]"), "fe80::1%eth0");
  assert.equal(canonicalIp("2001:DB8::0:1"), "2001:db8::1");
  // Not IP literals: names, and strings no resolver reads as an address.
  for (
    const text of [
      "localhost",
      "seed.bitcoin.sipa.be",
      "abc",
      "1e2",
      "08",
      "1.2.3.4.5",
      "4294967296",
      "1::2::3",
      "",
    ]
  ) {
    assert.equal(canonicalIp(text), null, text);
  }
});

Deno.test("canonicalIp agrees with the system resolver on every spelling", async () => {
  for (const spelling of LOOPBACK_SPELLINGS.filter((s) => !s.startsWith("["))) {
    const { lookup } = await import("node:dns/promises");
    const resolved = await lookup(spelling, { all: true, verbatim: true });
    assert.deepEqual(resolved.map((r) => canonicalIp(r.address)), ["127.0.0.1"], spelling);
  }
});

Deno.test("resolveAddresses: literals as themselves, names through the resolver", async () => {
  assert.deepEqual(await resolveAddresses("0x7f000001"), ["127.0.0.1"]);
  assert.deepEqual(await resolveAddresses("[::ffff:127.0.0.1]"), ["127.0.0.1"]);
  const local = await resolveAddresses("localhost");
  assert.ok(
    local.length > 0 && local.every((ip) => ip.startsWith("127.") || ip === "::1"),
    `${local}`,
  );
});

Deno.test("isLocalAddress: unspecified and bindable addresses are local, others not", () => {
  for (const ip of ["127.0.0.1", "127.0.0.9", "::1", "0.0.0.0", "::"]) {
    assert.equal(isLocalAddress(ip), true, ip);
  }
  // Documentation ranges (RFC 5737, RFC 3849) are never assigned to a host.
  for (const ip of ["192.0.2.1", "198.51.100.7", "2001:db8::1"]) {
    assert.equal(isLocalAddress(ip), false, ip);
  }
});

Deno.test("SelfAddress: a specific bind matches every spelling of its address, and only its port", () => {
  const self = new SelfAddress({ hostname: "127.0.0.1", port: 18444 });
  for (const spelling of LOOPBACK_SPELLINGS) {
    assert.equal(self.reaches(spelling, 18444), true, spelling);
    assert.equal(self.reaches(spelling, 18445), false, spelling);
  }
  assert.equal(self.reaches("0.0.0.0", 18444), true); // connect(0.0.0.0) reaches loopback
  assert.equal(self.reaches("0", 18444), true);
  assert.equal(self.reaches("127.0.0.2", 18444), false); // another address, not our socket
  assert.equal(self.reaches("::1", 18444), false);
  assert.equal(self.reaches("192.0.2.1", 18444), false);
  assert.equal(self.reaches("localhost", 18444), false); // names are resolved first, not here
  assert.equal(self.reachesLiteral("localhost", 18444), true);
  assert.equal(self.reachesLiteral("LOCALHOST.", 18444), true);

  const six = new SelfAddress({ hostname: "::1", port: 8333 });
  assert.equal(six.reaches("0:0:0:0:0:0:0:1", 8333), true);
  assert.equal(six.reaches("[::1]", 8333), true);
  assert.equal(six.reaches("::", 8333), true);
  assert.equal(six.reaches("127.0.0.1", 8333), false);
  assert.equal(six.reachesLiteral("localhost", 8333), true);
  assert.throws(() => new SelfAddress({ hostname: "localhost", port: 1 }), TypeError);
});

Deno.test("SelfAddress: a 0.0.0.0 or :: bind is every local address", () => {
  const any4 = new SelfAddress({ hostname: "0.0.0.0", port: 8333 });
  for (const ip of [...LOOPBACK_SPELLINGS, "127.0.0.2", "127.255.0.1", "0.0.0.0", "0"]) {
    assert.equal(any4.reaches(ip, 8333), true, ip);
  }
  assert.equal(any4.reaches("::1", 8333), false); // an IPv4 socket takes no IPv6
  assert.equal(any4.reaches("192.0.2.1", 8333), false);
  assert.equal(any4.reaches("127.0.0.1", 8334), false);

  const any6 = new SelfAddress({ hostname: "::", port: 8333 });
  for (const ip of ["::1", "127.0.0.1", "2130706433", "::ffff:127.0.0.1", "::"]) {
    assert.equal(any6.reaches(ip, 8333), true, ip);
  }
  assert.equal(any6.reaches("2001:db8::1", 8333), false);
  assert.equal(any6.reaches("192.0.2.1", 8333), false);
});
