import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forwardKinematics } from '../../src/kinematics/forward.js';
import { loadRigFile } from '../../src/config/rig-file.js';
import type { RigSpec } from '../../src/config/rig-schema.js';
import { type RigKinematics, rigFromSpec } from '../../src/kinematics/rig.js';
import { REPO_ROOT } from '../helpers/shared-data.js';

/*
 * References here are built independently of src/kinematics: rotations by Rodrigues'
 * formula about the fixed axes in the order the architecture fixes (roll, then pitch, then
 * yaw, i.e. R = Rz·Ry·Rx), anchors from the generator rules written out by hand, and the
 * crank checked by where its horn tip ends up, not by the formula that chose the angle.
 */

type V = [number, number, number];
const add = (a: V, b: V): V => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const sub = (a: V, b: V): V => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: V, b: V) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V, b: V): V => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: V) => Math.sqrt(dot(a, a));
const scale = (a: V, s: number): V => [a[0] * s, a[1] * s, a[2] * s];
/** Rodrigues: v rotated by angle about unit axis k. */
function rodrigues(v: V, k: V, angle: number): V {
  return add(add(scale(v, Math.cos(angle)), scale(cross(k, v), Math.sin(angle))), scale(k, dot(k, v) * (1 - Math.cos(angle))));
}
/** Platform point p (platform frame) in the base frame for pose [x,y,z,roll,pitch,yaw] and home height h. */
function placed(p: V, pose: number[], h: number): V {
  let v = rodrigues(p, [1, 0, 0], pose[3]!);
  v = rodrigues(v, [0, 1, 0], pose[4]!);
  v = rodrigues(v, [0, 0, 1], pose[5]!);
  return add(v, [pose[0]!, pose[1]!, h + pose[2]!]);
}

const limits = { min: 0, max: 0.15, marginPct: 3, maxVelocity: 0.4, maxAcceleration: 12 };
const linearHexapod: RigSpec = {
  type: 'stewart-linear',
  homeHeight: 0.62,
  baseRadius: 0.55,
  platformRadius: 0.42,
  baseSpacing: 0.3,
  platformSpacing: 0.3,
  pair: 'front',
  actuators: limits,
};
const rotaryHexapod: RigSpec = {
  type: 'stewart-rotary',
  homeHeight: 0.4605,
  baseRadius: 0.42,
  platformRadius: 0.36,
  baseSpacing: 0.35,
  platformSpacing: 0.35,
  hornLength: 0.1,
  rodLength: 0.5,
  pair: 'front',
  actuators: { min: -1.2, max: 1.2, marginPct: 3, maxVelocity: 6, maxAcceleration: 120 },
};

/** Generator rule written out: base pair k centred at k·120°, anchors at ∓spacing/2; leg 2k reaches back to the platform pair at k·120° − 60°, leg 2k+1 forward to k·120° + 60°. */
function hexapodAnchors(rb: number, rp: number, sb: number, sp: number): { base: V[]; platform: V[] } {
  const base: V[] = [];
  const platform: V[] = [];
  for (const k of [0, 1, 2]) {
    const c = (k * 2 * Math.PI) / 3;
    for (const side of [-1, 1]) {
      const ab = c + (side * sb) / 2;
      const ap = c + side * (Math.PI / 3 - sp / 2);
      base.push([rb * Math.cos(ab), rb * Math.sin(ab), 0]);
      platform.push([rp * Math.cos(ap), rp * Math.sin(ap), 0]);
    }
  }
  return { base, platform };
}

/** Random poses a sim rig is asked for: ±6 cm, ±0.2 rad. */
const modestPose = fc.tuple(
  fc.double({ min: -0.06, max: 0.06, noNaN: true }),
  fc.double({ min: -0.06, max: 0.06, noNaN: true }),
  fc.double({ min: -0.06, max: 0.06, noNaN: true }),
  fc.double({ min: -0.2, max: 0.2, noNaN: true }),
  fc.double({ min: -0.2, max: 0.2, noNaN: true }),
  fc.double({ min: -0.2, max: 0.2, noNaN: true }),
);

function evaluateAt(rig: RigKinematics, pose: number[]): boolean {
  return rig.evaluate(Float64Array.from(pose), 0);
}

describe('linear hexapod', () => {
  const rig = rigFromSpec(linearHexapod);
  const { base, platform } = hexapodAnchors(0.55, 0.42, 0.3, 0.3);

  it('leg lengths equal an independent rigid-body placement of the anchors', () => {
    fc.assert(
      fc.property(modestPose, (pose) => {
        evaluateAt(rig, pose);
        for (let i = 0; i < 6; i++) {
          const expected = norm(sub(placed(platform[i]!, pose, 0.62), base[i]!));
          expect(rig.legs[i]).toBeCloseTo(expected, 12);
          expect(rig.actuators[i]).toBeCloseTo(expected - rig.geometry.retractedLength, 12);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('default retracted length puts the neutral pose at mid-stroke', () => {
    for (const v of rig.neutral) expect(v).toBeCloseTo(0.075, 12);
  });

  it('signs: positive roll raises the left side, positive pitch lowers the front, heave lengthens all legs', () => {
    evaluateAt(rig, [0, 0, 0, 0.05, 0, 0]);
    for (let i = 0; i < 6; i++) {
      const y = platform[i]![1];
      if (Math.abs(y) > 1e-9) expect(Math.sign(rig.actuators[i]! - rig.neutral[i]!)).toBe(Math.sign(y));
    }
    evaluateAt(rig, [0, 0, 0, 0, 0.05, 0]);
    for (let i = 0; i < 6; i++) {
      const x = platform[i]![0];
      if (Math.abs(x) > 1e-9) expect(Math.sign(rig.actuators[i]! - rig.neutral[i]!)).toBe(-Math.sign(x));
    }
    evaluateAt(rig, [0, 0, 0.02, 0, 0, 0]);
    for (let i = 0; i < 6; i++) expect(rig.actuators[i]!).toBeGreaterThan(rig.neutral[i]!);
  });

  it('forward kinematics (Newton on the leg lengths) recovers random reachable poses to 1e-9', () => {
    let checked = 0;
    fc.assert(
      fc.property(modestPose, (pose) => {
        if (!evaluateAt(rig, pose)) return; // only reachable poses
        checked++;
        const fk = forwardKinematics(rig, Array.from(rig.actuators));
        expect(fk.converged).toBe(true);
        for (let k = 0; k < 3; k++) expect(Math.abs(fk.pose[k]! - pose[k]!)).toBeLessThan(1e-9);
        for (let k = 3; k < 6; k++) expect(Math.abs(fk.pose[k]! - pose[k]!)).toBeLessThan(1e-9);
      }),
      { numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(100);
  });

  it('symmetry: equal actuators at neutral; yaw ±ψ swaps the two handed leg sets; the same motion a third of a turn round moves the legs two places on', () => {
    const n = rig.neutral;
    for (let i = 1; i < 6; i++) expect(n[i]).toBeCloseTo(n[0]!, 12);
    evaluateAt(rig, [0, 0, 0, 0, 0, 0.1]);
    const plus = Array.from(rig.actuators);
    evaluateAt(rig, [0, 0, 0, 0, 0, -0.1]);
    const minus = Array.from(rig.actuators);
    // Even legs all alike, odd legs all alike, and −ψ exchanges them.
    for (const i of [2, 4]) expect(plus[i]).toBeCloseTo(plus[0]!, 12);
    for (const i of [3, 5]) expect(plus[i]).toBeCloseTo(plus[1]!, 12);
    expect(plus[0]).not.toBeCloseTo(plus[1]!, 6);
    for (let i = 0; i < 6; i++) expect(minus[i]).toBeCloseTo(plus[i ^ 1]!, 12);
    // Translation turned by 120° about z with yaw (which commutes with that turn): leg i + 2 does what leg i did.
    fc.assert(
      fc.property(modestPose, ([x, y, z, , , yaw]) => {
        evaluateAt(rig, [x, y, z, 0, 0, yaw]);
        const before = Array.from(rig.actuators);
        const c = Math.cos((2 * Math.PI) / 3);
        const s = Math.sin((2 * Math.PI) / 3);
        evaluateAt(rig, [c * x - s * y, s * x + c * y, z, 0, 0, yaw]);
        for (let i = 0; i < 6; i++) expect(rig.actuators[(i + 2) % 6]).toBeCloseTo(before[i]!, 12);
      }),
      { numRuns: 200 },
    );
  });

  it('mirror symmetry: roll +φ on leg i equals roll −φ on its mirror image across the x–z plane', () => {
    // Mirror pairs: 0↔1 (front pair), 2↔5, 3↔4.
    const mirror = [1, 0, 5, 4, 3, 2];
    fc.assert(
      fc.property(fc.double({ min: -0.2, max: 0.2, noNaN: true }), fc.double({ min: -0.2, max: 0.2, noNaN: true }), (roll, pitch) => {
        evaluateAt(rig, [0.01, 0, 0.01, roll, pitch, 0]);
        const a = Array.from(rig.actuators);
        evaluateAt(rig, [0.01, 0, 0.01, -roll, pitch, 0]);
        for (let i = 0; i < 6; i++) expect(rig.actuators[mirror[i]!]).toBeCloseTo(a[i]!, 12);
      }),
      { numRuns: 200 },
    );
  });
});

describe('rotary hexapod', () => {
  const rig = rigFromSpec(rotaryHexapod);
  const { base, platform } = hexapodAnchors(0.42, 0.36, 0.35, 0.35);
  const a = 0.1;
  const s = 0.5;

  it('the crank angle puts the rod end exactly one rod length from the platform anchor (random poses)', () => {
    let reachable = 0;
    fc.assert(
      fc.property(modestPose, (pose) => {
        const ok = evaluateAt(rig, pose);
        if (ok) reachable++;
        for (let i = 0; i < 6; i++) {
          const alpha = rig.actuators[i]!;
          if (Number.isNaN(alpha)) continue;
          const beta = rig.geometry.hornAngles[i]!;
          const tip = add(base[i]!, [a * Math.cos(alpha) * Math.cos(beta), a * Math.cos(alpha) * Math.sin(beta), a * Math.sin(alpha)]);
          const rod = norm(sub(placed(platform[i]!, pose, 0.4605), tip));
          expect(Math.abs(rod - s)).toBeLessThan(1e-9);
        }
      }),
      { numRuns: 500 },
    );
    expect(reachable).toBeGreaterThan(100);
  });

  it('default horns are tangential, each turned toward the platform anchor its leg reaches for', () => {
    for (let i = 0; i < 6; i++) {
      const beta = rig.geometry.hornAngles[i]!;
      const horn: V = [Math.cos(beta), Math.sin(beta), 0];
      expect(Math.abs(dot(horn, scale(base[i]!, 1 / 0.42)))).toBeLessThan(1e-12); // perpendicular to the radius
      expect(dot(horn, sub(platform[i]!, base[i]!))).toBeGreaterThan(0);
    }
  });

  it('raising the platform turns every horn up; neutral angles are equal', () => {
    for (let i = 1; i < 6; i++) expect(rig.neutral[i]).toBeCloseTo(rig.neutral[0]!, 12);
    evaluateAt(rig, [0, 0, 0.03, 0, 0, 0]);
    for (let i = 0; i < 6; i++) expect(rig.actuators[i]!).toBeGreaterThan(rig.neutral[i]!);
  });

  it('forward kinematics on crank angles recovers the pose too', () => {
    const pose = [0.02, -0.015, 0.01, 0.05, -0.08, 0.1];
    expect(evaluateAt(rig, pose)).toBe(true);
    const fk = forwardKinematics(rig, Array.from(rig.actuators));
    for (let k = 0; k < 6; k++) expect(Math.abs(fk.pose[k]! - pose[k]!)).toBeLessThan(1e-9);
  });

  it('a rod that cannot reach gives NaN from evaluate, and solve() scales instead', () => {
    const far = Float64Array.from([0, 0, 0.3, 0, 0, 0]); // 30 cm up: longer than horn + rod allow
    expect(rig.evaluate(far, 0)).toBe(false);
    expect(Array.from(rig.actuators).some(Number.isNaN)).toBe(true);
    expect(rig.solve(far, 0)).toBe(false);
    expect(rig.scale).toBeGreaterThan(0);
    expect(rig.scale).toBeLessThan(1);
    for (const v of rig.actuators) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('small rigs', () => {
  it('four corners: each ram follows the corner height in closed form; x, y, yaw are the frame’s', () => {
    const rig = loadRigFile(join(REPO_ROOT, 'profiles', 'rigs', 'four-corner.yaml'));
    const corners: [number, number][] = [
      [0.65, 0.28],
      [0.65, -0.28],
      [-0.65, 0.28],
      [-0.65, -0.28],
    ];
    fc.assert(
      fc.property(modestPose, ([x, y, z, roll, pitch, yaw]) => {
        evaluateAt(rig, [x, y, z, roll, pitch, yaw]);
        corners.forEach(([cx, cy], i) => {
          // Height of a platform point under Ry(pitch)·Rx(roll): −sin θ·x + cos θ·sin φ·y.
          const dz = z - Math.sin(pitch) * cx + Math.cos(pitch) * Math.sin(roll) * cy;
          expect(rig.actuators[i]).toBeCloseTo(0.05 + dz, 12);
        });
      }),
      { numRuns: 300 },
    );
    for (const v of rig.neutral) expect(v).toBeCloseTo(0.05, 12);
  });

  it('three actuators: pitch moves the front pair against the rear single; roll splits the pair', () => {
    const rig = loadRigFile(join(REPO_ROOT, 'profiles', 'rigs', 'three-actuator.yaml'));
    for (const v of rig.neutral) expect(v).toBeCloseTo(0.05, 12);
    evaluateAt(rig, [0, 0, 0, 0, 0.03, 0]);
    expect(rig.actuators[0]!).toBeLessThan(0.05);
    expect(rig.actuators[1]).toBeCloseTo(rig.actuators[0]!, 12);
    expect(rig.actuators[2]!).toBeGreaterThan(0.05);
    evaluateAt(rig, [0, 0, 0, 0.03, 0, 0]);
    expect(rig.actuators[0]!).toBeGreaterThan(0.05); // left front up
    expect(rig.actuators[1]!).toBeLessThan(0.05);
    expect(rig.actuators[0]! - 0.05).toBeCloseTo(0.05 - rig.actuators[1]!, 6);
    // Surge, sway and yaw ask nothing of this rig.
    evaluateAt(rig, [0.05, 0.05, 0, 0, 0, 0.2]);
    for (let i = 0; i < 3; i++) expect(rig.actuators[i]).toBeCloseTo(rig.neutral[i]!, 12);
  });

  it('two actuators with a yaw table: cranks level at neutral, yaw goes to the table alone', () => {
    const rig = loadRigFile(join(REPO_ROOT, 'profiles', 'rigs', 'two-actuator.yaml'));
    expect(rig.actuatorCount).toBe(3);
    for (let i = 0; i < 2; i++) expect(Math.abs(rig.neutral[i]!)).toBeLessThan(1e-12);
    evaluateAt(rig, [0, 0, 0, 0, 0, 0.2]);
    expect(rig.actuators[2]).toBe(0.2);
    expect(Math.abs(rig.actuators[0]!)).toBeLessThan(1e-12);
    // The rods are behind the pivot: nose down (positive pitch) lifts the rear, so both horns turn up.
    evaluateAt(rig, [0, 0, 0, 0, 0.05, 0]);
    expect(rig.actuators[0]!).toBeGreaterThan(0);
    expect(rig.actuators[1]).toBeCloseTo(rig.actuators[0]!, 12);
    // Independent check of the crank: rod end one rod length from the seat anchor.
    const pose = [0, 0, 0, 0.08, -0.06, 0];
    evaluateAt(rig, pose);
    const anchors: V[] = [
      [-0.45, 0.25, 0],
      [-0.45, -0.25, 0],
    ];
    anchors.forEach((p, i) => {
      const alpha = rig.actuators[i]!;
      const tip: V = [-0.45 - 0.06 + 0.06 * Math.cos(alpha), p[1], 0.06 * Math.sin(alpha)];
      expect(norm(sub(placed(p, pose, 0.3), tip))).toBeCloseTo(0.3, 12);
    });
  });
});

describe('reachability', () => {
  const rigs = ['stewart-linear', 'stewart-rotary', 'three-actuator', 'two-actuator', 'four-corner'].map((name) =>
    loadRigFile(join(REPO_ROOT, 'profiles', 'rigs', `${name}.yaml`)),
  );
  const wild = fc.oneof(
    { weight: 6, arbitrary: fc.double({ min: -2, max: 2, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 1e30, -1e30, 0, Math.PI, -Math.PI) },
  );

  it('any pose, however wild, gives finite actuators inside the usable travel, on the ray toward neutral', () => {
    for (const rig of rigs) {
      fc.assert(
        fc.property(fc.array(wild, { minLength: 6, maxLength: 6 }), (values) => {
          const pose = Float64Array.from(values);
          const asked = rig.solve(pose, 0);
          const s = rig.scale;
          expect(s).toBeGreaterThanOrEqual(0);
          expect(s).toBeLessThanOrEqual(1);
          expect(asked).toBe(s === 1);
          const result = Array.from(rig.actuators);
          for (let i = 0; i < rig.actuatorCount; i++) {
            expect(Number.isFinite(result[i]!)).toBe(true);
            expect(result[i]!).toBeGreaterThanOrEqual(rig.low[i]!);
            expect(result[i]!).toBeLessThanOrEqual(rig.high[i]!);
          }
          // The result is the IK of the scaled pose (the whole pose scaled, not legs clipped).
          // Components the rig ignores (x on a 3DOF, yaw on a rig without a table) do not count.
          const used = (k: number) => rig.geometry.legDof[k] || (k === 5 && rig.geometry.yaw !== undefined);
          const finite = values.every((v, k) => !used(k) || Number.isFinite(v));
          const scaled = Float64Array.from(values, (v, k) => (finite && used(k) ? v * s : 0));
          expect(rig.evaluate(scaled, 0)).toBe(true);
          for (let i = 0; i < rig.actuatorCount; i++) expect(rig.actuators[i] === result[i]).toBe(true); // === so that 0 and −0 agree
        }),
        { numRuns: 1500 },
      );
    }
  });

  it('scaling is tight: a little more of the pose than kept would leave the travel', () => {
    const rig = rigs[0]!;
    const pose = Float64Array.from([0.3, 0, 0, 0, 0.2, 0]);
    expect(rig.solve(pose, 0)).toBe(false);
    const s = rig.scale;
    expect(rig.evaluate(Float64Array.from(pose, (v) => v * (s + 2e-6)), 0)).toBe(false);
  });

  it('scaling is tight on every rig, also where a crank rod nears full stretch: 1e-4 more of the pose leaves the travel', () => {
    for (const rig of rigs) {
      fc.assert(
        fc.property(fc.array(fc.double({ min: -0.6, max: 0.6, noNaN: true }), { minLength: 6, maxLength: 6 }), (values) => {
          const pose = Float64Array.from(values);
          fc.pre(!rig.solve(pose, 0));
          const s = rig.scale;
          expect(s).toBeGreaterThan(0);
          expect(rig.evaluate(Float64Array.from(pose, (v) => v * Math.min(1, s + 1e-4)), 0)).toBe(false);
        }),
        { numRuns: 3000 },
      );
    }
  });
});

describe('rig files', () => {
  it('every example under profiles/rigs loads, with a reachable neutral pose', () => {
    const files = readdirSync(join(REPO_ROOT, 'profiles', 'rigs'));
    expect(files.sort()).toEqual(['four-corner.yaml', 'stewart-linear.yaml', 'stewart-rotary.yaml', 'three-actuator.yaml', 'two-actuator.yaml']);
    for (const f of files) {
      const rig = loadRigFile(join(REPO_ROOT, 'profiles', 'rigs', f));
      expect(rig.solve(new Float64Array(6), 0)).toBe(true);
    }
  });
});
