import { CueingChain } from '../cueing/chain.js';
import { type CueProfile, channelLimits } from '../cueing/profile.js';
import { channelBudgets } from '../kinematics/budgets.js';
import { actuatorLimits } from '../kinematics/geometry.js';
import type { RigKinematics } from '../kinematics/rig.js';
import { MessageType } from '../output/riglink/protocol.js';
import { SetpointLimiter } from '../safety/limiter.js';
import { DEFAULT_SUPERVISOR_SETTINGS, Supervisor, SupervisorInputs, SupervisorState, type SupervisorSettings, Target } from '../safety/supervisor.js';
import { DEFAULT_WATCH_SETTINGS, TelemetryWatch, type TelemetryWatchSettings } from '../safety/telemetry-watch.js';
import type { MotionSample } from '../telemetry/motion-sample.js';

/**
 * One control tick, as pure code: reconstruct → cue → supervisor (engagement) → IK →
 * limiter → wire values. No I/O, no clock (time is the tick number), no allocation per
 * tick. The worker (control-worker.ts) drives it on the real-time grid and writes the frame;
 * tests drive it directly.
 */

/** Wire value 0..65535 spans each actuator's configured travel [min, max] (PROTOCOL.md §2). */
export const WIRE_MAX = 65535;

/** An actuator value (its own unit) as a wire value (set-up code; the tick does it in place). */
export function toWire(value: number, limits: { min: number; max: number }): number {
  return Math.round(((value - limits.min) / (limits.max - limits.min)) * WIRE_MAX);
}

/** The RigLink message for each supervisor Command (index: Command.*). */
export const COMMAND_MESSAGE_TYPES: readonly number[] = [0, MessageType.ENABLE, MessageType.PARK, MessageType.ESTOP, MessageType.CLEAR_ESTOP];
/** The limiter counts as settled on a target within this (m or rad). */
const SETTLED_TOLERANCE = 1e-6;

export interface ControlLoopOptions {
  rig: RigKinematics;
  profile: CueProfile;
  rateHz: number;
  supervisor?: Partial<Omit<SupervisorSettings, 'rateHz'>>;
  watch?: Partial<TelemetryWatchSettings>;
}

/**
 * What `rig` can give every channel of `profile` at once, as the chain's budgets (cue.workspace;
 * undefined when not shared). Set-up code: p50 0.1–1 ms (bench/budgets.ts).
 */
export function budgetsFor(rig: RigKinematics, profile: CueProfile): Float64Array | undefined {
  if (!profile.workspace.shared) return undefined;
  return channelBudgets(rig, channelLimits(profile), { margin: profile.workspace.marginPct / 100 });
}

export class ControlLoop {
  readonly rateHz: number;
  readonly rig: RigKinematics;
  readonly inputs = new SupervisorInputs();
  readonly supervisor: Supervisor;
  readonly watch: TelemetryWatch;
  readonly limiter: SetpointLimiter;
  chain: CueingChain;
  /** Configured full travel per actuator (what the wire range spans). */
  readonly travelMin: Float64Array;
  readonly travelMax: Float64Array;
  readonly park: Float64Array;
  /** Where the MCU says the actuators are (actuator units); valid when `mcuPositionsKnown`. */
  readonly mcuPositions: Float64Array;
  mcuPositionsKnown = false;
  /** [chain time (s) of the sample the next pushSample takes]. */
  readonly sampleTime = new Float64Array(1);
  /** The pose sent to IK this tick: cue × engagement. */
  readonly pose = new Float64Array(6);
  /** The limiter's goal this tick. */
  readonly goal: Float64Array;
  /** This tick's setpoints as wire values. */
  readonly wire: Uint16Array;
  /** This tick's setpoints as 0..1 of travel (template output). */
  readonly normalized: Float64Array;
  /** A new profile's chain (built when it arrived) waits here until engagement is 0. */
  private pending: CueingChain | undefined;
  private filtersResetInHold = false;
  /** The Target.* `goal` was last set for. */
  private goalKind = -1;

  constructor(opts: ControlLoopOptions) {
    this.rateHz = opts.rateHz;
    this.rig = opts.rig;
    const n = opts.rig.actuatorCount;
    const g = opts.rig.geometry;
    const limits = (i: number) => actuatorLimits(g, i);
    this.travelMin = Float64Array.from({ length: n }, (_, i) => limits(i).min);
    this.travelMax = Float64Array.from({ length: n }, (_, i) => limits(i).max);
    this.park = Float64Array.from({ length: n }, (_, i) => limits(i).park);
    this.limiter = new SetpointLimiter(
      {
        low: opts.rig.low,
        high: opts.rig.high,
        maxVelocity: Float64Array.from({ length: n }, (_, i) => limits(i).maxVelocity),
        maxAcceleration: Float64Array.from({ length: n }, (_, i) => limits(i).maxAcceleration),
      },
      opts.rateHz,
    );
    this.limiter.reset(this.park);
    this.mcuPositions = Float64Array.from(this.park);
    this.goal = Float64Array.from(this.park);
    this.wire = new Uint16Array(n);
    this.normalized = new Float64Array(n);
    this.supervisor = new Supervisor({ ...DEFAULT_SUPERVISOR_SETTINGS, ...opts.supervisor, rateHz: opts.rateHz });
    this.watch = new TelemetryWatch(opts.rateHz, { ...DEFAULT_WATCH_SETTINGS, ...opts.watch });
    this.chain = new CueingChain(opts.profile, opts.rateHz, this.budgetsFor(opts.profile));
    this.toWire();
  }

  /**
   * A new profile (car change, edited file): its chain is built now and applied through hold,
   * at engagement 0. A profile the chain cannot be built from is refused here and the running
   * one kept: returns why, or undefined when it was taken.
   */
  setProfile(profile: CueProfile): string | undefined {
    let chain: CueingChain;
    try {
      chain = new CueingChain(profile, this.rateHz, this.budgetsFor(profile));
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    this.pending = chain;
    this.inputs.reconfigure = true;
    return undefined;
  }

  /** The last budgets and what they were found for: a car's profile that changes only gains reuses them. */
  private budgetCache: { key: string; budgets: Float64Array | undefined } | undefined;
  /** Runs on the control thread (constructor, setProfile): p50 0.1–1 ms, nothing when the limits are unchanged. */
  private budgetsFor(profile: CueProfile): Float64Array | undefined {
    const key = JSON.stringify([profile.workspace, channelLimits(profile)]);
    if (this.budgetCache?.key !== key) this.budgetCache = { key, budgets: budgetsFor(this.rig, profile) };
    return this.budgetCache.budgets;
  }

  /** A new serial session: nothing the last one's MCU said about positions counts any more. */
  forgetMcuPositions(): void {
    this.mcuPositionsKnown = false;
  }

  /**
   * A telemetry sample that arrived at chain time `sampleTime[0]` (s; tick k is at k/rateHz),
   * consumed in tick k. The time goes in a typed array: a double argument boxes (chain.ts).
   */
  pushSample(s: MotionSample, k: number): void {
    this.chain.sampleTime[0] = this.sampleTime[0]!;
    this.chain.pushSample(s);
    this.watch.sample(s, k);
  }

  /** Positions from a STATUS frame, wire values → actuator units. */
  setMcuPositions(wire: ArrayLike<number>): void {
    for (let i = 0; i < this.mcuPositions.length; i++) {
      this.mcuPositions[i] = this.travelMin[i]! + (wire[i]! / WIRE_MAX) * (this.travelMax[i]! - this.travelMin[i]!);
    }
    this.mcuPositionsKnown = true;
  }

  /** Tick k: afterwards `wire`/`normalized` hold the setpoints and `supervisor.command` any command to send first. */
  tick(k: number): void {
    const inp = this.inputs;
    const sup = this.supervisor;
    inp.holdReason = this.watch.evaluate(k);
    inp.settledOn = this.goalKind >= 0 && this.limiter.settledAt(this.goal, SETTLED_TOLERANCE) ? this.goalKind : -1;
    sup.step(inp, k);

    const engagement = sup.levels[0]!;
    const st = sup.state;
    if (engagement === 0 && (st === SupervisorState.hold || st === SupervisorState.parked || st === SupervisorState.estop || st === SupervisorState.fault)) {
      if (this.pending !== undefined) {
        // Not per tick: only when a new profile waits and nothing of the cue reaches the rig.
        this.chain = this.pending;
        this.pending = undefined;
        inp.reconfigure = false;
      } else if (!this.filtersResetInHold) {
        // Whatever put us in hold (teleport, stale data) must not come back as motion.
        this.chain.resetFilters();
      }
      this.filtersResetInHold = true;
    } else if (st === SupervisorState.online) this.filtersResetInHold = false;

    const cue = this.chain.tick(k);
    const pose = this.pose;
    for (let i = 0; i < 6; i++) pose[i] = cue[i]! * engagement;

    const goal = this.goal;
    const limiter = this.limiter;
    limiter.speedFraction[0] = sup.levels[1]!;
    switch (sup.target) {
      case Target.track:
        // Nothing may move: follow where the actuators are, so the next ramp starts there at rest.
        if (this.mcuPositionsKnown) limiter.reset(this.mcuPositions);
        goal.set(limiter.position);
        break;
      case Target.neutral:
        goal.set(this.rig.neutral);
        limiter.apply(goal);
        break;
      case Target.park:
        goal.set(this.park);
        limiter.apply(goal);
        break;
      default:
        this.rig.solve(pose, 0);
        goal.set(this.rig.actuators);
        limiter.apply(goal);
    }
    this.goalKind = sup.target;
    this.toWire();
  }

  private toWire(): void {
    const p = this.limiter.position;
    for (let i = 0; i < p.length; i++) {
      let u = (p[i]! - this.travelMin[i]!) / (this.travelMax[i]! - this.travelMin[i]!);
      u = u > 1 ? 1 : u < 0 ? 0 : u;
      this.normalized[i] = u;
      this.wire[i] = Math.round(u * WIRE_MAX);
    }
  }
}

