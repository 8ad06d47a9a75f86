import { describe, expect, it } from 'vitest';
import { cueSchema } from '../../src/cueing/profile.js';
import { loadRigFile } from '../../src/config/rig-file.js';
import { deliveredSignals, savitzkyGolay } from '../../src/report/delivered.js';
import { LAG, channelMetrics, falseCuePct, pearson as reportPearson, regressionGain } from '../../src/report/metrics.js';
import { vehicleReference } from '../../src/report/reference.js';
import { reportOn } from '../../src/report/report.js';
import { CUE_CHANNELS, compressionOver } from '../../src/report/compression.js';
import { NOT_SCORED } from '../../src/cueing/soft-limit.js';
import { DELAY_ALLOWANCE_MS, summaryScore } from '../../src/report/score.js';
import { AccelerationSource, MotionSample, STANDARD_GRAVITY as G } from '../../src/telemetry/motion-sample.js';
import type { TimedSample } from '../../src/telemetry/sample-file.js';
import { REPO_ROOT, pearson } from '../helpers/shared-data.js';

/*
 * References here are closed forms or written out independently of src/report: Pearson's r
 * from the shared test helper, least squares by the normal equation, specific force of a
 * tilted or accelerating seat by hand, body rates of a constant yaw rate at a fixed attitude.
 */

const RATE = 1000;
/** A smooth, non-periodic test signal (sum of incommensurate sines), value at t seconds. */
const wiggle = (t: number) => Math.sin(2 * Math.PI * 0.37 * t) + 0.6 * Math.sin(2 * Math.PI * 1.13 * t + 1) + 0.3 * Math.sin(2 * Math.PI * 2.9 * t + 2);

/** 60 Hz instants over `seconds`, kept away from the ends by the lag search. */
function instants(seconds: number): Float64Array {
  const t: number[] = [];
  for (let i = 0; i / 60 <= seconds; i++) if (i / 60 >= 0.5 && i / 60 <= seconds - 0.5) t.push(i / 60);
  return Float64Array.from(t);
}
/** d[k] = f(k / RATE) for k over `seconds`. */
const perTick = (seconds: number, f: (t: number) => number) => Float64Array.from({ length: seconds * RATE + 1 }, (_, k) => f(k / RATE));

const forces = { ...LAG, vehicleMin: 0.5, deliveredMin: 0.1 };

describe('report metrics', () => {
  it('Pearson and regression gain agree with independent sums; a known gain and offset are recovered', () => {
    const t = instants(20);
    const v = t.map(wiggle);
    const d = v.map((x, i) => 0.3 * x + 2 + 0.05 * Math.sin(i));
    expect(reportPearson(v, d)).toBeCloseTo(pearson(v, d), 12);
    // Slope by the normal equation, written out.
    const n = v.length;
    const mv = v.reduce((a, b) => a + b, 0) / n;
    const md = d.reduce((a, b) => a + b, 0) / n;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < n; i++) {
      sxy += (v[i]! - mv) * (d[i]! - md);
      sxx += (v[i]! - mv) ** 2;
    }
    expect(regressionGain(v, d)).toBeCloseTo(sxy / sxx, 12);
    expect(regressionGain(v, v.map((x) => 0.3 * x + 2))).toBeCloseTo(0.3, 12);
    expect(reportPearson(v, new Float64Array(n).fill(1))).toBe(0);
  });

  it('a pure delay moves the best lag by exactly that delay, with r = 1 and the gain kept', () => {
    const t = instants(30);
    const v = t.map(wiggle);
    for (const [delayS, gain] of [
      [0.047, 1],
      [0.0, 0.25],
      [0.123, 0.08],
      [-0.02, 2],
    ] as const) {
      const d = perTick(30, (s) => gain * wiggle(s - delayS));
      const m = channelMetrics(t, v, d, RATE, forces);
      expect(m.delayMs).toBe(Math.round(delayS * 1000));
      expect(m.best).toBeGreaterThan(0.99999);
      expect(m.gain).toBeCloseTo(gain, 4);
      if (delayS === 0) expect(m.correlation).toBeCloseTo(1, 9);
      else expect(m.correlation).toBeLessThan(m.best);
    }
  });

  it('a sign flip is 100 % false cues and r = −1 at zero lag', () => {
    const t = instants(20);
    const v = t.map((s) => 3 + wiggle(s)); // always above 0.5 m/s²
    const d = perTick(20, (s) => -0.5 * (3 + wiggle(s)));
    const m = channelMetrics(t, v, d, RATE, forces);
    expect(m.falseCuePct).toBe(100);
    expect(m.correlation).toBeCloseTo(-1, 9);
    // The same signal with the right sign: no false cue.
    expect(channelMetrics(t, v, perTick(20, (s) => 0.5 * (3 + wiggle(s))), RATE, forces).falseCuePct).toBe(0);
  });

  it('false cues count only |vehicle| above its threshold against an opposite delivered above its own', () => {
    const v = [1, 1, 1, 0.4, -1, -1, 0.6, 0];
    const d = [-0.2, -0.05, 0.3, -1, 0.2, -0.2, -0.11, -5];
    // Counted: 0 (1 vs −0.2), 4 (−1 vs 0.2), 6 (0.6 vs −0.11). Not: below 0.1 (1), same sign (2, 5), vehicle below 0.5 (3, 7).
    expect(falseCuePct(v, d, 0.5, 0.1)).toBeCloseTo((100 * 3) / 8, 12);
  });
});

describe('delivered signals', () => {
  const poseSeries = (seconds: number, f: (t: number) => number[]) => {
    const ticks = seconds * RATE + 1;
    const pose = new Float64Array(ticks * 6);
    for (let k = 0; k < ticks; k++) pose.set(f(k / RATE), k * 6);
    return pose;
  };
  const mid = RATE; // tick at 1 s, far from the edges

  it('a static nose-up tilt θ gives g·sin θ on x; a roll φ gives g·sin φ on y; fz = g(cos − 1); no rates', () => {
    const theta = 0.1;
    const up = deliveredSignals(poseSeries(2, () => [0, 0, 0, 0, -theta, 0]), RATE);
    expect(up[0]![mid]).toBeCloseTo(G * Math.sin(theta), 9);
    expect(up[1]![mid]).toBeCloseTo(0, 9);
    expect(up[2]![mid]).toBeCloseTo(G * (Math.cos(theta) - 1), 9);
    for (let j = 3; j < 6; j++) expect(up[j]![mid]).toBeCloseTo(0, 9);
    const phi = 0.07;
    const rolled = deliveredSignals(poseSeries(2, () => [0, 0, 0, phi, 0, 0]), RATE);
    expect(rolled[1]![mid]).toBeCloseTo(G * Math.sin(phi), 9);
    expect(rolled[0]![mid]).toBeCloseTo(0, 9);
    // A yaw angle alone changes nothing the driver feels.
    const yawed = deliveredSignals(poseSeries(2, () => [0, 0, 0, 0, 0, 0.2]), RATE);
    for (let j = 0; j < 6; j++) expect(yawed[j]![mid]).toBeCloseTo(0, 9);
  });

  it('a level platform accelerating is felt as its acceleration; a tilted one sees it through Rᵀ', () => {
    // x = ½·a·t², y = ½·b·t², z = ½·c·t²: Savitzky–Golay (quadratic) is exact on these.
    const [a, b, c] = [1.5, -0.8, 0.4];
    const level = deliveredSignals(poseSeries(2, (t) => [0.5 * a * t * t, 0.5 * b * t * t, 0.5 * c * t * t, 0, 0, 0]), RATE);
    expect(level[0]![mid]).toBeCloseTo(a, 6);
    expect(level[1]![mid]).toBeCloseTo(b, 6);
    expect(level[2]![mid]).toBeCloseTo(c, 6);
    // Pitched by θ (nose down) while accelerating forward: f = Ry(θ)ᵀ·(a, 0, g) − (0, 0, g), by hand.
    const theta = 0.05;
    const tilted = deliveredSignals(poseSeries(2, (t) => [0.5 * a * t * t, 0, 0, 0, theta, 0]), RATE);
    expect(tilted[0]![mid]).toBeCloseTo(Math.cos(theta) * a - Math.sin(theta) * G, 6);
    expect(tilted[2]![mid]).toBeCloseTo(Math.sin(theta) * a + Math.cos(theta) * G - G, 6);
  });

  it('zero-phase: a 2 Hz surge is felt as −Aω²·sin ωt at the same instant, attenuated < 1 %', () => {
    const A = 0.01;
    const w = 2 * Math.PI * 2;
    const out = deliveredSignals(poseSeries(3, (t) => [A * Math.sin(w * t), 0, 0, 0, 0, 0]), RATE);
    let worst = 0;
    for (let k = 200; k < 2800; k++) worst = Math.max(worst, Math.abs(out[0]![k]! + A * w * w * Math.sin((w * k) / RATE)));
    expect(worst / (A * w * w)).toBeLessThan(0.01);
    // The edges have no value.
    expect(Number.isNaN(out[0]![0]!)).toBe(true);
  });

  it('body rates of a constant yaw rate at a fixed roll and pitch: p = −ψ̇ sinθ, q = ψ̇ sinφ cosθ, r = ψ̇ cosφ cosθ', () => {
    const [phi, theta, rate] = [0.1, -0.15, 0.3];
    const out = deliveredSignals(poseSeries(2, (t) => [0, 0, 0, phi, theta, rate * t]), RATE);
    expect(out[3]![mid]).toBeCloseTo(-rate * Math.sin(theta), 9);
    expect(out[4]![mid]).toBeCloseTo(rate * Math.sin(phi) * Math.cos(theta), 9);
    expect(out[5]![mid]).toBeCloseTo(rate * Math.cos(phi) * Math.cos(theta), 9);
    // A roll rate alone is p.
    const rolling = deliveredSignals(poseSeries(2, (t) => [0, 0, 0, 0.2 * t, 0, 0]), RATE);
    expect(rolling[3]![mid]).toBeCloseTo(0.2, 9);
  });

  it('Savitzky–Golay weights: exact derivatives of quadratics', () => {
    const { d1, d2 } = savitzkyGolay(7);
    const at = (f: (k: number) => number, w: Float64Array) => w.reduce((s, c, i) => s + c * f(i - 7), 0);
    expect(at((k) => 3 + 2 * k + 0.5 * k * k, d1)).toBeCloseTo(2, 12);
    expect(at((k) => 3 + 2 * k + 0.5 * k * k, d2)).toBeCloseTo(1, 12);
    expect(at(() => 1, d2)).toBeCloseTo(0, 12);
  });
});

describe('vehicle reference', () => {
  it('specific force a − g·ĝ minus 1 g on z; rates as given; samples without acceleration left out', () => {
    const mk = (t: number, source: AccelerationSource, set: (s: MotionSample) => void): TimedSample => {
      const s = new MotionSample();
      s.accelerationSource = source;
      set(s);
      return { t, sample: s };
    };
    const theta = 0.2; // nose up: gravity has a backward component in the body frame
    const ref = vehicleReference([
      mk(5, AccelerationSource.None, () => {}),
      mk(5 + 1 / 60, AccelerationSource.Derived, (s) => {
        s.ax = 2;
        s.gx = Math.sin(theta);
        s.gz = -Math.cos(theta);
        s.r = 0.4;
      }),
      mk(5 + 2 / 60, AccelerationSource.Derived, (s) => {
        s.ay = -1;
        s.az = 0.5;
        s.p = 0.1;
        s.q = -0.2;
      }),
    ]);
    expect(ref.skipped).toBe(1);
    expect(Array.from(ref.t)).toEqual([1 / 60, 2 / 60].map((x) => expect.closeTo(x, 12)));
    expect(ref.values[0]![0]).toBeCloseTo(2 - G * Math.sin(theta), 12);
    expect(ref.values[2]![0]).toBeCloseTo(G * Math.cos(theta) - G, 12);
    expect(ref.values[5]![0]).toBe(0.4);
    expect([1, 2, 3, 4].map((j) => ref.values[j]![1])).toEqual([-1, 0.5, 0.1, -0.2]);
    // A CSV has no acceleration source marks: nothing is left out.
    expect(vehicleReference([mk(0, AccelerationSource.None, () => {}), mk(1, AccelerationSource.None, () => {})]).skipped).toBe(0);
  });
});

describe('summary score', () => {
  const perfect = { correlation: 1, best: 1, delayMs: 0, gain: 1, falseCuePct: 0, vehicleStd: 1, deliveredStd: 1 };
  const all = (m: typeof perfect) => ({ fx: m, fy: m, fz: m, p: m, q: m, r: m });

  it('100 for perfect channels in an unscaled workspace; the documented factors otherwise', () => {
    expect(summaryScore(all(perfect), { ikScaledPct: 0 }).total).toBeCloseTo(100, 12);
    expect(summaryScore(all(perfect), { ikScaledPct: 50 }).total).toBeCloseTo(75, 12);
    const s = summaryScore({ ...all(perfect), r: { ...perfect, delayMs: 2 * DELAY_ALLOWANCE_MS.r, falseCuePct: 20, best: 0.5 } }, { ikScaledPct: 0 });
    expect(s.channels.r).toBeCloseTo(0.5 * 0.8 * 0.5, 12);
    expect(s.total).toBeCloseTo(100 * (0.8 + 0.2 * 0.2), 12);
    // A cue too small to feel (gain·σ below 0.5 m/s²) counts for that fraction; a negative gain for nothing.
    expect(summaryScore({ ...all(perfect), fx: { ...perfect, gain: 0.1 } }, { ikScaledPct: 0 }).channels.fx).toBeCloseTo(0.2, 12);
    expect(summaryScore({ ...all(perfect), fx: { ...perfect, gain: -1, best: -0.2 } }, { ikScaledPct: 0 }).channels.fx).toBe(0);
  });
});

/** 60 Hz samples of a level car at about 30 m/s with lateral acceleration ay(t), over `seconds`; the speed moves by 1 mm/s so that the watch never sees bit-identical (frozen) data. */
function lateralSamples(seconds: number, ay: (t: number) => number): TimedSample[] {
  const samples: TimedSample[] = [];
  for (let i = 0; i <= seconds * 60; i++) {
    const t = i / 60;
    const s = new MotionSample();
    s.ay = ay(t);
    s.gz = -1;
    s.hasGravity = true;
    s.accelerationSource = AccelerationSource.Game;
    s.speed = 30 + 0.001 * (i % 2);
    s.sequence = i;
    s.receiveTimeNs = t * 1e9;
    samples.push({ t, sample: s });
  }
  return samples;
}

/** Tilt coordination only, fast enough to follow, from the profile's own limits (not the rig's budgets). */
const tiltOnly = (rollLimitDeg: number) =>
  cueSchema.parse({
    workspace: { shared: false },
    surge: { gain: 0 },
    sway: { gain: 0 },
    heave: { gain: 0 },
    roll: { gain: 0, limitDeg: rollLimitDeg },
    pitch: { gain: 0, limitDeg: 45 },
    yaw: { gain: 0 },
    tilt: { gain: 1, pitchGain: 1, rollGain: 1, lowpass: { omegaN: 30, zeta: 1 }, rateLimitDegPerS: 200, accelLimitDegPerS2: 5000, maxDeg: 20 },
  });

describe('compression over a run', () => {
  it('counts per channel the ticks with an input above the floor, and of those the ones either soft limit compressed > 10 %', () => {
    // 4 ticks, 12 values each: surge [sat, limit] over the ticks, sway never scored, the rest 0.
    const series = new Float64Array(4 * 12);
    const surge = [
      [NOT_SCORED, NOT_SCORED],
      [0.05, 0.2],
      [0.3, NOT_SCORED],
      [0, 0.1],
    ];
    surge.forEach(([a, b], k) => {
      series[k * 12] = a!;
      series[k * 12 + 1] = b!;
      series[k * 12 + 2] = NOT_SCORED;
      series[k * 12 + 3] = NOT_SCORED;
    });
    const all = compressionOver(series, 0, 3);
    expect(all.surge).toEqual({ scoredPct: 75, compressedPct: (100 * 2) / 3, saturationPct: 100 / 3, limitPct: 100 / 3, maxPct: 30 });
    expect(all.sway).toEqual({ scoredPct: 0, compressedPct: 0, saturationPct: 0, limitPct: 0, maxPct: 0 });
    expect(all.yaw).toEqual({ scoredPct: 100, compressedPct: 0, saturationPct: 0, limitPct: 0, maxPct: 0 });
    // A span: ticks 3..3 only (0.1 is not more than 10 %).
    expect(compressionOver(series, 3, 3).surge.compressedPct).toBe(0);
  });
});

describe('report on the production control tick', () => {
  it('tilt alone on a slow lateral force: fy delivered with r ≈ 1, gain ≈ 1, delay = one sample + the low-pass group delay', () => {
    // Tilt coordination only (every channel gain 0), limits far away (this 6° tilt alone is reachable).
    const profile = tiltOnly(45);
    const samples = lateralSamples(40, (t) => 0.6 * Math.sin(2 * Math.PI * 0.13 * t) + 0.4 * Math.sin(2 * Math.PI * 0.71 * t + 1));
    const rig = loadRigFile(`${REPO_ROOT}/profiles/rigs/stewart-linear.yaml`);
    const { report } = reportOn(samples, { profile, rig, rateHz: RATE });
    const fy = report.channels.fy;
    expect(fy.best).toBeGreaterThan(0.999);
    expect(fy.gain).toBeGreaterThan(0.98);
    expect(fy.gain).toBeLessThan(1.01);
    // Interpolation lags one sample (16.7 ms); the critically damped low-pass 2ζ/ωn = 66.7 ms.
    expect(fy.delayMs).toBeGreaterThan(78);
    expect(fy.delayMs).toBeLessThan(90);
    expect(fy.falseCuePct).toBe(0);
    expect(report.workspace.ikScaledPct).toBe(0);
    expect(report.notEngagedPct).toBe(0);
    expect(report.fk.inexactPct).toBe(0);
    // Scoring starts once the supervisor has unparked and ramped engagement up (~2.5 s), plus the lag window.
    expect(report.scoredFromS).toBeGreaterThan(2);
    expect(report.scoredFromS).toBeLessThan(4);
    // Nothing near a knee. Channels whose mixer sees no input are not scored (sway's saturation sees
    // fy: its gain applies after it), nor is roll near its zero crossings (|tilt| ≤ 1 % of 45°).
    for (const c of CUE_CHANNELS) expect(report.compression[c], c).toMatchObject({ compressedPct: 0, maxPct: 0 });
    expect(report.compression.roll.scoredPct).toBeGreaterThan(80);
    for (const c of ['surge', 'heave', 'yaw'] as const) expect(report.compression[c].scoredPct, c).toBe(0);
  });

  it('a constant lateral force tilted to twice the roll limit\'s knee: compressed on every tick by the closed form', () => {
    // tilt = asin(1/g); the roll limit L puts its knee 0.8·L at half of it.
    const tilt = Math.asin(1 / G);
    const L = tilt / (2 * 0.8);
    const rig = loadRigFile(`${REPO_ROOT}/profiles/rigs/stewart-linear.yaml`);
    const { report } = reportOn(lateralSamples(12, () => 1), { profile: tiltOnly((L * 180) / Math.PI), rig, rateHz: RATE });
    const kept = 0.8 * L + 0.2 * L * Math.tanh((tilt - 0.8 * L) / (0.2 * L));
    const roll = report.compression.roll;
    expect(roll.scoredPct).toBe(100);
    expect(roll.compressedPct).toBe(100);
    expect(roll.limitPct).toBe(100);
    expect(roll.saturationPct).toBe(0);
    expect(roll.maxPct / 100).toBeCloseTo(1 - kept / tilt, 9);
    expect(report.compression.pitch.scoredPct).toBe(0);
  });
});
