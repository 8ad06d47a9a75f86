import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CueingChain } from '../../src/cueing/chain.js';
import { InputGuard } from '../../src/cueing/guards.js';
import { channelLimits, cueSchema, defaultCueProfile } from '../../src/cueing/profile.js';
import { Reconstructor } from '../../src/cueing/reconstruction.js';
import { Gt7Packet, decodePacket } from '../../src/telemetry/gt7/packet.js';
import { VelocityDifferentiator, gt7ToMotionSample } from '../../src/telemetry/gt7/motion.js';
import { MotionSample, STANDARD_GRAVITY, copyMotionSample } from '../../src/telemetry/motion-sample.js';
import { readCapture } from '../../src/telemetry/recording.js';
import { runChain, syntheticSamples } from '../helpers/cue-input.js';
import { dataPath, haveSharedData } from '../helpers/shared-data.js';

const DEG = Math.PI / 180;

function levelSample(ax = 0, ay = 0): MotionSample {
  const s = new MotionSample();
  s.ax = ax;
  s.ay = ay;
  s.gx = 0;
  s.gy = 0;
  s.gz = -1;
  s.hasGravity = true;
  return s;
}

describe('cueing chain', () => {
  it('sustained 1 m/s² forward: tilt settles at asin(1/g) nose up; surge washes out to 0', () => {
    const profile = cueSchema.parse({ tilt: { gain: 1, pitchGain: 1, rollGain: 1, rateLimitDegPerS: 0, accelLimitDegPerS2: 0 } });
    const samples = Array.from({ length: 60 * 30 }, () => levelSample(1, 0));
    const { rows, tilt } = runChain(profile, 1000, samples);
    expect(tilt.at(-1)![1]).toBeCloseTo(-Math.asin(1 / STANDARD_GRAVITY), 6);
    expect(Math.abs(rows.at(-1)![1]!)).toBeLessThan(1e-4);
    // Lateral: +fy rolls right side down (+roll).
    const lat = runChain(profile, 1000, Array.from({ length: 60 * 30 }, () => levelSample(0, 1))).tilt.at(-1)!;
    expect(lat[0]).toBeCloseTo(Math.asin(1 / STANDARD_GRAVITY), 6);
  });

  it('tilt.gain is the fraction of the sustained force cued by tilt: asin(gain·f/g), independent of the translational gain', () => {
    for (const gain of [0.03, 0.5]) {
      const profile = cueSchema.parse({ tilt: { gain, pitchGain: 1, rollGain: 1, rateLimitDegPerS: 0, accelLimitDegPerS2: 0 }, sway: { gain: 0.3 } });
      const { tilt } = runChain(profile, 1000, Array.from({ length: 60 * 30 }, () => levelSample(2, -3)));
      expect(tilt.at(-1)![1]).toBeCloseTo(-Math.asin((gain * 2) / STANDARD_GRAVITY), 9);
      expect(tilt.at(-1)![0]).toBeCloseTo(Math.asin((gain * -3) / STANDARD_GRAVITY), 9);
    }
  });

  it('body roll: the default second-order roll washout does not keep the car\'s lean; first order keeps e^(−ωt) of it', () => {
    // The car rolls to a 3° lean in 0.1 s and stays there: p = lean/0.1 s for samples 1..6, else 0
    // (the first sample is taken as it is, without a ramp, so the pulse starts at the second).
    const lean = 3 * DEG;
    const samples = Array.from({ length: 60 * 3 }, (_, i) => {
      const s = levelSample();
      s.p = i >= 1 && i <= 6 ? lean / 0.1 : 0;
      return s;
    });
    const at = (rows: number[][], t: number) => rows[Math.round(t * 1000)]![4]!;
    const second = defaultCueProfile();
    expect(second.roll.highpass).toMatchObject({ order: 2, zeta: 1 });
    const { omega } = second.roll.highpass;
    const gain = second.roll.gain;
    const rows2 = runChain(second, 1000, samples).rows;
    // s/(s² + 2ωs + ω²) on a rate pulse of area φ0: gain·φ0·e^(−ωt)(1 − ωt), t from the pulse's centre
    // (4/60 s once interpolated); 10/ω after it that is −9·e^(−10) = −4.1e-4 of gain·φ0, whatever ω is
    // (ω 3.626 in the default: 2.8 s; the recording is 3 s).
    expect(Math.max(...rows2.map((r) => Math.abs(r[4]!)))).toBeGreaterThan(0.3 * gain * lean);
    const settled = 4 / 60 + 10 / omega;
    expect(settled).toBeLessThan(2.95);
    expect(Math.abs(at(rows2, settled))).toBeLessThan(1e-3 * gain * lean);
    const first = cueSchema.parse({ roll: { highpass: { omega: 1, order: 1 } } });
    const rows1 = runChain(first, 1000, samples).rows;
    // 1/(s + ω): gain·φ0·e^(−ωt) after the pulse, t from its centre: 4/60 s once interpolated (one sample late).
    // Within 2 %: samples reach the chain at the next whole tick (up to 1 ms late).
    expect(Math.abs(at(rows1, 1.5) / (gain * lean * Math.exp(-(1.5 - 4 / 60))) - 1)).toBeLessThan(0.02);
  });

  it('with the default limits, tilt reaches asin(gain·f/g) too, never faster than its rate and acceleration limits', () => {
    const t = defaultCueProfile().tilt;
    const { tilt } = runChain(defaultCueProfile(), 1000, Array.from({ length: 60 * 20 }, () => levelSample(10, 0)));
    // pitchGain scales the tilt angle after the asin (chain.ts), as the default profile documents.
    expect(tilt.at(-1)![1]).toBeCloseTo(-t.pitchGain * Math.asin((t.gain * 10) / STANDARD_GRAVITY), 6);
    let fastest = 0;
    for (let k = 2; k < tilt.length; k++) {
      const rate = (tilt[k]![1]! - tilt[k - 1]![1]!) * 1000;
      const prevRate = (tilt[k - 1]![1]! - tilt[k - 2]![1]!) * 1000;
      fastest = Math.max(fastest, Math.abs(rate));
      expect(Math.abs(rate)).toBeLessThanOrEqual(t.rateLimitDegPerS * DEG + 1e-9);
      expect(Math.abs(rate - prevRate) * 1000).toBeLessThanOrEqual(t.accelLimitDegPerS2 * DEG + 1e-6);
    }
    expect(fastest).toBeGreaterThan(0);
  });

  it('the same profile at 250, 500 and 1000 Hz gives the same pose trajectory within 1 %', () => {
    const samples = syntheticSamples(40);
    const runs = [250, 500, 1000].map((rate) => ({ rate, rows: runChain(defaultCueProfile(), rate, samples).rows }));
    const ref = runs[0]!;
    for (const other of runs.slice(1)) {
      const step = other.rate / ref.rate;
      for (let axis = 1; axis <= 6; axis++) {
        const peak = Math.max(...ref.rows.map((r) => Math.abs(r[axis]!)));
        expect(peak).toBeGreaterThan(0);
        let worst = 0;
        ref.rows.forEach((r, k) => {
          const o = other.rows[k * step];
          if (o) worst = Math.max(worst, Math.abs(o[axis]! - r[axis]!));
        });
        expect(worst / peak, `axis ${axis} at ${other.rate} Hz`).toBeLessThan(0.01);
      }
    }
  });

  it('builds at the loop rates the config takes (100..2000 Hz, docs/ARCHITECTURE.md) and no others', () => {
    for (const rate of [100, 2000]) expect(new CueingChain(defaultCueProfile(), rate).rateHz).toBe(rate);
    for (const rate of [99, 2001, 50, 5000, NaN]) expect(() => new CueingChain(defaultCueProfile(), rate), `${rate} Hz`).toThrow(/100\.\.2000/);
  });

  it('NaN, ±Inf and ±1e30 inputs never reach the pose; counters say what happened', () => {
    const chain = new CueingChain(defaultCueProfile(), 1000);
    const bad = [NaN, Infinity, -Infinity, 1e30, -1e30];
    for (let i = 0; i < 600; i++) {
      const s = levelSample(Math.sin(i / 10) * 5, 2);
      if (i % 7 === 0) {
        const v = bad[i % bad.length]!;
        s.ax = v;
        s.p = v;
        s.gz = v;
        s.speed = v;
      }
      chain.sampleTime[0] = i / 60;
      chain.pushSample(s);
      for (let k = 0; k < 16; k++) {
        const pose = chain.tick(Math.round((i / 60) * 1000) + k);
        for (const v of pose) expect(Number.isFinite(v)).toBe(true);
      }
    }
    expect(chain.stats.rejectedInputs).toBeGreaterThan(0);
    expect(chain.stats.nonFiniteOutputs).toBe(0);
  });

  it('property: for any input sequence (NaN, ±1e30, steps, flapping), tilt keeps its rate and acceleration limits, asin stays real, pose stays within limits', () => {
    const profile = defaultCueProfile();
    const lim = channelLimits(profile);
    const { rateLimitDegPerS, accelLimitDegPerS2, maxDeg } = profile.tilt;
    const value = fc.oneof(
      fc.double({ min: -200, max: 200, noNaN: true }),
      fc.constantFrom(NaN, Infinity, -Infinity, 1e30, -1e30, 0, 130, -130),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(value, value, value, value, value, value, value), { minLength: 5, maxLength: 120 }), (steps) => {
        const chain = new CueingChain(profile, 500);
        let prevTilt = [0, 0];
        const prevRate = [0, 0];
        let t = 0;
        let tick = 0;
        for (const [ax, ay, az, p, q, r, gz] of steps) {
          const s = levelSample(ax, ay);
          s.az = az;
          s.p = p;
          s.q = q;
          s.r = r;
          s.gz = gz;
          chain.sampleTime[0] = t;
          chain.pushSample(s);
          for (let k = 0; k < 8; k++) {
            const pose = chain.tick(tick++);
            t = tick / 500;
            pose.forEach((v, i) => {
              if (!(Math.abs(v) <= lim[i]!)) throw new Error(`pose[${i}] = ${v}`);
            });
            for (let a = 0; a < 2; a++) {
              const rate = (chain.tilt[a]! - prevTilt[a]!) * 500;
              if (Math.abs(rate) > rateLimitDegPerS * DEG + 1e-9) throw new Error(`tilt rate ${rate}`);
              if (Math.abs(rate - prevRate[a]!) * 500 > accelLimitDegPerS2 * DEG + 1e-6) throw new Error(`tilt accel`);
              if (Math.abs(chain.tilt[a]!) > maxDeg * DEG + 1e-6) throw new Error('tilt max');
              prevRate[a] = rate;
            }
            prevTilt = [chain.tilt[0]!, chain.tilt[1]!];
          }
        }
        return chain.stats.nonFiniteOutputs === 0;
      }),
      { numRuns: 300 },
    );
  });

  it.skipIf(!haveSharedData)('real data: replay-tilde through the default profile stays inside the limits and moves', () => {
    const cap = readCapture(dataPath('gt7', 'recordings', 'replay-tilde.lpr'));
    const pkt = new Gt7Packet();
    const diff = new VelocityDifferentiator();
    const samples = cap.records.map((r) => {
      decodePacket(r.datagram, pkt);
      return copyMotionSample(gt7ToMotionSample(pkt, 0, new MotionSample(), diff), new MotionSample());
    });
    const { rows, chain } = runChain(defaultCueProfile(), 1000, samples);
    const peak = [1, 2, 3, 4, 5, 6].map((i) => Math.max(...rows.map((r) => Math.abs(r[i]!))));
    const limits = channelLimits(defaultCueProfile());
    peak.forEach((p, i) => {
      expect(p).toBeLessThanOrEqual(limits[i]!);
      expect(p, `axis ${i} moves`).toBeGreaterThan(limits[i]! * 0.05);
    });
    // Kerb strikes are in this lap (sway to ±38 m/s², heave spikes): the spike filter saw some.
    expect(chain.stats.spikes).toBeGreaterThan(0);
  });
});

describe('input guards', () => {
  const settings = { limit: 60, spikeThreshold: 35, spikeHoldS: 0.05, blendS: 0.06 };
  it('a two-frame kerb spike of 130 m/s² never comes through', () => {
    const g = new InputGuard(settings);
    const seq = [5, 5, 130, 130, 5, 5];
    const out = seq.map((x) => g.update(x, 1 / 60));
    expect(Math.max(...out)).toBe(5);
    expect(g.spikes).toBe(1);
  });
  it('a jump that persists is accepted after the hold and blended in, never stepped', () => {
    const g = new InputGuard(settings);
    const out: number[] = [];
    for (let i = 0; i < 60; i++) out.push(g.update(i < 10 ? 0 : 50, 1 / 60));
    expect(out[11]).toBe(0); // held
    const steps = out.slice(1).map((v, i) => v - out[i]!);
    expect(Math.max(...steps)).toBeLessThan(50 * (1 - Math.exp(-1 / 60 / 0.06)) + 1e-9);
    expect(out.at(-1)!).toBeCloseTo(50, 3);
  });
  it('clamps to the source limit and holds the last good value on NaN', () => {
    const g = new InputGuard(settings);
    expect(g.update(10, 1 / 60)).toBe(10);
    expect(g.update(NaN, 1 / 60)).toBe(10);
    expect(g.rejected).toBe(1);
    const h = new InputGuard(settings);
    expect(h.update(1e9, 1 / 60)).toBe(60);
  });
});

describe('reconstruction lag (1 Hz sine sampled at 60 Hz, evaluated at 1 kHz)', () => {
  function lagMs(mode: 'hold' | 'interpolate' | 'predict'): { lag: number; maxStep: number } {
    const rec = new Reconstructor(1, mode);
    const v = new Float64Array(1);
    const out: number[] = [];
    const truth: number[] = [];
    for (let k = 0; k < 5000; k++) {
      const t = k / 1000;
      const sampleIdx = Math.floor(t * 60 + 1e-9);
      rec.clock[0] = t;
      if (k === 0 || Math.floor((k - 1) / 1000 * 60 + 1e-9) !== sampleIdx) {
        rec.evaluate();
        v[0] = Math.sin(2 * Math.PI * (sampleIdx / 60));
        rec.push(v);
      }
      out.push(rec.evaluate()[0]!);
      truth.push(Math.sin(2 * Math.PI * t));
    }
    // Lag = shift (ms) that best aligns output with truth, past the start-up second.
    let best = 0;
    let bestErr = Infinity;
    for (let s = 0; s <= 40; s++) {
      let e = 0;
      for (let k = 1000; k < 5000; k++) e += (out[k]! - truth[k - s]!) ** 2;
      if (e < bestErr) {
        bestErr = e;
        best = s;
      }
    }
    const maxStep = Math.max(...out.slice(1000).map((x, i) => Math.abs(x - out[999 + i]!)));
    return { lag: best, maxStep };
  }
  it('hold ≈ ½ sample, interpolate ≈ 1 sample, predict ≈ 0; interpolate and predict never step', () => {
    const hold = lagMs('hold');
    const interp = lagMs('interpolate');
    const pred = lagMs('predict');
    console.log(JSON.stringify({ reconstructionLagMs: { hold: hold.lag, interpolate: interp.lag, predict: pred.lag }, maxStepPerMs: { hold: hold.maxStep, interpolate: interp.maxStep, predict: pred.maxStep } }));
    expect(hold.lag).toBeGreaterThanOrEqual(7);
    expect(hold.lag).toBeLessThanOrEqual(10);
    expect(interp.lag).toBeGreaterThanOrEqual(15);
    expect(interp.lag).toBeLessThanOrEqual(19);
    expect(pred.lag).toBeLessThanOrEqual(5);
    // The true signal moves at most 2π·1 Hz × 1 ms = 0.0063 per ms; hold jumps a whole sample.
    expect(hold.maxStep).toBeGreaterThan(0.05);
    expect(interp.maxStep).toBeLessThan(0.0075);
    expect(pred.maxStep).toBeLessThan(0.012);
  });
});
