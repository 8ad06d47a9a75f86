import { describe, expect, it } from 'vitest';
import { Gt7Packet, decodePacket, encodePacket, packetToJson } from '../../src/telemetry/gt7/packet.js';
import { FIELDS } from '../../src/telemetry/gt7/layout.js';
import { FORMATS } from '../../src/telemetry/gt7/formats.js';
import { readCapture } from '../../src/telemetry/recording.js';
import { dataPath, haveSharedData } from '../helpers/shared-data.js';

describe('GT7 field table', () => {
  it('fields do not overlap and fill each format up to its size', () => {
    const size = { f32: 4, i32: 4, i16: 2, u16: 2, u8: 1 } as const;
    const sorted = [...FIELDS].sort((a, b) => a.offset - b.offset);
    let end = 0;
    for (const f of sorted) {
      // 0x40..0x43 is the seed slot, the only gap.
      expect(f.offset === end || (end === 0x40 && f.offset === 0x44)).toBe(true);
      end = f.offset + size[f.type] * (f.count ?? 1);
    }
    expect(end).toBe(FORMATS.C.size);
    for (const hb of ['A', 'B', '~'] as const) {
      const last = sorted.filter((f) => FORMATS[f.since].rank <= FORMATS[hb].rank).at(-1)!;
      expect(last.offset + size[last.type] * (last.count ?? 1)).toBe(FORMATS[hb].size);
    }
  });

  it('decode of hand-made bytes puts each value where the table says', () => {
    const bytes = new Uint8Array(FORMATS.C.size);
    const v = new DataView(bytes.buffer);
    v.setFloat32(0x04, 1.5, true);
    v.setFloat32(0x28, 0.25, true);
    v.setInt32(0x70, 123456, true);
    v.setInt16(0x74, -1, true);
    v.setUint16(0x8e, 0b1000_0000_1001, true);
    v.setUint8(0x90, 0xf3);
    v.setFloat32(0x130, -9.5, true);
    v.setUint8(0x158, 'T'.charCodeAt(0));
    v.setUint8(0x159, 'C'.charCodeAt(0));
    v.setUint8(0x15a, 'G'.charCodeAt(0));
    v.setUint8(0x15b, 'S'.charCodeAt(0));
    bytes.set(Buffer.from('GR3\0'), 0x16c);
    v.setInt32(0x124, 3321, true);
    const p = new Gt7Packet();
    expect(decodePacket(bytes, p)).toBe(true);
    expect(p.format).toBe('C');
    expect(p.position[0]).toBe(1.5);
    expect(p.rotation[3]).toBe(0.25);
    expect(p.packetId).toBe(123456);
    expect(p.lapCount).toBe(-1);
    expect(p.carOnTrack).toBe(true);
    expect(p.flag('inGear')).toBe(true);
    expect(p.flag('tcs')).toBe(true);
    expect(p.flag('asm')).toBe(false);
    expect(p.currentGear).toBe(3);
    expect(p.suggestedGear).toBe(15);
    expect(p.sway).toBe(-9.5);
    expect(p.surfaces).toBe('TCGS');
    expect(p.carCategory).toBe('GR3');
    expect(p.carCode).toBe(3321);
    expect(decodePacket(new Uint8Array(297), p)).toBe(false);
  });
});

describe.skipIf(!haveSharedData)('GT7 decoder on real plaintext', () => {
  const files = [
    ['recordings', 'replay-A.lpr', 'A'],
    ['recordings', 'replay-tilde.lpr', '~'],
    ['synthetic', 'synthetic_B_plaintext.lpr', 'B'],
    ['synthetic', 'synthetic_C_plaintext.lpr', 'C'],
  ] as const;
  for (const [dir, file, format] of files) {
    it(`${file}: decode → encode reproduces every byte (the hand decoder matches the table)`, () => {
      const cap = readCapture(dataPath('gt7', dir, file));
      const p = new Gt7Packet();
      for (const r of cap.records) {
        expect(decodePacket(r.datagram, p)).toBe(true);
        expect(p.format).toBe(format);
        const out = new Uint8Array(r.datagram.length);
        out.set(r.datagram.subarray(0x40, 0x44), 0x40);
        encodePacket(p, out);
        expect(Buffer.from(out).equals(Buffer.from(r.datagram))).toBe(true);
      }
    });
  }

  it('replay-A has increasing, nearly always consecutive packet ids and sane physical ranges', () => {
    const cap = readCapture(dataPath('gt7', 'recordings', 'replay-A.lpr'));
    const p = new Gt7Packet();
    let prev: number | undefined;
    let single = 0;
    for (const r of cap.records) {
      decodePacket(r.datagram, p);
      if (prev !== undefined) {
        expect(p.packetId).toBeGreaterThanOrEqual(prev); // measured: 5 duplicates, 5 gaps in 6420
        if (p.packetId === prev + 1) single++;
      }
      prev = p.packetId;
      expect(p.speed).toBeGreaterThanOrEqual(0);
      expect(p.speed).toBeLessThan(150);
      expect(p.engineRpm).toBeLessThan(20000);
      expect(p.currentGear).toBeLessThanOrEqual(8);
    }
    expect(single / (cap.records.length - 1)).toBeGreaterThan(0.99);
  });

  it('packetToJson carries the keys `decode --json` promises', () => {
    const cap = readCapture(dataPath('gt7', 'recordings', 'replay-tilde.lpr'));
    const p = new Gt7Packet();
    decodePacket(cap.records[100]!.datagram, p);
    const j = packetToJson(p);
    for (const k of ['packetId', 'carCode', 'engineRpm', 'speed', 'position', 'velocity', 'rotation', 'angularVelocity', 'bodyHeight', 'fuelLevel', 'fuelCapacity', 'tyreTemp', 'lapCount', 'lapsInRace', 'bestLapTime', 'lastLapTime', 'currentGear', 'suggestedGear', 'throttle', 'brake', 'flags', 'wheelRotation', 'wheelRotationRate', 'sway', 'heave', 'surge', 'throttleInput', 'brakeOutput', 'energyRecovery']) {
      expect(j, k).toHaveProperty(k);
    }
    expect((j.position as number[]).length).toBe(3);
    expect((j.rotation as number[]).length).toBe(4);
    expect((j.tyreTemp as number[]).length).toBe(4);
    expect(typeof j.flags).toBe('number');
  });
});
