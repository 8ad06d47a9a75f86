import { describe, expect, it } from 'vitest';
import { highPass1, highPass1Integrated, highPass2, highPassDoubleIntegrated, lowPass2, prewarp } from '../../src/cueing/filters.js';

/** Closed forms (inverse Laplace transforms), independent of the code under test. */
// x(t) for a unit acceleration step through 1/((s+a)²) · s/(s+b) with a = ωn (ζ = 1), b = ωb:
// X(s) = 1/((s+a)²(s+b)) = e^{-bt}/(a-b)² − e^{-at}/(a-b)² − t·e^{-at}/(a-b).
function thirdOrderStep(t: number, a: number, b: number): number {
  const d = a - b;
  return (Math.exp(-b * t) - Math.exp(-a * t)) / (d * d) - (t * Math.exp(-a * t)) / d;
}
// Second order, ζ = 1: X(s) = 1/(s (s+a)²) → (1 − e^{-at}(1 + a t)) / a².
function secondOrderStep(t: number, a: number): number {
  return (1 - Math.exp(-a * t) * (1 + a * t)) / (a * a);
}

function run(filterSteps: ((x: number) => number)[], input: (t: number) => number, rate: number, seconds: number): { t: number; y: number }[] {
  const out = [];
  for (let k = 0; k <= seconds * rate; k++) {
    const t = k / rate;
    let y = input(t);
    for (const f of filterSteps) y = f(y);
    out.push({ t, y });
  }
  return out;
}

describe('washout filters against closed forms', () => {
  it('third-order surge (ωn 2.5, ζ 1, ωb 0.5): 1 m/s² step peaks ≈ 0.096 m near 1.33 s and returns to 0', () => {
    const pos = highPassDoubleIntegrated(2.5, 1, 1000);
    const wash = highPass1(0.5, 1000);
    const r = run([(x) => pos.step(x), (x) => wash.step(x)], () => 1, 1000, 20);
    const peak = r.reduce((a, b) => (b.y > a.y ? b : a));
    expect(peak.y).toBeCloseTo(0.0956, 3);
    expect(peak.t).toBeGreaterThan(1.25);
    expect(peak.t).toBeLessThan(1.4);
    for (const { t, y } of r) expect(Math.abs(y - thirdOrderStep(t, 2.5, 0.5))).toBeLessThan(2e-4);
    expect(Math.abs(r.at(-1)!.y)).toBeLessThan(1e-3);
  });

  it('second-order surge settles at a0/ωn² = 0.16 m and follows the closed form', () => {
    const pos = highPassDoubleIntegrated(2.5, 1, 1000);
    const r = run([(x) => pos.step(x)], () => 1, 1000, 10);
    expect(r.at(-1)!.y).toBeCloseTo(0.16, 4);
    for (const { t, y } of r) expect(Math.abs(y - secondOrderStep(t, 2.5))).toBeLessThan(2e-4);
  });

  it('first-order rotational high-pass: a rate step gives angle p0/ω·(1 − e^{−ωt}), which returns to 0 when the rate stops', () => {
    const p0 = 0.4;
    const omega = 1;
    const f = highPass1Integrated(omega, 1000);
    const T = 8;
    const r = run([(x) => f.step(x)], (t) => (t < T ? p0 : 0), 1000, 20);
    const peak = Math.max(...r.map((s) => s.y));
    expect(peak).toBeCloseTo((p0 / omega) * (1 - Math.exp(-omega * T)), 3);
    for (const { t, y } of r) {
      const want = t < T ? (p0 / omega) * (1 - Math.exp(-omega * t)) : (p0 / omega) * (1 - Math.exp(-omega * T)) * Math.exp(-omega * (t - T));
      expect(Math.abs(y - want)).toBeLessThan(1e-3);
    }
    expect(Math.abs(r.at(-1)!.y)).toBeLessThan(2e-4);
    // The high-passed rate itself peaks at p0 and decays to 0.
    const hp = highPass1(omega, 1000);
    const rate = run([(x) => hp.step(x)], () => p0, 1000, 10);
    expect(Math.max(...rate.map((s) => s.y))).toBeCloseTo(p0, 2);
    expect(Math.abs(rate.at(-1)!.y)).toBeLessThan(1e-4);
  });

  for (const rate of [60, 250, 1000]) {
    it(`biquads at ${rate} Hz: |H(jωn)| = 1/(2ζ), DC and Nyquist gains right`, () => {
      for (const [omegaN, zeta] of [
        [2.5, 1],
        [5, 0.7],
        [1, 0.5],
      ] as const) {
        const hp = highPass2(omegaN, zeta, rate);
        const lp = lowPass2(omegaN, zeta, rate);
        expect(hp.gainAt(omegaN, rate)).toBeCloseTo(1 / (2 * zeta), 9);
        expect(lp.gainAt(omegaN, rate)).toBeCloseTo(1 / (2 * zeta), 9);
        expect(hp.gainAt(0, rate)).toBeCloseTo(0, 9);
        expect(lp.gainAt(0, rate)).toBeCloseTo(1, 9);
        expect(hp.gainAt(Math.PI * rate, rate)).toBeCloseTo(1, 9);
        expect(lp.gainAt(Math.PI * rate, rate)).toBeCloseTo(0, 9);
      }
      const h1 = highPass1(0.5, rate);
      expect(h1.gainAt(0.5, rate)).toBeCloseTo(Math.SQRT1_2, 9);
    });
  }

  it('refuses a frequency at or above Nyquist', () => {
    expect(() => prewarp(200, 60)).toThrow(/below Nyquist/);
    expect(() => prewarp(0, 60)).toThrow();
  });

  it('settle() starts a filter in steady state (no start-up kick)', () => {
    const lp = lowPass2(5, 1, 1000);
    lp.settle(3);
    expect(lp.step(3)).toBeCloseTo(3, 9);
  });
});
