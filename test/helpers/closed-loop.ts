import { defaultCueProfile } from '../../src/cueing/profile.js';
import { loadRigFile } from '../../src/kinematics/load-rig.js';
import { FrameEncoder, SetpointEncoder } from '../../src/output/riglink/protocol.js';
import { VirtualRig } from '../../src/output/virtual-rig.js';
import { COMMAND_MESSAGE_TYPES, ControlLoop, toWire } from '../../src/runtime/control-loop.js';
import { Command } from '../../src/safety/supervisor.js';
import { MotionSample } from '../../src/telemetry/motion-sample.js';
import { REPO_ROOT } from './shared-data.js';


/**
 * ControlLoop wired to the in-process virtual MCU through real RigLink frames, on a virtual
 * clock (tick k at k ms). What the worker does, minus threads and time, so state-machine
 * scenarios run fast and exactly.
 */
export class ClosedLoop {
  readonly loop: ControlLoop;
  readonly mcu: VirtualRig;
  readonly sample = new MotionSample();
  k = 0;
  /** Telemetry: send samples every 1000/60 ms with an advancing sequence while true. */
  streaming = true;
  linkUp = true;
  linkGeneration = 1;
  /** Called before each sample is pushed: edit this.sample. */
  shape: (s: MotionSample, tS: number) => void = (s, t) => {
    s.ax = 3 * Math.sin(2 * Math.PI * 0.3 * t);
    s.ay = 4 * Math.sin(2 * Math.PI * 0.5 * t);
  };
  readonly commands: { k: number; command: number }[] = [];
  readonly frames: { k: number; state: number; wire: number[]; active: boolean }[] = [];
  recordFrames = false;
  private nextSampleMs = 0;
  private readonly setpoints = new SetpointEncoder();
  private readonly encoder = new FrameEncoder();

  constructor(rigFile = 'profiles/rigs/stewart-linear.yaml', rateHz = 1000) {
    this.loop = new ControlLoop({ rig: loadRigFile(`${REPO_ROOT}/${rigFile}`), profile: defaultCueProfile(), rateHz });
    this.mcu = new VirtualRig(this.loop.rig.actuatorCount, 400_000, toWire(this.loop.park[0]!, this.loop.rig.geometry.actuators));
    const s = this.sample;
    s.onTrack = true;
    s.hasPosition = true;
    s.carId = 1000;
    s.gz = -1;
  }

  get state(): number {
    return this.loop.supervisor.state;
  }

  get engagement(): number {
    return this.loop.supervisor.engagement;
  }

  /** Runs ticks until `until()` is true (returns the tick count) or `max` ticks pass (returns −1). */
  runUntil(until: () => boolean, max = 20_000): number {
    for (let i = 0; i < max; i++) {
      this.step();
      if (until()) return i + 1;
    }
    return -1;
  }

  run(ticks: number): void {
    for (let i = 0; i < ticks; i++) this.step();
  }

  step(): void {
    const k = this.k;
    const ms = (k * 1000) / this.loop.rateHz;
    const inp = this.loop.inputs;
    this.mcu.advance(ms);
    inp.linkUp = this.linkUp;
    inp.linkGeneration = this.linkGeneration;
    inp.mcu = this.mcu.state;
    this.loop.setMcuPositions(this.mcu.positions);
    if (this.streaming && ms >= this.nextSampleMs) {
      const s = this.sample;
      s.sequence++;
      s.receiveTimeNs = ms * 1e6;
      s.px += (s.speed * 1) / 60;
      this.shape(s, ms / 1000);
      this.loop.pushSample(s, ms / 1000, k);
      this.nextSampleMs += 1000 / 60;
    } else if (!this.streaming) this.nextSampleMs = ms;
    this.loop.tick(k);
    const sup = this.loop.supervisor;
    if (this.linkUp) {
      if (sup.command !== Command.none) {
        this.commands.push({ k, command: sup.command });
        const n = this.encoder.encode(COMMAND_MESSAGE_TYPES[sup.command]!, k & 0xffff, []);
        this.mcu.receive(this.encoder.frame, n, ms);
      }
      const n = this.setpoints.encode(k & 0xffff, sup.motionActive ? 1 : 0, this.loop.wire, this.loop.rig.actuatorCount);
      this.mcu.receive(this.setpoints.frame, n, ms);
      if (this.recordFrames) this.frames.push({ k, state: sup.state, wire: Array.from(this.loop.wire), active: sup.motionActive });
    }
    this.k++;
  }
}
