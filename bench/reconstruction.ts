import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { lowPass2 } from '../src/cueing/filters.js';
import { type ReconstructionMode, Reconstructor } from '../src/cueing/reconstruction.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { LAG, RATE_THRESHOLDS, channelMetrics } from '../src/report/metrics.js';
import { type TimedSample, readMotionFile } from '../src/telemetry/sample-file.js';
import { STANDARD_GRAVITY } from '../src/telemetry/motion-sample.js';
import { resources, round } from './measure.js';

/**
 * What reconstruction (60 Hz samples → 1 kHz signal) costs in delay and adds in high-frequency
 * content, on the real GT7 recordings (skipped without ../shared/data), per signal fx fy fz p q r:
 *
 * - delay: the report's own (src/report/metrics.ts): the lag of the best correlation of the
 *   reconstructed signal against the samples at their own instants, i.e. from a packet's
 *   arrival (interpolate is one sample interval late by construction);
 * - hf: the power above 10 Hz of the reconstructed signal (minus a zero-phase 10 Hz low-pass:
 *   a critically damped second-order section forward and backward) over that of the samples
 *   joined by straight lines at their own instants (the reference: no delay, no extra steps);
 *   `addedHfVsInterpolate` the same power minus interpolate's, as a fraction of the reference.
 *
 * Besides the production modes it scores candidates not in the chain: a causal least-squares
 * polynomial fit over the last N samples, predicted h ahead and joined by ramps as interpolate
 * does (docs/cueing.md says why none was adopted).
 */
const RATE = 1000;
const LANES = ['fx', 'fy', 'fz', 'p', 'q', 'r'] as const;
const HF_HZ = 10;

function lanesOf(s: TimedSample['sample']): number[] {
  const g = STANDARD_GRAVITY;
  return [s.ax - g * s.gx, s.ay - g * s.gy, s.az - g * s.gz - g, s.p, s.q, s.r];
}

interface Reconstruction {
  push(t: number, values: Float64Array): void;
  evaluate(t: number): Float64Array;
}

function production(mode: ReconstructionMode): Reconstruction {
  const r = new Reconstructor(LANES.length, mode);
  return {
    push(t, values) {
      r.clock[0] = t;
      r.evaluate();
      r.push(values);
    },
    evaluate(t) {
      r.clock[0] = t;
      return r.evaluate();
    },
  };
}

/** Least-squares weights w (newest sample first) of a degree-d fit over n equally spaced samples, evaluated `ahead` intervals after the newest. */
function fitWeights(n: number, degree: number, ahead: number): Float64Array {
  const m = degree + 1;
  const ata = Array.from({ length: m }, () => new Float64Array(m));
  for (let j = 0; j < n; j++) for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) ata[r]![c]! += (-j) ** (r + c);
  // Solve ata·z = [1, ahead, ahead², ...] (Gauss–Jordan); then w_j = Σ_r z_r·(−j)^r.
  const z = Float64Array.from({ length: m }, (_, r) => ahead ** r);
  for (let c = 0; c < m; c++) {
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = ata[r]![c]! / ata[c]![c]!;
      for (let k = 0; k < m; k++) ata[r]![k]! -= f * ata[c]![k]!;
      z[r]! -= f * z[c]!;
    }
  }
  for (let r = 0; r < m; r++) z[r] = z[r]! / ata[r]![r]!;
  return Float64Array.from({ length: n }, (_, j) => z.reduce((s, zr, r) => s + zr * (-j) ** r, 0));
}

/** The fit's value `aheadS` after the newest sample, reached by a ramp over `rampS` from where the output is. */
function causalFit(n: number, degree: number, aheadS: number, rampS = 1 / 60): Reconstruction {
  const interval = rampS;
  const w = fitWeights(n, degree, aheadS * 60);
  const history: Float64Array[] = [];
  const out = new Float64Array(LANES.length);
  const from = new Float64Array(LANES.length);
  const to = new Float64Array(LANES.length);
  let since = 0;
  let count = 0;
  return {
    push(t, values) {
      history.unshift(Float64Array.from(values));
      if (history.length > n) history.pop();
      count++;
      for (let i = 0; i < LANES.length; i++) {
        from[i] = count === 1 ? values[i]! : out[i]!;
        // Until n samples are there, the newest one.
        to[i] = history.length < n ? values[i]! : history.reduce((s, h, j) => s + w[j]! * h[i]!, 0);
      }
      since = t;
    },
    evaluate(t) {
      const f = Math.min(1, Math.max(0, (t - since) / interval));
      for (let i = 0; i < LANES.length; i++) out[i] = from[i]! + (to[i]! - from[i]!) * f;
      return out;
    },
  };
}

function run(samples: TimedSample[], r: Reconstruction, ticks: number): Float64Array[] {
  const t0 = samples[0]!.t;
  const out = LANES.map(() => new Float64Array(ticks));
  let next = 0;
  for (let k = 0; k < ticks; k++) {
    while (next < samples.length && samples[next]!.t - t0 <= k / RATE + 1e-9) {
      r.push(samples[next]!.t - t0, Float64Array.from(lanesOf(samples[next]!.sample)));
      next++;
    }
    const v = r.evaluate(k / RATE);
    for (let i = 0; i < LANES.length; i++) out[i]![k] = v[i]!;
  }
  return out;
}

/** Mean power above HF_HZ over [from, to) ticks. */
function hfPower(x: Float64Array, from: number, to: number): number {
  const lp = Float64Array.from(x);
  const pass = (a: Float64Array) => {
    const f = lowPass2(2 * Math.PI * HF_HZ, 1, RATE);
    f.settle(a[0]!);
    for (let k = 0; k < a.length; k++) f.apply(a, k);
  };
  pass(lp);
  lp.reverse();
  pass(lp);
  lp.reverse();
  let s = 0;
  for (let k = from; k < to; k++) s += (x[k]! - lp[k]!) ** 2;
  return s / (to - from);
}

const CANDIDATES: Record<string, () => Reconstruction> = {
  interpolate: () => production('interpolate'),
  hold: () => production('hold'),
  predict: () => production('predict'),
  'ramp over 4 ms to the newest': () => causalFit(1, 0, 0, 0.004),
  'ramp over 8 ms to the newest': () => causalFit(1, 0, 0, 0.008),
  'ramp over 12 ms to the newest': () => causalFit(1, 0, 0, 0.012),
  'fit n2 linear, 1 interval ahead': () => causalFit(2, 1, 1 / 60),
  'fit n4 linear, 12 ms ahead': () => causalFit(4, 1, 0.012),
  'fit n4 quadratic, 12 ms ahead': () => causalFit(4, 2, 0.012),
  'fit n6 quadratic, 12 ms ahead': () => causalFit(6, 2, 0.012),
};

const wall = performance.now();
const cpu = process.cpuUsage();
const recordings: unknown[] = [];
for (const f of ['replay-A.lpr', 'replay-tilde.lpr']) {
  const path = join(PACKAGE_ROOT, '..', 'shared', 'data', 'gt7', 'recordings', f);
  if (!existsSync(path)) continue;
  const samples = readMotionFile(path);
  const t0 = samples[0]!.t;
  const ticks = Math.floor((samples.at(-1)!.t - t0) * RATE) + 1;
  const times = Float64Array.from(samples, (s) => s.t - t0);
  // The reference: the samples joined by straight lines at their own instants.
  const reference = LANES.map(() => new Float64Array(ticks));
  for (let k = 0, j = 0; k < ticks; k++) {
    while (j < samples.length - 2 && times[j + 1]! <= k / RATE) j++;
    const a = lanesOf(samples[j]!.sample);
    const b = lanesOf(samples[j + 1]!.sample);
    const u = Math.min(1, Math.max(0, (k / RATE - times[j]!) / (times[j + 1]! - times[j]!)));
    for (let i = 0; i < LANES.length; i++) reference[i]![k] = a[i]! + (b[i]! - a[i]!) * u;
  }
  // Scored where every lag of the search has data, as in the report.
  const margin = Math.ceil(LAG.maxLagS * RATE) + 1;
  const scored = samples.map((_, i) => i).filter((i) => times[i]! * RATE > margin && times[i]! * RATE < ticks - margin);
  const ref = reference.map((r) => hfPower(r, margin, ticks - margin));
  const results: Record<string, { delayMs: Record<string, number>; hf: Record<string, number>; addedHfVsInterpolate?: Record<string, number> }> = {};
  let interpolateHf: number[] = [];
  for (const [name, make] of Object.entries(CANDIDATES)) {
    const y = run(samples, make(), ticks);
    const delayMs: Record<string, number> = {};
    const hf: Record<string, number> = {};
    const hfRaw: number[] = [];
    LANES.forEach((lane, i) => {
      const v = Float64Array.from(scored, (k) => lanesOf(samples[k]!.sample)[i]!);
      const t = Float64Array.from(scored, (k) => times[k]!);
      delayMs[lane] = channelMetrics(t, v, y[i]!, RATE, { maxLagS: 0.1, lagStepS: LAG.lagStepS, ...RATE_THRESHOLDS }).delayMs;
      hfRaw.push(hfPower(y[i]!, margin, ticks - margin));
      hf[lane] = round(hfRaw[i]! / ref[i]!, 2);
    });
    if (name === 'interpolate') interpolateHf = hfRaw;
    results[name] = { delayMs, hf };
    if (interpolateHf.length > 0 && name !== 'interpolate') {
      results[name]!.addedHfVsInterpolate = Object.fromEntries(LANES.map((lane, i) => [lane, round((hfRaw[i]! - interpolateHf[i]!) / ref[i]!, 2)]));
    }
  }
  recordings.push({ input: f, samples: samples.length, modes: results });
}
console.log(
  JSON.stringify({
    bench: 'reconstruction',
    what: `delay (the report's best-correlation lag, ms from the packet's arrival) and power above ${HF_HZ} Hz (× that of the samples joined by straight lines) of each reconstruction, per signal, on the shared GT7 recordings`,
    ...(recordings.length === 0 ? { skipped: '../shared/data/gt7/recordings not found' } : {}),
    recordings,
    ...resources(cpu, wall),
    node: process.version,
  }),
);
