import { z } from 'zod';

/**
 * The rig description (`rig:` in a rig file or in the service config), as a rig owner
 * measures it: metres and radians, base frame x forward, y left, z up, origin on the floor
 * (or wherever the owner likes: only differences matter), platform frame with its origin at
 * the centre of rotation. Anchors given explicitly (`base`, `platform`) always win over the
 * generators (radii, spacings, length/width).
 *
 * This is the shape only; `rigSchema` in `rig-file.ts` adds the cross-field checks (anchor
 * counts, keys that apply to the type, a reachable neutral pose).
 */

const finite = z.number().finite();
const positive = z.number().positive().finite();
const point = z.tuple([finite, finite, finite]);

export const RIG_TYPES = ['stewart-linear', 'stewart-rotary', 'three-actuator', 'two-actuator', 'four-corner'] as const;
export type RigType = (typeof RIG_TYPES)[number];

/** Travel and motion limits of one kind of actuator, in its own unit (m of stroke, or rad of crank). */
export const actuatorLimitsSchema = z
  .strictObject({
    min: finite,
    max: finite,
    /** Kept free at each end of the travel, % of (max − min). The limiter and reachability both use [min + margin, max − margin]. */
    marginPct: z.number().min(0).max(45).default(3),
    /** Per second, actuator units (m/s or rad/s). */
    maxVelocity: positive,
    /** Per second², actuator units. */
    maxAcceleration: positive,
    /** Where the actuator rests when parked; default: the low end of the usable travel (min + margin). */
    park: finite.optional(),
  })
  .refine((a) => a.max > a.min, { message: 'max must be greater than min', path: ['max'] });

export type ActuatorLimits = z.infer<typeof actuatorLimitsSchema>;

export const rigSpecSchema = z.strictObject({
  type: z.enum(RIG_TYPES),
  /** Free text shown in logs and the status view. */
  name: z.string().optional(),
  /** z of the platform frame origin above the base frame origin at the neutral pose (m); the pivot height for two-actuator. */
  homeHeight: finite,

  // Explicit geometry (wins over generators).
  /** Lower anchors / crank pivots, base frame (m), one per actuator. */
  base: z.array(point).optional(),
  /** Upper anchors, platform frame (m), same order as `base`. */
  platform: z.array(point).optional(),

  // Hexapod generators: anchors in three pairs on circles; base pairs centred at 0°, 120°, 240° from base x, platform pairs at 60°, 180°, 300°.
  baseRadius: positive.optional(),
  platformRadius: positive.optional(),
  /** Angle between the two anchors of a base pair (rad); default 0.2. */
  baseSpacing: z.number().min(0).max(Math.PI / 1.5).optional(),
  /** Angle between the two anchors of a platform pair (rad); default 0.2. */
  platformSpacing: z.number().min(0).max(Math.PI / 1.5).optional(),

  // Generators for the 2-, 3- and 4-actuator rigs.
  /** four-corner and three-actuator: distance between front and rear actuators (m). */
  length: positive.optional(),
  /** Distance between left and right actuators (m). */
  width: positive.optional(),
  /** three-actuator: which end has the pair (the single actuator sits on the centre line at the other end). */
  pair: z.enum(['front', 'rear']).default('front'),
  /** two-actuator: x of the actuator pair relative to the pivot (m; negative = behind the seat pivot). */
  actuatorX: finite.optional(),

  /** three-actuator and two-actuator: linear actuators along the leg, or cranks with rods. */
  actuator: z.enum(['linear', 'crank']).optional(),

  // Linear actuators (stewart-linear, four-corner, linear three-/two-actuator).
  /** Pin-to-pin leg length at zero extension (m); default: the neutral pose sits at mid-travel. */
  retractedLength: positive.optional(),

  // Cranks (stewart-rotary, crank three-/two-actuator).
  hornLength: positive.optional(),
  rodLength: positive.optional(),
  /** Horn plane angle per crank, about z from base x (rad). Default for generated hexapods: tangential, each horn toward its own platform anchor; for the small rigs, pointing forward (0). */
  hornAngles: z.array(finite).optional(),

  actuators: actuatorLimitsSchema,
  /** Optional yaw / traction-loss table driven by the pose's yaw channel (rad). With it, the legs no longer see yaw. */
  yaw: actuatorLimitsSchema.optional(),
});

export type RigSpec = z.infer<typeof rigSpecSchema>;
