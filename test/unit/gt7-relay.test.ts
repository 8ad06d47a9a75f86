import { createSocket } from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { PacketCipher } from '../../src/telemetry/gt7/cipher.js';
import { FORMATS, GT7_MAGIC, HEARTBEATS, heartbeatOf } from '../../src/telemetry/gt7/formats.js';
import { FIELDS } from '../../src/telemetry/gt7/layout.js';
import { Gt7Packet, decodePacket, encodePacket, packetToJson } from '../../src/telemetry/gt7/packet.js';
import { gt7ToMotionSample } from '../../src/telemetry/gt7/motion.js';
import { SyntheticDrive } from '../../src/telemetry/gt7/synthetic-drive.js';
import { MotionSample } from '../../src/telemetry/motion-sample.js';
import { Gt7Relay } from '../../src/telemetry/gt7/relay.js';
import { RelayClientTable } from '../../src/telemetry/gt7/relay-clients.js';
import { waitFor } from '../helpers/wait.js';

/** Loopback addresses 127.0.0.51–52 belong to this file. */
const RELAY = '127.0.0.51';
const APP = '127.0.0.52';

const TYPE_SIZE = { f32: 4, i32: 4, i16: 2, u16: 2, u8: 1 } as const;

/** A format-C plaintext: random bytes with the magic, as the client hands it over. */
function plaintextC(seed: number): Uint8Array {
  const b = new Uint8Array(FORMATS.C.size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  new DataView(b.buffer).setUint32(0, GT7_MAGIC, true);
  return b;
}

const hb = (s: string) => Buffer.from(s, 'latin1');

describe('GT7 formats are supersets with the same offsets (what the relay relies on)', () => {
  it('every field of a format lies inside its size and after the previous format\'s, and the fields tile each extension', () => {
    for (const f of FIELDS) {
      const end = f.offset + TYPE_SIZE[f.type] * (f.count ?? 1);
      const rank = FORMATS[f.since].rank;
      expect(end, f.name).toBeLessThanOrEqual(FORMATS[f.since].size);
      if (rank > 0) expect(f.offset, f.name).toBeGreaterThanOrEqual(FORMATS[HEARTBEATS[rank - 1]!].size);
    }
    // Bytes covered by fields: all but the seed bytes 0x40–0x43, so no field of a shorter
    // format is missing from a longer one and none hides in a gap.
    const covered = new Uint8Array(FORMATS.C.size);
    for (const f of FIELDS) covered.fill(1, f.offset, f.offset + TYPE_SIZE[f.type] * (f.count ?? 1));
    const gaps = [...covered.keys()].filter((i) => covered[i] === 0);
    expect(gaps).toEqual([0x40, 0x41, 0x42, 0x43]);
  });

  it('the first `size` bytes of a C packet decode to the same fields as that format', () => {
    const c = plaintextC(7);
    const whole = new Gt7Packet();
    const cut = new Gt7Packet();
    decodePacket(c, whole);
    for (const h of HEARTBEATS) {
      expect(decodePacket(c.subarray(0, FORMATS[h].size), cut)).toBe(true);
      const a = packetToJson(cut);
      const b = packetToJson(whole);
      for (const key of Object.keys(a)) if (key !== 'format') expect(a[key], `${h}.${key}`).toEqual(b[key]);
    }
  });
});

describe('RelayClientTable: the console\'s rules, per sender', () => {
  it('a sender\'s first heartbeat type decides; another type renews without switching; after the timeout the next one decides', () => {
    const t = new RelayClientTable(8, 1000);
    expect(t.heartbeat(hb('A'), 'x', 0)).toBe('new');
    expect(t.heartbeat(hb('B'), 'y', 10)).toBe('new');
    expect(t.heartbeat(hb('C'), 'x', 500)).toBe('other-format');
    expect(t.get('x')?.format).toBe('A');
    expect(t.get('x')?.otherFormat).toBe(1);
    expect(t.heartbeat(hb('A'), 'x', 1400)).toBe('renewed');
    // y silent since 10: gone after 1010.
    const gone: string[] = [];
    t.expire(1011, (c) => gone.push(c.address));
    expect(gone).toEqual(['y']);
    expect(t.heartbeat(hb('~'), 'y', 1020)).toBe('new');
    expect(t.get('y')?.format).toBe('~');
    // x's stream stops, then C decides.
    expect(t.heartbeat(hb('C'), 'x', 2401)).toBe('new');
    expect(t.get('x')?.format).toBe('C');
  });

  it('at most maxClients senders; one more is refused until a sender times out', () => {
    const t = new RelayClientTable(2, 1000);
    t.heartbeat(hb('A'), 'a', 0);
    t.heartbeat(hb('B'), 'b', 0);
    expect(t.heartbeat(hb('B'), 'c', 100)).toBe('refused');
    expect(t.heartbeat(hb('B'), 'c', 200)).toBe('refused');
    expect(t.refused).toBe(2);
    expect(t.heartbeat(hb('A'), 'a', 300)).toBe('renewed');
    expect(t.heartbeat(hb('B'), 'c', 1001)).toBe('new'); // b timed out
    expect([...t.values()].map((c) => c.address).sort()).toEqual(['a', 'c']);
  });

  it('anything but one byte A, B, ~ or C is garbage, counted, and makes no client', () => {
    const t = new RelayClientTable(8, 1000);
    for (const d of [hb(''), hb('b'), hb('AB'), hb('X'), new Uint8Array(368), hb('\u0000')]) expect(t.heartbeat(d, 'g', 0)).toBe('garbage');
    expect(t.garbage).toBe(6);
    expect(t.size).toBe(0);
    expect(HEARTBEATS.map((h) => heartbeatOf(hb(h)))).toEqual(HEARTBEATS);
  });

  it('refuses a maxClients below 1 and a timeout not above 0', () => {
    expect(() => new RelayClientTable(0, 1000)).toThrow(RangeError);
    expect(() => new RelayClientTable(1.5, 1000)).toThrow(RangeError);
    expect(() => new RelayClientTable(8, 0)).toThrow(RangeError);
  });
});

describe('Gt7Relay.relay never throws', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  /** A relay on RELAY (a free heartbeat port) with one app on APP that asked for `heartbeat`. */
  async function relayWithApp(heartbeat: string): Promise<{ relay: Gt7Relay; received: Buffer[] }> {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, APP, () => r()));
    cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
    const received: Buffer[] = [];
    sock.on('message', (m) => received.push(m));
    const relay = await Gt7Relay.start({ bind: RELAY, heartbeatPort: 0, replyPort: sock.address().port });
    cleanups.push(() => relay.close());
    sock.send(hb(heartbeat), relay.port, RELAY);
    await waitFor(() => relay.stats().clients.length === 1);
    return { relay, received };
  }

  it('odd input is dropped and counted, a sender keeps getting the good packets', async () => {
    const { relay, received } = await relayWithApp('B');

    const odd: unknown[] = [
      undefined,
      null,
      0,
      'C',
      {},
      [1, 2, 3],
      new Uint8Array(0),
      new Uint8Array(368), // no magic
      new Uint8Array(369),
      new Float32Array(92), // 368 bytes, not a Uint8Array
      plaintextC(1).subarray(0, 300),
      new Proxy(new Uint8Array(368), {
        getPrototypeOf() {
          throw new Error('hostile');
        },
      }),
      new Proxy(plaintextC(2), {
        get(target, key) {
          if (key === 'length') throw new Error('hostile');
          return Reflect.get(target, key) as unknown;
        },
      }),
    ];
    for (const o of odd) expect(() => relay.relay(o as Uint8Array, Number.NaN)).not.toThrow();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.anything(), (bytes, at) => {
        relay.relay(bytes, at as number);
        relay.relay(fc.sample(fc.anything(), 1)[0] as Uint8Array);
      }),
      { numRuns: 200 },
    );
    expect(relay.stats().dropped).toBeGreaterThanOrEqual(odd.length);

    relay.relay(plaintextC(3), performance.now() * 1e6);
    await waitFor(() => received.length >= 1);
    expect(received.at(-1)!.length).toBe(FORMATS.B.size);
    const plain = new Uint8Array(FORMATS.B.size);
    expect(new PacketCipher().decrypt(received.at(-1)!, plain)).toBe('ok');

    await relay.close();
    expect(() => relay.relay(plaintextC(4))).not.toThrow();
  });

  it('a console packet shorter than a sender asked for goes out as it is (as a console locked on that format would send it), counted as shortfall', async () => {
    const { relay, received } = await relayWithApp('C');
    const a = plaintextC(5).slice(0, FORMATS.A.size);
    relay.relay(a);
    await waitFor(() => received.length === 1);
    const plain = new Uint8Array(FORMATS.A.size);
    expect(new PacketCipher().decrypt(received[0]!, plain)).toBe('ok');
    expect([...plain.subarray(0x44)]).toEqual([...a.subarray(0x44)]);
    expect(relay.stats()).toMatchObject({ shortfall: 1, dropped: 0 });
  });
});

describe('the service\'s own motion with the relay on', () => {
  it('a console packet in C gives exactly the MotionSample the same packet gives in B (the relay only changes which heartbeat the service sends)', () => {
    const drive = new SyntheticDrive();
    for (let i = 0; i < 600; i++) {
      drive.next('C');
      const c = new Uint8Array(FORMATS.C.size);
      encodePacket(drive.packet, c);
      const b = c.slice(0, FORMATS.B.size);
      const pc = new Gt7Packet();
      const pb = new Gt7Packet();
      expect(decodePacket(c, pc)).toBe(true);
      expect(decodePacket(b, pb)).toBe(true);
      const sc = gt7ToMotionSample(pc, 0, new MotionSample());
      const sb = gt7ToMotionSample(pb, 0, new MotionSample());
      expect(sc).toEqual(sb);
    }
  });
});
