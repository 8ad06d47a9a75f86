import { cobsEncode } from './cobs.js';
import { crc16 } from './crc16.js';

/**
 * RigLink: message numbers, limits and payload layouts (firmware-protocol/PROTOCOL.md). The
 * TypeScript half of the one protocol definition; the C half is firmware-protocol/c/riglink.h,
 * and both are tested against firmware-protocol/vectors.json.
 */

export const RIGLINK_VERSION = 1;
export const MAX_AXES = 16;
export const MAX_PAYLOAD = 96;
export const MAX_BODY = MAX_PAYLOAD + 5;
export const MAX_ENCODED = MAX_BODY + 1;
export const MAX_FRAME = MAX_ENCODED + 1;

export const MessageType = {
  HELLO: 0x01,
  SETPOINT: 0x10,
  ENABLE: 0x20,
  PARK: 0x21,
  ESTOP: 0x22,
  CLEAR_ESTOP: 0x23,
  SET_WATCHDOG: 0x24,
  GET_COUNTERS: 0x30,
  HELLO_ACK: 0x81,
  STATUS: 0x90,
  ACK: 0xa0,
  COUNTERS: 0xb0,
  // Playout extension (PROTOCOL.md §7): a core-only MCU counts these as unknown and ignores them.
  SETPOINT_TIMED: 0x11,
  SET_PLAYOUT: 0x25,
  GET_CAPS: 0x31,
  CAPS: 0x82,
  PLAYOUT_STATUS: 0x91,
} as const;
export type MessageName = keyof typeof MessageType;
const NAMES = new Map<number, MessageName>(Object.entries(MessageType).map(([k, v]) => [v, k as MessageName]));
export function messageName(type: number): MessageName | undefined {
  return NAMES.get(type);
}

export const McuState = { parked: 0, enabled: 1, holding: 2, parking: 3, estop: 4, fault: 5 } as const;
export type McuStateName = keyof typeof McuState;
export const MCU_STATE_NAMES: McuStateName[] = ['parked', 'enabled', 'holding', 'parking', 'estop', 'fault'];

export const AckResult = { ok: 0, badState: 1, badPayload: 2, estopLatched: 3, unsupported: 4 } as const;

export const FLAG_MOTION_ACTIVE = 0x01;

export const CAPS_VERSION = 1;
export const FEATURE_PLAYOUT = 0x01;
export const CAPS_MIN_LEN = 13;
export const CAPS_MAX_LEN = 32;
export const PLAYOUT_STATUS_LEN = 28;
/** PLAYOUT_STATUS minLeadUs when no timed frame arrived since the last report. */
export const LEAD_NONE = 0x7fff;

/** Whether a payload length is right for its type: undefined for an unknown type. */
export function lengthOk(type: number, payload: Uint8Array, start: number, length: number): boolean | undefined {
  switch (type) {
    case MessageType.HELLO:
      return length === 1;
    case MessageType.SETPOINT:
      return length >= 2 && payload[start + 1]! <= MAX_AXES && length === 2 + 2 * payload[start + 1]!;
    case MessageType.ENABLE:
    case MessageType.PARK:
    case MessageType.ESTOP:
    case MessageType.CLEAR_ESTOP:
    case MessageType.GET_COUNTERS:
      return length === 0;
    case MessageType.SET_WATCHDOG:
    case MessageType.ACK:
      return length === 4;
    case MessageType.HELLO_ACK:
      return length >= 2 && length <= 66;
    case MessageType.STATUS:
      return length >= 6 && payload[start + 5]! <= MAX_AXES && length === 6 + 2 * payload[start + 5]!;
    case MessageType.COUNTERS:
      return length === 24;
    case MessageType.SETPOINT_TIMED:
      return length >= 6 && payload[start + 1]! <= MAX_AXES && length === 6 + 2 * payload[start + 1]!;
    case MessageType.SET_PLAYOUT:
      return length === 6;
    case MessageType.GET_CAPS:
      return length === 0;
    case MessageType.CAPS:
      return length >= CAPS_MIN_LEN && length <= CAPS_MAX_LEN;
    case MessageType.PLAYOUT_STATUS:
      return length === PLAYOUT_STATUS_LEN;
    default:
      return undefined;
  }
}

/** Payload fields by message, as in vectors.json. */
export type Fields = Record<string, number | string | number[]>;

export function decodeFields(type: number, p: Uint8Array): Fields {
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const u16s = (at: number, n: number) => Array.from({ length: n }, (_, i) => dv.getUint16(at + 2 * i, true));
  switch (type) {
    case MessageType.HELLO:
      return { version: p[0]! };
    case MessageType.SETPOINT:
      return { flags: p[0]!, targets: u16s(2, p[1]!) };
    case MessageType.SET_WATCHDOG:
      return { holdMs: dv.getUint16(0, true), parkMs: dv.getUint16(2, true) };
    case MessageType.HELLO_ACK:
      return { version: p[0]!, axes: p[1]!, firmware: new TextDecoder().decode(p.subarray(2)) };
    case MessageType.STATUS:
      return { state: p[0]!, faults: dv.getUint16(1, true), lastSeq: dv.getUint16(3, true), positions: u16s(6, p[5]!) };
    case MessageType.ACK:
      return { ackedType: p[0]!, ackedSeq: dv.getUint16(1, true), result: p[3]! };
    case MessageType.COUNTERS: {
      const [rxFrames, badCrc, badCobs, oversize, unknownType, badLength] = [0, 4, 8, 12, 16, 20].map((o) => dv.getUint32(o, true));
      return { rxFrames: rxFrames!, badCrc: badCrc!, badCobs: badCobs!, oversize: oversize!, unknownType: unknownType!, badLength: badLength! };
    }
    case MessageType.SETPOINT_TIMED:
      return { flags: p[0]!, tick: dv.getUint32(2, true), targets: u16s(6, p[1]!) };
    case MessageType.SET_PLAYOUT:
      return { periodNs: dv.getUint32(0, true), delayUs: dv.getUint16(4, true) };
    case MessageType.CAPS:
      // Bytes past the 13 this version defines are a later version's fields: ignored.
      return { capsVersion: p[0]!, features: p[1]!, queue: p[2]!, minPeriodNs: dv.getUint32(3, true), maxPeriodNs: dv.getUint32(7, true), maxDelayUs: dv.getUint16(11, true) };
    case MessageType.PLAYOUT_STATUS: {
      const [lastTick, accepted, late, stale, outside, overflow] = [0, 4, 8, 12, 16, 20].map((o) => dv.getUint32(o, true));
      return { lastTick: lastTick!, accepted: accepted!, late: late!, stale: stale!, outside: outside!, overflow: overflow!, minLeadUs: dv.getInt16(24, true), rateAdjPpm: dv.getInt16(26, true) };
    }
    default:
      return {};
  }
}

/**
 * Builds frames into one reused buffer: body (type, seq, payload, crc) in a scratch array,
 * COBS into `frame`, then the delimiter. Allocation-free; the returned length is valid until
 * the next call.
 */
export class FrameEncoder {
  readonly frame = new Uint8Array(MAX_FRAME);
  private readonly body = new Uint8Array(MAX_BODY);

  /** The payload is already in payloadArea()[0, length). Returns the frame length, or -1 if too long. */
  finish(type: number, seq: number, length: number): number {
    if (length > MAX_PAYLOAD) return -1;
    const b = this.body;
    b[0] = type;
    b[1] = seq & 0xff;
    b[2] = (seq >>> 8) & 0xff;
    const crc = crc16(b, 0, 3 + length);
    b[3 + length] = crc & 0xff;
    b[4 + length] = crc >>> 8;
    const n = cobsEncode(b, 0, 5 + length, this.frame, 0);
    if (n < 0) return -1;
    this.frame[n] = 0;
    return n + 1;
  }

  /** Where to write a payload before finish(): body bytes 3.. */
  payloadArea(): Uint8Array {
    return this.body.subarray(3, 3 + MAX_PAYLOAD);
  }

  /** Any message from a payload copy (not for the hot path: payload is a fresh array). */
  encode(type: number, seq: number, payload: ArrayLike<number>): number {
    if (payload.length > MAX_PAYLOAD) return -1;
    for (let i = 0; i < payload.length; i++) this.body[3 + i] = payload[i]!;
    return this.finish(type, seq, payload.length);
  }
}

/**
 * SETPOINT frames for the control loop: targets in, frame bytes out, nothing allocated.
 */
export class SetpointEncoder {
  private readonly encoder = new FrameEncoder();
  private readonly payload = this.encoder.payloadArea();
  readonly frame = this.encoder.frame;

  /** targets[0, n) are u16 wire values. Returns the frame length in `frame`. */
  encode(seq: number, flags: number, targets: Uint16Array, n: number): number {
    const p = this.payload;
    p[0] = flags;
    p[1] = n;
    for (let i = 0; i < n; i++) {
      const t = targets[i]!;
      p[2 + 2 * i] = t & 0xff;
      p[3 + 2 * i] = t >>> 8;
    }
    return this.encoder.finish(MessageType.SETPOINT, seq, 2 + 2 * n);
  }
}

/**
 * SETPOINT_TIMED frames (playout extension): the same targets with the host's tick number,
 * which the MCU plays out at a fixed delay on its own timer. Allocation-free.
 */
export class TimedSetpointEncoder {
  private readonly encoder = new FrameEncoder();
  private readonly payload = this.encoder.payloadArea();
  readonly frame = this.encoder.frame;

  /** tick: the host's tick number (taken mod 2^32); targets[0, n) u16 wire values. Returns the frame length in `frame`. */
  encode(seq: number, flags: number, tick: number, targets: Uint16Array, n: number): number {
    const p = this.payload;
    p[0] = flags;
    p[1] = n;
    const t = tick >>> 0;
    p[2] = t & 0xff;
    p[3] = (t >>> 8) & 0xff;
    p[4] = (t >>> 16) & 0xff;
    p[5] = t >>> 24;
    for (let i = 0; i < n; i++) {
      const v = targets[i]!;
      p[6 + 2 * i] = v & 0xff;
      p[7 + 2 * i] = v >>> 8;
    }
    return this.encoder.finish(MessageType.SETPOINT_TIMED, seq, 6 + 2 * n);
  }
}

/** Bytes on the wire of a SETPOINT frame for n axes, worst case (COBS overhead included). */
export function setpointFrameBytes(n: number): number {
  return 2 + 2 * n + 5 + 1 + 1;
}

/** Bytes on the wire of a SETPOINT_TIMED frame for n axes, worst case: 4 more than SETPOINT. */
export function timedSetpointFrameBytes(n: number): number {
  return 6 + 2 * n + 5 + 1 + 1;
}
