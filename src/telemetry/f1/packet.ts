import { CAR_SETUPS_2018, CAR_STATUS_2018, CAR_TELEMETRY_2018, EVENT_2018, LAP_DATA_2018, PARTICIPANTS_2018, SESSION_2018 } from './layout-2018.js';
import {
  HEADER_2018,
  HEADER_2019,
  HEADER_2020,
  HEADER_2023,
  MOTION_2018,
  MOTION_2019,
  MOTION_2020,
  MOTION_2023,
  MOTION_EX_2023,
  MOTION_EX_2024,
} from './layout.js';
import { type Decoded, type StructDef, decodeStruct, sizeOf } from './struct.js';

/**
 * Header dispatch: the first u16 of every F1 datagram is the packet format (the game year),
 * which fixes the header size; the header's packet id and the datagram's length then pick
 * the struct. Nothing here throws on bad input: every datagram comes back as a decoded
 * packet or a reason it was dropped.
 */

export const DEFAULT_F1_PORT = 20777;

export const PACKET_IDS_2018 = ['motion', 'session', 'lapData', 'event', 'participants', 'carSetups', 'carTelemetry', 'carStatus'] as const;

export type MotionPacket = Decoded<typeof MOTION_2018> | Decoded<typeof MOTION_2019> | Decoded<typeof MOTION_2020> | Decoded<typeof MOTION_2023>;
export type MotionExPacket = Decoded<typeof MOTION_EX_2023> | Decoded<typeof MOTION_EX_2024>;

export interface F1PacketData {
  motion: MotionPacket;
  motionEx: MotionExPacket;
  session: Decoded<typeof SESSION_2018>;
  lapData: Decoded<typeof LAP_DATA_2018>;
  event: Decoded<typeof EVENT_2018>;
  participants: Decoded<typeof PARTICIPANTS_2018>;
  carSetups: Decoded<typeof CAR_SETUPS_2018>;
  carTelemetry: Decoded<typeof CAR_TELEMETRY_2018>;
  carStatus: Decoded<typeof CAR_STATUS_2018>;
}
export type F1PacketType = keyof F1PacketData;

/** The header fields every format has, plus the later ones when present. */
export interface F1Header {
  packetFormat: number;
  packetVersion: number;
  packetId: number;
  sessionUID: bigint;
  sessionTime: number;
  frameIdentifier: number;
  playerCarIndex: number;
  gameYear?: number;
  gameMajorVersion?: number;
  gameMinorVersion?: number;
  overallFrameIdentifier?: number;
  secondaryPlayerCarIndex?: number;
}

export type F1Packet = { [K in F1PacketType]: { type: K; header: F1Header; data: F1PacketData[K] } }[F1PacketType];

export type DropReason = 'too-short' | 'unknown-format' | 'unknown-packet-id' | 'not-decoded' | 'bad-size';

export type DecodeResult = { ok: true; packet: F1Packet } | { ok: false; reason: DropReason; format: number | undefined; packetId: number | undefined; size: number; message: string };

interface FormatInfo {
  header: StructDef;
  cars: number;
  /** Packet id → [type, struct]. */
  packets: ReadonlyMap<number, readonly [F1PacketType, StructDef]>;
  /** Highest packet id the format defines (the rest are 'not-decoded', not unknown). */
  maxPacketId: number;
  /** Byte offset of the packet id in the header. */
  packetIdAt: number;
}

export const F1_FORMATS: ReadonlyMap<number, FormatInfo> = new Map<number, FormatInfo>([
  [
    2018,
    {
      header: HEADER_2018,
      cars: 20,
      maxPacketId: 7,
      packetIdAt: 3,
      packets: new Map<number, readonly [F1PacketType, StructDef]>([
        [0, ['motion', MOTION_2018]],
        [1, ['session', SESSION_2018]],
        [2, ['lapData', LAP_DATA_2018]],
        [3, ['event', EVENT_2018]],
        [4, ['participants', PARTICIPANTS_2018]],
        [5, ['carSetups', CAR_SETUPS_2018]],
        [6, ['carTelemetry', CAR_TELEMETRY_2018]],
        [7, ['carStatus', CAR_STATUS_2018]],
      ]),
    },
  ],
  [2019, { header: HEADER_2019, cars: 20, maxPacketId: 7, packetIdAt: 5, packets: new Map([[0, ['motion', MOTION_2019] as const]]) }],
  [2020, { header: HEADER_2020, cars: 22, maxPacketId: 9, packetIdAt: 5, packets: new Map([[0, ['motion', MOTION_2020] as const]]) }],
  [2021, { header: HEADER_2020, cars: 22, maxPacketId: 11, packetIdAt: 5, packets: new Map([[0, ['motion', MOTION_2020] as const]]) }],
  [2022, { header: HEADER_2020, cars: 22, maxPacketId: 11, packetIdAt: 5, packets: new Map([[0, ['motion', MOTION_2020] as const]]) }],
  [
    2023,
    {
      header: HEADER_2023,
      cars: 22,
      maxPacketId: 13,
      packetIdAt: 6,
      packets: new Map<number, readonly [F1PacketType, StructDef]>([
        [0, ['motion', MOTION_2023]],
        [13, ['motionEx', MOTION_EX_2023]],
      ]),
    },
  ],
  [
    2024,
    {
      header: HEADER_2023,
      cars: 22,
      maxPacketId: 14,
      packetIdAt: 6,
      packets: new Map<number, readonly [F1PacketType, StructDef]>([
        [0, ['motion', MOTION_2023]],
        [13, ['motionEx', MOTION_EX_2024]],
      ]),
    },
  ],
]);

/** Expected size of a packet this code decodes, or undefined. */
export function expectedSize(format: number, packetId: number): number | undefined {
  const def = F1_FORMATS.get(format)?.packets.get(packetId);
  return def === undefined ? undefined : sizeOf(def[1]);
}

/** The packet format (first u16) of a datagram, or undefined when it is shorter than 2 bytes. */
export function peekFormat(bytes: Uint8Array): number | undefined {
  return bytes.length < 2 ? undefined : bytes[0]! | (bytes[1]! << 8);
}

/** True when the datagram is a packet this module decodes (known format, id and size). */
export function looksLikeF1(bytes: Uint8Array): boolean {
  const format = peekFormat(bytes);
  const info = format === undefined ? undefined : F1_FORMATS.get(format);
  if (info === undefined) return false;
  const id = bytes[info.packetIdAt];
  return id !== undefined && expectedSize(format!, id) === bytes.length;
}

export function decodeF1Packet(bytes: Uint8Array): DecodeResult {
  const size = bytes.length;
  const format = peekFormat(bytes);
  const drop = (reason: DropReason, packetId: number | undefined, message: string): DecodeResult => ({ ok: false, reason, format, packetId, size, message });
  if (format === undefined) return drop('too-short', undefined, `${size}-byte datagram is too short for an F1 header`);
  const info = F1_FORMATS.get(format);
  if (info === undefined) return drop('unknown-format', undefined, `packet format ${format} is not one of ${[...F1_FORMATS.keys()].join(', ')}`);
  const headerSize = sizeOf(info.header);
  if (size < headerSize) return drop('too-short', undefined, `${size} bytes is shorter than the ${headerSize}-byte ${format} header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  // Every header table has F1Header's fields (the later ones only in later formats).
  const header = decodeStruct(info.header, view, 0) as unknown as F1Header;
  const id = header.packetId;
  const entry = info.packets.get(id);
  if (entry === undefined) {
    if (id > info.maxPacketId) return drop('unknown-packet-id', id, `packet id ${id} is not defined in format ${format}`);
    return drop('not-decoded', id, `format ${format} packet id ${id} is not decoded (only motion is read for formats after 2018)`);
  }
  const [type, def] = entry;
  const want = sizeOf(def);
  if (size !== want) return drop('bad-size', id, `format ${format} ${type} packet must be ${want} bytes, got ${size}`);
  const data = decodeStruct(def, view, 0) as F1PacketData[typeof type];
  return { ok: true, packet: { type, header, data } as F1Packet };
}
