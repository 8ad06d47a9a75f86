import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultCueProfile, cueSchemaAt } from '../../src/cueing/profile.js';
import { LOOP_RATE_MIN_HZ } from '../../src/cueing/rate.js';
import { FIT_PARAMETERS, getKey, toUnit, toValue, withKey } from '../../src/fit/params.js';
import { compassSearch } from '../../src/fit/search.js';
import { FitThreadError, compressionPenalty, fitProfile, scoreProfile } from '../../src/fit/fit.js';
import { loadRigFile } from '../../src/config/rig-file.js';
import { SyntheticDrive } from '../../src/telemetry/gt7/synthetic-drive.js';
import { gt7ToMotionSample } from '../../src/telemetry/gt7/motion.js';
import { MotionSample } from '../../src/telemetry/motion-sample.js';
import type { TimedSample } from '../../src/telemetry/sample-file.js';
import { REPO_ROOT } from '../helpers/shared-data.js';

/** Closed-form objectives with known maxima: the search must find them, inside the box. */
const quadratic = (c: number[]) => (u: readonly number[]) => -u.reduce((s, x, i) => s + (x - c[i]!) ** 2, 0);

describe('compass search', () => {
  it('finds the maximum of a separable quadratic inside the box', () => {
    const c = [0.3, 0.71, 0.55, 0.12];
    const r = compassSearch(quadratic(c), { start: [0.5, 0.5, 0.5, 0.5], minStep: 1e-4, maxEvaluations: 2000 });
    expect(r.stop).toBe('converged');
    for (let i = 0; i < c.length; i++) expect(Math.abs(r.u[i]! - c[i]!)).toBeLessThan(2e-4);
    expect(r.value).toBeGreaterThan(-1e-7);
    expect(r.startValue).toBeCloseTo(quadratic(c)([0.5, 0.5, 0.5, 0.5]), 15);
  });

  it('finds the maximum of a non-separable quadratic (correlated axes)', () => {
    // f = −(d·A·d), d = u − (0.3, 0.6), A = [[2, 1.2], [1.2, 1]] positive definite.
    const f = (u: readonly number[]) => {
      const a = u[0]! - 0.3;
      const b = u[1]! - 0.6;
      return -(2 * a * a + 2.4 * a * b + b * b);
    };
    const r = compassSearch(f, { start: [0.9, 0.1], minStep: 1e-5, maxEvaluations: 5000 });
    expect(r.stop).toBe('converged');
    expect(r.u[0]).toBeCloseTo(0.3, 3);
    expect(r.u[1]).toBeCloseTo(0.6, 3);
  });

  it('never asks for a point outside [0, 1]^n, and stops at the bound when the optimum lies beyond it', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 2, noNaN: true }), { minLength: 1, maxLength: 5 }), fc.double({ min: -0.5, max: 1.5, noNaN: true }), (c, s) => {
        const f = quadratic(c);
        const asked: number[][] = [];
        const r = compassSearch(
          (u) => {
            asked.push([...u]);
            return f(u);
          },
          { start: c.map(() => s), minStep: 1e-3, maxEvaluations: 3000 },
        );
        for (const u of asked) for (const x of u) expect(x >= 0 && x <= 1).toBe(true);
        // The box's closest point to c is the constrained maximum.
        c.forEach((ci, i) => expect(Math.abs(r.u[i]! - Math.min(1, Math.max(0, ci)))).toBeLessThan(2e-3));
      }),
      { numRuns: 50 },
    );
  });

  it('keeps to its evaluation budget, counts repeated points once and is deterministic', () => {
    const f = quadratic([0.9, 0.05, 0.4]);
    let calls = 0;
    const trace: string[] = [];
    const run = () =>
      compassSearch(
        (u) => {
          calls++;
          return f(u);
        },
        { start: [0.5, 0.5, 0.5], maxEvaluations: 9, onEvaluation: (e) => trace.push(`${e.index}:${e.u.join(',')}:${e.value}`) },
      );
    const a = run();
    expect(calls).toBe(9);
    expect(a.evaluations).toBe(9);
    expect(a.stop).toBe('evaluations');
    const first = trace.splice(0);
    const b = run();
    expect(trace).toEqual(first);
    expect(b.u).toEqual(a.u);
    // Cache: after a step up improves, the step back down is the old point and costs nothing.
    expect(a.cacheHits).toBeGreaterThan(0);
    expect(new Set(first.map((t) => t.split(':')[1])).size).toBe(9);
  });

  it('keeps to a time budget (injected clock)', () => {
    let t = 0;
    const r = compassSearch(
      (u) => {
        t += 1; // each evaluation takes 1 s
        return quadratic([0.2, 0.2])(u);
      },
      { start: [0.8, 0.8], maxEvaluations: 1000, maxSeconds: 5, now: () => t },
    );
    expect(r.stop).toBe('time');
    expect(r.evaluations).toBe(5);
    expect(r.seconds).toBe(5);
  });

  it('never takes a point f cannot score (-Infinity, NaN) and returns the start when nothing beats it', () => {
    const f = (u: readonly number[]) => (u[0]! > 0.6 ? -Infinity : u[0]! < 0.2 ? NaN : -((u[0]! - 0.8) ** 2));
    const r = compassSearch(f, { start: [0.4], minStep: 1e-4, maxEvaluations: 500 });
    expect(r.u[0]).toBeLessThanOrEqual(0.6);
    expect(r.u[0]).toBeGreaterThan(0.59);
    const flat = compassSearch(() => 1, { start: [0.3, 0.7], maxEvaluations: 100 });
    expect(flat.u).toEqual([0.3, 0.7]);
    expect(flat.value).toBe(flat.startValue);
  });
});

describe('fit parameters', () => {
  const base = defaultCueProfile();

  it('every row names a number in the profile, and its range is valid at the slowest loop rate', () => {
    const schema = cueSchemaAt(LOOP_RATE_MIN_HZ);
    for (const p of FIT_PARAMETERS) {
      expect(typeof getKey(base, p.path)).toBe('number');
      expect(p.min).toBeLessThan(p.max);
      if (p.scale === 'log') expect(p.min).toBeGreaterThan(0);
      for (const u of [0, 1]) expect(schema.safeParse(withKey(base, p.path, toValue(p, u))).success).toBe(true);
    }
  });

  it('maps the unit box onto [min, max]: ends exact, log rows geometric, values as written (4 significant digits)', () => {
    for (const p of FIT_PARAMETERS) {
      expect(toValue(p, 0)).toBe(p.min);
      expect(toValue(p, 1)).toBe(p.max);
      const mid = toValue(p, 0.5);
      const want = p.scale === 'log' ? Math.sqrt(p.min * p.max) : (p.min + p.max) / 2;
      expect(Math.abs(mid - want) / want).toBeLessThan(1e-3);
      expect(Number(mid.toPrecision(4))).toBe(mid);
      expect(toUnit(p, p.min)).toBe(0);
      expect(toUnit(p, p.max * 10)).toBe(1);
      expect(toUnit(p, p.scale === 'log' ? 0 : p.min - 1)).toBe(0);
      expect(Math.abs(toUnit(p, want) - 0.5)).toBeLessThan(1e-9);
    }
  });

  it('withKey changes one key of a copy', () => {
    const before = base.tilt.lowpass.omegaN;
    expect(before).not.toBe(3.5);
    const p = withKey(base, ['tilt', 'lowpass', 'omegaN'], 3.5);
    expect(p.tilt.lowpass.omegaN).toBe(3.5);
    expect(base.tilt.lowpass.omegaN).toBe(before);
    expect(p.tilt.lowpass.zeta).toBe(base.tilt.lowpass.zeta);
    expect(() => getKey(base, ['tilt', 'nothing'])).toThrow(/not a number/);
  });
});

describe('compressionPenalty', () => {
  it('adds, per channel, the points its compressed share exceeds the limit by; nothing under it', () => {
    const c = (compressedPct: number) => ({ scoredPct: 100, compressedPct, saturationPct: 0, limitPct: compressedPct, maxPct: 50 });
    const compression = { surge: c(17.5), sway: c(6), heave: c(0), roll: c(45.9), pitch: c(5), yaw: c(11.4) };
    // (17.5 − 5) + (6 − 5) + (45.9 − 5) + (11.4 − 5) = 12.5 + 1 + 40.9 + 6.4
    expect(compressionPenalty(compression, 5)).toBeCloseTo(60.8, 10);
    expect(compressionPenalty(compression, 50)).toBe(0);
    expect(compressionPenalty(compression, 0)).toBeCloseTo(17.5 + 6 + 45.9 + 5 + 11.4, 10);
  });
});

describe('fitProfile on the report (12 s of the synthetic lap)', () => {
  const drive = new SyntheticDrive();
  const lap: TimedSample[] = Array.from({ length: 12 * 60 + 1 }, (_, i) => ({ t: i / 60, sample: gt7ToMotionSample(drive.next('B'), (i * 1e9) / 60, new MotionSample()) }));
  const rig = loadRigFile(join(REPO_ROOT, 'profiles', 'rigs', 'stewart-linear.yaml'));
  const base = defaultCueProfile();

  it('scores the base exactly first (even with a key outside its row’s range), never returns less, and returns the base when nothing beats it', () => {
    // The base's surge.gain lies below this row's range: the search starts at the bound, but the first evaluation is the base itself.
    const g = base.surge.gain;
    const row = { path: ['surge', 'gain'], min: 2 * g, max: 5 * g, scale: 'log', note: 'test' } as const;
    const seen: number[] = [];
    const r = fitProfile([lap], { base, rig, rateHz: 1000, parameters: [row], maxEvaluations: 4, onEvaluation: (_e, v) => seen.push(v[0]!) });
    expect(seen[0]).toBe(g);
    expect(r.scoreBefore).toBe(scoreProfile(base, [lap], rig, 1000)[0]);
    expect(r.recordingsBefore).toEqual([r.scoreBefore]);
    expect(r.scoreAfter).toBeGreaterThanOrEqual(r.scoreBefore);
    for (const v of seen.slice(1)) expect(v >= row.min && v <= row.max).toBe(true);
    // What it returns is what was scored.
    expect(scoreProfile(r.profile, [lap], rig, 1000)[0]).toBe(r.scoreAfter);
    if (r.improved) expect(r.keys[0]!.after).not.toBe(g);
    else expect(r.profile).toEqual(base);

    // A range whose every point rounds to the base value (4 significant digits): nothing can beat the base; the result is the base.
    const flat = fitProfile([lap], { base, rig, rateHz: 1000, parameters: [{ ...row, min: g, max: g * 1.000001 }], maxEvaluations: 3 });
    expect(flat.evaluations).toBe(3);
    expect(flat.improved).toBe(false);
    expect(flat.profile).toEqual(base);
    expect(flat.scoreAfter).toBe(flat.scoreBefore);
  });

  it('a candidate its scorer cannot score is never the best and the search goes on; a scorer whose thread ended ends the fit', () => {
    const row = { path: ['surge', 'gain'], min: 0.005, max: 0.2, scale: 'log', note: 'test' } as const;
    let calls = 0;
    const bad = fitProfile([lap], {
      base, rig, rateHz: 1000, parameters: [row], maxEvaluations: 4,
      score: () => {
        if (calls++ === 0) return [1];
        throw new Error('the chain cannot run this one');
      },
    });
    expect(bad.evaluations).toBe(4);
    expect(bad.improved).toBe(false);
    calls = 0;
    expect(() =>
      fitProfile([lap], {
        base, rig, rateHz: 1000, parameters: [row], maxEvaluations: 4,
        score: () => {
          if (calls++ === 0) return [1];
          throw new FitThreadError('a fit thread ended');
        },
      }),
    ).toThrow(FitThreadError);
    expect(calls).toBe(2);
  });
});
