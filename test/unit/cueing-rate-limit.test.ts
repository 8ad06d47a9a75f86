import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateAccelLimiter } from '../../src/cueing/rate-limit.js';

describe('tilt rate/acceleration limiter', () => {
  it('0 means unlimited: follows the target exactly', () => {
    const l = new RateAccelLimiter(0, 0, 0.001);
    expect(l.step(0)).toBe(0);
    expect(l.step(0.3)).toBeCloseTo(0.3, 12);
    expect(l.step(-0.1)).toBeCloseTo(-0.1, 12);
  });

  it('reaches a step target in the closed-form minimum time of a trapezoidal profile', () => {
    // Rate 0.05 rad/s, accel 0.14 rad/s², distance 0.1 rad: accelerate 0.357 s, cruise, brake.
    const vmax = 0.05;
    const amax = 0.14;
    const d = 0.1;
    const l = new RateAccelLimiter(vmax, amax, 0.001);
    let t = 0;
    let maxAngle = 0;
    while (Math.abs(l.angle - d) > 1e-9 && t < 10) {
      l.step(d);
      maxAngle = Math.max(maxAngle, l.angle);
      t += 0.001;
    }
    // Passes the target by at most a·dt² (fractional m in the discrete braking bound), here 1.4e-7 rad.
    expect(maxAngle).toBeLessThanOrEqual(d + amax * 0.001 * 0.001);
    const tMin = d / vmax + vmax / amax;
    expect(t).toBeGreaterThan(tMin - 0.01);
    expect(t).toBeLessThan(tMin + 0.05);
  });

  it('property: never exceeds its rate or acceleration limit, for any targets', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 2, noNaN: true }),
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (vmax, amax, targets) => {
          const dt = 0.002;
          const l = new RateAccelLimiter(vmax, amax, dt);
          let prevAngle = 0;
          let prevRate = 0;
          for (const target of targets) {
            for (let k = 0; k < 40; k++) {
              l.step(target);
              const rate = (l.angle - prevAngle) / dt;
              if (Math.abs(rate) > vmax * (1 + 1e-9)) return false;
              if (Math.abs(rate - prevRate) > amax * dt * (1 + 1e-9) + 1e-12) return false;
              prevAngle = l.angle;
              prevRate = rate;
            }
          }
          return true;
        },
      ),
      { numRuns: 2000 },
    );
  });
});
