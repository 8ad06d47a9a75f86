import type { MotionSample } from '../telemetry/motion-sample.js';
import { ANY_GAME_SEQUENCE, SequenceGuard, SequenceVerdict } from '../telemetry/sequence-guard.js';

/**
 * Decides, every control tick, whether the telemetry is fresh driving telemetry the rig may
 * follow, or names why not. Pure: it sees samples and tick numbers, nothing else.
 *
 * Reasons to hold, in priority order when several apply:
 *   noTelemetry  nothing received yet
 *   stale        the game's packet counter has not advanced for `staleMs`; a duplicate, a
 *                step back, or a jump the next sample has not confirmed is no advance
 *                (SequenceGuard), so one stray sequence number neither freshens nor moves it
 *   loading, paused, menu, replay   the game says so
 *   frozen       packets keep coming but the physics does not move (every motion value
 *                bit-identical) for `frozenMs`
 *   teleport     a position jump no car can drive (reset to track, rewind); held `teleportHoldMs`
 *   carChange    another car id than before; held `carChangeHoldMs` (the profile switches meanwhile)
 * After the last reason clears, the watch keeps reporting it for `settleMs`, so a flapping
 * input does not flap the rig.
 */
export const HoldReason = {
  none: 0,
  noTelemetry: 1,
  stale: 2,
  loading: 3,
  paused: 4,
  menu: 5,
  replay: 6,
  frozen: 7,
  teleport: 8,
  carChange: 9,
} as const;
export type HoldReasonName = keyof typeof HoldReason;
export const HOLD_REASON_NAMES = Object.keys(HoldReason) as HoldReasonName[];

export interface TelemetryWatchSettings {
  staleMs: number;
  frozenMs: number;
  settleMs: number;
  teleportHoldMs: number;
  carChangeHoldMs: number;
  /** A jump is a teleport when longer than this plus twice what the car's speed covers (m). */
  teleportMinJumpM: number;
}

export const DEFAULT_WATCH_SETTINGS: TelemetryWatchSettings = {
  staleMs: 100,
  frozenMs: 100,
  settleMs: 250,
  teleportHoldMs: 1000,
  carChangeHoldMs: 500,
  teleportMinJumpM: 5,
};

/** Previous-sample fields, in a typed array so per-tick stores never box. */
const P_AX = 0;
const P_AY = 1;
const P_AZ = 2;
const P_P = 3;
const P_Q = 4;
const P_R = 5;
const P_SPEED = 6;
const P_X = 7;
const P_Y = 8;
const P_Z = 9;
const P_TIME_NS = 10;
const N_PREV = 11;

export class TelemetryWatch {
  private readonly prev = new Float64Array(N_PREV);
  /** Tick numbers: [last sequence change, frozen since (−1 not frozen), teleport at, car change at, clear since]. */
  private readonly ticks = new Float64Array([-1, -1, -1e12, -1e12, -1]);
  /** [last car id, have previous sample (0/1), have position (0/1), last reason]. */
  private readonly ints = new Int32Array([-1, 0, 0, HoldReason.noTelemetry]);
  private readonly sequence = new SequenceGuard(ANY_GAME_SEQUENCE);
  private readonly flags = new Uint8Array(4); // paused, loading, onTrack, replay of the newest sample
  private readonly staleTicks: number;
  private readonly frozenTicks: number;
  private readonly settleTicks: number;
  private readonly teleportTicks: number;
  private readonly carTicks: number;
  private readonly minJump: number;
  /** Counters (events, not ticks). */
  readonly counts = { teleports: 0, carChanges: 0 };

  constructor(rateHz: number, settings: TelemetryWatchSettings = DEFAULT_WATCH_SETTINGS) {
    const t = (ms: number) => Math.max(1, Math.round((ms * rateHz) / 1000));
    this.staleTicks = t(settings.staleMs);
    this.frozenTicks = t(settings.frozenMs);
    this.settleTicks = t(settings.settleMs);
    this.teleportTicks = t(settings.teleportHoldMs);
    this.carTicks = t(settings.carChangeHoldMs);
    this.minJump = settings.teleportMinJumpM;
  }

  /** A sample that arrived during tick k. */
  sample(s: MotionSample, k: number): void {
    const prev = this.prev;
    const ints = this.ints;
    const ticks = this.ticks;
    const first = ints[1] === 0;
    const verdict = this.sequence.judge(s.sequence);
    if (verdict === SequenceVerdict.accept || verdict === SequenceVerdict.jump) ticks[0] = k;
    const same =
      !first &&
      s.ax === prev[P_AX] && s.ay === prev[P_AY] && s.az === prev[P_AZ] &&
      s.p === prev[P_P] && s.q === prev[P_Q] && s.r === prev[P_R] &&
      s.speed === prev[P_SPEED] && s.px === prev[P_X] && s.py === prev[P_Y] && s.pz === prev[P_Z];
    if (!same) ticks[1] = -1;
    else if (ticks[1]! < 0) ticks[1] = k;

    if (!first && s.hasPosition && ints[2] === 1) {
      const dx = s.px - prev[P_X]!;
      const dy = s.py - prev[P_Y]!;
      const dz = s.pz - prev[P_Z]!;
      const jump = Math.sqrt(dx * dx + dy * dy + dz * dz);
      let gap = (s.receiveTimeNs - prev[P_TIME_NS]!) * 1e-9;
      if (!(gap >= 1 / 60)) gap = 1 / 60;
      const fastest = s.speed > prev[P_SPEED]! ? s.speed : prev[P_SPEED]!;
      if (!(jump <= this.minJump + 2 * fastest * gap)) {
        ticks[2] = k;
        this.counts.teleports++;
      }
    }
    if (s.carId !== ints[0]) {
      if (ints[0] !== -1 && s.carId !== -1) {
        ticks[3] = k;
        this.counts.carChanges++;
      }
      if (s.carId !== -1) ints[0] = s.carId;
    }
    prev[P_AX] = s.ax;
    prev[P_AY] = s.ay;
    prev[P_AZ] = s.az;
    prev[P_P] = s.p;
    prev[P_Q] = s.q;
    prev[P_R] = s.r;
    prev[P_SPEED] = s.speed;
    prev[P_X] = s.px;
    prev[P_Y] = s.py;
    prev[P_Z] = s.pz;
    prev[P_TIME_NS] = s.receiveTimeNs;
    ints[1] = 1;
    ints[2] = s.hasPosition ? 1 : 0;
    this.flags[0] = s.paused ? 1 : 0;
    this.flags[1] = s.loading ? 1 : 0;
    this.flags[2] = s.onTrack ? 1 : 0;
    this.flags[3] = s.replay ? 1 : 0;
  }

  /** The car id of the newest sample that had one (−1 none yet). */
  get carId(): number {
    return this.ints[0]!;
  }

  /** Why the rig must hold at tick k, or HoldReason.none. */
  evaluate(k: number): number {
    const raw = this.rawReason(k);
    const ints = this.ints;
    const ticks = this.ticks;
    if (raw !== HoldReason.none) {
      ints[3] = raw;
      ticks[4] = -1;
      return raw;
    }
    if (ints[3] === HoldReason.none) return HoldReason.none;
    if (ticks[4]! < 0) ticks[4] = k;
    if (k - ticks[4]! < this.settleTicks) return ints[3]!;
    ints[3] = HoldReason.none;
    return HoldReason.none;
  }

  private rawReason(k: number): number {
    const ticks = this.ticks;
    const f = this.flags;
    if (this.ints[1] === 0) return HoldReason.noTelemetry;
    if (k - ticks[0]! >= this.staleTicks) return HoldReason.stale;
    if (f[1] === 1) return HoldReason.loading;
    if (f[0] === 1) return HoldReason.paused;
    if (f[3] === 1) return HoldReason.replay;
    if (f[2] === 0) return HoldReason.menu;
    if (ticks[1]! >= 0 && k - ticks[1]! >= this.frozenTicks) return HoldReason.frozen;
    if (k - ticks[2]! < this.teleportTicks) return HoldReason.teleport;
    if (k - ticks[3]! < this.carTicks) return HoldReason.carChange;
    return HoldReason.none;
  }
}
