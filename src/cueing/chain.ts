import { type MotionSample, STANDARD_GRAVITY } from '../telemetry/motion-sample.js';
import { type Biquad, highPass1, highPass1Integrated, highPass2Integrated, highPassDoubleIntegrated, lowPass2 } from './filters.js';
import { InputGuard } from './guards.js';
import { type CueProfile, type RotationalSettings, SIGNALS, type SignalName, type TranslationalSettings } from './profile.js';
import { RateAccelLimiter } from './rate-limit.js';
import { NOT_SCORED, SoftLimit } from './soft-limit.js';
import { LOOP_RATE_RANGE, isLoopRate } from './rate.js';
import { Reconstructor } from './reconstruction.js';

/**
 * MotionSample → platform pose, every control tick. Order:
 *
 * 1. guards (per input signal, as each sample arrives): NaN hold, source clamp, spike filter;
 * 2. reconstruction of the ~60 Hz samples at the loop rate;
 * 3. mixer per channel: Σ gain·signal, deadband, soft saturation (linear to the knee, then a
 *    smooth approach: soft-limit.ts), channel gain;
 * 4. classical washout (Reid & Nahon structure):
 *    - surge/sway/heave: 1/(s² + 2ζωn s + ωn²) — the second-order high-pass and the double
 *      integration to position as one section — times s/(s + ωb) when ωb > 0 (third order:
 *      a sustained acceleration returns the platform to neutral);
 *    - tilt coordination: second-order low-pass of fx, fy; tilt = asin(clamp(f/g)), rate- and
 *      acceleration-limited, at most maxDeg; forward acceleration pitches the nose up (−pitch),
 *      leftward specific force rolls right side down (+roll);
 *    - roll/pitch/yaw: high-pass of angular velocity integrated to angle (1/(s + ω), or
 *      s/(s² + 2ζω s + ω²) for second order), plus the tilt angles;
 * 5. per-channel output limits (soft-limit.ts: exact up to the knee, then approached smoothly,
 *    never crossed).
 *
 * Pose: x, y, z (m), roll, pitch, yaw (rad), ISO 8855 platform frame.
 */

/** Signals in lane order. fz is specific force minus 1 g: 0 for a level car at rest. */
const LANE: Readonly<Record<SignalName, number>> = Object.fromEntries(SIGNALS.map((s, i) => [s, i])) as Record<SignalName, number>;
const N_SIGNALS = SIGNALS.length;
const DEG = Math.PI / 180;

export const POSE_KEYS = ['x', 'y', 'z', 'roll', 'pitch', 'yaw'] as const;

interface Mix {
  lanes: Int32Array;
  gains: Float64Array;
  deadband: number;
  saturation: SoftLimit;
  gain: number;
}

function makeMix(settings: { mix: Partial<Record<SignalName, number | undefined>>; deadband: number; saturation: number; gain: number; knee: number }): Mix {
  const entries = Object.entries(settings.mix).filter((e): e is [SignalName, number] => typeof e[1] === 'number' && e[1] !== 0);
  return {
    lanes: Int32Array.from(entries.map(([k]) => LANE[k])),
    gains: Float64Array.from(entries.map(([, g]) => g)),
    deadband: settings.deadband,
    saturation: new SoftLimit(settings.saturation, settings.knee),
    gain: settings.gain,
  };
}

/** io[i] ← channel gain · saturation(deadband(Σ gain·signal)); comp[2i] ← the saturation's compression. */
function mixInto(m: Mix, signals: Float64Array, io: Float64Array, i: number, comp: Float64Array): void {
  let x = 0;
  for (let k = 0; k < m.lanes.length; k++) x += m.gains[k]! * signals[m.lanes[k]!]!;
  const a = Math.abs(x) - m.deadband;
  io[i] = a <= 0 ? 0 : x < 0 ? -a : a;
  m.saturation.applyMeasured(io, i, comp, 2 * i);
  io[i] = m.gain * io[i]!;
}

/** The channel's output limit: its own, or the rig's budget when that is less; undefined for a budget of 0. */
function channelLimit(own: number, budget: number | undefined, knee: number): SoftLimit | undefined {
  const limit = budget === undefined ? own : Math.min(own, budget);
  return limit > 0 ? new SoftLimit(limit, knee) : undefined;
}

/** A channel the rig does not follow (no limit): no motion, and no compression to score. */
function channelOff(out: Float64Array, comp: Float64Array, i: number): void {
  out[i] = 0;
  comp[2 * i] = NOT_SCORED;
  comp[2 * i + 1] = NOT_SCORED;
}

class TranslationalChannel {
  readonly mix: Mix;
  private readonly position: Biquad;
  private readonly washout: Biquad | undefined;
  /** Undefined when the channel's limit (its budget) is 0: the rig does not follow it. */
  readonly limit: SoftLimit | undefined;
  /** comp: the chain's compression array, written at [2i] and [2i + 1] for pose index i. */
  constructor(s: TranslationalSettings, rateHz: number, budget: number | undefined, private readonly comp: Float64Array) {
    this.mix = makeMix(s);
    this.position = highPassDoubleIntegrated(s.highpass.omegaN, s.highpass.zeta, rateHz);
    this.washout = s.highpass.omegaB > 0 ? highPass1(s.highpass.omegaB, rateHz) : undefined;
    this.limit = channelLimit(s.limit, budget, s.knee);
  }
  /** out[i] ← limited position for this tick's signals. */
  apply(signals: Float64Array, out: Float64Array, i: number): void {
    if (this.limit === undefined) return channelOff(out, this.comp, i);
    mixInto(this.mix, signals, out, i, this.comp);
    this.position.apply(out, i);
    if (this.washout !== undefined) this.washout.apply(out, i);
    this.limit.applyMeasured(out, i, this.comp, 2 * i + 1);
  }
  reset(): void {
    this.position.reset();
    this.washout?.reset();
  }
}

class RotationalChannel {
  readonly mix: Mix;
  private readonly angle: Biquad;
  readonly limit: SoftLimit | undefined;
  /** comp: the chain's compression array, written at [2i] and [2i + 1] for pose index i. */
  constructor(s: RotationalSettings, rateHz: number, budget: number | undefined, private readonly comp: Float64Array) {
    this.mix = makeMix(s);
    this.angle = s.highpass.order === 1 ? highPass1Integrated(s.highpass.omega, rateHz) : highPass2Integrated(s.highpass.omega, s.highpass.zeta, rateHz);
    this.limit = channelLimit(s.limitDeg * DEG, budget, s.knee);
  }
  /** out[i] ← limited (washed-out angle + tilt[tiltIndex]); tiltIndex −1 for none. */
  apply(signals: Float64Array, tilt: Float64Array, tiltIndex: number, out: Float64Array, i: number): void {
    if (this.limit === undefined) return channelOff(out, this.comp, i);
    mixInto(this.mix, signals, out, i, this.comp);
    this.angle.apply(out, i);
    if (tiltIndex >= 0) out[i] = out[i]! + tilt[tiltIndex]!;
    this.limit.applyMeasured(out, i, this.comp, 2 * i + 1);
  }
  reset(): void {
    this.angle.reset();
  }
}

export interface CueingCounters {
  samples: number;
  rejectedInputs: number;
  spikes: number;
  nonFiniteOutputs: number;
}

export class CueingChain {
  readonly rateHz: number;
  readonly dt: number;
  /** x, y, z, roll, pitch, yaw. */
  readonly pose = new Float64Array(6);
  /** Reconstructed, guarded input signals of the last tick (lane order of SIGNALS). */
  readonly signals: Float64Array;
  /** Tilt angles of the last tick: [roll, pitch], rad. */
  readonly tilt = new Float64Array(2);
  /**
   * Compression by each soft limit in the last tick (soft-limit.ts; NOT_SCORED near zero), pose
   * order: [2c] the channel's saturation (mixer), [2c + 1] its output limit. Observed, never fed back.
   */
  readonly compression = new Float64Array(12);
  private readonly guards: InputGuard[];
  private readonly raw = new Float64Array(N_SIGNALS);
  /** [seconds since the previous sample] for the guards. */
  private readonly sampleDt = new Float64Array(1);
  /** Per-tick scratch: [fx low-passed, fy low-passed]. */
  private readonly work = new Float64Array(2);
  private readonly reconstruction: Reconstructor;
  private readonly surge: TranslationalChannel;
  private readonly sway: TranslationalChannel;
  private readonly heave: TranslationalChannel;
  private readonly roll: RotationalChannel;
  private readonly pitch: RotationalChannel;
  private readonly yaw: RotationalChannel;
  private readonly tiltLowX: Biquad;
  private readonly tiltLowY: Biquad;
  private readonly tiltPitch: RateAccelLimiter;
  private readonly tiltRoll: RateAccelLimiter;
  private readonly tiltMax: number;
  private readonly pitchGain: number;
  private readonly rollGain: number;
  private readonly tiltGain: number;
  /** [chain time (s) of the sample the next pushSample takes]: set it first. */
  readonly sampleTime = new Float64Array(1);
  /** [time of the last sample (s), 1 once a sample was seen] — a typed array so stores never box. */
  private readonly lastSample = new Float64Array(2);
  /** The budgets the channel limits were taken from, when used. */
  readonly budgets: Float64Array | undefined;
  private counters: CueingCounters = { samples: 0, rejectedInputs: 0, spikes: 0, nonFiniteOutputs: 0 };

  /**
   * `budgets`: per pose component (x y z m, roll pitch yaw rad) the most the rig can give every
   * channel at once (kinematics/budgets.ts); each channel's limit is then the lesser of its own
   * and its budget, and a budget of 0 turns the channel off. Used only when the profile's
   * `workspace.shared` is on (the control loop derives them from its rig).
   */
  constructor(profile: CueProfile, rateHz: number, budgets?: ArrayLike<number>) {
    if (!isLoopRate(rateHz)) throw new RangeError(`loop rate ${rateHz} Hz is outside ${LOOP_RATE_RANGE}`);
    this.rateHz = rateHz;
    this.dt = 1 / rateHz;
    const g = profile.guards;
    const settingsFor = (s: SignalName) => {
      const limit = s === 'p' || s === 'q' || s === 'r' ? g.rateLimit : s === 'steer' || s === 'steerRate' ? g.steerLimit : s === 'speed' ? g.speedLimit : g.accelLimit;
      // The spike threshold is given for accelerations; other signals scale it by their limit.
      return { limit, spikeThreshold: (g.spikeThreshold * limit) / g.accelLimit, spikeHoldS: g.spikeHoldMs / 1000, blendS: g.blendMs / 1000 };
    };
    this.guards = SIGNALS.map((s) => new InputGuard(settingsFor(s)));
    this.reconstruction = new Reconstructor(N_SIGNALS, profile.reconstruction.mode, profile.reconstruction.predictBlendMs / 1000);
    this.signals = this.reconstruction.out;
    const b = (k: number) => (budgets !== undefined && profile.workspace.shared ? budgets[k] : undefined);
    this.budgets = budgets !== undefined && profile.workspace.shared ? Float64Array.from(budgets) : undefined;
    this.surge = new TranslationalChannel(profile.surge, rateHz, b(0), this.compression);
    this.sway = new TranslationalChannel(profile.sway, rateHz, b(1), this.compression);
    this.heave = new TranslationalChannel(profile.heave, rateHz, b(2), this.compression);
    this.roll = new RotationalChannel(profile.roll, rateHz, b(3), this.compression);
    this.pitch = new RotationalChannel(profile.pitch, rateHz, b(4), this.compression);
    this.yaw = new RotationalChannel(profile.yaw, rateHz, b(5), this.compression);
    const t = profile.tilt;
    this.tiltLowX = lowPass2(t.lowpass.omegaN, t.lowpass.zeta, rateHz);
    this.tiltLowY = lowPass2(t.lowpass.omegaN, t.lowpass.zeta, rateHz);
    this.tiltPitch = new RateAccelLimiter(t.rateLimitDegPerS * DEG, t.accelLimitDegPerS2 * DEG, this.dt);
    this.tiltRoll = new RateAccelLimiter(t.rateLimitDegPerS * DEG, t.accelLimitDegPerS2 * DEG, this.dt);
    this.tiltMax = t.maxDeg * DEG;
    this.pitchGain = t.pitchGain;
    this.rollGain = t.rollGain;
    this.tiltGain = t.gain;
  }

  /** Each channel's output limit in pose order (m, rad): the profile's or the budget's; 0 for a channel that is off. */
  get limits(): number[] {
    return [this.surge, this.sway, this.heave, this.roll, this.pitch, this.yaw].map((c) => c.limit?.limit ?? 0);
  }

  get stats(): CueingCounters {
    let rejected = 0;
    let spikes = 0;
    for (const g of this.guards) {
      rejected += g.rejected;
      spikes += g.spikes;
    }
    this.counters.rejectedInputs = rejected;
    this.counters.spikes = spikes;
    return this.counters;
  }

  /** Back to neutral with empty filter state (after a fault, or a profile switch through hold). */
  resetFilters(): void {
    for (const c of [this.surge, this.sway, this.heave, this.roll, this.pitch, this.yaw]) c.reset();
    this.tiltLowX.reset();
    this.tiltLowY.reset();
    this.tiltPitch.reset();
    this.tiltRoll.reset();
  }

  /**
   * A new telemetry sample that arrived at chain time `sampleTime[0]` (s). The time travels in
   * a typed array: a double argument to a call V8 does not inline is boxed (16 B per sample).
   */
  pushSample(s: MotionSample): void {
    const r = this.raw;
    r[0] = s.ax - STANDARD_GRAVITY * s.gx;
    r[1] = s.ay - STANDARD_GRAVITY * s.gy;
    r[2] = s.az - STANDARD_GRAVITY * s.gz - STANDARD_GRAVITY;
    r[3] = s.p;
    r[4] = s.q;
    r[5] = s.r;
    r[6] = s.steer;
    r[7] = s.steerRate;
    r[8] = s.speed;
    this.pushSignals(r);
  }

  /** Same as pushSample, with the signals already in lane order (fz minus 1 g); guards them in place. */
  pushSignals(values: Float64Array): void {
    const t = this.sampleTime[0]!;
    const dt = this.sampleDt;
    dt[0] = 1 / 60;
    if (this.lastSample[1] === 1) {
      dt[0] = t - this.lastSample[0]!;
      if (dt[0] < 1e-4) dt[0] = 1e-4;
    }
    this.lastSample[0] = t;
    this.lastSample[1] = 1;
    // Guarded in place (values is ours when called from pushSample).
    for (let i = 0; i < N_SIGNALS; i++) this.guards[i]!.apply(values, i, dt);
    // Bring the reconstruction up to now before it takes the new sample.
    this.reconstruction.clock[0] = t;
    this.reconstruction.evaluate();
    this.reconstruction.push(values);
    this.counters.samples++;
  }

  /**
   * Control tick number `k` (chain time k/rate s); the pose is in `this.pose`. An integer
   * index rather than a time in seconds: small integers never box, a double argument to a
   * call V8 does not inline does (measured 8–16 B/tick).
   */
  tick(k: number): Float64Array {
    this.reconstruction.clock[0] = k * this.dt;
    const sig = this.reconstruction.evaluate();
    const pose = this.pose;
    const w = this.work;
    const tilt = this.tilt;

    // Tilt coordination on sustained specific force.
    w[0] = sig[0]!;
    w[1] = sig[1]!;
    this.tiltLowX.apply(w, 0);
    this.tiltLowY.apply(w, 1);
    let ax = (this.tiltGain * w[0]!) / STANDARD_GRAVITY;
    let ay = (this.tiltGain * w[1]!) / STANDARD_GRAVITY;
    ax = ax > 1 ? 1 : ax < -1 ? -1 : ax;
    ay = ay > 1 ? 1 : ay < -1 ? -1 : ay;
    const pitchTarget = -this.pitchGain * Math.asin(ax);
    const rollTarget = this.rollGain * Math.asin(ay);
    const m = this.tiltMax;
    tilt[0] = rollTarget > m ? m : rollTarget < -m ? -m : rollTarget;
    tilt[1] = pitchTarget > m ? m : pitchTarget < -m ? -m : pitchTarget;
    this.tiltRoll.apply(tilt, 0);
    this.tiltPitch.apply(tilt, 1);

    this.surge.apply(sig, pose, 0);
    this.sway.apply(sig, pose, 1);
    this.heave.apply(sig, pose, 2);
    this.roll.apply(sig, tilt, 0, pose, 3);
    this.pitch.apply(sig, tilt, 1, pose, 4);
    this.yaw.apply(sig, tilt, -1, pose, 5);

    for (let i = 0; i < 6; i++) {
      if (!Number.isFinite(pose[i]!)) {
        // Cannot happen with guarded inputs; if it ever does, neutral is the safe answer.
        this.counters.nonFiniteOutputs++;
        pose.fill(0);
        this.resetFilters();
        break;
      }
    }
    return pose;
  }
}
