import { defaultCueProfile } from '../../src/cueing/profile.js';
import { loadRigFile } from '../../src/config/rig-file.js';
import { FrameParser } from '../../src/output/riglink/parser.js';
import { MessageType } from '../../src/output/riglink/protocol.js';
import { VirtualRig } from '../../src/output/virtual-rig.js';
import { toWire } from '../../src/runtime/control-loop.js';
import { ControlStep } from '../../src/runtime/control-step.js';
import type { FrameSink } from '../../src/runtime/rig-session.js';
import { Port } from '../../src/runtime/slots.js';
import { Command } from '../../src/safety/supervisor.js';
import { MotionSample } from '../../src/telemetry/motion-sample.js';
import { REPO_ROOT } from './shared-data.js';

/**
 * The production ControlStep wired to the in-process virtual MCU through real RigLink frames,
 * on a virtual clock (tick k at k/rate s). What the worker does, minus threads and time, so
 * state-machine scenarios and property tests run fast and exactly. Every frame the MCU gets
 * is also parsed here and recorded, so tests check what reached the wire, not what the loop
 * meant to send.
 */
export class ClosedLoop implements FrameSink {
  readonly control: ControlStep;
  readonly mcu: VirtualRig;
  readonly sample = new MotionSample();
  k = 0;
  /** Telemetry: send samples every 1000/60 ms with an advancing sequence while true. */
  streaming = true;
  /** The port is open (false: unplugged; true again: a new session on a new generation). */
  linkUp = true;
  /** The port takes writes (false: its queue is full). */
  writable = true;
  /** Called before each sample is pushed: edit this.sample. */
  shape: (s: MotionSample, tS: number) => void = (s, t) => {
    s.ax = 3 * Math.sin(2 * Math.PI * 0.3 * t);
    s.ay = 4 * Math.sin(2 * Math.PI * 0.5 * t);
  };
  readonly commands: { k: number; command: number }[] = [];
  /** SETPOINTs as the MCU received them (when recordFrames). */
  readonly frames: { k: number; seq: number; state: number; wire: number[]; active: boolean }[] = [];
  /** Every frame's sequence number as received, in order. */
  readonly seqs: number[] = [];
  recordFrames = false;
  private readonly port = new Float64Array(Port.length);
  private generation = 1;
  private wasUp = true;
  private nextSampleMs = 0;
  private nowMs = 0;
  private readonly parser = new FrameParser({
    frame: (type, seq, p) => {
      this.seqs.push(seq);
      if (type === MessageType.SETPOINT && this.recordFrames) {
        const wire = Array.from({ length: p[1]! }, (_, i) => p[2 + 2 * i]! | (p[3 + 2 * i]! << 8));
        this.frames.push({ k: this.k, seq, state: this.control.loop.supervisor.state, wire, active: (p[0]! & 1) === 1 });
      }
    },
  });

  constructor(rigFile = 'profiles/rigs/stewart-linear.yaml', rateHz = 1000) {
    const rig = loadRigFile(`${REPO_ROOT}/${rigFile}`);
    this.control = new ControlStep({ rig, profile: defaultCueProfile(), rateHz, output: 'riglink', sink: this });
    this.mcu = new VirtualRig(rig.actuatorCount, 400_000, toWire(this.loop.park[0]!, rig.geometry.actuators));
    const s = this.sample;
    s.onTrack = true;
    s.hasPosition = true;
    s.carId = 1000;
    s.gz = -1;
  }

  get loop() {
    return this.control.loop;
  }

  get state(): number {
    return this.loop.supervisor.state;
  }

  get engagement(): number {
    return this.loop.supervisor.engagement;
  }

  write(frame: Uint8Array, length: number): boolean {
    if (!this.writable) return false;
    this.mcu.receive(frame, length, this.nowMs);
    this.parser.push(frame.subarray(0, length));
    return true;
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
    const ms = (k * 1000) / this.control.rateHz;
    this.nowMs = ms;
    this.mcu.advance(ms);
    this.mcu.publish(this.port);
    // An unplug and replug is a new port generation: the step must handshake again.
    if (this.linkUp && !this.wasUp) this.generation++;
    this.wasUp = this.linkUp;
    this.port[Port.generation] = this.generation;
    if (!this.linkUp) this.port[Port.fd] = -1;
    if (this.streaming && ms >= this.nextSampleMs) {
      const s = this.sample;
      s.sequence++;
      s.receiveTimeNs = ms * 1e6;
      s.px += (s.speed * 1) / 60;
      this.shape(s, ms / 1000);
      this.control.loop.sampleTime[0] = ms / 1000;
      this.control.pushSample(s, k);
      this.nextSampleMs += 1000 / 60;
    } else if (!this.streaming) this.nextSampleMs = ms;
    this.control.tick(k, this.port);
    // After a loss the serial thread would close and reopen the port: a new generation.
    if (this.control.session.lostNow && this.linkUp) this.generation++;
    const cmd = this.loop.supervisor.command;
    if (cmd !== Command.none) this.commands.push({ k, command: cmd });
    this.k++;
  }
}
