import { type CueProfile, cueSchemaAt } from '../cueing/profile.js';
import type { RigKinematics } from '../kinematics/rig.js';
import { CUE_CHANNELS, type ChannelCompression, type CueChannel } from '../report/compression.js';
import { reportOn } from '../report/report.js';
import type { TimedSample } from '../telemetry/sample-file.js';
import { type FitParameter, getKey, toUnit, toValue, withKey } from './params.js';
import { type Evaluation, type StopReason, compassSearch } from './search.js';

/**
 * `motion-rig fit` without I/O: the profile keys of a parameter table (params.ts) chosen by
 * a bounded compass search (search.ts) to maximise the summary score of `motion-rig report`
 * (src/report, docs/report.md) on one rig, averaged over the recordings, each evaluation the
 * report's own code on the production control tick. Deterministic: the same inputs, base,
 * rig, rate and evaluation budget give the same profile.
 */

export interface FitOptions {
  base: CueProfile;
  rig: RigKinematics;
  rateHz: number;
  parameters: readonly FitParameter[];
  /**
   * Issue 15's compression target as a constraint: every score point a channel's share of
   * ticks compressed by more than 10 % exceeds this (%) costs a point of the objective
   * (compressionPenalty). Absent: the score alone.
   */
  maxCompressedPct?: number;
  maxEvaluations: number;
  maxSeconds?: number;
  /** First step and the step the search stops below, as fractions of each range. */
  step?: number;
  minStep?: number;
  onEvaluation?: (e: Evaluation, values: number[]) => void;
  /**
   * Scores of a candidate per recording, instead of scoreProfile on `inputs` in this thread:
   * parallel-scores.ts runs the same on a worker per recording. Must give scoreProfile's scores.
   */
  score?: (profile: CueProfile) => number[];
}

export interface FittedKey {
  parameter: FitParameter;
  before: number;
  after: number;
}

export interface FitResult {
  profile: CueProfile;
  keys: FittedKey[];
  /** Mean report score of the base and of the result, and per recording. */
  scoreBefore: number;
  scoreAfter: number;
  recordingsBefore: number[];
  recordingsAfter: number[];
  evaluations: number;
  cacheHits: number;
  seconds: number;
  stop: StopReason;
  /** The search's step when it stopped (fraction of each range). */
  step: number;
  /** False when no point beat the base: the result is the base unchanged. */
  improved: boolean;
  /** The compression limit the objective had (FitOptions.maxCompressedPct), if any. */
  maxCompressedPct?: number;
}

/** The scoring itself failed (a thread of parallel-scores.ts ended): not a bad candidate, the fit ends. */
export class FitThreadError extends Error {}

/**
 * Scores of a profile on each recording (report.score.total, less compressionPenalty when
 * maxCompressedPct is given); throws what the report throws.
 */
export function scoreProfile(profile: CueProfile, inputs: readonly (readonly TimedSample[])[], rig: RigKinematics, rateHz: number, maxCompressedPct?: number): number[] {
  return inputs.map((samples) => {
    const { report } = reportOn(samples, { profile, rig, rateHz });
    return report.score.total - (maxCompressedPct === undefined ? 0 : compressionPenalty(report.compression, maxCompressedPct));
  });
}

/** Σ over cue channels of the percentage points by which its ticks compressed > 10 % exceed `maxPct`. */
export function compressionPenalty(compression: Record<CueChannel, ChannelCompression>, maxPct: number): number {
  let p = 0;
  for (const c of CUE_CHANNELS) p += Math.max(0, compression[c].compressedPct - maxPct);
  return p;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

export function fitProfile(inputs: readonly (readonly TimedSample[])[], opts: FitOptions): FitResult {
  if (inputs.length === 0) throw new Error('fit needs at least one recording');
  const { base, rig, rateHz, parameters } = opts;
  const schema = cueSchemaAt(rateHz);
  const before = parameters.map((p) => getKey(base, p.path));
  const start = parameters.map((p, i) => toUnit(p, before[i]!));

  // A coordinate still at its start keeps the base's own value (even one outside the range),
  // so the first evaluation is the base exactly.
  const values = (u: readonly number[]) => parameters.map((p, i) => (u[i] === start[i] ? before[i]! : toValue(p, u[i]!)));
  const profileAt = (u: readonly number[]) => {
    const v = values(u);
    return parameters.reduce((prof, p, i) => withKey(prof, p.path, v[i]!), base);
  };

  const scoreAll = opts.score ?? ((p: CueProfile) => scoreProfile(p, inputs, rig, rateHz, opts.maxCompressedPct));
  let baseScores: number[] | undefined;
  const scoresAt = new Map<string, number[]>();
  const objective = (u: readonly number[]): number => {
    const candidate = profileAt(u);
    if (baseScores === undefined) {
      // The base: a recording it cannot score is the user's to know about, not -Infinity.
      baseScores = scoreAll(candidate);
      scoresAt.set(u.join(','), baseScores);
      return mean(baseScores);
    }
    if (!schema.safeParse(candidate).success) return -Infinity;
    try {
      const s = scoreAll(candidate);
      scoresAt.set(u.join(','), s);
      return mean(s);
    } catch (err) {
      if (err instanceof FitThreadError) throw err;
      return -Infinity; // a profile the chain cannot run: never the best
    }
  };
  const result = compassSearch(objective, {
    start,
    step: opts.step,
    minStep: opts.minStep,
    maxEvaluations: opts.maxEvaluations,
    maxSeconds: opts.maxSeconds,
    onEvaluation: opts.onEvaluation ? (e) => opts.onEvaluation!(e, values(e.u)) : undefined,
  });
  const improved = result.value > result.startValue;
  const u = improved ? result.u : start;
  const after = values(u);
  return {
    profile: profileAt(u),
    keys: parameters.map((parameter, i) => ({ parameter, before: before[i]!, after: after[i]! })),
    scoreBefore: result.startValue,
    scoreAfter: improved ? result.value : result.startValue,
    recordingsBefore: baseScores!,
    recordingsAfter: scoresAt.get(u.join(','))!,
    evaluations: result.evaluations,
    cacheHits: result.cacheHits,
    seconds: result.seconds,
    stop: result.stop,
    step: result.step,
    improved,
    maxCompressedPct: opts.maxCompressedPct,
  };
}
