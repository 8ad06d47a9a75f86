import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCueProfile } from '../src/cueing/profile.js';
import { loadRigFile } from '../src/config/rig-file.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { reportOn } from '../src/report/report.js';
import { SyntheticDrive } from '../src/telemetry/gt7/synthetic-drive.js';
import { gt7ToMotionSample } from '../src/telemetry/gt7/motion.js';
import { MotionSample } from '../src/telemetry/motion-sample.js';
import { type TimedSample, readMotionFile } from '../src/telemetry/sample-file.js';
import { percentiles, resources, round } from './measure.js';

/**
 * `motion-rig report` end to end in process (read the file, the production control tick over
 * it at 1000 Hz, FK of every tick's limited setpoints, the delivered signals, the lag search,
 * the score), default profile on the stewart-linear example rig. Target (issue 15): a 2-minute
 * recording in < 2 s. Inputs: 120 s of the synthetic lap (no file to read), and the shared real
 * GT7 recordings when ../shared/data is present. p50 of RUNS runs each.
 */
const RUNS = 5;
const rig = loadRigFile(join(PACKAGE_ROOT, 'profiles', 'rigs', 'stewart-linear.yaml'));
const profile = defaultCueProfile();

function synthetic(seconds: number): TimedSample[] {
  const d = new SyntheticDrive();
  return Array.from({ length: seconds * 60 + 1 }, (_, i) => ({ t: i / 60, sample: gt7ToMotionSample(d.next('B'), (i * 1e9) / 60, new MotionSample()) }));
}

function measure(name: string, load: () => TimedSample[]) {
  const ms: number[] = [];
  let samples = 0;
  let ticks = 0;
  let seconds = 0;
  let score = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const input = load();
    const { report } = reportOn(input, { profile, rig, rateHz: 1000 });
    ms.push(performance.now() - t0);
    samples = input.length;
    ticks = report.ticks;
    seconds = ticks / 1000;
    score = report.score.total;
  }
  const p = percentiles(ms);
  return { input: name, seconds: round(seconds, 2), samples, ticks, msP50: round(p.p50), msMax: round(p.max), msPer120s: round((p.p50 * 120) / seconds), score: round(score, 2) };
}

const wall = performance.now();
const cpu = process.cpuUsage();
const lap = synthetic(120);
const inputs = [measure('synthetic lap, 120 s (in memory)', () => lap)];
for (const f of ['replay-A.lpr', 'replay-tilde.lpr']) {
  const path = join(PACKAGE_ROOT, '..', 'shared', 'data', 'gt7', 'recordings', f);
  if (existsSync(path)) inputs.push(measure(`${f} (read from file)`, () => readMotionFile(path)));
}
console.log(
  JSON.stringify({
    bench: 'report',
    what: `motion-rig report in process, default profile, stewart-linear, 1000 Hz: read + production ControlStep per tick + FK of the limited setpoints + delivered signals + ±300 ms lag search + score; p50 of ${RUNS} runs`,
    targetMsPer120s: 2000,
    inputs,
    ...resources(cpu, wall),
    node: process.version,
  }),
);
