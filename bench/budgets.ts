import { join } from 'node:path';
import { loadRigFile } from '../src/config/rig-file.js';
import { channelLimits, defaultCueProfile } from '../src/cueing/profile.js';
import { channelBudgets } from '../src/kinematics/budgets.js';
import { percentiles, round } from './measure.js';

/**
 * channelBudgets per example rig with the default profile's limits: what building a chain
 * costs the control thread on a profile change (ControlLoop.setProfile runs it there). The
 * first call of the process is cold (JIT); the service's first one is at start-up.
 */
const RIGS = ['stewart-linear', 'stewart-rotary', 'three-actuator', 'two-actuator', 'four-corner'];
const limits = channelLimits(defaultCueProfile());
const rigs: Record<string, unknown> = {};
for (const name of RIGS) {
  const rig = loadRigFile(join(process.cwd(), 'profiles', 'rigs', `${name}.yaml`));
  const ms: number[] = [];
  let budgets: Float64Array = new Float64Array(6);
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    budgets = channelBudgets(rig, limits);
    ms.push(performance.now() - t);
  }
  const p = percentiles(ms.slice(1));
  rigs[name] = {
    firstMs: round(ms[0]!, 2),
    ms: { p50: round(p.p50, 3), p99: round(p.p99, 3), max: round(p.max, 3), over: `${ms.length - 1} calls` },
    budgets: { mm: Array.from(budgets.subarray(0, 3), (v) => round(v * 1000, 2)), deg: Array.from(budgets.subarray(3), (v) => round((v * 180) / Math.PI, 3)) },
  };
}
console.log(JSON.stringify({ bench: 'budgets', what: 'kinematics/budgets.ts channelBudgets per example rig, default profile limits', rigs, node: process.version }));
