import type { CueProfile } from '../cueing/profile.js';
import type { RigKinematics } from '../kinematics/rig.js';
import { TemplateEncoder, type TemplateOptions } from '../output/template.js';
import { Command, type SupervisorSettings } from '../safety/supervisor.js';
import type { TelemetryWatchSettings } from '../safety/telemetry-watch.js';
import type { MotionSample } from '../telemetry/motion-sample.js';
import { COMMAND_MESSAGE_TYPES, ControlLoop } from './control-loop.js';
import { type FrameSink, RigSession, type RigSessionOptions } from './rig-session.js';

/**
 * One control tick with its wire, the same code everywhere it runs: the control worker, the
 * closed-loop scenarios, the property tests and the tick bench. Per tick:
 *   1. the session judges the serial side's newest snapshot (handshake, STATUS, liveness, lag);
 *   2. the supervisor, cueing, IK and limiter run (ControlLoop);
 *   3. a command first (ESTOP must not wait behind a setpoint), then this tick's frame.
 * A tick whose inputs could not be read reuses the last ones, so every tick on a ready
 * session writes exactly one limited frame. Allocation-free; no clock but the tick number.
 */
export interface ControlStepOptions {
  rig: RigKinematics;
  profile: CueProfile;
  rateHz: number;
  output: 'riglink' | 'template';
  template?: TemplateOptions;
  sink: FrameSink;
  supervisor?: Partial<Omit<SupervisorSettings, 'rateHz'>>;
  watch?: Partial<TelemetryWatchSettings>;
  session?: Partial<Omit<RigSessionOptions, 'axes' | 'rateHz' | 'feedback'>>;
}

/** What the other threads set (e-stop triggers, clear requests, shutdown), read once per tick. */
export class StepTriggers {
  estop = false;
  clearRequests = 0;
  shutdown = false;
  /** A park asked for from the web page / API (Control.parkRequest). */
  park = false;
}

export class ControlStep {
  readonly loop: ControlLoop;
  readonly session: RigSession;
  readonly triggers = new StepTriggers();
  private readonly template: TemplateEncoder | undefined;

  constructor(opts: ControlStepOptions) {
    this.loop = new ControlLoop({ rig: opts.rig, profile: opts.profile, rateHz: opts.rateHz, supervisor: opts.supervisor, watch: opts.watch });
    this.template = opts.output === 'template' ? new TemplateEncoder(opts.template!) : undefined;
    this.session = new RigSession(opts.sink, { ...opts.session, axes: opts.rig.actuatorCount, rateHz: opts.rateHz, feedback: this.template === undefined });
  }

  get rateHz(): number {
    return this.loop.rateHz;
  }

  /** A telemetry sample received at chain time `loop.sampleTime[0]` (s; tick k is at k/rateHz), consumed in tick k. */
  pushSample(s: MotionSample, k: number): void {
    this.loop.pushSample(s, k);
  }

  /** A new profile: built now (so a bad one is refused here, the old one kept), applied through hold. */
  setProfile(profile: CueProfile): string | undefined {
    return this.loop.setProfile(profile);
  }

  /** Tick k. `port` is the serial side's newest snapshot (Port layout). */
  tick(k: number, port: Float64Array): void {
    const session = this.session;
    const loop = this.loop;
    const inp = loop.inputs;
    const generation = session.generation;
    session.observe(port, k);
    if (session.generation !== generation) loop.forgetMcuPositions();
    if (session.newPositions) loop.setMcuPositions(session.positions);
    inp.linkUp = session.linkUp;
    inp.linkGeneration = session.generation;
    inp.mcu = session.mcu;
    inp.estopTrigger = this.triggers.estop;
    inp.clearRequests = this.triggers.clearRequests;
    inp.shutdown = this.triggers.shutdown;
    inp.parkRequest = this.triggers.park;

    loop.tick(k);

    const cmd = loop.supervisor.command;
    if (cmd !== Command.none && this.template === undefined) session.sendCommand(COMMAND_MESSAGE_TYPES[cmd]!);
    if (this.template !== undefined) session.sendRaw(this.template.frame, this.template.encode(loop.normalized));
    else session.sendSetpoint(loop.supervisor.motionActive, loop.wire);
  }
}
