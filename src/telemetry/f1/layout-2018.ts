import { HEADER_2018, wheels } from './layout.js';
import type { StructDef } from './struct.js';

/**
 * F1 2018's packet types other than motion (ids 1–7: session, lap data, event,
 * participants, car setups, car telemetry, car status) as tables (see struct.ts). Frames,
 * units and the wheel order are as in layout.ts, which has the header and the motion packets.
 */

export const MARSHAL_ZONE = {
  name: 'MarshalZone',
  fields: [
    { name: 'zoneStart', type: 'f32', unit: '0..1', doc: 'fraction of the lap where the zone starts' },
    { name: 'zoneFlag', type: 'i8', doc: '-1 invalid/unknown, 0 none, 1 green, 2 blue, 3 yellow, 4 red' },
  ],
} as const satisfies StructDef;

/** Session (id 1): 147 bytes. */
export const SESSION_2018 = {
  name: 'PacketSessionData2018',
  fields: [
    { name: 'header', type: HEADER_2018 },
    { name: 'weather', type: 'u8', doc: '0 clear, 1 light cloud, 2 overcast, 3 light rain, 4 heavy rain, 5 storm' },
    { name: 'trackTemperature', type: 'i8', unit: '°C', doc: 'track temperature' },
    { name: 'airTemperature', type: 'i8', unit: '°C', doc: 'air temperature' },
    { name: 'totalLaps', type: 'u8', doc: 'laps in this race' },
    { name: 'trackLength', type: 'u16', unit: 'm', doc: 'track length' },
    { name: 'sessionType', type: 'u8', doc: '0 unknown, 1 P1, 2 P2, 3 P3, 4 short P, 5 Q1, 6 Q2, 7 Q3, 8 short Q, 9 one-shot Q, 10 race, 11 race 2, 12 time trial' },
    { name: 'trackId', type: 'i8', doc: '-1 unknown, 0 Melbourne, 1 Paul Ricard, …' },
    { name: 'era', type: 'u8', doc: '0 modern, 1 classic' },
    { name: 'sessionTimeLeft', type: 'u16', unit: 's', doc: 'time left in the session' },
    { name: 'sessionDuration', type: 'u16', unit: 's', doc: 'session duration' },
    { name: 'pitSpeedLimit', type: 'u8', unit: 'km/h', doc: 'pit speed limit' },
    { name: 'gamePaused', type: 'u8', doc: '1 while the game is paused' },
    { name: 'isSpectating', type: 'u8', doc: '1 while the player is spectating' },
    { name: 'spectatorCarIndex', type: 'u8', doc: 'index of the car being spectated' },
    { name: 'sliProNativeSupport', type: 'u8', doc: 'SLI Pro support: 0 inactive, 1 active' },
    { name: 'numMarshalZones', type: 'u8', doc: 'marshal zones that follow' },
    { name: 'marshalZones', type: MARSHAL_ZONE, count: 21, doc: 'at most 21' },
    { name: 'safetyCarStatus', type: 'u8', doc: '0 none, 1 full safety car, 2 virtual safety car' },
    { name: 'networkGame', type: 'u8', doc: '0 offline, 1 online' },
  ],
} as const satisfies StructDef;

export const LAP_DATA = {
  name: 'LapData2018',
  fields: [
    { name: 'lastLapTime', type: 'f32', unit: 's', doc: 'last lap time' },
    { name: 'currentLapTime', type: 'f32', unit: 's', doc: 'time around the current lap' },
    { name: 'bestLapTime', type: 'f32', unit: 's', doc: 'best lap time of the session' },
    { name: 'sector1Time', type: 'f32', unit: 's', doc: 'sector 1 time' },
    { name: 'sector2Time', type: 'f32', unit: 's', doc: 'sector 2 time' },
    { name: 'lapDistance', type: 'f32', unit: 'm', doc: 'distance around the current lap; negative before the line is crossed' },
    { name: 'totalDistance', type: 'f32', unit: 'm', doc: 'distance in the session; negative before the line is crossed' },
    { name: 'safetyCarDelta', type: 'f32', unit: 's', doc: 'delta to the safety car' },
    { name: 'carPosition', type: 'u8', doc: 'race position' },
    { name: 'currentLapNum', type: 'u8', doc: 'current lap number' },
    { name: 'pitStatus', type: 'u8', doc: '0 none, 1 pitting, 2 in pit area' },
    { name: 'sector', type: 'u8', doc: '0 sector 1, 1 sector 2, 2 sector 3' },
    { name: 'currentLapInvalid', type: 'u8', doc: '0 valid, 1 invalid' },
    { name: 'penalties', type: 'u8', unit: 's', doc: 'accumulated time penalties' },
    { name: 'gridPosition', type: 'u8', doc: 'grid position the car started the race in' },
    { name: 'driverStatus', type: 'u8', doc: '0 in garage, 1 flying lap, 2 in lap, 3 out lap, 4 on track' },
    { name: 'resultStatus', type: 'u8', doc: '0 invalid, 1 inactive, 2 active, 3 finished, 4 disqualified, 5 not classified, 6 retired' },
  ],
} as const satisfies StructDef;

/** Lap data (id 2): 841 bytes. */
export const LAP_DATA_2018 = {
  name: 'PacketLapData2018',
  fields: [{ name: 'header', type: HEADER_2018 }, { name: 'lapData', type: LAP_DATA, count: 20 }],
} as const satisfies StructDef;

/** Event (id 3): 25 bytes. */
export const EVENT_2018 = {
  name: 'PacketEventData2018',
  fields: [{ name: 'header', type: HEADER_2018 }, { name: 'eventStringCode', type: 'char', count: 4, doc: '"SSTA" session started, "SEND" session ended' }],
} as const satisfies StructDef;

export const PARTICIPANT = {
  name: 'ParticipantData2018',
  fields: [
    { name: 'aiControlled', type: 'u8', doc: '1 AI, 0 human' },
    { name: 'driverId', type: 'u8', doc: 'driver id (game table)' },
    { name: 'teamId', type: 'u8', doc: 'team id (game table); the car id motion-rig matches profiles on' },
    { name: 'raceNumber', type: 'u8', doc: 'race number of the car' },
    { name: 'nationality', type: 'u8', doc: 'nationality id (game table)' },
    { name: 'name', type: 'char', count: 48, doc: 'driver name, UTF-8, NUL-terminated' },
  ],
} as const satisfies StructDef;

/** Participants (id 4): 1082 bytes. */
export const PARTICIPANTS_2018 = {
  name: 'PacketParticipantsData2018',
  fields: [{ name: 'header', type: HEADER_2018 }, { name: 'numCars', type: 'u8', doc: 'active cars in the data' }, { name: 'participants', type: PARTICIPANT, count: 20 }],
} as const satisfies StructDef;

export const CAR_SETUP = {
  name: 'CarSetupData2018',
  fields: [
    { name: 'frontWing', type: 'u8', doc: 'front wing aero' },
    { name: 'rearWing', type: 'u8', doc: 'rear wing aero' },
    { name: 'onThrottle', type: 'u8', unit: '%', doc: 'differential adjustment on throttle' },
    { name: 'offThrottle', type: 'u8', unit: '%', doc: 'differential adjustment off throttle' },
    { name: 'frontCamber', type: 'f32', unit: '°', doc: 'front camber angle' },
    { name: 'rearCamber', type: 'f32', unit: '°', doc: 'rear camber angle' },
    { name: 'frontToe', type: 'f32', unit: '°', doc: 'front toe angle' },
    { name: 'rearToe', type: 'f32', unit: '°', doc: 'rear toe angle' },
    { name: 'frontSuspension', type: 'u8', doc: 'front suspension stiffness setting' },
    { name: 'rearSuspension', type: 'u8', doc: 'rear suspension stiffness setting' },
    { name: 'frontAntiRollBar', type: 'u8', doc: 'front anti-roll bar setting' },
    { name: 'rearAntiRollBar', type: 'u8', doc: 'rear anti-roll bar setting' },
    { name: 'frontSuspensionHeight', type: 'u8', doc: 'front ride height setting' },
    { name: 'rearSuspensionHeight', type: 'u8', doc: 'rear ride height setting' },
    { name: 'brakePressure', type: 'u8', unit: '%', doc: 'brake pressure' },
    { name: 'brakeBias', type: 'u8', unit: '%', doc: 'brake bias' },
    { name: 'frontTyrePressure', type: 'f32', unit: 'psi', doc: 'front tyre pressure' },
    { name: 'rearTyrePressure', type: 'f32', unit: 'psi', doc: 'rear tyre pressure' },
    { name: 'ballast', type: 'u8', doc: 'ballast setting' },
    { name: 'fuelLoad', type: 'f32', unit: 'kg', doc: 'fuel load' },
  ],
} as const satisfies StructDef;

/** Car setups (id 5): 841 bytes. */
export const CAR_SETUPS_2018 = {
  name: 'PacketCarSetupData2018',
  fields: [{ name: 'header', type: HEADER_2018 }, { name: 'carSetups', type: CAR_SETUP, count: 20 }],
} as const satisfies StructDef;

const wheelsU16 = <N extends string>(name: N, unit: string, doc: string) => ({ name, type: 'u16', count: 4, unit, doc: `${doc}; RL, RR, FL, FR` }) as const;

export const CAR_TELEMETRY = {
  name: 'CarTelemetryData2018',
  fields: [
    { name: 'speed', type: 'u16', unit: 'km/h', doc: 'speed of the car' },
    { name: 'throttle', type: 'u8', unit: '0..100', doc: 'throttle applied' },
    { name: 'steer', type: 'i8', unit: '-100..100', doc: 'steering: -100 full lock left, 100 full lock right' },
    { name: 'brake', type: 'u8', unit: '0..100', doc: 'brake applied' },
    { name: 'clutch', type: 'u8', unit: '0..100', doc: 'clutch applied' },
    { name: 'gear', type: 'i8', doc: '1..8, 0 neutral, -1 reverse' },
    { name: 'engineRPM', type: 'u16', unit: 'rpm', doc: 'engine speed' },
    { name: 'drs', type: 'u8', doc: '0 off, 1 on' },
    { name: 'revLightsPercent', type: 'u8', unit: '%', doc: 'rev lights indicator' },
    wheelsU16('brakesTemperature', '°C', 'brake temperature'),
    wheelsU16('tyresSurfaceTemperature', '°C', 'tyre surface temperature'),
    wheelsU16('tyresInnerTemperature', '°C', 'tyre inner temperature'),
    { name: 'engineTemperature', type: 'u16', unit: '°C', doc: 'engine temperature' },
    wheels('tyresPressure', 'psi', 'tyre pressure'),
  ],
} as const satisfies StructDef;

/** Car telemetry (id 6): 1085 bytes. */
export const CAR_TELEMETRY_2018 = {
  name: 'PacketCarTelemetryData2018',
  fields: [
    { name: 'header', type: HEADER_2018 },
    { name: 'carTelemetryData', type: CAR_TELEMETRY, count: 20 },
    { name: 'buttonStatus', type: 'u32', doc: 'bit flags of the buttons pressed now' },
  ],
} as const satisfies StructDef;

const wheelsU8 = <N extends string>(name: N, unit: string, doc: string) => ({ name, type: 'u8', count: 4, unit, doc: `${doc}; RL, RR, FL, FR` }) as const;

export const CAR_STATUS = {
  name: 'CarStatusData2018',
  fields: [
    { name: 'tractionControl', type: 'u8', doc: '0 off … 2 high' },
    { name: 'antiLockBrakes', type: 'u8', doc: '0 off, 1 on' },
    { name: 'fuelMix', type: 'u8', doc: '0 lean, 1 standard, 2 rich, 3 max' },
    { name: 'frontBrakeBias', type: 'u8', unit: '%', doc: 'front brake bias' },
    { name: 'pitLimiterStatus', type: 'u8', doc: '0 off, 1 on' },
    { name: 'fuelInTank', type: 'f32', unit: 'kg', doc: 'current fuel mass' },
    { name: 'fuelCapacity', type: 'f32', unit: 'kg', doc: 'fuel capacity' },
    { name: 'maxRPM', type: 'u16', unit: 'rpm', doc: 'rev limiter' },
    { name: 'idleRPM', type: 'u16', unit: 'rpm', doc: 'idle speed' },
    { name: 'maxGears', type: 'u8', doc: 'number of gears' },
    { name: 'drsAllowed', type: 'u8', doc: '0 not allowed, 1 allowed, 255 (-1) unknown' },
    wheelsU8('tyresWear', '%', 'tyre wear'),
    { name: 'tyreCompound', type: 'u8', doc: 'modern: 0 hyper soft … 6 super hard, 7 inter, 8 wet; classic: 0–6 dry, 7–8 wet' },
    wheelsU8('tyresDamage', '%', 'tyre damage'),
    { name: 'frontLeftWingDamage', type: 'u8', unit: '%', doc: 'front left wing damage' },
    { name: 'frontRightWingDamage', type: 'u8', unit: '%', doc: 'front right wing damage' },
    { name: 'rearWingDamage', type: 'u8', unit: '%', doc: 'rear wing damage' },
    { name: 'engineDamage', type: 'u8', unit: '%', doc: 'engine damage' },
    { name: 'gearBoxDamage', type: 'u8', unit: '%', doc: 'gearbox damage' },
    { name: 'exhaustDamage', type: 'u8', unit: '%', doc: 'exhaust damage' },
    { name: 'vehicleFiaFlags', type: 'i8', doc: '-1 invalid/unknown, 0 none, 1 green, 2 blue, 3 yellow, 4 red' },
    { name: 'ersStoreEnergy', type: 'f32', unit: 'J', doc: 'ERS energy store' },
    { name: 'ersDeployMode', type: 'u8', doc: '0 none, 1 low, 2 medium, 3 high, 4 overtake, 5 hotlap' },
    { name: 'ersHarvestedThisLapMGUK', type: 'f32', unit: 'J', doc: 'ERS energy harvested this lap by the MGU-K' },
    { name: 'ersHarvestedThisLapMGUH', type: 'f32', unit: 'J', doc: 'ERS energy harvested this lap by the MGU-H' },
    { name: 'ersDeployedThisLap', type: 'f32', unit: 'J', doc: 'ERS energy deployed this lap' },
  ],
} as const satisfies StructDef;

/** Car status (id 7): 1061 bytes. */
export const CAR_STATUS_2018 = {
  name: 'PacketCarStatusData2018',
  fields: [{ name: 'header', type: HEADER_2018 }, { name: 'carStatusData', type: CAR_STATUS, count: 20 }],
} as const satisfies StructDef;
