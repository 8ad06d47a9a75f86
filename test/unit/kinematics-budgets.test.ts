import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CueingChain } from '../../src/cueing/chain.js';
import { channelLimits, cueSchema, defaultCueProfile } from '../../src/cueing/profile.js';
import { loadRigFile } from '../../src/config/rig-file.js';
import { channelBudgets } from '../../src/kinematics/budgets.js';
import { ControlLoop } from '../../src/runtime/control-loop.js';
import { REPO_ROOT } from '../helpers/shared-data.js';

const RIGS = ['stewart-linear', 'stewart-rotary', 'three-actuator', 'two-actuator', 'four-corner'];
const rigFile = (name: string) => loadRigFile(join(REPO_ROOT, 'profiles', 'rigs', `${name}.yaml`));
const DEG = Math.PI / 180;

describe('channel budgets', () => {
  it('every pose inside the box (random, not only the grid it was found on) is reachable as asked: no IK scaling', () => {
    for (const name of RIGS) {
      const rig = rigFile(name);
      const b = channelBudgets(rig, channelLimits(defaultCueProfile()));
      fc.assert(
        fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }), (u) => {
          const pose = Float64Array.from(u, (v, k) => v * b[k]!);
          expect(rig.solve(pose, 0)).toBe(true);
          expect(rig.scale).toBe(1);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('is tight: 2 % more of the box puts some corner closer than the margin to an actuator end', () => {
    const rig = rigFile('stewart-linear');
    const limits = channelLimits(defaultCueProfile());
    const b = channelBudgets(rig, limits, { margin: 0.02 });
    let worst = Infinity;
    const pose = new Float64Array(6);
    for (let c = 0; c < 64; c++) {
      for (let k = 0; k < 6; k++) pose[k] = ((c >> k) & 1 ? 1 : -1) * 1.02 * b[k]!;
      rig.evaluate(pose, 0);
      worst = Math.min(worst, rig.margin);
    }
    expect(worst).toBeLessThan(0.02);
    // Proportions of the profile kept: one common factor.
    for (let k = 1; k < 6; k++) expect(b[k]! / limits[k]!).toBeCloseTo(b[0]! / limits[0]!, 12);
  });

  it('a pose component the rig does not follow gets 0; a limit the rig can give in full is kept', () => {
    const three = channelBudgets(rigFile('three-actuator'), channelLimits(defaultCueProfile()));
    expect([three[0], three[1], three[5]]).toEqual([0, 0, 0]);
    expect(three[2]).toBeGreaterThan(0);
    const yawTable = channelBudgets(rigFile('two-actuator'), channelLimits(defaultCueProfile()));
    expect([yawTable[0], yawTable[1], yawTable[2]]).toEqual([0, 0, 0]);
    expect(yawTable[5]).toBeGreaterThan(0);
    const small = [0.001, 0.001, 0.001, 0.1 * DEG, 0.1 * DEG, 0.1 * DEG];
    expect(Array.from(channelBudgets(rigFile('stewart-linear'), small))).toEqual(small);
  });

  it('the chain takes min(profile limit, budget) as each channel limit, 0 turns a channel off; workspace.shared: false ignores budgets', () => {
    const profile = defaultCueProfile();
    const budgets = [profile.surge.limit / 2, 0.2, 0, 2 * DEG, 20 * DEG, 5 * DEG];
    const chain = new CueingChain(profile, 1000, budgets);
    expect(chain.limits).toEqual([profile.surge.limit / 2, profile.sway.limit, 0, 2 * DEG, profile.pitch.limitDeg * DEG, 5 * DEG]);
    const own = new CueingChain(cueSchema.parse({ workspace: { shared: false } }), 1000, budgets);
    expect(own.limits).toEqual(channelLimits(profile));
  });

  it('the control loop builds its chain, also on a profile change, with the budgets of its rig', () => {
    const rig = rigFile('stewart-rotary');
    const loop = new ControlLoop({ rig, profile: defaultCueProfile(), rateHz: 1000 });
    const expected = Array.from(channelBudgets(rig, channelLimits(defaultCueProfile())));
    expect(Array.from(loop.chain.budgets!)).toEqual(expected);
    expect(loop.chain.limits.map((l, k) => Math.min(l, expected[k]!))).toEqual(loop.chain.limits);
    const narrow = cueSchema.parse({ workspace: { marginPct: 10 } });
    expect(loop.setProfile(narrow)).toBeUndefined();
    const b10 = channelBudgets(rig, channelLimits(narrow), { margin: 0.1 });
    expect(b10[0]).toBeLessThan(expected[0]!);
    expect(loop.setProfile(cueSchema.parse({ workspace: { shared: false } }))).toBeUndefined();
  });
});
