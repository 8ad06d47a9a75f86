import { describe, expect, it } from 'vitest';
import { ForwardSolver, forwardKinematics } from '../../src/kinematics/forward.js';
import { loadRigFile } from '../../src/config/rig-file.js';
import { REPO_ROOT } from '../helpers/shared-data.js';

const RATE = 1000;
const wiggle = (t: number) => Math.sin(2 * Math.PI * 0.37 * t) + 0.6 * Math.sin(2 * Math.PI * 1.13 * t + 1) + 0.3 * Math.sin(2 * Math.PI * 2.9 * t + 2);

describe('forward kinematics along a trajectory', () => {
  it.each(['stewart-linear', 'stewart-rotary'])('%s: along a smooth 1 kHz trajectory, the chord solver (Jacobian reused) gives plain Gauss–Newton\'s pose to 1e-11 with far fewer Jacobians', (name) => {
    const rig = loadRigFile(`${REPO_ROOT}/profiles/rigs/${name}.yaml`);
    const solver = new ForwardSolver(rig, { reuseJacobian: true });
    const pose = new Float64Array(6);
    let worst = 0;
    const solves = 2000;
    for (let k = 0; k < solves; k++) {
      const t = k / RATE;
      pose.set([0.03 * Math.sin(3 * t), 0.02 * wiggle(t), 0.01 * Math.cos(5 * t), 0.05 * wiggle(t + 1), -0.06 * Math.sin(2 * t), 0.08 * Math.sin(t)]);
      expect(rig.evaluate(pose, 0)).toBe(true);
      const act = Array.from(rig.actuators);
      expect(solver.solve(act, undefined, 50, 1e-12)).toBe(true);
      const plain = forwardKinematics(rig, act);
      for (let j = 0; j < 6; j++) worst = Math.max(worst, Math.abs(solver.pose[j]! - plain.pose[j]!), Math.abs(solver.pose[j]! - pose[j]!));
    }
    expect(worst).toBeLessThan(1e-11);
    expect(solver.jacobians).toBeLessThan(solves / 10);
  });
});
