/**
 * The four GT7 Simulator Interface packet formats. Each one extends the previous, so a
 * longer packet always carries every field of the shorter ones.
 */

export type Heartbeat = 'A' | 'B' | '~' | 'C';

export interface PacketFormat {
  readonly heartbeat: Heartbeat;
  readonly size: number;
  /** XORed with the seed to form the first nonce word. */
  readonly nonceXor: number;
  /** Position in the superset chain A ⊂ B ⊂ ~ ⊂ C. */
  readonly rank: number;
}

export const FORMATS: Readonly<Record<Heartbeat, PacketFormat>> = {
  A: { heartbeat: 'A', size: 0x128, nonceXor: 0xdeadbeaf, rank: 0 },
  B: { heartbeat: 'B', size: 0x13c, nonceXor: 0xdeadbeef, rank: 1 },
  '~': { heartbeat: '~', size: 0x158, nonceXor: 0x55fabb4f, rank: 2 },
  C: { heartbeat: 'C', size: 0x170, nonceXor: 0xdeadbeef, rank: 3 },
};

export const HEARTBEATS: readonly Heartbeat[] = ['A', 'B', '~', 'C'];

/** LE u32 at offset 0 of a decrypted GT7 or GT Sport packet ("0S7G"). */
export const GT7_MAGIC = 0x47375330;

/** Offset of the seed in the ciphertext; these four plaintext bytes are garbage. */
export const SEED_OFFSET = 0x40;

export function isHeartbeat(value: unknown): value is Heartbeat {
  return value === 'A' || value === 'B' || value === '~' || value === 'C';
}

/** The heartbeat a datagram carries: exactly one byte, A, B, ~ or C; anything else is none. */
export function heartbeatOf(datagram: Uint8Array): Heartbeat | undefined {
  if (datagram.length !== 1) return undefined;
  const hb = String.fromCharCode(datagram[0]!);
  return isHeartbeat(hb) ? hb : undefined;
}

/** B and C share a nonce constant, so the length is what tells formats apart. */
export function formatForLength(length: number): PacketFormat | undefined {
  switch (length) {
    case 0x128:
      return FORMATS.A;
    case 0x13c:
      return FORMATS.B;
    case 0x158:
      return FORMATS['~'];
    case 0x170:
      return FORMATS.C;
    default:
      return undefined;
  }
}

/** True when a packet of format `have` carries every field of format `want`. */
export function formatContains(have: Heartbeat, want: Heartbeat): boolean {
  return FORMATS[have].rank >= FORMATS[want].rank;
}

export type Game = 'gt7' | 'gtsport';

/** Default UDP ports: the console listens for heartbeats, we listen for telemetry. */
export const PORTS: Readonly<Record<Game, { heartbeat: number; telemetry: number }>> = {
  gt7: { heartbeat: 33739, telemetry: 33740 },
  gtsport: { heartbeat: 33339, telemetry: 33340 },
};

/** Physics rate of the Simulator Interface: one packet per frame. */
export const PACKET_RATE_HZ = 60;
