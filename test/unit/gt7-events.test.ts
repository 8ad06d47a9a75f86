import { describe, expect, it } from 'vitest';
import { DRIVER_EVENTS, GAME_EVENTS, Gt7EventTracker, RACE_EVENTS, type Gt7Event } from '../../src/telemetry/gt7/events.js';
import { Gt7Packet } from '../../src/telemetry/gt7/packet.js';
import { SyntheticDrive } from '../../src/telemetry/gt7/synthetic-drive.js';

function base(): Gt7Packet {
  const p = new Gt7Packet();
  p.format = 'B';
  p.packetId = 1;
  p.flags = 1; // on track
  p.speed = 20;
  p.gearByte = 0xf2;
  p.lapCount = 0;
  p.lapsInRace = 2;
  p.minAlertRpm = 7000;
  p.maxAlertRpm = 7800;
  p.engineRpm = 5000;
  p.bestLapTime = -1;
  p.lastLapTime = -1;
  return p;
}

const names = (evs: Gt7Event[]) => evs.map((e) => e.name);

describe('GT7 events', () => {
  it('covers every gt-telem event family', () => {
    expect(GAME_EVENTS).toEqual(expect.arrayContaining(['running', 'inMenu', 'atTrack', 'inRace', 'paused', 'raceEnd']));
    expect(RACE_EVENTS).toEqual(['raceStart', 'raceFinish', 'lapChange', 'bestLapTime', 'lastLapTime']);
    expect(DRIVER_EVENTS.length).toBe(11);
  });

  it('a two-lap race: start, lap change, lap times, finish, end', () => {
    const t = new Gt7EventTracker();
    const p = base();
    expect(names(t.update(p))).toEqual(['running', 'atTrack']);
    p.packetId++;
    p.lapCount = 1;
    expect(names(t.update(p))).toEqual(['inRace', 'lapChange', 'raceStart']);
    p.packetId++;
    p.lapCount = 2;
    p.lastLapTime = 61_000;
    p.bestLapTime = 61_000;
    const lap2 = t.update(p);
    expect(names(lap2)).toEqual(['lapChange', 'bestLapTime', 'lastLapTime']);
    expect(lap2.find((e) => e.name === 'lastLapTime')!.value).toBe(61_000);
    p.packetId++;
    p.lapCount = 3;
    p.lastLapTime = 60_500;
    p.bestLapTime = 60_500;
    expect(names(t.update(p))).toEqual(['lapChange', 'bestLapTime', 'lastLapTime', 'raceFinish']);
    p.packetId++;
    p.flags = 0;
    p.speed = 0;
    expect(names(t.update(p))).toEqual(['inMenu', 'atTrack', 'inRace', 'raceEnd']);
  });

  it('driver events fire on change only: gear, pedals, lights, aids, shift lights', () => {
    const t = new Gt7EventTracker();
    const p = base();
    t.update(p);
    expect(t.update(p)).toEqual([]);
    p.gearByte = 0x43; // gear 3, suggest 4
    p.brake = 200;
    p.flags |= (1 << 8) | (1 << 6) | (1 << 11) | (1 << 10) | (1 << 5);
    p.engineRpm = 7900;
    const evs = t.update(p);
    expect(names(evs).sort()).toEqual(
      ['gearChange', 'suggestedGear', 'brake', 'flashLights', 'handbrake', 'tcs', 'asm', 'revLimit', 'shiftLightLow', 'shiftLightHigh'].sort(),
    );
    expect(evs.find((e) => e.name === 'gearChange')).toMatchObject({ value: 3, previous: 2 });
    p.engineRpm = 7200;
    expect(names(t.update(p))).toEqual(['shiftLightHigh']);
  });

  it('pause and menu phases of the synthetic drive come out as events', () => {
    const d = new SyntheticDrive();
    const t = new Gt7EventTracker();
    const all: Gt7Event[] = [];
    for (let i = 0; i < 600; i++) all.push(...t.update(d.next()));
    d.phase = 'pause';
    for (let i = 0; i < 30; i++) all.push(...t.update(d.next()));
    d.phase = 'menu';
    for (let i = 0; i < 30; i++) all.push(...t.update(d.next()));
    d.phase = 'replay';
    for (let i = 0; i < 30; i++) all.push(...t.update(d.next()));
    expect(all.filter((e) => e.name === 'paused').map((e) => e.value)).toEqual([true, false]);
    expect(all.some((e) => e.name === 'inMenu' && e.value === true)).toBe(true);
    expect(all.some((e) => e.name === 'inReplay' && e.value === true)).toBe(true);
    expect(all.filter((e) => e.name === 'gearChange').length).toBeGreaterThan(2);
    expect(t.stopped()).toEqual([{ name: 'running', value: false, previous: true, packetId: -1 }]);
  });
});
