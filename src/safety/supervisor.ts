import { HoldReason } from './telemetry-watch.js';

/**
 * The safety supervisor: one explicit state machine, separate from the control math (see
 * docs/safety.md for the transition table). Every control tick it reads its inputs, may
 * change state, and says three things:
 *   - engagement 0..1: how much of the cue reaches the rig (ramped at bounded rates);
 *   - target: what the limiter should head for (the cue, neutral, park, or "where the
 *     actuators are" while nothing may move);
 *   - command: a RigLink command to send this tick (ENABLE, PARK, ESTOP, CLEAR_ESTOP).
 * It reads no clock (time is the tick number) and allocates nothing.
 */
export const SupervisorState = { parked: 0, unparking: 1, online: 2, hold: 3, parking: 4, estop: 5, fault: 6 } as const;
export type SupervisorStateName = keyof typeof SupervisorState;
export const SUPERVISOR_STATE_NAMES = Object.keys(SupervisorState) as SupervisorStateName[];

export const Command = { none: 0, enable: 1, park: 2, estop: 3, clearEstop: 4 } as const;
export const COMMAND_NAMES = Object.keys(Command) as (keyof typeof Command)[];

/** What the limiter heads for. */
export const Target = { track: 0, neutral: 1, cue: 2, park: 3 } as const;

/**
 * MCU states as RigLink reports them; `unknown` until the first STATUS of a session (wait,
 * never assume); `noFeedback` for outputs that have none (template).
 */
export const Mcu = { parked: 0, enabled: 1, holding: 2, parking: 3, estop: 4, fault: 5, unknown: -1, noFeedback: -2 } as const;

/** Why the last transition happened (for the one log line per change). */
export const Cause = {
  start: 0,
  telemetry: 1,
  mcuEnabled: 2,
  settled: 3,
  hold: 4,
  resume: 5,
  shutdown: 6,
  parked: 7,
  estopTrigger: 8,
  mcuEstop: 9,
  estopCleared: 10,
  linkLost: 11,
  mcuFault: 12,
  linkBack: 13,
  mcuWatchdog: 14,
  /** Parked on request (the web page's or the API's park); stays parked until unparked. */
  parkRequest: 15,
} as const;
export const CAUSE_NAMES = Object.keys(Cause) as (keyof typeof Cause)[];

export interface SupervisorSettings {
  rateHz: number;
  /** Seconds for engagement 0 → 1 when going online. */
  engageSeconds: number;
  /** Seconds for engagement 1 → 0 on hold, park or shutdown. */
  disengageSeconds: number;
  /** Unpark and park ramps run at this fraction of each actuator's maxVelocity (acceleration stays bounded by maxAcceleration). */
  parkSpeedFraction: number;
  /** Resend an unanswered command after this long. */
  commandRetryMs: number;
}

export const DEFAULT_SUPERVISOR_SETTINGS: Omit<SupervisorSettings, 'rateHz'> = {
  engageSeconds: 1.5,
  disengageSeconds: 0.5,
  parkSpeedFraction: 0.25,
  commandRetryMs: 300,
};

/** What the supervisor reads each tick; the control loop fills it in place. */
export class SupervisorInputs {
  /** A RigLink session is up (fresh handshake on this connection), or the output port is open. */
  linkUp = false;
  /** Bumped on every fresh handshake. */
  linkGeneration = 0;
  /** Mcu.* from the newest STATUS of this session; Mcu.unknown before it, Mcu.noFeedback without feedback. */
  mcu: number = Mcu.unknown;
  /** The configured e-stop trigger is present (config key or file). */
  estopTrigger = false;
  /** Count of `clear-estop` requests so far (a new one re-arms). */
  clearRequests = 0;
  shutdown = false;
  /** A park was asked for (web page / API): like shutdown, the rig parks and stays parked, until it is withdrawn. */
  parkRequest = false;
  /** HoldReason from the telemetry watch. */
  holdReason: number = HoldReason.noTelemetry;
  /** A new profile or config waits to be applied at engagement 0. */
  reconfigure = false;
  /** The Target.* the limiter has reached and rests on (−1: none). */
  settledOn = -1;
}

const RAMP_UP = 0;
const RAMP_DOWN = 1;

export class Supervisor {
  state: number = SupervisorState.parked;
  /** Command for this tick (Command.none most ticks). */
  command: number = Command.none;
  target: number = Target.track;
  /** SETPOINT flag: motion active (unparking, online). */
  motionActive = false;
  cause: number = Cause.start;
  /** Bumped on every state change, so a reader can notice changes it did not see. */
  changes = 0;
  /** [engagement, parkSpeedFraction for the limiter this tick]. */
  readonly levels = new Float64Array(2);
  /** Engagement change per tick: [up, down]. In a typed array: a double argument to a call V8 does not inline boxes (16 B/tick, measured). */
  private readonly rampSteps = new Float64Array(2);
  private readonly parkFraction: number;
  private readonly retryTicks: number;
  /** Tick of the last command, per kind. */
  private readonly lastSent = new Float64Array(COMMAND_NAMES.length).fill(-1e12);
  private estopClearMark = 0;
  private clearSent = false;
  private enableSent = false;
  private parkSent = false;
  private faultGeneration = 0;
  private faultFromLink = false;

  constructor(settings: SupervisorSettings) {
    this.rampSteps[RAMP_UP] = 1 / (settings.engageSeconds * settings.rateHz);
    this.rampSteps[RAMP_DOWN] = -1 / (settings.disengageSeconds * settings.rateHz);
    this.parkFraction = settings.parkSpeedFraction;
    this.retryTicks = Math.max(1, Math.round((settings.commandRetryMs * settings.rateHz) / 1000));
    this.levels[1] = 1;
  }

  get engagement(): number {
    return this.levels[0]!;
  }

  /** Tick k. */
  step(inp: SupervisorInputs, k: number): void {
    this.command = Command.none;
    const mcu = inp.mcu;
    const s = this.state;

    // Latching states first: e-stop from anywhere, then faults.
    if (s !== SupervisorState.estop && (inp.estopTrigger || mcu === Mcu.estop)) {
      this.enter(SupervisorState.estop, inp.estopTrigger ? Cause.estopTrigger : Cause.mcuEstop);
      this.estopClearMark = inp.clearRequests;
      this.clearSent = false;
      this.send(Command.estop, k);
    } else if (s !== SupervisorState.estop && s !== SupervisorState.fault && mcu === Mcu.fault) {
      this.enterFault(inp, false);
    } else if (s !== SupervisorState.estop && s !== SupervisorState.fault && s !== SupervisorState.parked && !inp.linkUp) {
      this.enterFault(inp, true);
    }

    switch (this.state) {
      case SupervisorState.estop:
        this.levels[0] = 0;
        this.target = Target.track;
        if (!inp.linkUp) break;
        if (!this.clearSent) {
          if (mcu >= 0 && mcu !== Mcu.estop) this.retry(Command.estop, k);
          // Only a clear-estop given after the trigger is gone counts.
          if (inp.estopTrigger) this.estopClearMark = inp.clearRequests;
          else if (inp.clearRequests !== this.estopClearMark) {
            this.clearSent = true;
            this.send(Command.clearEstop, k);
          }
        } else if (inp.estopTrigger) {
          this.clearSent = false; // the trigger came back before the MCU left estop: stay latched
          this.estopClearMark = inp.clearRequests;
          this.send(Command.estop, k);
        } else if (mcu === Mcu.estop) {
          this.retry(Command.clearEstop, k);
        } else if (mcu === Mcu.fault) {
          // A fault the MCU had before the e-stop outlives it (PROTOCOL.md §3): not parked.
          this.enterFault(inp, false);
        } else if (mcu !== Mcu.unknown) {
          this.enter(SupervisorState.parked, Cause.estopCleared);
        }
        break;

      case SupervisorState.fault:
        this.levels[0] = 0;
        this.target = Target.track;
        if (this.faultFromLink ? inp.linkUp && inp.linkGeneration !== this.faultGeneration && mcu !== Mcu.fault : mcu !== Mcu.fault && inp.linkUp) {
          this.enter(SupervisorState.parked, this.faultFromLink ? Cause.linkBack : Cause.mcuFault);
        }
        break;

      case SupervisorState.parked: {
        this.levels[0] = 0;
        this.target = Target.track;
        if (!inp.linkUp) break;
        const go = !inp.shutdown && !inp.parkRequest && inp.holdReason === HoldReason.none && !inp.reconfigure;
        if (mcu === Mcu.noFeedback) {
          if (go) this.enter(SupervisorState.unparking, Cause.telemetry);
        } else if (mcu === Mcu.enabled && this.enableSent && !inp.shutdown && !inp.parkRequest) {
          // Our ENABLE took. A park request or shutdown that came after it was sent stands:
          // no unpark starts (not even one tick); the branch below parks the MCU again.
          this.enter(SupervisorState.unparking, Cause.mcuEnabled);
        } else if (mcu === Mcu.enabled || mcu === Mcu.holding) {
          // Left enabled by an earlier session (or our own stop): let the MCU park it itself.
          this.retry(Command.park, k);
        } else if (mcu === Mcu.parked && go) {
          this.enableSent = true;
          this.retry(Command.enable, k);
        }
        break;
      }

      case SupervisorState.unparking:
        this.levels[0] = 0;
        this.target = Target.neutral;
        if (this.mcuGaveUp(mcu)) break;
        if (inp.shutdown || inp.parkRequest) this.enter(SupervisorState.parking, inp.shutdown ? Cause.shutdown : Cause.parkRequest);
        else if (inp.settledOn === Target.neutral) this.enter(inp.holdReason === HoldReason.none && !inp.reconfigure ? SupervisorState.online : SupervisorState.hold, Cause.settled);
        break;

      case SupervisorState.online:
        this.target = Target.cue;
        if (this.mcuGaveUp(mcu)) break;
        if (inp.shutdown || inp.parkRequest) this.enter(SupervisorState.parking, inp.shutdown ? Cause.shutdown : Cause.parkRequest);
        else if (inp.holdReason !== HoldReason.none || inp.reconfigure) this.enter(SupervisorState.hold, Cause.hold);
        else this.ramp(RAMP_UP);
        break;

      case SupervisorState.hold:
        this.target = Target.cue;
        if (this.mcuGaveUp(mcu)) break;
        if (inp.shutdown || inp.parkRequest) this.enter(SupervisorState.parking, inp.shutdown ? Cause.shutdown : Cause.parkRequest);
        else if (inp.holdReason === HoldReason.none && !inp.reconfigure) {
          this.enter(SupervisorState.online, Cause.resume);
          this.ramp(RAMP_UP);
        } else this.ramp(RAMP_DOWN);
        break;

      case SupervisorState.parking:
        if (this.levels[0]! > 0) {
          this.target = Target.cue;
          this.ramp(RAMP_DOWN);
          break;
        }
        this.target = Target.park;
        if (mcu === Mcu.parked && this.parkSent) this.enter(SupervisorState.parked, Cause.parked);
        else if (inp.settledOn === Target.park || this.parkSent) {
          if (mcu === Mcu.noFeedback) this.enter(SupervisorState.parked, Cause.parked);
          else if (mcu !== Mcu.parking) {
            this.parkSent = true;
            this.retry(Command.park, k);
          }
        }
        break;
    }

    const st = this.state;
    this.motionActive = st === SupervisorState.unparking || st === SupervisorState.online;
    this.levels[1] = st === SupervisorState.unparking || st === SupervisorState.parking ? this.parkFraction : 1;
  }

  /** The MCU parked or left enabled on its own (its watchdog fired): start over from parked. */
  private mcuGaveUp(mcu: number): boolean {
    if (mcu !== Mcu.parked && mcu !== Mcu.parking) return false;
    this.enter(SupervisorState.parked, Cause.mcuWatchdog);
    this.levels[0] = 0;
    this.target = Target.track;
    return true;
  }

  private enterFault(inp: SupervisorInputs, fromLink: boolean): void {
    this.faultFromLink = fromLink;
    this.faultGeneration = inp.linkGeneration;
    this.enter(SupervisorState.fault, fromLink ? Cause.linkLost : Cause.mcuFault);
  }

  private enter(state: number, cause: number): void {
    if (state === this.state) return;
    this.state = state;
    this.cause = cause;
    this.changes++;
    this.enableSent = false;
    this.parkSent = false;
  }

  private ramp(direction: number): void {
    let e = this.levels[0]! + this.rampSteps[direction]!;
    if (e > 1) e = 1;
    else if (e < 0) e = 0;
    this.levels[0] = e;
  }

  private send(command: number, k: number): void {
    this.command = command;
    this.lastSent[command] = k;
  }

  private retry(command: number, k: number): void {
    if (k - this.lastSent[command]! >= this.retryTicks) this.send(command, k);
  }
}
