import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SetpointLimiter } from '../../src/safety/limiter.js';

/**
 * The limiter's promise, checked on every emitted setpoint of > 10^6 ticks of random and
 * adversarial targets: inside [low, high], |Δ| ≤ vmax·dt, |Δ²| ≤ amax·dt². The bounds are
 * the configured numbers themselves, not anything the limiter computes.
 */

const AXES = 6;

const envelopeArb = fc.record({
  low: fc.double({ min: -2, max: 1, noNaN: true }),
  span: fc.double({ min: 1e-3, max: 3, noNaN: true }),
  vmax: fc.double({ min: 1e-3, max: 20, noNaN: true }),
  amax: fc.double({ min: 1e-2, max: 500, noNaN: true }),
  rateHz: fc.constantFrom(100, 250, 500, 1000, 2000),
});

type Kind = 'nan' | 'huge' | 'step' | 'sine' | 'noise' | 'edge' | 'fraction' | 'inf';
const eventArb = fc.record({
  kind: fc.constantFrom<Kind>('nan', 'huge', 'step', 'sine', 'noise', 'edge', 'fraction', 'inf'),
  value: fc.double({ min: -1, max: 1, noNaN: true }),
  ticks: fc.integer({ min: 1, max: 400 }),
});

interface Envelope {
  low: number;
  span: number;
  vmax: number;
  amax: number;
  rateHz: number;
}

function check(env: Envelope, events: { kind: Kind; value: number; ticks: number }[]): number {
  const { low, span, vmax, amax, rateHz } = env;
  const dt = 1 / rateHz;
  const lo = new Float64Array(AXES).fill(low);
  const hi = new Float64Array(AXES).fill(low + span);
  // Give the axes different limits so cross-axis mix-ups would show.
  const vm = Float64Array.from({ length: AXES }, (_, i) => vmax * (1 + i / 3));
  const am = Float64Array.from({ length: AXES }, (_, i) => amax / (1 + i / 4));
  const limiter = new SetpointLimiter({ low: lo, high: hi, maxVelocity: vm, maxAcceleration: am }, rateHz);
  const eps = 4 * Number.EPSILON * (Math.abs(low) + span + 1);
  const prev = Float64Array.from(limiter.position);
  const prevStep = new Float64Array(AXES);
  const targets = new Float64Array(AXES);
  let ticks = 0;
  let phase = 0;
  for (const ev of events) {
    for (let t = 0; t < ev.ticks; t++, ticks++) {
      phase += dt;
      for (let i = 0; i < AXES; i++) {
        const mid = low + span / 2;
        switch (ev.kind) {
          case 'nan': targets[i] = i % 2 ? Number.NaN : mid + ev.value * span; break;
          case 'huge': targets[i] = (i % 2 ? 1e30 : -1e30) * Math.sign(ev.value || 1); break;
          case 'inf': targets[i] = i % 3 === 0 ? Infinity : i % 3 === 1 ? -Infinity : Number.NaN; break;
          case 'step': targets[i] = mid + ev.value * span * (t % 2 ? 1 : -1) * (i + 1); break;
          case 'sine': targets[i] = mid + span * Math.sin(2 * Math.PI * (1 + 30 * Math.abs(ev.value)) * phase + i); break;
          case 'noise': targets[i] = mid + 2 * span * (Math.random() - 0.5); break;
          case 'edge': targets[i] = ev.value > 0 ? low + span : low; break;
          case 'fraction':
            limiter.speedFraction[0] = t % 7 === 0 ? ev.value * 2 : Math.abs(ev.value); // includes < 0 and > 1
            targets[i] = mid - ev.value * span;
            break;
        }
      }
      const out = limiter.apply(targets);
      for (let i = 0; i < AXES; i++) {
        const p = out[i]!;
        const step = p - prev[i]!;
        if (!(p >= low - eps && p <= low + span + eps)) throw new Error(`tick ${ticks} axis ${i}: ${p} outside [${low}, ${low + span}]`);
        if (!(Math.abs(step) <= vm[i]! * dt * (1 + 1e-9) + eps)) throw new Error(`tick ${ticks} axis ${i}: |Δ| ${Math.abs(step)} > ${vm[i]! * dt}`);
        const accel = Math.abs(step - prevStep[i]!);
        if (!(accel <= am[i]! * dt * dt * (1 + 1e-9) + 2 * eps)) throw new Error(`tick ${ticks} axis ${i}: |Δ²| ${accel} > ${am[i]! * dt * dt} (${ev.kind})`);
        prev[i] = p;
        prevStep[i] = step;
      }
    }
  }
  return ticks;
}

describe('SetpointLimiter invariants (fast-check)', () => {
  it('no setpoint ever leaves the envelope or exceeds the rate limits, over > 10^6 ticks', () => {
    let total = 0;
    fc.assert(
      fc.property(envelopeArb, fc.array(eventArb, { minLength: 20, maxLength: 60 }), (env, events) => {
        total += check(env, events);
      }),
      { numRuns: 260, seed: 20261121 },
    );
    expect(total).toBeGreaterThan(1_000_000);
  }, 120_000);

  it('reaches a reachable target and stays there (it does not just freeze)', () => {
    const one = (v: number) => new Float64Array([v]);
    const limiter = new SetpointLimiter({ low: one(0), high: one(0.15), maxVelocity: one(0.4), maxAcceleration: one(12) }, 1000);
    limiter.reset(one(0));
    const target = one(0.1);
    let ticks = 0;
    while (!limiter.settledAt(target, 1e-9) && ticks < 10_000) {
      limiter.apply(target);
      ticks++;
    }
    // Closed form for a rest-to-rest move of 0.1 m with a = 12 m/s², v = 0.4 m/s:
    // accelerate 1/30 s, cruise (0.1 − 0.4²/12)/0.4 = 0.2167 s, brake 1/30 s: 0.283 s.
    expect(ticks / 1000).toBeGreaterThan(0.283 - 0.005);
    expect(ticks / 1000).toBeLessThan(0.283 + 0.01);
    for (let i = 0; i < 100; i++) limiter.apply(target);
    expect(limiter.position[0]).toBeCloseTo(0.1, 12);
  });

  it('a start outside the envelope (reported position) starts at the nearest bound, then moves at bounded rates', () => {
    const one = (v: number) => new Float64Array([v]);
    const limiter = new SetpointLimiter({ low: one(0.01), high: one(0.14), maxVelocity: one(0.4), maxAcceleration: one(12) }, 1000);
    limiter.reset(one(0));
    expect(limiter.position[0]).toBe(0.01);
    limiter.reset(one(Number.NaN));
    expect(limiter.position[0]).toBeCloseTo(0.075, 15);
    limiter.reset(one(0));
    let prev = 0.01;
    let prevStep = 0;
    for (let i = 0; i < 2000; i++) {
      const p = limiter.apply(one(0.07))[0]!;
      expect(p).toBeGreaterThanOrEqual(0.01);
      expect(Math.abs(p - prev)).toBeLessThanOrEqual(0.4e-3 + 1e-15);
      expect(Math.abs(p - prev - prevStep)).toBeLessThanOrEqual(12e-6 + 1e-15);
      prevStep = p - prev;
      prev = p;
    }
    expect(prev).toBeCloseTo(0.07, 9);
  });
});
