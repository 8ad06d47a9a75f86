import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_FIT_BASE, DEFAULT_FIT_EVALUATIONS } from '../src/cli/fit-command.js';
import { loadProfileFile } from '../src/config/profiles.js';
import { loadRigFile } from '../src/config/rig-file.js';
import { fitProfile } from '../src/fit/fit.js';
import { openParallelScorer } from '../src/fit/parallel-scores.js';
import { FIT_PARAMETERS } from '../src/fit/params.js';
import { SyntheticDrive } from '../src/telemetry/gt7/synthetic-drive.js';
import { gt7ToMotionSample } from '../src/telemetry/gt7/motion.js';
import { MotionSample } from '../src/telemetry/motion-sample.js';
import { type TimedSample, readMotionFile } from '../src/telemetry/sample-file.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { percentiles, resources, round } from './measure.js';

/**
 * `motion-rig fit` as the CLI runs it by default (profiles/default.yaml as the base, the
 * default evaluation budget, 1000 Hz) on the stewart-linear example rig, in process: on the
 * two shared GT7 recordings when ../shared/data is present, else on 120 s of the synthetic
 * lap. Target (issue 15): < 60 s on the two shared recordings. Like the CLI it scores each
 * recording on a worker thread of its own when the machine has the cores (parallel-scores.ts);
 * `cpuS` and the CPU % are then this process's, all threads. Prints the time, the number of
 * evaluations, the time per evaluation and the score before and after.
 */
const rateHz = 1000;
const rigFile = join(PACKAGE_ROOT, 'profiles', 'rigs', 'stewart-linear.yaml');
const rig = loadRigFile(rigFile);
const base = loadProfileFile(DEFAULT_FIT_BASE, rateHz).cue;

function synthetic(seconds: number): TimedSample[] {
  const d = new SyntheticDrive();
  return Array.from({ length: seconds * 60 + 1 }, (_, i) => ({ t: i / 60, sample: gt7ToMotionSample(d.next('B'), (i * 1e9) / 60, new MotionSample()) }));
}

const wall = performance.now();
const cpu = process.cpuUsage();
const files = ['replay-A.lpr', 'replay-tilde.lpr'].map((f) => join(PACKAGE_ROOT, '..', 'shared', 'data', 'gt7', 'recordings', f));
const real = files.every((f) => existsSync(f));
const inputs = real ? files.map((f) => readMotionFile(f)) : [synthetic(120)];
const loadS = (performance.now() - wall) / 1000;
// As the CLI does: each recording on a worker thread of its own when there are cores for it.
const parallel = real ? openParallelScorer(files, rigFile, rateHz) : undefined;
const perEvaluation: number[] = [];
let last = performance.now();
const result = fitProfile(inputs, {
  base,
  rig,
  rateHz,
  parameters: FIT_PARAMETERS,
  maxEvaluations: DEFAULT_FIT_EVALUATIONS,
  onEvaluation: () => {
    const now = performance.now();
    perEvaluation.push(now - last);
    last = now;
  },
  score: parallel?.score,
});
await parallel?.close();
const p = percentiles(perEvaluation);
const used = process.cpuUsage(cpu);
console.log(
  JSON.stringify({
    bench: 'fit',
    what: `motion-rig fit in process: base profiles/default.yaml, stewart-linear, ${rateHz} Hz, compass search over ${FIT_PARAMETERS.length} keys, budget ${DEFAULT_FIT_EVALUATIONS} evaluations, each the report on every recording`,
    inputs: real ? ['replay-A.lpr', 'replay-tilde.lpr'] : ['synthetic lap, 120 s (../shared/data absent)'],
    recordingSeconds: round(inputs.reduce((s, x) => s + (x[x.length - 1]!.t - x[0]!.t), 0), 1),
    targetS: 60,
    totalS: round((performance.now() - wall) / 1000, 1),
    // CPU time of this process: on a machine shared with other work the wall time is longer.
    cpuS: round((used.user + used.system) / 1e6, 1),
    loadS: round(loadS, 2),
    searchS: round(result.seconds, 1),
    scoringThreads: parallel?.threads ?? 1,
    evaluations: result.evaluations,
    cacheHits: result.cacheHits,
    stop: result.stop,
    msPerEvaluation: { p50: round(p.p50), max: round(p.max) },
    scoreBefore: round(result.scoreBefore, 2),
    scoreAfter: round(result.scoreAfter, 2),
    ...resources(cpu, wall),
    node: process.version,
  }),
);
