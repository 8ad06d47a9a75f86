import { z } from 'zod';
import { filterFrequencyProblem } from './filters.js';
import { LOOP_RATE_RANGE, isLoopRate } from './rate.js';
import { DEFAULT_KNEE } from './soft-limit.js';

/**
 * The cueing part of a profile (`cue:`). Key names of issue 3 are fixed; the rest are
 * additions with defaults. Units: rad/s for filter frequencies, m for translation limits,
 * degrees only where the key says Deg. Unknown keys are refused (a typo must not silently
 * leave a default in place).
 */

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();
/** Where a channel's soft limits (saturation, limit) stop being exact, as a fraction of each: 0 is plain tanh. */
const kneeSchema = z.number().min(0).lt(1).default(DEFAULT_KNEE);

/** Mixer: signal name → gain. Signals are described in docs/cueing.md. */
export const SIGNALS = ['fx', 'fy', 'fz', 'p', 'q', 'r', 'steer', 'steerRate', 'speed'] as const;
export type SignalName = (typeof SIGNALS)[number];
const mixSchema = z.strictObject(Object.fromEntries(SIGNALS.map((s) => [s, z.number().optional()])) as Record<SignalName, z.ZodOptional<z.ZodNumber>>);

const translational = (defaults: { signal: SignalName; gain: number; omegaN: number; zeta: number; omegaB: number; limit: number; saturation: number }) =>
  z
    .strictObject({
      gain: z.number().default(defaults.gain),
      highpass: z
        .strictObject({ omegaN: positive.default(defaults.omegaN), zeta: positive.default(defaults.zeta), omegaB: nonNegative.default(defaults.omegaB) })
        .prefault({}),
      /** Output travel limit, m (soft: linear to the knee, then approached smoothly, never crossed). */
      limit: positive.default(defaults.limit),
      /** Input mix; default the channel's own specific force. */
      mix: mixSchema.default({ [defaults.signal]: 1 } as Record<SignalName, number>),
      /** Mixed input below this magnitude is ignored, input units. */
      deadband: nonNegative.default(0),
      /** Mixed input is softly saturated to this magnitude, input units. */
      saturation: positive.default(defaults.saturation),
      knee: kneeSchema,
    })
    .prefault({});

const rotational = (defaults: { signal: SignalName; gain: number; omega: number; order: 1 | 2; limitDeg: number; saturation: number }) =>
  z
    .strictObject({
      gain: z.number().default(defaults.gain),
      /**
       * order 1: angle = 1/(s + ω)·rate; order 2: s/(s² + 2ζω s + ω²)·rate (ζ default 1), whose
       * angle returns to 0 while the rate holds still: a quasi-static lean of the car does not
       * stay on the platform. Without `order`, a given `zeta` means 2, else the channel's default.
       */
      highpass: z
        .strictObject({ omega: positive.default(defaults.omega), zeta: positive.optional(), order: z.union([z.literal(1), z.literal(2)]).optional() })
        .prefault({})
        .transform((h) => ({ omega: h.omega, order: h.order ?? (h.zeta !== undefined ? 2 : defaults.order), zeta: h.zeta ?? 1 })),
      limitDeg: positive.max(45).default(defaults.limitDeg),
      mix: mixSchema.default({ [defaults.signal]: 1 } as Record<SignalName, number>),
      deadband: nonNegative.default(0),
      saturation: positive.default(defaults.saturation),
      knee: kneeSchema,
    })
    .prefault({});

export const cueSchema = z
  .strictObject({
    reconstruction: z
      .strictObject({
        mode: z.enum(['hold', 'interpolate', 'predict']).default('interpolate'),
        predictBlendMs: positive.default(12),
      })
      .prefault({}),
    guards: z
      .strictObject({
        /** Source limit for specific force, m/s². */
        accelLimit: positive.default(60),
        /** Source limit for angular velocity, rad/s. */
        rateLimit: positive.default(6),
        steerLimit: positive.default(20),
        speedLimit: positive.default(150),
        /** Jump from the last accepted value that counts as a spike, m/s² (rad/s: scaled by rateLimit/accelLimit). */
        spikeThreshold: positive.default(35),
        spikeHoldMs: nonNegative.default(50),
        blendMs: positive.default(60),
      })
      .prefault({}),
    surge: translational({ signal: 'fx', gain: 0.005, omegaN: 4.2, zeta: 1, omegaB: 0.5, limit: 0.03, saturation: 80 }),
    sway: translational({ signal: 'fy', gain: 0.01994, omegaN: 10, zeta: 1, omegaB: 0.5, limit: 0.03, saturation: 80 }),
    heave: translational({ signal: 'fz', gain: 0.07953, omegaN: 15, zeta: 1, omegaB: 1, limit: 0.02, saturation: 80 }),
    tilt: z
      .strictObject({
        lowpass: z.strictObject({ omegaN: positive.default(11.56), zeta: positive.default(0.8) }).prefault({}),
        rateLimitDegPerS: nonNegative.default(15.85),
        accelLimitDegPerS2: nonNegative.default(1299),
        maxDeg: positive.max(30).default(10),
        pitchGain: z.number().default(1.4),
        rollGain: z.number().default(1),
        /** Fraction of the sustained specific force cued by tilt: tilt = asin(gain · f / g), before pitchGain/rollGain. */
        gain: z.number().min(0).max(1).default(0.01193),
      })
      .prefault({}),
    /**
     * The rig's workspace, shared by the channels: with `shared`, each channel's limit is
     * min(its own limit, the rig's budget for it), the budgets being a box in which every
     * combination of channels is reachable with `marginPct` of each actuator's travel to spare
     * (kinematics/budgets.ts; the control loop derives them from the rig when it builds the chain).
     */
    workspace: z
      .strictObject({
        shared: z.boolean().default(true),
        marginPct: nonNegative.max(20).default(2),
      })
      .prefault({}),
    roll: rotational({ signal: 'p', gain: 0.5097, omega: 3.626, order: 2, limitDeg: 10, saturation: 3 }),
    pitch: rotational({ signal: 'q', gain: 1.5, omega: 12, order: 2, limitDeg: 10, saturation: 3 }),
    yaw: rotational({ signal: 'r', gain: 0.05829, omega: 0.2349, order: 1, limitDeg: 15, saturation: 3 }),
  })
  .prefault({});

export type CueProfile = z.infer<typeof cueSchema>;

/** The profile's own channel limits in pose order: x y z (m), roll pitch yaw (rad). */
export function channelLimits(p: CueProfile): number[] {
  const rad = Math.PI / 180;
  return [p.surge.limit, p.sway.limit, p.heave.limit, p.roll.limitDeg * rad, p.pitch.limitDeg * rad, p.yaw.limitDeg * rad];
}
export type TranslationalSettings = CueProfile['surge'];
export type RotationalSettings = CueProfile['roll'];

/** A profile file: `cue:` now; rig and match keys belong to later stages. */
export const profileFileSchema = z.looseObject({ cue: cueSchema });

/**
 * Every filter frequency the chain designs (chain.ts: the channels' high-passes, the
 * translational washout when omegaB > 0, the tilt low-pass), by key path under `cue`.
 */
export function filterFrequencies(p: CueProfile): { path: string[]; omega: number }[] {
  const out: { path: string[]; omega: number }[] = [];
  for (const axis of ['surge', 'sway', 'heave'] as const) {
    out.push({ path: [axis, 'highpass', 'omegaN'], omega: p[axis].highpass.omegaN });
    if (p[axis].highpass.omegaB > 0) out.push({ path: [axis, 'highpass', 'omegaB'], omega: p[axis].highpass.omegaB });
  }
  for (const axis of ['roll', 'pitch', 'yaw'] as const) out.push({ path: [axis, 'highpass', 'omega'], omega: p[axis].highpass.omega });
  out.push({ path: ['tilt', 'lowpass', 'omegaN'], omega: p.tilt.lowpass.omegaN });
  return out;
}

/**
 * The cue schema at a loop rate: also refuses, by key, whatever `new CueingChain(profile,
 * rateHz)` would throw on (a filter frequency at or above Nyquist, a rate outside the range).
 */
export function cueSchemaAt(rateHz: number) {
  return cueSchema.superRefine((p, ctx) => {
    if (!isLoopRate(rateHz)) ctx.addIssue({ code: 'custom', path: [], message: `loop.rateHz ${rateHz} is outside ${LOOP_RATE_RANGE}` });
    for (const { path, omega } of filterFrequencies(p)) {
      const message = filterFrequencyProblem(omega, rateHz);
      if (message !== undefined) ctx.addIssue({ code: 'custom', path, message });
    }
    // Only on an otherwise valid profile: the other checks have said what is wrong with the rest.
  }, { when: (payload) => payload.issues.length === 0 });
}

/** A profile file whose cue the chain can build at `rateHz`. */
export function profileFileSchemaAt(rateHz: number) {
  return z.looseObject({ cue: cueSchemaAt(rateHz) });
}

export function defaultCueProfile(): CueProfile {
  return cueSchema.parse({});
}
