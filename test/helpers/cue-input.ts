import { SyntheticDrive } from '../../src/telemetry/gt7/synthetic-drive.js';
import { gt7ToMotionSample } from '../../src/telemetry/gt7/motion.js';
import { MotionSample } from '../../src/telemetry/motion-sample.js';
import type { CueingChain } from '../../src/cueing/chain.js';
import { runCueing } from '../../src/cueing/offline.js';
import type { CueProfile } from '../../src/cueing/profile.js';

/** `seconds` of the synthetic lap as 60 Hz MotionSamples (independent objects). */
export function syntheticSamples(seconds: number): MotionSample[] {
  const d = new SyntheticDrive();
  return Array.from({ length: seconds * 60 }, () => gt7ToMotionSample(d.next('B'), 0, new MotionSample()));
}

/** Runs 60 Hz samples through a chain at `rate`; pose rows [t, x, y, z, roll, pitch, yaw] and tilt [roll, pitch]. */
export function runChain(profile: CueProfile, rate: number, samples: MotionSample[]): { rows: number[][]; tilt: number[][]; chain: CueingChain } {
  const rows: number[][] = [];
  const tilt: number[][] = [];
  const timed = samples.map((sample, i) => ({ t: i / 60, sample }));
  const chain = runCueing(profile, rate, timed, (t, c) => {
    rows.push([t, ...c.pose]);
    tilt.push([c.tilt[0]!, c.tilt[1]!]);
  });
  return { rows, tilt, chain };
}
