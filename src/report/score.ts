import type { ChannelMetrics } from './metrics.js';
import { FORCE_THRESHOLDS, RATE_THRESHOLDS } from './metrics.js';
import { CHANNELS, type Channel } from './reference.js';

/**
 * The summary score of `motion-rig report` (docs/report.md), 0..100:
 *
 *   score = 100 · W · Σ_c w_c · q_c
 *   q_c   = max(0, best_c) · (1 − falseCue_c/100) · L_c · M_c       per channel, 0..1
 *   L_c   = min(1, T_c / |delay_c|)       delay allowance T: 150 ms for fx fy fz, 8 ms for p q r
 *   M_c   = min(1, gain_c · σ(vehicle_c) / V_c)   the correlated part of the delivered signal
 *           must reach the level the false-cue rule counts as a cue: V = 0.5 m/s², 0.05 rad/s
 *   W     = 1 − 0.5 · ikScaled%/100       reachability scaling distorts every channel at once
 *   w     = fx 0.2, fy 0.2, fz 0.1, p 0.15, q 0.15, r 0.2
 *
 * Correlation says whether the driver feels the car's cue, false cues whether he feels the
 * opposite, L whether it comes in time (the targets), M that it is there at all (so
 * a profile cannot score by cueing nothing: correlation alone does not see gain), W that
 * the rig was not asked for more than it can do.
 */
export const SCORE_WEIGHTS: Readonly<Record<Channel, number>> = { fx: 0.2, fy: 0.2, fz: 0.1, p: 0.15, q: 0.15, r: 0.2 };
export const DELAY_ALLOWANCE_MS: Readonly<Record<Channel, number>> = { fx: 150, fy: 150, fz: 150, p: 8, q: 8, r: 8 };
const CUE_LEVEL: Readonly<Record<Channel, number>> = {
  fx: FORCE_THRESHOLDS.vehicleMin,
  fy: FORCE_THRESHOLDS.vehicleMin,
  fz: FORCE_THRESHOLDS.vehicleMin,
  p: RATE_THRESHOLDS.vehicleMin,
  q: RATE_THRESHOLDS.vehicleMin,
  r: RATE_THRESHOLDS.vehicleMin,
};
/** Weight of the IK-scaled share of ticks in W. */
const SCALING_PENALTY = 0.5;

export interface ScoreBreakdown {
  total: number;
  /** Per channel q_c, 0..1. */
  channels: Record<Channel, number>;
  workspace: number;
}

export function channelQuality(c: Channel, m: ChannelMetrics): number {
  const correlation = m.best > 0 ? m.best : 0;
  const falseCues = 1 - m.falseCuePct / 100;
  const delay = Math.abs(m.delayMs);
  const timely = delay <= DELAY_ALLOWANCE_MS[c] ? 1 : DELAY_ALLOWANCE_MS[c] / delay;
  const felt = m.gain > 0 ? Math.min(1, (m.gain * m.vehicleStd) / CUE_LEVEL[c]) : 0;
  return correlation * falseCues * timely * felt;
}

export function summaryScore(channels: Record<Channel, ChannelMetrics>, workspace: { ikScaledPct: number }): ScoreBreakdown {
  const q = {} as Record<Channel, number>;
  let sum = 0;
  for (const c of CHANNELS) {
    q[c] = channelQuality(c, channels[c]);
    sum += SCORE_WEIGHTS[c] * q[c];
  }
  const w = 1 - (SCALING_PENALTY * workspace.ikScaledPct) / 100;
  return { total: 100 * w * sum, channels: q, workspace: w };
}
