import { SyntheticDrive } from '../../src/telemetry/gt7/synthetic-drive.js';
import { gt7ToMotionSample } from '../../src/telemetry/gt7/motion.js';
import { MotionSample, copyMotionSample } from '../../src/telemetry/motion-sample.js';
import { CueingChain } from '../../src/cueing/chain.js';
import type { CueProfile } from '../../src/cueing/profile.js';

/** `seconds` of the synthetic lap as 60 Hz MotionSamples (independent copies). */
export function syntheticSamples(seconds: number): MotionSample[] {
  const d = new SyntheticDrive();
  const out: MotionSample[] = [];
  for (let i = 0; i < seconds * 60; i++) out.push(copyMotionSample(gt7ToMotionSample(d.next('B'), 0, new MotionSample()), new MotionSample()));
  return out;
}

/** Runs 60 Hz samples through a chain at `rate`; returns pose rows [t, x, y, z, roll, pitch, yaw] and tilt. */
export function runChain(profile: CueProfile, rate: number, samples: MotionSample[]): { rows: number[][]; tilt: number[][]; chain: CueingChain } {
  const chain = new CueingChain(profile, rate);
  const rows: number[][] = [];
  const tilt: number[][] = [];
  const ticks = Math.floor((samples.length / 60) * rate);
  let next = 0;
  for (let k = 0; k < ticks; k++) {
    const t = k / rate;
    while (next < samples.length && next / 60 <= t + 1e-12) {
      chain.pushSample(samples[next]!, next / 60);
      next++;
    }
    const p = chain.tick(t);
    rows.push([t, ...p]);
    tilt.push([chain.tilt[0]!, chain.tilt[1]!]);
  }
  return { rows, tilt, chain };
}
