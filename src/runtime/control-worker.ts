import { type MessagePort, isMainThread, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { CueProfile } from '../cueing/profile.js';
import { rigFromSpec } from '../kinematics/load-rig.js';
import type { RigSpec } from '../kinematics/rig-schema.js';
import { FrameEncoder, SetpointEncoder } from '../output/riglink/protocol.js';
import { TemplateEncoder, type TemplateOptions } from '../output/template.js';
import { VirtualRig } from '../output/virtual-rig.js';
import { writeFrame } from '../output/write-frame.js';
import { Command, Mcu, type SupervisorSettings } from '../safety/supervisor.js';
import type { TelemetryWatchSettings } from '../safety/telemetry-watch.js';
import { MotionSample } from '../telemetry/motion-sample.js';
import { COMMAND_MESSAGE_TYPES, ControlLoop } from './control-loop.js';
import { DeadlineScheduler } from './scheduler.js';
import { setThreadTimerSlack } from './timer-slack.js';
import { SeqlockSlot } from './shared-slot.js';
import { Control, FD_VIRTUAL, LINK_SLOT_LENGTH, Link, SAMPLE_SLOT_LENGTH, type SharedBuffers, Status, TRANSITION_RING, unpackSample } from './slots.js';

/**
 * The control worker: owns time. Each tick on the fixed grid it takes the newest sample and
 * link state from the shared slots, runs ControlLoop, and writes the frame (a command first
 * when the supervisor has one) straight to the serial port's file descriptor. It never
 * yields to its event loop while running, so nothing here may use promises or streams;
 * profile changes arrive on a MessagePort read synchronously when the control word says so.
 */
export interface ControlWorkerData {
  buffers: SharedBuffers;
  rig: RigSpec;
  profile: CueProfile;
  rateHz: number;
  /** The scheduler's largest spin before a deadline, µs. */
  maxSpinUs: number;
  output: 'riglink' | 'template';
  template?: TemplateOptions;
  supervisor?: Partial<Omit<SupervisorSettings, 'rateHz'>>;
  watch?: Partial<TelemetryWatchSettings>;
  profiles: MessagePort;
  /** Wire value the virtual rig parks at. */
  virtualPark: number;
}

export function runControlWorker(data: ControlWorkerData): void {
  // Before the loop: the slack is how late each sleep may end, which the scheduler must spin away.
  parentPort?.postMessage({ timerSlackNs: setThreadTimerSlack(1) ?? null });
  const loop = new ControlLoop({ rig: rigFromSpec(data.rig), profile: data.profile, rateHz: data.rateHz, supervisor: data.supervisor, watch: data.watch });
  const n = loop.rig.actuatorCount;
  const control = new Int32Array(data.buffers.control);
  const sampleSlot = new SeqlockSlot(data.buffers.sample);
  const linkSlot = new SeqlockSlot(data.buffers.link);
  const statusSlot = new SeqlockSlot(data.buffers.status);
  const latency = new Int32Array(data.buffers.latency);
  const transitions = new Int32Array(data.buffers.transitions);
  let loggedChanges = 0;
  const sched = new DeadlineScheduler(data.rateHz, new Int32Array(data.buffers.lateness), data.maxSpinUs);
  const sampleValues = new Float64Array(SAMPLE_SLOT_LENGTH);
  const linkValues = new Float64Array(LINK_SLOT_LENGTH);
  const sample = new MotionSample();
  const setpoints = new SetpointEncoder();
  const commands = new FrameEncoder();
  const template = data.output === 'template' ? new TemplateEncoder(data.template!) : undefined;
  const virtual = new VirtualRig(n, 200_000, data.virtualPark);
  const inp = loop.inputs;
  const sup = loop.supervisor;
  const st = statusSlot.values;
  // Numbers that change per tick live in typed arrays (no boxing).
  const nums = new Float64Array(8); // [sample version, profile version, tx seq, frames, write errors, commands, last command, samples]
  // Version 0 is a slot nobody wrote yet (the writer makes it 2 on its first sample); starting
  // at −1 made the first tick take the empty slot as an all-zero sample.
  nums[0] = 0;
  const statusEvery = Math.max(1, Math.round(data.rateHz / 200));
  let pendingLatencyMs = -1;

  for (;;) {
    const k = sched.next();
    if (Atomics.load(control, Control.stop) === 1) break;
    const nowMs = sched.nowMs;

    // Profile changes (rare): read the port only when the main thread says there is one.
    const pv = Atomics.load(control, Control.profileVersion);
    if (pv !== nums[1]) {
      const msg = receiveMessageOnPort(data.profiles);
      if (msg !== undefined) loop.setProfile((msg.message as { profile: CueProfile }).profile);
      nums[1] = pv;
    }

    // Link and MCU state.
    let fd = -1;
    if (linkSlot.read(linkValues) >= 0) {
      fd = linkValues[Link.fd]!;
      inp.linkUp = linkValues[Link.up] === 1;
      inp.linkGeneration = linkValues[Link.generation]!;
      if (fd === FD_VIRTUAL) {
        virtual.advance(nowMs);
        inp.mcu = virtual.state;
        loop.setMcuPositions(virtual.positions);
      } else {
        inp.mcu = data.output === 'template' ? Mcu.noFeedback : linkValues[Link.statusCount]! > 0 ? linkValues[Link.mcu]! : Mcu.unknown;
        if (linkValues[Link.statusCount]! > 0) loop.setMcuPositions(linkValues.subarray(Link.positions, Link.positions + n));
      }
    }

    // The newest telemetry sample, if there is a new one.
    const version = sampleSlot.version;
    if (version !== nums[0] && sampleSlot.read(sampleValues) >= 0) {
      nums[0] = version;
      // Epoch ms → this thread's performance.now() → chain time (tick 0 = 0 s).
      const receivedMs = unpackSample(sampleValues, sample) - performance.timeOrigin;
      loop.pushSample(sample, (receivedMs - sched.startMs) / 1000, k);
      pendingLatencyMs = receivedMs;
      nums[7] = nums[7]! + 1;
    }
    inp.estopTrigger = Atomics.load(control, Control.estop) === 1;
    inp.clearRequests = Atomics.load(control, Control.clearRequests);
    inp.shutdown = Atomics.load(control, Control.shutdown) === 1;

    loop.tick(k);
    if (sup.changes !== loggedChanges) {
      loggedChanges = sup.changes;
      const count = transitions[0]!;
      const at = 1 + (count % TRANSITION_RING) * 4;
      transitions[at] = sup.state;
      transitions[at + 1] = sup.cause;
      transitions[at + 2] = inp.holdReason;
      transitions[at + 3] = k;
      Atomics.store(transitions, 0, count + 1);
    }

    // Output: a command first (ESTOP must not wait behind a setpoint), then this tick's frame.
    if (inp.linkUp && fd !== -1) {
      const cmd = sup.command;
      if (cmd !== Command.none && template === undefined) {
        const len = commands.encode(COMMAND_MESSAGE_TYPES[cmd]!, nums[2]!, EMPTY);
        nums[2] = (nums[2]! + 1) & 0xffff;
        if (fd === FD_VIRTUAL) virtual.receive(commands.frame, len, nowMs);
        else if (!writeFrame(fd, commands.frame, len)) nums[4] = nums[4]! + 1;
        nums[5] = nums[5]! + 1;
        nums[6] = cmd;
      }
      let len: number;
      let frame: Uint8Array;
      if (template !== undefined) {
        len = template.encode(loop.normalized);
        frame = template.frame;
      } else {
        len = setpoints.encode(nums[2]!, sup.motionActive ? 1 : 0, loop.wire, n);
        frame = setpoints.frame;
        nums[2] = (nums[2]! + 1) & 0xffff;
      }
      let ok: boolean;
      if (fd === FD_VIRTUAL) {
        virtual.receive(frame, len, nowMs);
        ok = true;
      } else ok = writeFrame(fd, frame, len);
      if (ok) {
        nums[3] = nums[3]! + 1;
        if (pendingLatencyMs >= 0) {
          let us = Math.round((nowMs - pendingLatencyMs) * 1000);
          if (us < 0) us = 0;
          if (us >= latency.length) us = latency.length - 1;
          Atomics.add(latency, us, 1);
          pendingLatencyMs = -1;
        }
      } else nums[4] = nums[4]! + 1;
    }

    if (k % statusEvery === 0 || sup.command !== Command.none) {
      statusSlot.beginWrite();
      st[Status.tick] = k;
      st[Status.state] = sup.state;
      st[Status.cause] = sup.cause;
      st[Status.changes] = sup.changes;
      st[Status.holdReason] = inp.holdReason;
      st[Status.engagement] = sup.levels[0]!;
      st[Status.scale] = loop.rig.scale;
      st[Status.lateTicks] = sched.lateTicks;
      st[Status.skippedTicks] = sched.skippedTicks;
      st[Status.maxLatenessUs] = sched.maxLatenessMs * 1000;
      st[Status.framesWritten] = nums[3]!;
      st[Status.writeErrors] = nums[4]!;
      st[Status.commandsSent] = nums[5]!;
      st[Status.lastCommand] = nums[6]!;
      st[Status.motionActive] = sup.motionActive ? 1 : 0;
      st[Status.samples] = nums[7]!;
      st[Status.teleports] = loop.watch.counts.teleports;
      st[Status.carChanges] = loop.watch.counts.carChanges;
      st[Status.carId] = loop.watch.carId;
      st[Status.profileApplied] = inp.reconfigure ? 0 : 1;
      st[Status.rateHz] = data.rateHz;
      st[Status.actuatorCount] = n;
      st[Status.mcu] = inp.mcu;
      for (let i = 0; i < 6; i++) {
        st[Status.pose + i] = loop.pose[i]!;
        st[Status.cue + i] = loop.chain.pose[i]!;
      }
      for (let i = 0; i < n; i++) {
        st[Status.actuators + i] = loop.limiter.position[i]!;
        st[Status.wire + i] = loop.wire[i]!;
      }
      statusSlot.endWrite();
    }
  }
  parentPort?.postMessage({ stopped: true });
}

const EMPTY = new Uint8Array(0);

if (!isMainThread && (workerData as { controlWorker?: boolean } | undefined)?.controlWorker) runControlWorker(workerData as ControlWorkerData);
