import type { CueProfile } from '../cueing/profile.js';
import type { RigKinematics } from '../kinematics/rig.js';
import { SUPERVISOR_STATE_NAMES } from '../safety/supervisor.js';
import type { TimedSample } from '../telemetry/sample-file.js';
import { type ChannelCompression, type CueChannel, compressionOver } from './compression.js';
import { INEXACT_RESIDUAL, SMOOTHING_HALF_WIDTH_S, deliveredSignals, reachedPose } from './delivered.js';
import { type ChannelMetrics, FORCE_THRESHOLDS, LAG, RATE_THRESHOLDS, channelMetrics, sampleAt } from './metrics.js';
import { CHANNELS, type Channel, vehicleReference } from './reference.js';
import { runRig } from './rig-run.js';
import { type ScoreBreakdown, summaryScore } from './score.js';

/**
 * `motion-rig report` on one recording: the production control tick over it (rig-run.ts),
 * the pose the rig reached (delivered.ts), the vehicle reference (reference.ts), the channel
 * metrics (metrics.ts), workspace use and the summary score (score.ts). No I/O.
 */

/** An actuator counts as near its end within this fraction of its usable travel. */
export const NEAR_END_FRACTION = 0.02;
/** The limiter counts as having changed a setpoint when it moved it by more than this fraction of the usable travel. */
export const LIMITER_TOLERANCE = 1e-6;

export interface WorkspaceUse {
  /** % of scored ticks whose pose IK scaled toward neutral, and the smallest scale. */
  ikScaledPct: number;
  minScale: number;
  /** % of scored ticks with any actuator within 2 % of its usable travel's ends. */
  nearEndPct: number;
  /** % of scored ticks the limiter changed any setpoint, and its largest change (% of travel). */
  limiterChangedPct: number;
  limiterMaxChangePct: number;
}

export interface RecordingReport {
  /** Samples in the file, left out of the reference (reference.ts), and scored. */
  samples: number;
  skippedSamples: number;
  scoredSamples: number;
  ticks: number;
  /** The scored span (s from the first sample): from the first engaged tick, less the lag search at both ends. */
  scoredFromS: number;
  scoredToS: number;
  /** % of ticks in the scored span the supervisor did not hold full engagement (a hold: 0 expected). */
  notEngagedPct: number;
  channels: Record<Channel, ChannelMetrics>;
  workspace: WorkspaceUse;
  /**
   * Forward kinematics of the limited setpoints: the worst residual (actuator units; m of rod
   * length on crank rigs) and the % of scored ticks no rigid pose reproduces within 1e-9 (the
   * pose is then the least-squares one). 0 but on rigs with more rams than DOF (four-corner).
   */
  fk: { maxResidual: number; inexactPct: number };
  /** Per cue channel, how much its soft limits compressed it over the scored span (compression.ts). Not in the score. */
  compression: Record<CueChannel, ChannelCompression>;
  score: ScoreBreakdown;
}

export interface ReportSeries {
  /** Scored instants, s. */
  t: Float64Array;
  vehicle: Float64Array[];
  /** Delivered at the same instants (zero lag). */
  delivered: Float64Array[];
}

export interface ReportOptions {
  profile: CueProfile;
  rig: RigKinematics;
  rateHz: number;
}

export function reportOn(samples: readonly TimedSample[], opts: ReportOptions): { report: RecordingReport; series: ReportSeries } {
  const { rig, rateHz } = opts;
  const run = runRig(samples, opts.profile, rig, rateHz);
  const reached = reachedPose(run, rig);
  const delivered = deliveredSignals(reached.pose, rateHz);
  const ref = vehicleReference(samples);

  const k0 = run.engaged.indexOf(1);
  if (k0 < 0) throw new Error(`the rig never reached full engagement within ${(run.ticks / rateHz).toFixed(1)} s of telemetry (it unparks and ramps up for ~2.5 s; the supervisor ended ${SUPERVISOR_STATE_NAMES[run.state[run.ticks - 1]!] ?? 'in an unknown state'})`);
  const edge = Math.max(2, Math.round(SMOOTHING_HALF_WIDTH_S * rateHz)) + 1;
  const from = k0 / rateHz + LAG.maxLagS;
  const to = (run.ticks - 1 - edge) / rateHz - LAG.maxLagS;
  const scored: number[] = [];
  for (let i = 0; i < ref.t.length; i++) if (ref.t[i]! >= from && ref.t[i]! <= to) scored.push(i);
  if (scored.length < 2) throw new Error(`too short to score: ${(run.ticks / rateHz).toFixed(1)} s of telemetry, scoring needs the rig online and ${2 * LAG.maxLagS} s more`);
  const t = Float64Array.from(scored, (i) => ref.t[i]!);
  const vehicle = ref.values.map((v) => Float64Array.from(scored, (i) => v[i]!));

  const channels = {} as Record<Channel, ChannelMetrics>;
  CHANNELS.forEach((c, j) => {
    channels[c] = channelMetrics(t, vehicle[j]!, delivered[j]!, rateHz, { ...LAG, ...(j < 3 ? FORCE_THRESHOLDS : RATE_THRESHOLDS) });
  });

  // Workspace over the ticks of the scored span.
  const kFrom = Math.ceil(from * rateHz);
  const kTo = Math.floor(to * rateHz);
  let scaled = 0;
  let minScale = 1;
  let nearEnd = 0;
  let limited = 0;
  let maxChange = 0;
  let notEngaged = 0;
  let inexact = 0;
  let maxResidual = 0;
  for (let k = kFrom; k <= kTo; k++) {
    const residual = reached.residual[k]!;
    if (residual > INEXACT_RESIDUAL) inexact++;
    if (residual > maxResidual) maxResidual = residual;
    if (run.scale[k]! < 1) scaled++;
    if (run.scale[k]! < minScale) minScale = run.scale[k]!;
    if (run.endMargin[k]! < NEAR_END_FRACTION) nearEnd++;
    if (run.limiterChange[k]! > LIMITER_TOLERANCE) limited++;
    if (run.limiterChange[k]! > maxChange) maxChange = run.limiterChange[k]!;
    if (run.engaged[k] !== 1) notEngaged++;
  }
  const spanTicks = kTo - kFrom + 1;
  const pct = (x: number) => (100 * x) / spanTicks;
  const workspace: WorkspaceUse = {
    ikScaledPct: pct(scaled),
    minScale,
    nearEndPct: pct(nearEnd),
    limiterChangedPct: pct(limited),
    limiterMaxChangePct: 100 * maxChange,
  };
  const report: RecordingReport = {
    samples: samples.length,
    skippedSamples: ref.skipped,
    scoredSamples: t.length,
    ticks: run.ticks,
    scoredFromS: from,
    scoredToS: to,
    notEngagedPct: pct(notEngaged),
    channels,
    workspace,
    fk: { maxResidual, inexactPct: pct(inexact) },
    compression: compressionOver(run.compression, kFrom, kTo),
    score: summaryScore(channels, workspace),
  };
  const at = Float64Array.from(t, (x) => x * rateHz);
  const series: ReportSeries = { t, vehicle, delivered: delivered.map((d) => sampleAt(d, at, new Float64Array(t.length))) };
  return { report, series };
}
