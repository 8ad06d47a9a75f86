import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cueSchema, defaultCueProfile } from '../../src/cueing/profile.js';
import { DEFAULT_KNEE, SoftLimit } from '../../src/cueing/soft-limit.js';
import { MotionSample, STANDARD_GRAVITY } from '../../src/telemetry/motion-sample.js';
import { runChain } from '../helpers/cue-input.js';

const DEG = Math.PI / 180;

describe('soft limit (linear to the knee, then a C¹ approach)', () => {
  it('is the identity, exactly, up to knee × limit', () => {
    const s = new SoftLimit(0.1, 0.8);
    for (const x of [0, 1e-9, 0.01, -0.05, 0.0799, -0.08, 0.08]) expect(s.of(x)).toBe(x);
  });

  it('is continuous with slope 1 at the knee, odd, increasing and never reaches the limit', () => {
    const L = 10 * DEG;
    const s = new SoftLimit(L, 0.8);
    const kl = 0.8 * L;
    const h = 1e-7;
    expect(s.of(kl + h) - s.of(kl)).toBeCloseTo(h, 15);
    expect((s.of(kl + h) - s.of(kl)) / h).toBeCloseTo(1, 6);
    expect((s.of(kl) - s.of(kl - h)) / h).toBeCloseTo(1, 6);
    expect(s.of(1e6)).toBeLessThanOrEqual(L);
    fc.assert(
      fc.property(fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: 1e-6, max: 1, noNaN: true }), (x, d) => {
        const y = s.of(x);
        expect(Math.abs(y)).toBeLessThanOrEqual(L);
        expect(s.of(-x)).toBe(-y);
        expect(s.of(x + d)).toBeGreaterThanOrEqual(y);
      }),
    );
  });

  it('knee 0 is the plain L·tanh(x/L); a knee outside [0, 1) or a limit ≤ 0 is refused', () => {
    const s = new SoftLimit(0.05, 0);
    for (const x of [-1, -0.02, 0, 0.03, 0.2]) expect(s.of(x)).toBeCloseTo(0.05 * Math.tanh(x / 0.05), 15);
    expect(() => new SoftLimit(0.1, 1)).toThrow(RangeError);
    expect(() => new SoftLimit(0.1, -0.1)).toThrow(RangeError);
    expect(() => new SoftLimit(0, 0.5)).toThrow(RangeError);
    expect(defaultCueProfile().roll.knee).toBe(DEFAULT_KNEE);
    expect(() => cueSchema.parse({ roll: { knee: 1 } })).toThrow();
  });
});

describe('a 1 m/s² lateral step through the default profile, all of it cued by tilt (tilt.gain 1)', () => {
  const step = () =>
    Array.from({ length: 60 * 20 }, () => {
      const s = new MotionSample();
      s.ay = 1;
      s.gz = -1;
      s.hasGravity = true;
      return s;
    });

  it('rolls the platform to asin(1/g) exactly: inside the knee the 10° limit does not touch it', () => {
    const { rows } = runChain(cueSchema.parse({ tilt: { gain: 1, rollGain: 1 } }), 1000, step());
    expect(rows.at(-1)![4]).toBeCloseTo(Math.asin(1 / STANDARD_GRAVITY), 12);
  });

  it('with knee 0 (the plain tanh limit) it was 5.26° instead of 5.86°', () => {
    const profile = cueSchema.parse({ tilt: { gain: 1, rollGain: 1 }, roll: { knee: 0 } });
    const roll = runChain(profile, 1000, step()).rows.at(-1)![4]!;
    expect(roll).toBeCloseTo(10 * DEG * Math.tanh(Math.asin(1 / STANDARD_GRAVITY) / (10 * DEG)), 12);
    expect(roll / DEG).toBeCloseTo(5.26, 2);
  });
});
