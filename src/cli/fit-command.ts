import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadProfileFile } from '../config/profiles.js';
import { loadRigFile } from '../config/rig-file.js';
import { LOOP_RATE_DEFAULT_HZ, LOOP_RATE_RANGE, isLoopRate } from '../cueing/rate.js';
import { type FitResult, fitProfile } from '../fit/fit.js';
import { openParallelScorer } from '../fit/parallel-scores.js';
import { FIT_PARAMETERS, keyName } from '../fit/params.js';
import { fittedProfileText } from '../fit/profile-file.js';
import { PACKAGE_ROOT } from '../paths.js';
import { readMotionFile } from '../telemetry/sample-file.js';
import { UsageError, intOption } from './usage.js';

/**
 * `motion-rig fit --rig R --input REC... [--base P] --out P2.yaml [--rate 1000] [--evals N]
 * [--seconds S] [--max-compressed PCT]`: the profile keys of src/fit/params.ts chosen for a rig by a compass search
 * on the score of `motion-rig report` over the recordings (docs/fit.md). Progress on stderr,
 * the commented profile to --out, checked by loading it back as the service would.
 */
export const DEFAULT_FIT_BASE = join(PACKAGE_ROOT, 'profiles', 'default.yaml');
/** Default evaluation budget: about a minute on the two shared recordings here (docs/fit.md). */
export const DEFAULT_FIT_EVALUATIONS = 30;
const FIRST_STEP = 0.25;
const MIN_STEP = 1 / 64;

export function runFit(v: { rig?: string; input?: string[]; base?: string; out?: string; rate?: string; evals?: string; seconds?: string; maxCompressed?: string }): number {
  if (v.rig === undefined) throw new UsageError('fit needs --rig FILE (the rig to fit the profile to, e.g. profiles/rigs/stewart-linear.yaml)');
  if (!v.input || v.input.length === 0) throw new UsageError('fit needs --input FILE (a GT7 or F1 recording or *.lpr, or CSV); repeat it for more recordings');
  if (v.out === undefined || !/\.ya?ml$/.test(v.out)) throw new UsageError(`fit needs --out FILE.yaml (got ${v.out === undefined ? 'none' : `"${v.out}"`})`);
  const rate = v.rate === undefined ? LOOP_RATE_DEFAULT_HZ : Number(v.rate);
  if (!isLoopRate(rate)) throw new UsageError(`--rate must be ${LOOP_RATE_RANGE} (got "${v.rate}")`);
  const maxEvaluations = intOption('evals', v.evals, 1, 100_000) ?? DEFAULT_FIT_EVALUATIONS;
  const maxSeconds = v.seconds === undefined ? undefined : Number(v.seconds);
  if (maxSeconds !== undefined && !(maxSeconds > 0)) throw new UsageError(`--seconds wants a positive number (got "${v.seconds}")`);
  const maxCompressedPct = v.maxCompressed === undefined ? undefined : Number(v.maxCompressed);
  if (maxCompressedPct !== undefined && (v.maxCompressed!.trim() === '' || !(maxCompressedPct >= 0 && maxCompressedPct <= 100))) throw new UsageError(`--max-compressed wants a percentage 0..100 (got "${v.maxCompressed}")`);

  // The shipped default is named relative to where fit runs (the header should not carry this machine's paths).
  const basePath = v.base ?? relative(process.cwd(), DEFAULT_FIT_BASE);
  const base = loadProfileFile(basePath, rate);
  const rig = loadRigFile(v.rig);
  const inputs = v.input.map((path) => ({ path, samples: readMotionFile(path) }));
  const empty = inputs.find((i) => i.samples.length === 0);
  if (empty) {
    process.stderr.write(`${empty.path}: no motion samples found\n`);
    return 1;
  }

  const search = `compass search over ${FIT_PARAMETERS.length} keys (gains, frequencies and rate limits on a log scale), first step ${FIRST_STEP} of each range, halved to below ${MIN_STEP.toPrecision(2)}, budget ${maxEvaluations} evaluations${maxSeconds !== undefined ? ` or ${maxSeconds} s` : ''}${
    maxCompressedPct !== undefined ? `; objective: the score less, per channel, the points by which its ticks compressed > 10 % exceed ${maxCompressedPct} %` : ''
  }`;
  // Each recording on a thread of its own when there are cores for it: the same scores, sooner.
  const parallel = openParallelScorer(v.input, v.rig, rate, maxCompressedPct);
  process.stderr.write(`fit: ${rig.geometry.name}, ${inputs.length} recording(s)${parallel ? ` on ${parallel.threads} threads` : ''}, base ${basePath}; ${search}\n`);
  let result: FitResult;
  try {
    result = fitProfile(
      inputs.map((i) => i.samples),
      {
        base: base.cue,
        rig,
        rateHz: rate,
        parameters: FIT_PARAMETERS,
        maxCompressedPct,
        maxEvaluations,
        maxSeconds,
        step: FIRST_STEP,
        minStep: MIN_STEP,
        onEvaluation: (e, values) => {
          const what = e.moved ? `${keyName(FIT_PARAMETERS[e.moved.coordinate]!)} = ${values[e.moved.coordinate]}` : 'base';
          process.stderr.write(`fit: ${String(e.index).padStart(3)}/${maxEvaluations} step ${e.step.toPrecision(2).padEnd(6)} score ${e.value.toFixed(2).padStart(6)}  best ${e.best.toFixed(2).padStart(6)}  ${what}\n`);
        },
        score: parallel?.score,
      },
    );
  } finally {
    void parallel?.close();
  }

  const text = fittedProfileText(base.source, result, {
    rig: { name: rig.geometry.name, file: v.rig },
    inputs: v.input,
    base: basePath,
    rateHz: rate,
    date: new Date(),
    search,
  });
  // Written beside the target and renamed over it: a service watching its profiles folder
  // never reads half a file. What is written must be what was scored, and load as the
  // service loads a profile, before it takes the target's place.
  const tmp = `${v.out}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  try {
    const back = loadProfileFile(tmp, rate);
    if (!isDeepStrictEqual(back.cue, result.profile)) throw new Error(`${v.out}: the written profile does not read back as the fitted one (a bug in the writer)`);
    renameSync(tmp, v.out);
  } finally {
    rmSync(tmp, { force: true });
  }
  process.stderr.write(
    `fit: ${maxCompressedPct === undefined ? 'score' : 'objective'} ${result.scoreBefore.toFixed(2)} → ${result.scoreAfter.toFixed(2)} in ${result.evaluations} evaluations, ${result.seconds.toFixed(1)} s (${result.stop}); wrote ${v.out}\n`,
  );
  return 0;
}
