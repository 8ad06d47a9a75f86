import { AccelerationSource, STANDARD_GRAVITY, specificForce } from '../telemetry/motion-sample.js';
import type { TimedSample } from '../telemetry/sample-file.js';

/**
 * The vehicle reference of `motion-rig report` (issue 15): what the driver of the real car
 * feels, at the recording's own sample instants, in the ISO 8855 body frame:
 *   fx, fy, fz  specific force f = a − g·ĝ (MotionSample's a excludes gravity; ĝ is the unit
 *               gravity direction from the car's attitude), minus 1 g on z, so a level car at
 *               rest reads 0 on every channel;
 *   p, q, r     the body rates the game reports.
 * Raw, as recorded: no guards, no smoothing (kerb spikes included: they are what the car did).
 */
export const CHANNELS = ['fx', 'fy', 'fz', 'p', 'q', 'r'] as const;
export type Channel = (typeof CHANNELS)[number];
export const CHANNEL_UNITS: Readonly<Record<Channel, string>> = { fx: 'm/s²', fy: 'm/s²', fz: 'm/s²', p: 'rad/s', q: 'rad/s', r: 'rad/s' };

export interface VehicleReference {
  /** Sample instants, s from the first sample (the chain's time: tick k is at k/rate). */
  t: Float64Array;
  /** One array per channel (CHANNELS order), at those instants. */
  values: Float64Array[];
  /**
   * Samples left out: those without a known acceleration (AccelerationSource.None) in a file
   * whose other samples have one. In a GT7 format-A recording that is the first packet and
   * every repeated packet id, where no velocity difference exists and the sample carries 0.
   */
  skipped: number;
}

export function vehicleReference(samples: readonly TimedSample[]): VehicleReference {
  const hasSources = samples.some((s) => s.sample.accelerationSource !== AccelerationSource.None);
  const kept = hasSources ? samples.filter((s) => s.sample.accelerationSource !== AccelerationSource.None) : samples;
  const t0 = samples.length > 0 ? samples[0]!.t : 0;
  const n = kept.length;
  const t = new Float64Array(n);
  const values = CHANNELS.map(() => new Float64Array(n));
  const f = new Float64Array(3);
  kept.forEach(({ t: ts, sample }, i) => {
    t[i] = ts - t0;
    specificForce(sample, f);
    values[0]![i] = f[0]!;
    values[1]![i] = f[1]!;
    values[2]![i] = f[2]! - STANDARD_GRAVITY;
    values[3]![i] = sample.p;
    values[4]![i] = sample.q;
    values[5]![i] = sample.r;
  });
  return { t, values, skipped: samples.length - n };
}
