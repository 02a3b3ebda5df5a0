import assert from "node:assert/strict";
import { Point } from "@noble/secp256k1";
import { Jacobian } from "../layers/crypto/secp256k1_jacobian.ts";
import { inv, mod, P } from "../layers/crypto/secp256k1_field.ts";
import { randomBytes, toHex } from "../layers/bytes.ts";

const ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const big = (b: Uint8Array) => BigInt("0x" + toHex(b));
const randomScalar = () => big(randomBytes(32)) % (ORDER - 1n) + 1n;
const randomZ = () => mod(big(randomBytes(32))) || 1n;

/** A random multiple of G, and the same point in Jacobian coordinates with a random Z. */
function randomPoint(): { affine: { x: bigint; y: bigint }; jac: Jacobian } {
  const affine = Point.BASE.multiply(randomScalar()).toAffine();
  const z = randomZ(), zz = (z * z) % P;
  return { affine, jac: new Jacobian().set((affine.x * zz) % P, (affine.y * zz * z) % P, z) };
}

function toAffine(j: Jacobian): { x: bigint; y: bigint } {
  const zi = inv(j.z), zi2 = (zi * zi) % P;
  return { x: mod(j.x * zi2), y: mod(j.y * zi2 * zi) };
}

Deno.test("Jacobian double, add and addAffine match @noble/secp256k1", () => {
  for (let i = 0; i < 30; i++) {
    const a = randomPoint(), b = randomPoint();
    const pa = Point.fromAffine(a.affine), pb = Point.fromAffine(b.affine);

    const d = new Jacobian().set(a.jac.x, a.jac.y, a.jac.z);
    d.double();
    assert.deepEqual(toAffine(d), pa.double().toAffine());

    const cached = b.jac.cache();
    const s = new Jacobian().set(a.jac.x, a.jac.y, a.jac.z);
    s.add(cached, false);
    assert.deepEqual(toAffine(s), pa.add(pb).toAffine());
    const diff = new Jacobian().set(a.jac.x, a.jac.y, a.jac.z);
    diff.add(cached, true);
    assert.deepEqual(toAffine(diff), pa.subtract(pb).toAffine());

    const m = new Jacobian().set(a.jac.x, a.jac.y, a.jac.z);
    m.addAffine(b.affine.x, b.affine.y);
    assert.deepEqual(toAffine(m), pa.add(pb).toAffine());
    assert.equal(s.degenerate || diff.degenerate || m.degenerate || d.degenerate, false);
  }
});

Deno.test("Jacobian additions flag equal x (P + P, P − P) and clear() resets", () => {
  const a = randomPoint();
  const cached = a.jac.cache();
  for (const negate of [false, true]) {
    const s = new Jacobian().set(a.jac.x, a.jac.y, a.jac.z);
    s.add(cached, negate);
    assert.equal(s.degenerate, true);
    s.clear();
    assert.equal(s.degenerate, false);
    assert.deepEqual([s.x, s.y, s.z], [0n, 0n, 0n]);
  }
  // negative (lazily reduced) coordinates: the same point with X − p
  const m = new Jacobian().set(a.jac.x - P, a.jac.y, a.jac.z);
  m.add(cached, false);
  assert.equal(m.degenerate, true);
  const f = new Jacobian().set(a.affine.x - P, a.affine.y, 1n);
  f.addAffine(a.affine.x, P - a.affine.y);
  assert.equal(f.degenerate, true);
});
