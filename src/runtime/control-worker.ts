import { type MessagePort, isMainThread, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { CueProfile } from '../cueing/profile.js';
import type { RigGeometry } from '../kinematics/geometry.js';
import { RigKinematics } from '../kinematics/rig.js';
import type { TemplateOptions } from '../output/template.js';
import { VirtualRig } from '../output/virtual-rig.js';
import { writeFrame } from '../output/write-frame.js';
import type { SupervisorSettings } from '../safety/supervisor.js';
import type { TelemetryWatchSettings } from '../safety/telemetry-watch.js';
import { MotionSample } from '../telemetry/motion-sample.js';
import { ControlStep } from './control-step.js';
import type { FrameSink } from './rig-session.js';
import { DeadlineScheduler } from './scheduler.js';
import { SeqlockSlot } from './shared-slot.js';
import { Control, FD_NONE, FD_VIRTUAL, Port, Sample, type SharedBuffers, Status, TRANSITION_RING, Transition, unpackSample } from './slots.js';
import { adjustThreadNice, setThreadFifo, setThreadTimerSlack } from './thread-scheduling.js';

/**
 * The control worker: owns time and the wire's host→MCU direction. Each tick on the fixed
 * grid it takes the newest sample, the serial thread's port snapshot and the e-stop triggers
 * from shared memory, runs ControlStep (which writes the frames straight to the port's file
 * descriptor) and publishes its status. It never yields to its event loop while running, so
 * nothing here may use promises or streams; profile changes arrive on a MessagePort read
 * synchronously when the control word says so. Nothing the main thread does can delay it.
 */
export interface ControlWorkerData {
  buffers: SharedBuffers;
  /** The validated rig, resolved to plain geometry (the worker loads no YAML or schema code). */
  geometry: RigGeometry;
  profile: CueProfile;
  rateHz: number;
  /** The scheduler's largest spin before a deadline, µs. */
  maxSpinUs: number;
  /** SCHED_FIFO priority for this thread; 0: none. */
  realtimePriority?: number;
  output: 'riglink' | 'template' | 'virtual';
  template?: TemplateOptions;
  supervisor?: Partial<Omit<SupervisorSettings, 'rateHz'>>;
  watch?: Partial<TelemetryWatchSettings>;
  profiles: MessagePort;
  /** Wire value the virtual rig parks at. */
  virtualPark: number;
  /** MCU-timed playout delay (ms) to ask the MCU for; 0 or absent: core SETPOINT only. */
  playoutDelayMs?: number;
  /** The serial line's baud rate (playout only if its frames fit). */
  baud?: number;
}

/** Writes to whichever descriptor the serial thread published (the in-process rig for FD_VIRTUAL). */
class PortSink implements FrameSink {
  fd: number = FD_NONE;
  nowMs = 0;
  constructor(private readonly virtual: VirtualRig) {}
  write(frame: Uint8Array, length: number): boolean {
    if (this.fd === FD_VIRTUAL) {
      this.virtual.receive(frame, length, this.nowMs);
      return true;
    }
    return writeFrame(this.fd, frame, length);
  }
}

export function runControlWorker(data: ControlWorkerData): void {
  // Before the loop: the slack is how late each sleep may end, which the scheduler must spin away.
  parentPort?.postMessage({ timerSlackNs: setThreadTimerSlack(1) ?? null, nice: adjustThreadNice(-5) ?? null });
  // Real-time only for a thread that sleeps every period: a FIFO spinner meets the RT throttle.
  const prio = data.realtimePriority ?? 0;
  if (prio > 0) {
    // Over half a period of spin, one late tick and the thread barely sleeps: a FIFO thread
    // that does not sleep starves its core's other threads until the RT throttle stops it.
    const spinsMost = data.maxSpinUs * 2 > 1e6 / data.rateHz;
    parentPort?.postMessage({ realtime: spinsMost ? { policy: -1, priority: 0, error: 'loop.maxSpinUs is over half a period: a FIFO thread that hardly sleeps would starve its core until the RT throttle stops it' } : setThreadFifo(prio) });
  }
  const rig = new RigKinematics(data.geometry);
  const n = rig.actuatorCount;
  const virtual = new VirtualRig(n, 200_000, data.virtualPark);
  const sink = new PortSink(virtual);
  const step = new ControlStep({
    rig, profile: data.profile, rateHz: data.rateHz, sink, supervisor: data.supervisor, watch: data.watch,
    output: data.output === 'template' ? 'template' : 'riglink', template: data.template,
    session: { playoutDelayMs: data.playoutDelayMs, baud: data.baud },
  });
  const loop = step.loop;
  const session = step.session;
  const sup = loop.supervisor;
  const control = new Int32Array(data.buffers.control);
  const sampleSlot = new SeqlockSlot(data.buffers.sample);
  const portSlot = new SeqlockSlot(data.buffers.port);
  const statusSlot = new SeqlockSlot(data.buffers.status);
  const latency = new Int32Array(data.buffers.latency);
  const transitions = new Int32Array(data.buffers.transitions);
  const sched = new DeadlineScheduler(data.rateHz, new Int32Array(data.buffers.lateness), data.maxSpinUs);
  const playoutDelayMs = data.playoutDelayMs ?? 0;
  const sampleValues = new Float64Array(Sample.length);
  // A failed seqlock read leaves `scratch` torn: the tick goes on with the last good snapshot.
  const port = new Float64Array(Port.length);
  const scratch = new Float64Array(Port.length);
  const sample = new MotionSample();
  // Numbers that change per tick live in typed arrays (no boxing):
  // [sample version, profile version, samples, e-stop pulses seen, logged changes, pending latency ms, profile errors]
  const nums = new Float64Array(7);
  nums[3] = Atomics.load(control, Control.estopPulses);
  nums[5] = -1;
  port[Port.fd] = FD_NONE;
  const statusEvery = Math.max(1, Math.round(data.rateHz / 200));
  // Tick k is due at start + k·period: with this, a state change's tick says when it happened.
  parentPort?.postMessage({ startEpochMs: performance.timeOrigin + sched.startMs });

  for (;;) {
    const k = sched.next();
    if (Atomics.load(control, Control.stop) === 1) break;
    const nowMs = sched.nowMs;

    // Profile changes (rare): read the port only when the main thread says there is one.
    const pv = Atomics.load(control, Control.profileVersion);
    if (pv !== nums[1]) {
      const msg = receiveMessageOnPort(data.profiles);
      if (msg !== undefined) {
        const error = step.setProfile((msg.message as { profile: CueProfile }).profile);
        if (error !== undefined) {
          nums[6] = nums[6]! + 1;
          parentPort?.postMessage({ profileRefused: error });
        }
      }
      nums[1] = pv;
    }

    // What the serial side says (the virtual rig says it in-process).
    if (data.output === 'virtual') {
      virtual.advance(nowMs);
      virtual.publish(port);
    } else portSlot.readOrKeep(port, scratch);
    sink.fd = port[Port.fd]!;
    sink.nowMs = nowMs;

    // The newest telemetry sample, if there is a new one (a failed read waits for the next tick).
    const version = sampleSlot.version;
    if (version !== nums[0] && sampleSlot.read(sampleValues) >= 0) {
      nums[0] = version;
      // Epoch ms → this thread's performance.now() → chain time (tick 0 = 0 s).
      const receivedMs = unpackSample(sampleValues, sample) - performance.timeOrigin;
      step.loop.sampleTime[0] = (receivedMs - sched.startMs) / 1000;
      step.pushSample(sample, k);
      nums[5] = receivedMs;
      nums[2] = nums[2]! + 1;
    }

    // E-stop: the file or config key while present; a pulse (a file seen only between looks) for one tick.
    const pulses = Atomics.load(control, Control.estopPulses);
    const tr = step.triggers;
    tr.estop = Atomics.load(control, Control.estopFile) === 1 || Atomics.load(control, Control.estopConfig) === 1 || pulses !== nums[3];
    nums[3] = pulses;
    tr.clearRequests = Atomics.load(control, Control.clearRequests);
    tr.shutdown = Atomics.load(control, Control.shutdown) === 1;
    tr.park = Atomics.load(control, Control.parkRequest) === 1;

    const framesBefore = session.framesWritten;
    step.tick(k, port);
    // Playout on: the MCU keeps the time, so the loop stops spinning for it (scheduler.ts).
    sched.setPlayoutDelay(session.playout ? playoutDelayMs : 0);
    if (session.lostNow) {
      Atomics.store(control, Control.lostGeneration, session.generation);
      Atomics.notify(control, Control.lostGeneration);
    }

    if (sup.changes !== nums[4]) {
      nums[4] = sup.changes;
      const count = transitions[0]!;
      const at = 1 + (count % TRANSITION_RING) * Transition.length;
      transitions[at + Transition.state] = sup.state;
      transitions[at + Transition.cause] = sup.cause;
      transitions[at + Transition.holdReason] = loop.inputs.holdReason;
      transitions[at + Transition.tick] = k;
      transitions[at + Transition.linkLoss] = session.loss;
      Atomics.store(transitions, 0, count + 1);
    }
    if (session.framesWritten !== framesBefore && nums[5]! >= 0) {
      let us = Math.round((nowMs - nums[5]!) * 1000);
      if (us < 0) us = 0;
      if (us >= latency.length) us = latency.length - 1;
      Atomics.add(latency, us, 1);
      nums[5] = -1;
    }

    if (k % statusEvery === 0 || sup.command !== 0 || session.lostNow) {
      const st = statusSlot.values;
      statusSlot.beginWrite();
      st[Status.tick] = k;
      st[Status.state] = sup.state;
      st[Status.cause] = sup.cause;
      st[Status.changes] = sup.changes;
      st[Status.holdReason] = loop.inputs.holdReason;
      st[Status.engagement] = sup.levels[0]!;
      st[Status.scale] = rig.scale;
      st[Status.lateTicks] = sched.lateTicks;
      st[Status.skippedTicks] = sched.skippedTicks;
      st[Status.maxLatenessUs] = sched.maxLatenessMs * 1000;
      st[Status.maxTickUs] = sched.maxTickMs * 1000;
      st[Status.longTicks] = sched.longTicks;
      st[Status.framesWritten] = session.framesWritten;
      st[Status.writeErrors] = session.writeErrors;
      st[Status.commandsSent] = session.commandsSent;
      if (sup.command !== 0) st[Status.lastCommand] = sup.command;
      st[Status.motionActive] = sup.motionActive ? 1 : 0;
      st[Status.samples] = nums[2]!;
      st[Status.teleports] = loop.watch.counts.teleports;
      st[Status.carChanges] = loop.watch.counts.carChanges;
      st[Status.carId] = loop.watch.carId;
      st[Status.profileApplied] = loop.inputs.reconfigure ? 0 : 1;
      st[Status.profileErrors] = nums[6]!;
      st[Status.rateHz] = data.rateHz;
      st[Status.actuatorCount] = n;
      st[Status.mcu] = session.mcu;
      st[Status.linkPhase] = session.phase;
      st[Status.linkLoss] = session.loss;
      st[Status.linkGeneration] = session.generation;
      st[Status.sessions] = session.sessions;
      st[Status.badStatus] = port[Port.badStatus]!;
      st[Status.txSeq] = session.nextSeq;
      st[Status.playout] = session.playout ? 1 : 0;
      st[Status.playoutWhy] = session.playoutWhy;
      st[Status.playoutReanchors] = session.playoutReanchors;
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

if (!isMainThread && (workerData as { controlWorker?: boolean } | undefined)?.controlWorker) runControlWorker(workerData as ControlWorkerData);
