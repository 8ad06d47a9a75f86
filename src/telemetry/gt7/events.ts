import { FLAG_BITS } from './layout.js';
import type { Gt7Packet } from './packet.js';

/**
 * Game, race and driver events, derived from consecutive packets: the coverage of
 * gt-telem's GameEvents, RaceEvents and DriverEvents. Pure: feed packets, get the events
 * whose value changed. Definitions, where the packet has no direct field:
 *
 * - inMenu: not on track and not moving (replays move; menus show a parked car).
 * - inReplay: not on track and moving.
 * - inRace: on track, a race with laps (lapsInRace > 0) and a lap under way (lapCount ≥ 1).
 * - raceStart: lapCount becomes 1 in a race. raceFinish: lapCount passes lapsInRace.
 *   raceEnd: inRace falls (finished or left).
 * - shiftLightLow / High: rpm at or above the game's min / max alert rpm.
 * - brake / throttle: pedal pressed (any travel) or released.
 */

export const GAME_EVENTS = ['running', 'inMenu', 'inReplay', 'atTrack', 'inRace', 'paused', 'raceEnd'] as const;
export const RACE_EVENTS = ['raceStart', 'raceFinish', 'lapChange', 'bestLapTime', 'lastLapTime'] as const;
export const DRIVER_EVENTS = [
  'gearChange',
  'flashLights',
  'handbrake',
  'suggestedGear',
  'tcs',
  'asm',
  'revLimit',
  'brake',
  'throttle',
  'shiftLightLow',
  'shiftLightHigh',
] as const;

export type Gt7EventName = (typeof GAME_EVENTS)[number] | (typeof RACE_EVENTS)[number] | (typeof DRIVER_EVENTS)[number];

export interface Gt7Event {
  name: Gt7EventName;
  value: number | boolean;
  previous: number | boolean | undefined;
  packetId: number;
}

type Extract = (p: Gt7Packet) => number | boolean;

const flag = (bit: number) => (p: Gt7Packet) => (p.flags & (1 << bit)) !== 0;
const moving = (p: Gt7Packet) => p.speed > 0.1;
const inRace = (p: Gt7Packet) => p.carOnTrack && p.lapsInRace > 0 && p.lapCount >= 1;

/** State-like values: reported whenever they change. */
const WATCHED: readonly (readonly [Gt7EventName, Extract])[] = [
  ['inMenu', (p) => !p.carOnTrack && !moving(p)],
  ['inReplay', (p) => !p.carOnTrack && moving(p)],
  ['atTrack', flag(FLAG_BITS.carOnTrack)],
  ['inRace', inRace],
  ['paused', flag(FLAG_BITS.paused)],
  ['lapChange', (p) => p.lapCount],
  ['bestLapTime', (p) => p.bestLapTime],
  ['lastLapTime', (p) => p.lastLapTime],
  ['gearChange', (p) => p.currentGear],
  ['flashLights', flag(FLAG_BITS.highBeam)],
  ['handbrake', flag(FLAG_BITS.handbrake)],
  ['suggestedGear', (p) => p.suggestedGear],
  ['tcs', flag(FLAG_BITS.tcs)],
  ['asm', flag(FLAG_BITS.asm)],
  ['revLimit', flag(FLAG_BITS.revLimiterAlert)],
  ['brake', (p) => p.brake > 0],
  ['throttle', (p) => p.throttle > 0],
  ['shiftLightLow', (p) => p.minAlertRpm > 0 && p.engineRpm >= p.minAlertRpm],
  ['shiftLightHigh', (p) => p.maxAlertRpm > 0 && p.engineRpm >= p.maxAlertRpm],
];

export class Gt7EventTracker {
  private readonly previous = new Map<Gt7EventName, number | boolean>();
  private running = false;
  private lastLapCount = 0;
  private lastLapsInRace = 0;

  /** The events this packet causes, in a stable order. */
  update(p: Gt7Packet): Gt7Event[] {
    const events: Gt7Event[] = [];
    const first = !this.running;
    if (first) {
      this.running = true;
      events.push({ name: 'running', value: true, previous: false, packetId: p.packetId });
    }
    for (const [name, extract] of WATCHED) {
      const value = extract(p);
      const before = this.previous.get(name);
      this.previous.set(name, value);
      if (first) {
        // The first packet sets the baseline; only states that hold are announced.
        if (value === true) events.push({ name, value, previous: undefined, packetId: p.packetId });
        continue;
      }
      if (value !== before) {
        events.push({ name, value, previous: before, packetId: p.packetId });
        if (name === 'inRace' && value === false) events.push({ name: 'raceEnd', value: true, previous: false, packetId: p.packetId });
      }
    }
    if (!first && p.lapsInRace > 0) {
      if (p.lapCount === 1 && this.lastLapCount < 1) events.push({ name: 'raceStart', value: true, previous: false, packetId: p.packetId });
      if (p.lapCount > p.lapsInRace && this.lastLapCount <= this.lastLapsInRace && this.lastLapCount >= 1) {
        events.push({ name: 'raceFinish', value: true, previous: false, packetId: p.packetId });
      }
    }
    this.lastLapCount = p.lapCount;
    this.lastLapsInRace = p.lapsInRace;
    return events;
  }

  /** The stream stopped (stall, shutdown): report it and start over with the next packet. */
  stopped(packetId = -1): Gt7Event[] {
    if (!this.running) return [];
    this.running = false;
    this.previous.clear();
    return [{ name: 'running', value: false, previous: true, packetId }];
  }
}
