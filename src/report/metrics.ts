/**
 * Per-channel cue metrics of `motion-rig report` (issue 15), on a vehicle signal v at its own
 * sample instants t_i and a delivered signal d known per control tick (d[k] at k/rate s,
 * linearly interpolated in between). Pure functions, no I/O.
 *
 *   correlation   Pearson's r of (v_i, d(t_i)) at zero lag;
 *   best          the largest r of (v_i, d(t_i + τ)) over τ in ±maxLag, in steps of lagStep;
 *   delay         that τ (positive: the platform follows the car);
 *   gain          the least-squares slope of d(t_i + τ) on v_i at that τ (cov/var);
 *   falseCues     % of the scored samples where |v| > vMin and d(t_i) has the opposite sign
 *                 with |d| > dMin: the driver is pushed (or turned) the wrong way.
 * Every sample weighs the same (no windowing); the lag search uses the same samples at every τ.
 */
export interface ChannelMetrics {
  correlation: number;
  best: number;
  delayMs: number;
  gain: number;
  falseCuePct: number;
  /** Standard deviations of the vehicle signal and of the delivered one (zero lag), for scale. */
  vehicleStd: number;
  deliveredStd: number;
}

export interface MetricOptions {
  /** Largest lag searched either way, s. */
  maxLagS: number;
  /** Lag step, s. */
  lagStepS: number;
  /** |vehicle| above this counts for a false cue (m/s² or rad/s). */
  vehicleMin: number;
  /** |delivered| above this, with the opposite sign, is a false cue. */
  deliveredMin: number;
}

export const FORCE_THRESHOLDS = { vehicleMin: 0.5, deliveredMin: 0.1 } as const;
export const RATE_THRESHOLDS = { vehicleMin: 0.05, deliveredMin: 0.01 } as const;
export const LAG = { maxLagS: 0.3, lagStepS: 0.001 } as const;

/** Pearson's correlation of a[0..n) and b[0..n); 0 when either is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length): number {
  const s = moments(a, b, n);
  return s.vv > 0 && s.dd > 0 ? s.vd / Math.sqrt(s.vv * s.dd) : 0;
}

/** Least-squares slope of b on a (cov/var); 0 when a is constant. */
export function regressionGain(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length): number {
  const s = moments(a, b, n);
  return s.vv > 0 ? s.vd / s.vv : 0;
}

function moments(a: ArrayLike<number>, b: ArrayLike<number>, n: number): { vv: number; dd: number; vd: number } {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let vv = 0;
  let dd = 0;
  let vd = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma;
    const y = b[i]! - mb;
    vv += x * x;
    dd += y * y;
    vd += x * y;
  }
  return { vv, dd, vd };
}

/** d at fractional tick positions `at` (linear interpolation), into out. */
export function sampleAt(d: Float64Array, at: Float64Array, out: Float64Array): Float64Array {
  const last = d.length - 1;
  for (let i = 0; i < at.length; i++) {
    const x = at[i]!;
    let k = Math.floor(x);
    if (k >= last) k = last - 1;
    if (k < 0) k = 0;
    const f = x - k;
    out[i] = d[k]! + (d[k + 1]! - d[k]!) * f;
  }
  return out;
}

/** % of samples where |v| > vehicleMin while d has the opposite sign and |d| > deliveredMin. */
export function falseCuePct(v: ArrayLike<number>, d: ArrayLike<number>, vehicleMin: number, deliveredMin: number): number {
  const n = v.length;
  if (n === 0) return 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const a = v[i]!;
    const b = d[i]!;
    if ((a > vehicleMin && b < -deliveredMin) || (a < -vehicleMin && b > deliveredMin)) count++;
  }
  return (100 * count) / n;
}

/**
 * The metrics of one channel. `t` are the scored instants (s, chain time), `v` the vehicle
 * there; `d` the delivered signal per tick at `rateHz`. Every t_i ± maxLag must lie inside
 * the ticks where d is finite (the caller picks the scored instants so).
 */
export function channelMetrics(t: Float64Array, v: Float64Array, d: Float64Array, rateHz: number, opts: MetricOptions): ChannelMetrics {
  const n = t.length;
  const at = new Float64Array(n);
  const shifted = new Float64Array(n);
  const steps = Math.round(opts.maxLagS / opts.lagStepS);
  let best = -Infinity;
  let bestLag = 0;
  let gain = 0;
  let zero = 0;
  for (let s = -steps; s <= steps; s++) {
    const tau = s * opts.lagStepS;
    for (let i = 0; i < n; i++) at[i] = (t[i]! + tau) * rateHz;
    sampleAt(d, at, shifted);
    const m = moments(v, shifted, n);
    const r = m.vv > 0 && m.dd > 0 ? m.vd / Math.sqrt(m.vv * m.dd) : 0;
    if (s === 0) zero = r;
    // Strictly larger, or as large and nearer zero lag: ties go to the smaller delay.
    if (r > best || (r === best && Math.abs(tau) < Math.abs(bestLag))) {
      best = r;
      bestLag = tau;
      gain = m.vv > 0 ? m.vd / m.vv : 0;
    }
  }
  for (let i = 0; i < n; i++) at[i] = t[i]! * rateHz;
  sampleAt(d, at, shifted);
  const m0 = moments(v, shifted, n);
  return {
    correlation: zero,
    best,
    delayMs: Math.round(bestLag * 1e6) / 1e3,
    gain,
    falseCuePct: falseCuePct(v, shifted, opts.vehicleMin, opts.deliveredMin),
    vehicleStd: Math.sqrt(m0.vv / n),
    deliveredStd: Math.sqrt(m0.dd / n),
  };
}
