import type { StructDef } from './struct.js';

/**
 * The F1 UDP packets as tables (see struct.ts): the headers of every format and the motion
 * packets of F1 2018–2024, field by field; the other seven F1 2018 packet types are in
 * layout-2018.ts. Names are the reference document's without the `m_` prefix.
 * Little-endian, packed.
 *
 * Frames (measured on the captures in ../shared/data/f1, see docs/f1.md):
 * - World: right-handed, y up. A car facing +z has its right side toward −x.
 * - Car-local (local velocity, angular velocity): x left, y up, z forward, right-handed.
 * - g-forces: acceleration, gravity excluded, in g: lateral + toward the car's left,
 *   longitudinal + forward (negative when braking), vertical + up (≈ 0 at rest).
 *
 * Wheel arrays are in the game's order: rear left, rear right, front left, front right
 * (RL, RR, FL, FR), unlike GT7's FL, FR, RL, RR.
 */

export const WHEEL_ORDER = ['RL', 'RR', 'FL', 'FR'] as const;

// ---- headers --------------------------------------------------------------------------

const FORMAT_FIELD = { name: 'packetFormat', type: 'u16', doc: 'game year of the format: 2018, 2019, …' } as const;
const SESSION_FIELDS = [
  { name: 'sessionUID', type: 'u64', doc: 'unique identifier of the session' },
  { name: 'sessionTime', type: 'f32', unit: 's', doc: 'session timestamp' },
  { name: 'frameIdentifier', type: 'u32', doc: 'frame the data was retrieved on; goes back after a flashback' },
] as const;

/** F1 2018: 21 bytes. */
export const HEADER_2018 = {
  name: 'PacketHeader2018',
  fields: [
    FORMAT_FIELD,
    { name: 'packetVersion', type: 'u8', doc: 'version of this packet type, starts from 1' },
    { name: 'packetId', type: 'u8', doc: 'packet type, see PACKET_IDS' },
    ...SESSION_FIELDS,
    { name: 'playerCarIndex', type: 'u8', doc: "index of the player's car in the arrays" },
  ],
} as const satisfies StructDef;

/** F1 2019: 23 bytes (game version added). */
export const HEADER_2019 = {
  name: 'PacketHeader2019',
  fields: [
    FORMAT_FIELD,
    { name: 'gameMajorVersion', type: 'u8', doc: 'game major version, "X.00"' },
    { name: 'gameMinorVersion', type: 'u8', doc: 'game minor version, "1.XX"' },
    { name: 'packetVersion', type: 'u8', doc: 'version of this packet type' },
    { name: 'packetId', type: 'u8', doc: 'packet type' },
    ...SESSION_FIELDS,
    { name: 'playerCarIndex', type: 'u8', doc: "index of the player's car in the arrays" },
  ],
} as const satisfies StructDef;

/** F1 2020–2022: 24 bytes (second player for split screen). */
export const HEADER_2020 = {
  name: 'PacketHeader2020',
  fields: [...HEADER_2019.fields, { name: 'secondaryPlayerCarIndex', type: 'u8', doc: 'split-screen second player; 255 when none' }],
} as const satisfies StructDef;

/** F1 23 and F1 24: 29 bytes (game year, overall frame counter). */
export const HEADER_2023 = {
  name: 'PacketHeader2023',
  fields: [
    FORMAT_FIELD,
    { name: 'gameYear', type: 'u8', doc: 'last two digits of the game year, e.g. 23' },
    { name: 'gameMajorVersion', type: 'u8', doc: 'game major version' },
    { name: 'gameMinorVersion', type: 'u8', doc: 'game minor version' },
    { name: 'packetVersion', type: 'u8', doc: 'version of this packet type' },
    { name: 'packetId', type: 'u8', doc: 'packet type' },
    ...SESSION_FIELDS,
    { name: 'overallFrameIdentifier', type: 'u32', doc: 'frame counter that does not go back after a flashback' },
    { name: 'playerCarIndex', type: 'u8', doc: "index of the player's car in the arrays" },
    { name: 'secondaryPlayerCarIndex', type: 'u8', doc: 'split-screen second player; 255 when none' },
  ],
} as const satisfies StructDef;

// ---- motion (id 0), same car struct in every format --------------------------------------

export const CAR_MOTION = {
  name: 'CarMotionData',
  fields: [
    { name: 'worldPositionX', type: 'f32', unit: 'm', doc: 'world position' },
    { name: 'worldPositionY', type: 'f32', unit: 'm', doc: 'world position (y up)' },
    { name: 'worldPositionZ', type: 'f32', unit: 'm', doc: 'world position' },
    { name: 'worldVelocityX', type: 'f32', unit: 'm/s', doc: 'world velocity' },
    { name: 'worldVelocityY', type: 'f32', unit: 'm/s', doc: 'world velocity' },
    { name: 'worldVelocityZ', type: 'f32', unit: 'm/s', doc: 'world velocity' },
    { name: 'worldForwardDirX', type: 'dir16', unit: '1', doc: 'unit forward vector in world space, sent as i16 / 32767' },
    { name: 'worldForwardDirY', type: 'dir16', unit: '1', doc: 'unit forward vector in world space, sent as i16 / 32767' },
    { name: 'worldForwardDirZ', type: 'dir16', unit: '1', doc: 'unit forward vector in world space, sent as i16 / 32767' },
    { name: 'worldRightDirX', type: 'dir16', unit: '1', doc: 'unit right vector in world space, sent as i16 / 32767' },
    { name: 'worldRightDirY', type: 'dir16', unit: '1', doc: 'unit right vector in world space, sent as i16 / 32767' },
    { name: 'worldRightDirZ', type: 'dir16', unit: '1', doc: 'unit right vector in world space, sent as i16 / 32767' },
    { name: 'gForceLateral', type: 'f32', unit: 'g', doc: 'acceleration toward the car’s left, gravity excluded' },
    { name: 'gForceLongitudinal', type: 'f32', unit: 'g', doc: 'acceleration forward, gravity excluded (negative braking)' },
    { name: 'gForceVertical', type: 'f32', unit: 'g', doc: 'acceleration up, gravity excluded (≈ 0 at rest)' },
    { name: 'yaw', type: 'f32', unit: 'rad', doc: 'heading, atan2(forward x, forward z)' },
    { name: 'pitch', type: 'f32', unit: 'rad', doc: 'as the game reports it (not used: orientation comes from the direction vectors)' },
    { name: 'roll', type: 'f32', unit: 'rad', doc: 'as the game reports it (not used: orientation comes from the direction vectors)' },
  ],
} as const satisfies StructDef;

/** A four-wheel f32 array, in the game's wheel order. */
export const wheels = <N extends string>(name: N, unit: string, doc: string) => ({ name, type: 'f32', count: 4, unit, doc: `${doc}; RL, RR, FL, FR` }) as const;

/** The player-only tail of the motion packet (2018–2022) and the start of motion-ex (2023+). */
const PLAYER_SUSPENSION = [
  wheels('suspensionPosition', 'mm', 'suspension travel (unit not stated by the game; values fit mm)'),
  wheels('suspensionVelocity', 'mm/s', 'suspension velocity'),
  wheels('suspensionAcceleration', 'mm/s²', 'suspension acceleration'),
  wheels('wheelSpeed', 'm/s', 'wheel surface speed'),
] as const;
const PLAYER_BODY = [
  { name: 'localVelocityX', type: 'f32', unit: 'm/s', doc: 'velocity in the car frame, + left' },
  { name: 'localVelocityY', type: 'f32', unit: 'm/s', doc: 'velocity in the car frame, + up' },
  { name: 'localVelocityZ', type: 'f32', unit: 'm/s', doc: 'velocity in the car frame, + forward' },
  { name: 'angularVelocityX', type: 'f32', unit: 'rad/s', doc: 'about the car’s left axis (pitch rate, + nose down)' },
  { name: 'angularVelocityY', type: 'f32', unit: 'rad/s', doc: 'about the car’s up axis (yaw rate, + turning left)' },
  { name: 'angularVelocityZ', type: 'f32', unit: 'rad/s', doc: 'about the car’s forward axis (roll rate, + right side down)' },
  { name: 'angularAccelerationX', type: 'f32', unit: 'rad/s²', doc: 'derivative of angularVelocityX' },
  { name: 'angularAccelerationY', type: 'f32', unit: 'rad/s²', doc: 'derivative of angularVelocityY' },
  { name: 'angularAccelerationZ', type: 'f32', unit: 'rad/s²', doc: 'derivative of angularVelocityZ' },
  { name: 'frontWheelsAngle', type: 'f32', unit: 'rad', doc: 'road-wheel steering angle (+ left assumed, see docs/f1.md)' },
] as const;
const PLAYER_MOTION = [...PLAYER_SUSPENSION, wheels('wheelSlip', '1', 'slip ratio'), ...PLAYER_BODY] as const;

/** F1 2018 motion: 1341 bytes. */
export const MOTION_2018 = {
  name: 'PacketMotionData2018',
  fields: [{ name: 'header', type: HEADER_2018 }, { name: 'carMotionData', type: CAR_MOTION, count: 20 }, ...PLAYER_MOTION],
} as const satisfies StructDef;

/** F1 2019 motion: 1343 bytes. */
export const MOTION_2019 = {
  name: 'PacketMotionData2019',
  fields: [{ name: 'header', type: HEADER_2019 }, { name: 'carMotionData', type: CAR_MOTION, count: 20 }, ...PLAYER_MOTION],
} as const satisfies StructDef;

/** F1 2020, F1 2021, F1 22 motion: 1464 bytes (22 cars). */
export const MOTION_2020 = {
  name: 'PacketMotionData2020',
  fields: [{ name: 'header', type: HEADER_2020 }, { name: 'carMotionData', type: CAR_MOTION, count: 22 }, ...PLAYER_MOTION],
} as const satisfies StructDef;

/** F1 23 and F1 24 motion: 1349 bytes; the player-only data moved to motion-ex (id 13). */
export const MOTION_2023 = {
  name: 'PacketMotionData2023',
  fields: [{ name: 'header', type: HEADER_2023 }, { name: 'carMotionData', type: CAR_MOTION, count: 22 }],
} as const satisfies StructDef;

const MOTION_EX_2023_FIELDS = [
  ...PLAYER_SUSPENSION,
  wheels('wheelSlipRatio', '1', 'slip ratio'),
  wheels('wheelSlipAngle', 'rad', 'slip angle'),
  wheels('wheelLatForce', 'N', 'lateral force'),
  wheels('wheelLongForce', 'N', 'longitudinal force'),
  { name: 'heightOfCOGAboveGround', type: 'f32', unit: 'm', doc: 'centre of gravity above the ground' },
  ...PLAYER_BODY,
  wheels('wheelVertForce', 'N', 'vertical force'),
] as const;

/** F1 23 motion-ex (player only): 217 bytes. */
export const MOTION_EX_2023 = {
  name: 'PacketMotionExData2023',
  fields: [{ name: 'header', type: HEADER_2023 }, ...MOTION_EX_2023_FIELDS],
} as const satisfies StructDef;

/** F1 24 motion-ex: 237 bytes (aero heights, axle roll, chassis yaw added). */
export const MOTION_EX_2024 = {
  name: 'PacketMotionExData2024',
  fields: [
    { name: 'header', type: HEADER_2023 },
    ...MOTION_EX_2023_FIELDS,
    { name: 'frontAeroHeight', type: 'f32', unit: 'm', doc: 'front plank edge height above the road' },
    { name: 'rearAeroHeight', type: 'f32', unit: 'm', doc: 'rear plank edge height above the road' },
    { name: 'frontRollAngle', type: 'f32', unit: 'rad', doc: 'roll angle of the front suspension' },
    { name: 'rearRollAngle', type: 'f32', unit: 'rad', doc: 'roll angle of the rear suspension' },
    { name: 'chassisYaw', type: 'f32', unit: 'rad', doc: 'yaw of the chassis relative to the direction of motion' },
  ],
} as const satisfies StructDef;
