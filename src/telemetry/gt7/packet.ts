import { FORMATS, type Heartbeat, formatForLength } from './formats.js';
import { FIELDS, FLAG_BITS, type FieldDef, type FlagName } from './layout.js';

/**
 * One decoded GT7 packet, in the game's own frame and units (see layout.ts). Designed to be
 * reused: `decodePacket(bytes, packet)` overwrites every field and allocates nothing.
 * Fields of formats the packet does not carry are left at zero; check `format`.
 */
export class Gt7Packet {
  format: Heartbeat = 'A';
  magic = 0;
  readonly position = new Float64Array(3);
  readonly velocity = new Float64Array(3);
  readonly rotation = new Float64Array(4);
  readonly angularVelocity = new Float64Array(3);
  bodyHeight = 0;
  engineRpm = 0;
  fuelLevel = 0;
  fuelCapacity = 0;
  speed = 0;
  turboBoost = 0;
  oilPressure = 0;
  waterTemperature = 0;
  oilTemperature = 0;
  readonly tyreTemp = new Float64Array(4);
  packetId = 0;
  lapCount = 0;
  lapsInRace = 0;
  bestLapTime = 0;
  lastLapTime = 0;
  timeOfDay = 0;
  preRaceStartPosition = 0;
  numCarsAtPreRace = 0;
  minAlertRpm = 0;
  maxAlertRpm = 0;
  calculatedMaxSpeed = 0;
  flags = 0;
  gearByte = 0;
  throttle = 0;
  brake = 0;
  unknown0x93 = 0;
  readonly roadPlane = new Float64Array(3);
  roadPlaneDistance = 0;
  readonly wheelRevPerSecond = new Float64Array(4);
  readonly tyreRadius = new Float64Array(4);
  readonly suspensionHeight = new Float64Array(4);
  readonly unknown0xD4 = new Float64Array(8);
  clutchPedal = 0;
  clutchEngagement = 0;
  rpmClutchToGearbox = 0;
  transmissionTopSpeed = 0;
  readonly gearRatios = new Float64Array(8);
  carCode = 0;
  // B
  wheelRotation = 0;
  wheelRotationRate = 0;
  sway = 0;
  heave = 0;
  surge = 0;
  // ~
  throttleInput = 0;
  brakeOutput = 0;
  unknown0x13E = 0;
  unknown0x13F = 0;
  readonly unknown0x140 = new Float64Array(4);
  energyRecovery = 0;
  unknown0x154 = 0;
  // C
  readonly surfaceCodes = new Uint8Array(4);
  currentLapTime = 0;
  wheelSteerAngleFL = 0;
  wheelSteerAngleFR = 0;
  unknown0x168 = 0;
  readonly carCategoryCodes = new Uint8Array(4);

  /** Low nibble of 0x90. */
  get currentGear(): number {
    return this.gearByte & 0x0f;
  }
  /** High nibble of 0x90; 15 means no suggestion. */
  get suggestedGear(): number {
    return this.gearByte >> 4;
  }
  flag(name: FlagName): boolean {
    return (this.flags & (1 << FLAG_BITS[name])) !== 0;
  }
  get carOnTrack(): boolean {
    return (this.flags & 1) !== 0;
  }
  get paused(): boolean {
    return (this.flags & 2) !== 0;
  }
  get loading(): boolean {
    return (this.flags & 4) !== 0;
  }
  get hasB(): boolean {
    return FORMATS[this.format].rank >= 1;
  }
  /** Surface under each tyre (FL FR RL RR), C format only. */
  get surfaces(): string {
    return String.fromCharCode(...this.surfaceCodes).replace(/\0/g, '');
  }
  get carCategory(): string {
    const end = this.carCategoryCodes.indexOf(0);
    return String.fromCharCode(...this.carCategoryCodes.subarray(0, end < 0 ? 4 : end));
  }
}

function readVec(view: DataView, offset: number, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(offset + 4 * i, true);
}

/** Where the packet id sits in a decrypted packet (i32), for judging order before decoding. */
export const PACKET_ID_OFFSET = 0x70;

/**
 * Decodes a decrypted packet into `out`. Returns false (and leaves `out` unspecified) when
 * the length is not one of the four formats. Hand-written rather than table-driven for
 * speed; test/unit/gt7-packet.test.ts checks it field by field against layout.ts.
 */
export function decodePacket(bytes: Uint8Array, out: Gt7Packet, view?: DataView): boolean {
  const format = formatForLength(bytes.length);
  if (format === undefined) return false;
  const v = view ?? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  out.format = format.heartbeat;
  out.magic = v.getInt32(0x00, true);
  readVec(v, 0x04, out.position);
  readVec(v, 0x10, out.velocity);
  readVec(v, 0x1c, out.rotation);
  readVec(v, 0x2c, out.angularVelocity);
  out.bodyHeight = v.getFloat32(0x38, true);
  out.engineRpm = v.getFloat32(0x3c, true);
  out.fuelLevel = v.getFloat32(0x44, true);
  out.fuelCapacity = v.getFloat32(0x48, true);
  out.speed = v.getFloat32(0x4c, true);
  out.turboBoost = v.getFloat32(0x50, true);
  out.oilPressure = v.getFloat32(0x54, true);
  out.waterTemperature = v.getFloat32(0x58, true);
  out.oilTemperature = v.getFloat32(0x5c, true);
  readVec(v, 0x60, out.tyreTemp);
  out.packetId = v.getInt32(PACKET_ID_OFFSET, true);
  out.lapCount = v.getInt16(0x74, true);
  out.lapsInRace = v.getInt16(0x76, true);
  out.bestLapTime = v.getInt32(0x78, true);
  out.lastLapTime = v.getInt32(0x7c, true);
  out.timeOfDay = v.getInt32(0x80, true);
  out.preRaceStartPosition = v.getInt16(0x84, true);
  out.numCarsAtPreRace = v.getInt16(0x86, true);
  out.minAlertRpm = v.getInt16(0x88, true);
  out.maxAlertRpm = v.getInt16(0x8a, true);
  out.calculatedMaxSpeed = v.getInt16(0x8c, true);
  out.flags = v.getUint16(0x8e, true);
  out.gearByte = v.getUint8(0x90);
  out.throttle = v.getUint8(0x91);
  out.brake = v.getUint8(0x92);
  out.unknown0x93 = v.getUint8(0x93);
  readVec(v, 0x94, out.roadPlane);
  out.roadPlaneDistance = v.getFloat32(0xa0, true);
  readVec(v, 0xa4, out.wheelRevPerSecond);
  readVec(v, 0xb4, out.tyreRadius);
  readVec(v, 0xc4, out.suspensionHeight);
  readVec(v, 0xd4, out.unknown0xD4);
  out.clutchPedal = v.getFloat32(0xf4, true);
  out.clutchEngagement = v.getFloat32(0xf8, true);
  out.rpmClutchToGearbox = v.getFloat32(0xfc, true);
  out.transmissionTopSpeed = v.getFloat32(0x100, true);
  readVec(v, 0x104, out.gearRatios);
  out.carCode = v.getInt32(0x124, true);
  if (format.rank >= 1) {
    out.wheelRotation = v.getFloat32(0x128, true);
    out.wheelRotationRate = v.getFloat32(0x12c, true);
    out.sway = v.getFloat32(0x130, true);
    out.heave = v.getFloat32(0x134, true);
    out.surge = v.getFloat32(0x138, true);
  } else {
    out.wheelRotation = out.wheelRotationRate = out.sway = out.heave = out.surge = 0;
  }
  if (format.rank >= 2) {
    out.throttleInput = v.getUint8(0x13c);
    out.brakeOutput = v.getUint8(0x13d);
    out.unknown0x13E = v.getUint8(0x13e);
    out.unknown0x13F = v.getUint8(0x13f);
    readVec(v, 0x140, out.unknown0x140);
    out.energyRecovery = v.getFloat32(0x150, true);
    out.unknown0x154 = v.getFloat32(0x154, true);
  } else {
    out.throttleInput = out.brakeOutput = out.unknown0x13E = out.unknown0x13F = 0;
    out.unknown0x140.fill(0);
    out.energyRecovery = out.unknown0x154 = 0;
  }
  if (format.rank >= 3) {
    for (let i = 0; i < 4; i++) out.surfaceCodes[i] = v.getUint8(0x158 + i);
    out.currentLapTime = v.getInt32(0x15c, true);
    out.wheelSteerAngleFL = v.getFloat32(0x160, true);
    out.wheelSteerAngleFR = v.getFloat32(0x164, true);
    out.unknown0x168 = v.getFloat32(0x168, true);
    for (let i = 0; i < 4; i++) out.carCategoryCodes[i] = v.getUint8(0x16c + i);
  } else {
    out.surfaceCodes.fill(0);
    out.currentLapTime = out.wheelSteerAngleFL = out.wheelSteerAngleFR = out.unknown0x168 = 0;
    out.carCategoryCodes.fill(0);
  }
  return true;
}

type Writable = Record<string, number | Float64Array | Uint8Array>;

function fieldsOf(format: Heartbeat): FieldDef[] {
  const rank = FORMATS[format].rank;
  return FIELDS.filter((f) => FORMATS[f.since].rank <= rank);
}

function writeScalar(v: DataView, type: FieldDef['type'], offset: number, value: number): void {
  switch (type) {
    case 'f32':
      return v.setFloat32(offset, value, true);
    case 'i32':
      return v.setInt32(offset, value, true);
    case 'i16':
      return v.setInt16(offset, value, true);
    case 'u16':
      return v.setUint16(offset, value, true);
    case 'u8':
      return v.setUint8(offset, value);
  }
}

const TYPE_SIZE: Record<FieldDef['type'], number> = { f32: 4, i32: 4, i16: 2, u16: 2, u8: 1 };

/**
 * Writes `packet` as plaintext of its format into `out` (sized by the format), walking the
 * field table. Used by the console simulator; bytes 0x40–0x43 are left for the cipher.
 */
export function encodePacket(packet: Gt7Packet, out: Uint8Array): void {
  const size = FORMATS[packet.format].size;
  if (out.length !== size) throw new RangeError(`format ${packet.format} needs ${size} bytes`);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const src = packet as unknown as Writable;
  for (const f of fieldsOf(packet.format)) {
    const value = src[f.name];
    if (f.count === undefined) {
      writeScalar(v, f.type, f.offset, value as number);
    } else {
      const arr = value as Float64Array | Uint8Array;
      for (let i = 0; i < f.count; i++) writeScalar(v, f.type, f.offset + i * TYPE_SIZE[f.type], arr[i]!);
    }
  }
}

/** Decoded fields as plain JSON in the game's frame and units, for `decode --json`. */
export function packetToJson(packet: Gt7Packet): Record<string, unknown> {
  const src = packet as unknown as Writable;
  const json: Record<string, unknown> = { format: packet.format };
  for (const f of fieldsOf(packet.format)) {
    if (f.name === 'gearByte' || f.name === 'surfaceCodes' || f.name === 'carCategoryCodes') continue;
    const value = src[f.name];
    json[f.name] = typeof value === 'number' ? value : Array.from(value as Float64Array);
  }
  json.currentGear = packet.currentGear;
  json.suggestedGear = packet.suggestedGear;
  const named: Record<string, boolean> = {};
  for (const name of Object.keys(FLAG_BITS) as FlagName[]) named[name] = packet.flag(name);
  json.flagNames = named;
  if (FORMATS[packet.format].rank >= 3) {
    json.surfaces = packet.surfaces;
    json.carCategory = packet.carCategory;
  }
  return json;
}

/** Deep copy of every field, for consumers that keep packets. */
export function copyPacket(from: Gt7Packet, to: Gt7Packet): Gt7Packet {
  const src = from as unknown as Record<string, unknown>;
  const dst = to as unknown as Record<string, unknown>;
  for (const key of Object.keys(src)) {
    const v = src[key];
    if (v instanceof Float64Array || v instanceof Uint8Array) (dst[key] as Float64Array | Uint8Array).set(v);
    else dst[key] = v;
  }
  return to;
}
