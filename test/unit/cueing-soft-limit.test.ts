import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cueSchema, defaultCueProfile } from '../../src/cueing/profile.js';
import { COMPRESSION_FLOOR, DEFAULT_KNEE, NOT_SCORED, SoftLimit } from '../../src/cueing/soft-limit.js';
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

/** The soft limit's closed form (docs/cueing.md step 5), written out here, for x > kL. */
const softClosedForm = (x: number, limit: number, knee: number) => knee * limit + (1 - knee) * limit * Math.tanh((x - knee * limit) / ((1 - knee) * limit));

describe('compression by a soft limit: 1 − |y|/|x|', () => {
  it('is 0 up to the knee, the closed form above it, and not scored within 1 % of the limit of zero; the output is apply()\'s', () => {
    const L = 0.2;
    const s = new SoftLimit(L, 0.8);
    const io = new Float64Array(1);
    const comp = new Float64Array(1);
    const at = (x: number) => {
      io[0] = x;
      s.applyMeasured(io, 0, comp, 0);
      expect(io[0]).toBe(s.of(x));
      return comp[0]!;
    };
    expect(at(0)).toBe(NOT_SCORED);
    expect(at(COMPRESSION_FLOOR * L)).toBe(NOT_SCORED);
    expect(at(-0.9 * COMPRESSION_FLOOR * L)).toBe(NOT_SCORED);
    expect(at(0.1)).toBe(0);
    expect(at(-0.16)).toBe(0);
    // Twice the knee point: 0.32 in, 0.16 + 0.04·tanh(4) out.
    expect(at(0.32)).toBeCloseTo(1 - (0.16 + 0.04 * Math.tanh(4)) / 0.32, 14);
    expect(at(-0.32)).toBeCloseTo(0.37508, 5); // (0.16 + 0.04 · 0.99933) / 0.32 = 0.62492 kept
    // Far beyond the limit everything above L is taken away.
    expect(at(20)).toBeCloseTo(1 - L / 20, 12);
  });

  it('in the chain: a constant lateral force 2.5 × the sway saturation\'s knee, and a constant yaw rate whose washed-out angle is twice its limit\'s knee', () => {
    // Sway: the mixer's saturation S sees fy itself (mix fy: 1, deadband 0).
    // Yaw: 1/(s + ω) of a constant rate r settles at r/ω (the bilinear filter keeps the DC gain exactly).
    const S = 4;
    const fy = 2.5 * 0.8 * S;
    const r = 0.3;
    const omega = 1;
    const yawLimitDeg = ((r / omega) / (2 * 0.8)) * (180 / Math.PI);
    const profile = cueSchema.parse({
      workspace: { shared: false },
      tilt: { gain: 0 },
      sway: { saturation: S, limit: 10 },
      yaw: { gain: 1, highpass: { omega, order: 1 }, limitDeg: yawLimitDeg, saturation: 3 },
    });
    const samples = Array.from({ length: 60 * 30 }, () => {
      const m = new MotionSample();
      m.ay = fy;
      m.r = r;
      m.gz = -1;
      m.hasGravity = true;
      return m;
    });
    const { chain } = runChain(profile, 1000, samples);
    const c = chain.compression;
    expect(c[2]).toBeCloseTo(1 - softClosedForm(fy, S, 0.8) / fy, 12);
    expect(c[2]).toBeGreaterThan(0.1);
    const x = r / omega;
    const L = (yawLimitDeg * Math.PI) / 180;
    expect(c[11]).toBeCloseTo(1 - softClosedForm(x, L, 0.8) / x, 8);
    expect(c[10]).toBe(0); // 0.3 rad/s is well inside the yaw saturation's knee (2.4 rad/s)
    // Heave and roll see nothing: not scored. Surge sees nothing either.
    for (const i of [0, 1, 4, 5, 6, 7]) expect(c[i], `compression[${i}]`).toBe(NOT_SCORED);
  });
});
