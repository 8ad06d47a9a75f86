import type { CueProfile } from '../cueing/profile.js';

/**
 * What `motion-rig fit` may change: one row per profile key (path under `cue:`), its range
 * and the scale the search moves it on. Gains and frequencies are searched in log space (a
 * step doubles or halves them wherever they are), signed or bounded-ratio keys linearly.
 * The search works on the unit box; a row maps u ∈ [0, 1] onto [min, max].
 *
 * To fit a new key, add a row (the order is the search's first poll order: put the keys that
 * matter most first). Ranges stay inside what the profile schema accepts at every loop rate
 * (filter frequencies far below the Nyquist of the slowest loop, 100 Hz) and inside what a
 * home rig can take (no gain that sends a 1 g step past any channel's limit many times over).
 */
export interface FitParameter {
  /** Key path under `cue`. */
  path: readonly string[];
  min: number;
  max: number;
  scale: 'log' | 'linear';
  /** What it does, for the output file's comments. */
  note: string;
}

export const FIT_PARAMETERS: readonly FitParameter[] = [
  { path: ['surge', 'gain'], min: 0.005, max: 0.2, scale: 'log', note: 'surge travel per m/s² (m per m/s² before the high-pass)' },
  { path: ['sway', 'gain'], min: 0.005, max: 0.2, scale: 'log', note: 'sway travel per m/s²' },
  { path: ['heave', 'gain'], min: 0.005, max: 0.2, scale: 'log', note: 'heave travel per m/s²' },
  { path: ['tilt', 'gain'], min: 0.005, max: 0.2, scale: 'log', note: 'fraction of the sustained force cued by tilt: asin(gain·f/g)' },
  { path: ['tilt', 'pitchGain'], min: 0, max: 1.5, scale: 'linear', note: 'share of sustained fx sent to pitch tilt' },
  { path: ['tilt', 'rollGain'], min: 0, max: 1.5, scale: 'linear', note: 'share of sustained fy sent to roll tilt' },
  { path: ['tilt', 'rateLimitDegPerS'], min: 1, max: 30, scale: 'log', note: 'tilt rate limit, °/s' },
  { path: ['roll', 'gain'], min: 0.02, max: 1.5, scale: 'log', note: 'roll angle per rad of car roll (high-passed)' },
  { path: ['pitch', 'gain'], min: 0.02, max: 1.5, scale: 'log', note: 'pitch angle per rad of car pitch (high-passed)' },
  { path: ['yaw', 'gain'], min: 0.02, max: 1.5, scale: 'log', note: 'yaw angle per rad of car yaw (high-passed)' },
  { path: ['surge', 'highpass', 'omegaN'], min: 0.5, max: 10, scale: 'log', note: 'surge washout, rad/s' },
  { path: ['sway', 'highpass', 'omegaN'], min: 0.5, max: 10, scale: 'log', note: 'sway washout, rad/s' },
  { path: ['heave', 'highpass', 'omegaN'], min: 0.5, max: 15, scale: 'log', note: 'heave washout, rad/s' },
  { path: ['tilt', 'lowpass', 'omegaN'], min: 0.5, max: 40, scale: 'log', note: 'tilt low-pass, rad/s' },
  { path: ['tilt', 'accelLimitDegPerS2'], min: 2, max: 2000, scale: 'log', note: 'tilt acceleration limit, °/s²' },
  { path: ['roll', 'highpass', 'omega'], min: 0.1, max: 12, scale: 'log', note: 'roll washout, rad/s (second order by default)' },
  { path: ['pitch', 'highpass', 'omega'], min: 0.1, max: 12, scale: 'log', note: 'pitch washout, rad/s (second order by default)' },
  { path: ['yaw', 'highpass', 'omega'], min: 0.1, max: 5, scale: 'log', note: 'yaw washout, rad/s' },
];

/** Values are written with this many significant digits, and scored as written. */
export const SIGNIFICANT_DIGITS = 4;

export const keyName = (p: FitParameter) => p.path.join('.');

/** u ∈ [0, 1] → the parameter's value, rounded to what the output file will hold. */
export function toValue(p: FitParameter, u: number): number {
  const x = p.scale === 'log' ? Math.exp(Math.log(p.min) + u * (Math.log(p.max) - Math.log(p.min))) : p.min + u * (p.max - p.min);
  const rounded = Number(x.toPrecision(SIGNIFICANT_DIGITS));
  return Math.min(p.max, Math.max(p.min, rounded));
}

/** The parameter's value → u, clamped to the box (a value outside the range starts at its bound). */
export function toUnit(p: FitParameter, x: number): number {
  const u = p.scale === 'log' ? (Math.log(Math.max(x, Number.MIN_VALUE)) - Math.log(p.min)) / (Math.log(p.max) - Math.log(p.min)) : (x - p.min) / (p.max - p.min);
  return Math.min(1, Math.max(0, u));
}

export function getKey(profile: CueProfile, path: readonly string[]): number {
  let node: unknown = profile;
  for (const k of path) node = (node as Record<string, unknown> | undefined)?.[k];
  if (typeof node !== 'number') throw new Error(`fit parameter cue.${path.join('.')} is not a number in the profile (a key the chain no longer has?)`);
  return node;
}

/** A copy of `profile` with the value at `path` replaced. */
export function withKey(profile: CueProfile, path: readonly string[], value: number): CueProfile {
  const out = structuredClone(profile);
  let node = out as unknown as Record<string, unknown>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
  return out;
}
