import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as L from '../../src/telemetry/f1/layout.js';
import * as L2018 from '../../src/telemetry/f1/layout-2018.js';
import { F1MotionState } from '../../src/telemetry/f1/motion.js';
import { type F1Packet, PACKET_IDS_2018, decodeF1Packet, looksLikeF1 } from '../../src/telemetry/f1/packet.js';
import { type StructDef, describeStruct, sizeOf } from '../../src/telemetry/f1/struct.js';
import { MotionSample } from '../../src/telemetry/motion-sample.js';
import { dataPath, haveSharedData } from '../helpers/shared-data.js';

// Sizes from ../shared/design/TELEMETRY-NOTES.md (2018) and the later-format captures' lengths.
const SIZES_2018: [string, StructDef, number][] = [
  ['header', L.HEADER_2018, 21],
  ['motion', L.MOTION_2018, 1341],
  ['session', L2018.SESSION_2018, 147],
  ['lapData', L2018.LAP_DATA_2018, 841],
  ['event', L2018.EVENT_2018, 25],
  ['participants', L2018.PARTICIPANTS_2018, 1082],
  ['carSetups', L2018.CAR_SETUPS_2018, 841],
  ['carTelemetry', L2018.CAR_TELEMETRY_2018, 1085],
  ['carStatus', L2018.CAR_STATUS_2018, 1061],
];

describe('F1 struct tables', () => {
  it('2018 packets have the sizes the reference gives; car motion is 60 bytes, player-only data starts at 1221', () => {
    for (const [name, def, size] of SIZES_2018) expect([name, sizeOf(def)]).toEqual([name, size]);
    expect(sizeOf(L.CAR_MOTION)).toBe(60);
    expect(21 + 20 * sizeOf(L.CAR_MOTION)).toBe(1221);
  });

  it('later headers are 23, 24 and 29 bytes; later motion packets 1343, 1464, 1349; motion-ex 217 and 237', () => {
    expect([sizeOf(L.HEADER_2019), sizeOf(L.HEADER_2020), sizeOf(L.HEADER_2023)]).toEqual([23, 24, 29]);
    expect([sizeOf(L.MOTION_2019), sizeOf(L.MOTION_2020), sizeOf(L.MOTION_2023)]).toEqual([1343, 1464, 1349]);
    expect([sizeOf(L.MOTION_EX_2023), sizeOf(L.MOTION_EX_2024)]).toEqual([217, 237]);
  });

  it('every field has a name, and every physical one a unit; wheel arrays say their order', () => {
    for (const [, def] of SIZES_2018) {
      for (const row of describeStruct(def)) {
        expect(row.path).toMatch(/^[a-z][A-Za-z0-9]*(\[\d+\])?(\.[a-z][A-Za-z0-9]*(\[\d+\])?)*$/);
        if (row.type === 'f32') expect(row.unit, row.path).not.toBe('');
        if (/\[4\]$/.test(row.path) && !row.path.startsWith('eventStringCode')) expect(row.doc, row.path).toMatch(/RL, RR, FL, FR/);
      }
    }
  });
});

/** Hand-made packets: values written at offsets worked out from the reference struct order. */
describe('F1 2018 decode of hand-made bytes', () => {
  function bytes(size: number, format: number, id: number): { b: Uint8Array; v: DataView } {
    const b = new Uint8Array(size);
    const v = new DataView(b.buffer);
    v.setUint16(0, format, true);
    b[3] = id;
    return { b, v };
  }

  it('header, motion car 3 and the player-only tail', () => {
    const { b, v } = bytes(1341, 2018, 0);
    b[2] = 1;
    v.setBigUint64(4, 0x0102030405060708n, true);
    v.setFloat32(12, 12.5, true);
    v.setUint32(16, 4242, true);
    b[20] = 3;
    const car3 = 21 + 3 * 60;
    v.setFloat32(car3 + 12, -7.25, true); // worldVelocityX
    v.setInt16(car3 + 24, -32767, true); // worldForwardDirX
    v.setInt16(car3 + 34, 16384, true); // worldRightDirZ
    v.setFloat32(car3 + 36, 1.5, true); // gForceLateral
    v.setFloat32(car3 + 56, 0.125, true); // roll
    v.setFloat32(1221 + 12, 3, true); // suspensionPosition[3] = FR
    v.setFloat32(1221 + 64, -0.5, true); // wheelSlip[0] = RL
    v.setFloat32(1221 + 88, 55, true); // localVelocityZ
    v.setFloat32(1221 + 96, 0.75, true); // angularVelocityY
    v.setFloat32(1221 + 116, -0.1, true); // frontWheelsAngle
    const r = decodeF1Packet(b);
    if (!r.ok || r.packet.type !== 'motion') throw new Error(JSON.stringify(r));
    const { header, data } = r.packet;
    expect(header).toMatchObject({ packetFormat: 2018, packetVersion: 1, packetId: 0, sessionUID: 0x0102030405060708n, sessionTime: 12.5, frameIdentifier: 4242, playerCarIndex: 3 });
    const c = data.carMotionData[3]!;
    expect(c.worldVelocityX).toBe(-7.25);
    expect(c.worldForwardDirX).toBe(-1);
    expect(c.worldRightDirZ).toBeCloseTo(16384 / 32767, 12);
    expect(c.gForceLateral).toBe(1.5);
    expect(c.roll).toBe(0.125);
    expect('suspensionPosition' in data && data.suspensionPosition[3]).toBe(3);
    expect('wheelSlip' in data && data.wheelSlip[0]).toBe(-0.5);
    expect('localVelocityZ' in data && data.localVelocityZ).toBe(55);
    expect('angularVelocityY' in data && data.angularVelocityY).toBe(0.75);
    expect('frontWheelsAngle' in data && data.frontWheelsAngle).toBeCloseTo(-0.1, 7);
  });

  it('session, participants, lap data, event, telemetry, status, setups', () => {
    let { b, v } = bytes(147, 2018, 1);
    b[21 + 1] = 0xf6; // trackTemperature −10 °C
    v.setUint16(21 + 4, 5303, true); // trackLength
    b[21 + 14] = 1; // gamePaused
    b[21 + 15] = 1; // isSpectating
    v.setFloat32(21 + 19 + 5 * 20, 0.95, true); // marshalZones[20].zoneStart
    b[147 - 2] = 2; // safetyCarStatus
    let r = decodeF1Packet(b);
    if (!r.ok || r.packet.type !== 'session') throw new Error('session');
    expect(r.packet.data).toMatchObject({ trackTemperature: -10, trackLength: 5303, gamePaused: 1, isSpectating: 1, safetyCarStatus: 2, networkGame: 0 });
    expect(r.packet.data.marshalZones[20]!.zoneStart).toBeCloseTo(0.95, 6);

    ({ b, v } = bytes(1082, 2018, 4));
    b[21] = 20;
    b[21 + 1 + 7 * 53 + 2] = 9; // participants[7].teamId
    b.set(Buffer.from('Kimi Räikkönen'), 21 + 1 + 7 * 53 + 5);
    r = decodeF1Packet(b);
    if (!r.ok || r.packet.type !== 'participants') throw new Error('participants');
    expect(r.packet.data.participants[7]).toMatchObject({ teamId: 9, name: 'Kimi Räikkönen' });

    ({ b, v } = bytes(841, 2018, 2));
    b[21 + 19 * 41 + 32 + 7] = 4; // lapData[19].driverStatus
    v.setFloat32(21 + 19 * 41 + 20, -12.5, true); // lapDistance
    r = decodeF1Packet(b);
    if (!r.ok || r.packet.type !== 'lapData') throw new Error('lapData');
    expect(r.packet.data.lapData[19]).toMatchObject({ driverStatus: 4, lapDistance: -12.5 });

    ({ b } = bytes(25, 2018, 3));
    b.set(Buffer.from('SEND'), 21);
    r = decodeF1Packet(b);
    expect(r.ok && r.packet.type === 'event' && r.packet.data.eventStringCode).toBe('SEND');

    ({ b, v } = bytes(1085, 2018, 6));
    v.setUint16(21 + 53, 312, true); // car 1 speed
    b[21 + 53 + 3] = 0x9c; // car 1 steer −100
    v.setFloat32(21 + 53 + 37 + 12, 23.5, true); // car 1 tyresPressure[3] (FR)
    v.setUint32(1081, 0x80000001, true);
    r = decodeF1Packet(b);
    if (!r.ok || r.packet.type !== 'carTelemetry') throw new Error('carTelemetry');
    expect(r.packet.data.carTelemetryData[1]).toMatchObject({ speed: 312, steer: -100 });
    expect(r.packet.data.carTelemetryData[1]!.tyresPressure[3]).toBe(23.5);
    expect(r.packet.data.buttonStatus).toBe(0x80000001);

    ({ b, v } = bytes(1061, 2018, 7));
    v.setUint16(21 + 13, 12000, true); // maxRPM after the two floats
    b[21 + 17] = 8; // maxGears
    v.setFloat32(21 + 48, 1234.5, true); // ersDeployedThisLap, the last field
    r = decodeF1Packet(b);
    if (!r.ok || r.packet.type !== 'carStatus') throw new Error('carStatus');
    expect(r.packet.data.carStatusData[0]).toMatchObject({ maxRPM: 12000, maxGears: 8, ersDeployedThisLap: 1234.5 });

    ({ b, v } = bytes(841, 2018, 5));
    v.setFloat32(21 + 37, 110, true); // fuelLoad, the last field
    b[21 + 36] = 3; // ballast
    r = decodeF1Packet(b);
    if (!r.ok || r.packet.type !== 'carSetups') throw new Error('carSetups');
    expect(r.packet.data.carSetups[0]).toMatchObject({ ballast: 3, fuelLoad: 110 });
  });

  it('drops what it cannot read, by reason, without throwing', () => {
    const reasons = (b: Uint8Array) => {
      const r = decodeF1Packet(b);
      return r.ok ? 'ok' : r.reason;
    };
    const motion = bytes(1341, 2018, 0).b;
    expect(reasons(motion)).toBe('ok');
    expect(reasons(new Uint8Array(0))).toBe('too-short');
    expect(reasons(motion.subarray(0, 1))).toBe('too-short');
    expect(reasons(motion.subarray(0, 20))).toBe('too-short');
    expect(reasons(motion.subarray(0, 1340))).toBe('bad-size');
    expect(reasons(new Uint8Array([...motion, 0]))).toBe('bad-size');
    expect(reasons(bytes(1341, 2017, 0).b)).toBe('unknown-format');
    expect(reasons(bytes(1341, 2018, 8).b)).toBe('unknown-packet-id');
    const lobby = bytes(1218, 2020, 9).b;
    lobby[3] = 1;
    lobby[5] = 9;
    expect(reasons(lobby)).toBe('not-decoded');
  });
});

interface ManifestEntry {
  m_packetId: number;
  len: number;
  sha1: string;
  file: string;
}

describe.skipIf(!haveSharedData)('real F1 packets', () => {
  const manifest = haveSharedData ? (JSON.parse(readFileSync(dataPath('f1', '2018', 'manifest.json'), 'utf8')) as ManifestEntry[]) : [];

  it('every 2018 packet decodes with the id and size its manifest gives', () => {
    const files = readdirSync(dataPath('f1', '2018')).filter((f) => f.endsWith('.bin'));
    expect(files.length).toBe(9);
    for (const file of files) {
      const entry = manifest.find((m) => m.file === file)!;
      const b = readFileSync(dataPath('f1', '2018', file));
      expect(createHash('sha1').update(b).digest('hex')).toBe(entry.sha1);
      expect(b.length).toBe(entry.len);
      const r = decodeF1Packet(b);
      if (!r.ok) throw new Error(`${file}: ${r.message}`);
      expect([file, r.packet.header.packetFormat, r.packet.header.packetId]).toEqual([file, 2018, entry.m_packetId]);
      expect(PACKET_IDS_2018[r.packet.header.packetId]).toBe(r.packet.type);
      expect(looksLikeF1(b)).toBe(true);
    }
  });

  it('the 2018 packets read sensibly: event code, team ids, speeds, a real session', () => {
    const get = (file: string) => {
      const r = decodeF1Packet(readFileSync(dataPath('f1', '2018', file)));
      if (!r.ok) throw new Error(file);
      return r.packet;
    };
    const ev = get('03-event.bin');
    expect(ev.type === 'event' && ['SSTA', 'SEND']).toContain(ev.type === 'event' ? ev.data.eventStringCode : '');
    const part = get('04-participants.bin');
    if (part.type !== 'participants') throw new Error();
    expect(part.data.numCars).toBeGreaterThan(0);
    expect(part.data.numCars).toBeLessThanOrEqual(20);
    for (const p of part.data.participants.slice(0, part.data.numCars)) {
      expect(p.teamId).toBeLessThan(100);
      expect(p.name.length).toBeGreaterThan(0);
    }
    const tel = get('06-carTelemetry.bin');
    if (tel.type !== 'carTelemetry') throw new Error();
    for (const c of tel.data.carTelemetryData) {
      expect(c.speed).toBeLessThan(400);
      expect(Math.abs(c.steer)).toBeLessThanOrEqual(100);
      expect(c.gear).toBeGreaterThanOrEqual(-1);
      expect(c.gear).toBeLessThanOrEqual(8);
    }
    const ses = get('01-session.bin');
    if (ses.type !== 'session') throw new Error();
    expect(ses.data.trackLength).toBeGreaterThan(3000);
    expect(ses.data.trackLength).toBeLessThan(8000);
    expect(ses.data.numMarshalZones).toBeLessThanOrEqual(21);
    const st = get('07-carStatus.bin');
    if (st.type !== 'carStatus') throw new Error();
    for (const c of st.data.carStatusData) expect(c.fuelCapacity === 0 || (c.fuelCapacity > 50 && c.fuelCapacity < 200)).toBe(true);
  });

  /** The motion packets' physics: unit, orthogonal direction vectors; yaw from forward; speeds agree. */
  function checkMotion(name: string, packet: F1Packet): number {
    if (packet.type !== 'motion') throw new Error(name);
    let active = 0;
    for (const c of packet.data.carMotionData) {
      const f = [c.worldForwardDirX, c.worldForwardDirY, c.worldForwardDirZ];
      const r = [c.worldRightDirX, c.worldRightDirY, c.worldRightDirZ];
      if (Math.hypot(...f) === 0) continue; // an empty grid slot
      active++;
      expect(Math.abs(Math.hypot(...f) - 1), name).toBeLessThan(2e-3);
      expect(Math.abs(Math.hypot(...r) - 1), name).toBeLessThan(2e-3);
      expect(Math.abs(f[0]! * r[0]! + f[1]! * r[1]! + f[2]! * r[2]!), name).toBeLessThan(2e-3);
      // Right-handed world with y up: forward × right points down.
      expect(f[2]! * r[0]! - f[0]! * r[2]!, name).toBeLessThan(-0.95);
      // The game's yaw is an Euler angle; on a car rolled 6.5° (racehub-2020, car 5) it
      // differs from the forward vector's heading by 0.0028 rad, elsewhere by ≤ 0.0006.
      const yaw = Math.atan2(f[0]!, f[2]!);
      expect(Math.abs(Math.atan2(Math.sin(yaw - c.yaw), Math.cos(yaw - c.yaw))), name).toBeLessThan(Math.abs(Math.asin(r[1]!)) > 0.05 ? 5e-3 : 1e-3);
    }
    const d = packet.data;
    const me = d.carMotionData[packet.header.playerCarIndex]!;
    const world = Math.hypot(me.worldVelocityX, me.worldVelocityY, me.worldVelocityZ);
    if ('localVelocityZ' in d) {
      const local = Math.hypot(d.localVelocityX, d.localVelocityY, d.localVelocityZ);
      expect(Math.abs(world - local), name).toBeLessThan(1e-3 * Math.max(1, world));
      // The car frame's x is left: world velocity on the right vector is −localVelocityX.
      const onRight = me.worldVelocityX * me.worldRightDirX + me.worldVelocityY * me.worldRightDirY + me.worldVelocityZ * me.worldRightDirZ;
      expect(Math.abs(onRight + d.localVelocityX), name).toBeLessThan(0.02 + 1e-3 * world);
      // Forward velocity carries the speed, up to the car's slip angle (≤ 5 % here).
      expect(Math.abs(world - d.localVelocityZ), name).toBeLessThanOrEqual(0.05 * world + 1e-3);
    }
    return active;
  }

  it('2018 motion: direction vectors unit and orthogonal, yaw = atan2(forward x, z), |world v| = |local v|', () => {
    const r = decodeF1Packet(readFileSync(dataPath('f1', '2018', '00-motion.bin')));
    if (!r.ok) throw new Error(r.message);
    expect(checkMotion('2018', r.packet)).toBe(20);
  });

  it('2019–2024 motion and motion-ex packets decode through the header dispatch', () => {
    const files = readdirSync(dataPath('f1', 'later-formats')).filter((f) => f.endsWith('.bin'));
    expect(files.length).toBe(9);
    for (const file of files) {
      const [, year, id] = /-(\d{4})-(\d\d)\.bin$/.exec(file)!;
      const b = readFileSync(dataPath('f1', 'later-formats', file));
      const r = decodeF1Packet(b);
      if (!r.ok) throw new Error(`${file}: ${r.message}`);
      const h = r.packet.header;
      expect([file, h.packetFormat, h.packetId]).toEqual([file, Number(year), Number(id)]);
      expect(h.playerCarIndex).toBe(19);
      if (h.packetFormat >= 2020) expect(h.secondaryPlayerCarIndex).toBe(255);
      if (h.packetFormat >= 2023) expect(h.gameYear).toBe(Number(year) % 100);
      if (r.packet.type === 'motion') checkMotion(file, r.packet);
      else {
        expect(r.packet.type).toBe('motionEx');
        if (r.packet.type !== 'motionEx') continue;
        // A car standing on the grid: wheel loads carry its weight (~ 7–8 kN for an F1 car).
        const load = r.packet.data.wheelVertForce.reduce((a, x) => a + x, 0);
        expect(load).toBeGreaterThan(6000);
        expect(load).toBeLessThan(12000);
      }
    }
  });

  it('fuzz: millions of random, truncated, oversize and mutated datagrams never throw; samples stay finite', () => {
    const real = [
      ...readdirSync(dataPath('f1', '2018')).filter((f) => f.endsWith('.bin')).map((f) => new Uint8Array(readFileSync(dataPath('f1', '2018', f)))),
      ...readdirSync(dataPath('f1', 'later-formats')).map((f) => new Uint8Array(readFileSync(dataPath('f1', 'later-formats', f)))),
    ];
    let seed = 0x2018;
    const rand = () => {
      // xorshift32: reproducible without a dependency.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x1_0000_0000;
    };
    const state = new F1MotionState();
    const sample = new MotionSample();
    const counts = { ok: 0, dropped: 0, samples: 0 };
    const buffer = new Uint8Array(2048);
    const run = (b: Uint8Array) => {
      const r = decodeF1Packet(b);
      if (!r.ok) {
        counts.dropped++;
        return;
      }
      counts.ok++;
      if (state.update(r.packet, 0, sample)) {
        counts.samples++;
        for (const k of ['ax', 'ay', 'az', 'gx', 'gy', 'gz', 'p', 'q', 'r', 'steer', 'steerRate', 'speed'] as const) {
          if (!Number.isFinite(sample[k])) throw new Error(`non-finite ${k}`);
        }
      }
    };
    // 2,000,000 random datagrams, a third of them with a known format in front.
    for (let i = 0; i < 2_000_000; i++) {
      const n = Math.floor(rand() * 1500);
      for (let j = 0; j < n; j += 4) {
        const x = (rand() * 0x1_0000_0000) >>> 0;
        buffer[j] = x;
        buffer[j + 1] = x >>> 8;
        buffer[j + 2] = x >>> 16;
        buffer[j + 3] = x >>> 24;
      }
      if (i % 3 === 0 && n >= 2) {
        const format = 2018 + (i % 7);
        buffer[0] = format & 0xff;
        buffer[1] = format >> 8;
      }
      run(buffer.subarray(0, n));
    }
    // 1,000,000 real packets truncated, extended, or with bytes flipped.
    for (let i = 0; i < 1_000_000; i++) {
      const src = real[i % real.length]!;
      const mode = i % 4;
      if (mode === 0) run(src.subarray(0, Math.floor(rand() * src.length)));
      else if (mode === 1) {
        buffer.set(src);
        const extra = 1 + Math.floor(rand() * 200);
        run(buffer.subarray(0, Math.min(buffer.length, src.length + extra)));
      } else {
        buffer.set(src);
        const flips = 1 + Math.floor(rand() * 8);
        for (let k = 0; k < flips; k++) buffer[Math.floor(rand() * src.length)] = Math.floor(rand() * 256);
        run(buffer.subarray(0, src.length));
      }
    }
    expect(counts.ok + counts.dropped).toBe(3_000_000);
    // The mutated real packets mostly still decode, so the motion path really ran.
    expect(counts.samples).toBeGreaterThan(50_000);
    expect(state.stats.noPlayer + state.stats.nonFinite).toBeGreaterThan(0);
  }, 180_000);
});
