import type { Heartbeat } from './formats.js';

/**
 * Every field of the GT7 Simulator Interface packet, as one table that both the decoder
 * and the simulator's encoder walk, so the two cannot drift apart. Offsets are bytes from
 * the start of the decrypted packet, little-endian. Frame: GT7 car-local is x right, y up,
 * z backward; world vectors are in the game's world frame (y up).
 *
 * Names and units follow TELEMETRY-NOTES.md, which corrects common naming: 0x1C is a
 * quaternion (not pitch/yaw/roll), 0x2C is angular velocity in rad/s in the car frame,
 * B-format sway/heave/surge are m/s² without gravity.
 */

export type FieldType = 'f32' | 'i32' | 'i16' | 'u16' | 'u8';

export interface FieldDef {
  /** Key in the decoded packet (and in `decode --json`). */
  readonly name: string;
  readonly offset: number;
  readonly type: FieldType;
  /** Array length for vector fields; absent for scalars. */
  readonly count?: number;
  /** Format that introduced the field. */
  readonly since: Heartbeat;
  readonly unit: string;
  readonly doc: string;
}

export const FIELDS: readonly FieldDef[] = [
  { name: 'magic', offset: 0x00, type: 'i32', since: 'A', unit: '', doc: '0x47375330 ("0S7G") for GT7 and GT Sport' },
  { name: 'position', offset: 0x04, type: 'f32', count: 3, since: 'A', unit: 'm', doc: 'world position' },
  { name: 'velocity', offset: 0x10, type: 'f32', count: 3, since: 'A', unit: 'm/s', doc: 'world velocity' },
  { name: 'rotation', offset: 0x1c, type: 'f32', count: 4, since: 'A', unit: '', doc: 'unit quaternion (x, y, z, w) rotating car-local into world' },
  { name: 'angularVelocity', offset: 0x2c, type: 'f32', count: 3, since: 'A', unit: 'rad/s', doc: 'car-local frame' },
  { name: 'bodyHeight', offset: 0x38, type: 'f32', since: 'A', unit: 'm', doc: 'ride height' },
  { name: 'engineRpm', offset: 0x3c, type: 'f32', since: 'A', unit: 'rpm', doc: '' },
  // 0x40..0x43: the seed in the ciphertext, keystream garbage once decrypted.
  { name: 'fuelLevel', offset: 0x44, type: 'f32', since: 'A', unit: 'L', doc: 'gas level (or battery %)' },
  { name: 'fuelCapacity', offset: 0x48, type: 'f32', since: 'A', unit: 'L', doc: '100 for EVs, 5 for karts' },
  { name: 'speed', offset: 0x4c, type: 'f32', since: 'A', unit: 'm/s', doc: '' },
  { name: 'turboBoost', offset: 0x50, type: 'f32', since: 'A', unit: 'bar', doc: 'absolute; subtract 1 for gauge boost' },
  { name: 'oilPressure', offset: 0x54, type: 'f32', since: 'A', unit: 'bar', doc: '' },
  { name: 'waterTemperature', offset: 0x58, type: 'f32', since: 'A', unit: '°C', doc: '' },
  { name: 'oilTemperature', offset: 0x5c, type: 'f32', since: 'A', unit: '°C', doc: '' },
  { name: 'tyreTemp', offset: 0x60, type: 'f32', count: 4, since: 'A', unit: '°C', doc: 'surface temperature FL, FR, RL, RR' },
  { name: 'packetId', offset: 0x70, type: 'i32', since: 'A', unit: '', doc: 'increments once per physics frame' },
  { name: 'lapCount', offset: 0x74, type: 'i16', since: 'A', unit: '', doc: 'current lap; -1 or 0 outside a race' },
  { name: 'lapsInRace', offset: 0x76, type: 'i16', since: 'A', unit: '', doc: '0 in time trials' },
  { name: 'bestLapTime', offset: 0x78, type: 'i32', since: 'A', unit: 'ms', doc: '-1 when none' },
  { name: 'lastLapTime', offset: 0x7c, type: 'i32', since: 'A', unit: 'ms', doc: '-1 when none' },
  { name: 'timeOfDay', offset: 0x80, type: 'i32', since: 'A', unit: 'ms', doc: 'time of day on track' },
  { name: 'preRaceStartPosition', offset: 0x84, type: 'i16', since: 'A', unit: '', doc: 'grid or qualifying position before the race; -1 in race' },
  { name: 'numCarsAtPreRace', offset: 0x86, type: 'i16', since: 'A', unit: '', doc: '-1 in race' },
  { name: 'minAlertRpm', offset: 0x88, type: 'i16', since: 'A', unit: 'rpm', doc: 'shift light starts' },
  { name: 'maxAlertRpm', offset: 0x8a, type: 'i16', since: 'A', unit: 'rpm', doc: 'shift light full' },
  { name: 'calculatedMaxSpeed', offset: 0x8c, type: 'i16', since: 'A', unit: 'km/h', doc: 'top speed at current gearing' },
  { name: 'flags', offset: 0x8e, type: 'u16', since: 'A', unit: '', doc: 'bit field, see FLAG_BITS' },
  { name: 'gearByte', offset: 0x90, type: 'u8', since: 'A', unit: '', doc: 'low nibble current gear, high nibble suggested gear (15 = none)' },
  { name: 'throttle', offset: 0x91, type: 'u8', since: 'A', unit: '0..255', doc: 'throttle after aids' },
  { name: 'brake', offset: 0x92, type: 'u8', since: 'A', unit: '0..255', doc: 'brake pedal' },
  { name: 'unknown0x93', offset: 0x93, type: 'u8', since: 'A', unit: '', doc: 'unused' },
  { name: 'roadPlane', offset: 0x94, type: 'f32', count: 3, since: 'A', unit: '', doc: 'road plane normal' },
  { name: 'roadPlaneDistance', offset: 0xa0, type: 'f32', since: 'A', unit: 'm', doc: '' },
  { name: 'wheelRevPerSecond', offset: 0xa4, type: 'f32', count: 4, since: 'A', unit: 'rad/s', doc: 'FL, FR, RL, RR; negative when rolling forward' },
  { name: 'tyreRadius', offset: 0xb4, type: 'f32', count: 4, since: 'A', unit: 'm', doc: 'FL, FR, RL, RR' },
  { name: 'suspensionHeight', offset: 0xc4, type: 'f32', count: 4, since: 'A', unit: 'm', doc: 'FL, FR, RL, RR' },
  { name: 'unknown0xD4', offset: 0xd4, type: 'f32', count: 8, since: 'A', unit: '', doc: 'unused, always zero so far' },
  { name: 'clutchPedal', offset: 0xf4, type: 'f32', since: 'A', unit: '0..1', doc: '' },
  { name: 'clutchEngagement', offset: 0xf8, type: 'f32', since: 'A', unit: '0..1', doc: '' },
  { name: 'rpmClutchToGearbox', offset: 0xfc, type: 'f32', since: 'A', unit: 'rpm', doc: '' },
  { name: 'transmissionTopSpeed', offset: 0x100, type: 'f32', since: 'A', unit: '', doc: 'top speed gear ratio' },
  { name: 'gearRatios', offset: 0x104, type: 'f32', count: 8, since: 'A', unit: '', doc: 'gears 1..8' },
  { name: 'carCode', offset: 0x124, type: 'i32', since: 'A', unit: '', doc: 'car id; overwritten by a 9th gear ratio on cars with more than 8 gears' },
  // B
  { name: 'wheelRotation', offset: 0x128, type: 'f32', since: 'B', unit: 'rad', doc: 'steering-wheel angle' },
  { name: 'wheelRotationRate', offset: 0x12c, type: 'f32', since: 'B', unit: 'rad/s', doc: 'derivative of wheelRotation' },
  { name: 'sway', offset: 0x130, type: 'f32', since: 'B', unit: 'm/s²', doc: 'car-frame lateral acceleration, + toward the right, gravity excluded' },
  { name: 'heave', offset: 0x134, type: 'f32', since: 'B', unit: 'm/s²', doc: 'car-frame vertical acceleration, + up, gravity excluded' },
  { name: 'surge', offset: 0x138, type: 'f32', since: 'B', unit: 'm/s²', doc: 'car-frame longitudinal acceleration, + forward, gravity excluded' },
  // ~
  { name: 'throttleInput', offset: 0x13c, type: 'u8', since: '~', unit: '0..255', doc: 'throttle pedal before aids' },
  { name: 'brakeOutput', offset: 0x13d, type: 'u8', since: '~', unit: '0..255', doc: 'brake after ABS' },
  { name: 'unknown0x13E', offset: 0x13e, type: 'u8', since: '~', unit: '', doc: '' },
  { name: 'unknown0x13F', offset: 0x13f, type: 'u8', since: '~', unit: '', doc: '' },
  { name: 'unknown0x140', offset: 0x140, type: 'f32', count: 4, since: '~', unit: '', doc: 'only the first two seen non-zero' },
  { name: 'energyRecovery', offset: 0x150, type: 'f32', since: '~', unit: '', doc: '' },
  { name: 'unknown0x154', offset: 0x154, type: 'f32', since: '~', unit: '', doc: '' },
  // C
  { name: 'surfaceCodes', offset: 0x158, type: 'u8', count: 4, since: 'C', unit: 'ASCII', doc: 'FL FR RL RR: T tarmac, C kerb, G grass, D dirt, S sand' },
  { name: 'currentLapTime', offset: 0x15c, type: 'i32', since: 'C', unit: 'ms', doc: '' },
  { name: 'wheelSteerAngleFL', offset: 0x160, type: 'f32', since: 'C', unit: 'rad', doc: 'front-left road-wheel angle' },
  { name: 'wheelSteerAngleFR', offset: 0x164, type: 'f32', since: 'C', unit: 'rad', doc: 'front-right road-wheel angle' },
  { name: 'unknown0x168', offset: 0x168, type: 'f32', since: 'C', unit: '', doc: '' },
  { name: 'carCategoryCodes', offset: 0x16c, type: 'u8', count: 4, since: 'C', unit: 'ASCII', doc: 'car category, NUL-terminated' },
];

/** Bits of the 0x8E flags word. */
export const FLAG_BITS = {
  carOnTrack: 0,
  paused: 1,
  loadingOrProcessing: 2,
  inGear: 3,
  hasTurbo: 4,
  revLimiterAlert: 5,
  handbrake: 6,
  lights: 7,
  highBeam: 8,
  lowBeam: 9,
  asm: 10,
  tcs: 11,
} as const;

export type FlagName = keyof typeof FLAG_BITS;
