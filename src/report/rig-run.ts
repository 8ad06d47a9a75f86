import type { CueProfile } from '../cueing/profile.js';
import type { RigKinematics } from '../kinematics/rig.js';
import { VirtualRig } from '../output/virtual-rig.js';
import { toWire } from '../runtime/control-loop.js';
import { ControlStep } from '../runtime/control-step.js';
import type { FrameSink } from '../runtime/rig-session.js';
import { Port } from '../runtime/slots.js';
import { SupervisorState, Target } from '../safety/supervisor.js';
import { MotionSample, copyMotionSample } from '../telemetry/motion-sample.js';
import type { TimedSample } from '../telemetry/sample-file.js';

/**
 * The service's own control tick over a recording, for `motion-rig report`: the production
 * ControlStep (rig session, telemetry watch, supervisor, cueing, IK with reachability,
 * limiter, SETPOINT encoding) writes real RigLink frames to the in-process virtual MCU, which
 * answers through a port snapshot as the serial thread would (test/helpers/closed-loop.ts
 * wires the same). Time is virtual: tick k is at k/rate s; a sample is pushed in the first
 * tick at or after its own instant, with that instant as its receive time.
 *
 * Two things are deliberate for offline scoring:
 *   - every sample is marked live driving (onTrack, not replay): recordings are often replays
 *     (the shared GT7 ones have "car on track" clear), and the watch would hold the rig for
 *     the whole file. Pause, loading, stale, frozen, teleport and car changes are left to the
 *     watch as in the service; ticks they hold show as not engaged.
 *   - the supervisor runs with its production settings: the first ~2–3 s (handshake, ENABLE,
 *     unpark to neutral at park speed, the 1.5 s engagement ramp) are recorded but marked not
 *     engaged, and scoring starts at the first engaged tick. The chain runs on the recording
 *     all along, so its filters are warm by then.
 *
 * Per tick it records what the limiter let through (the setpoints encoded into that tick's
 * SETPOINT frame), the pose IK was solved for (cue × engagement × IK scale), the IK scale,
 * whether the limiter changed any setpoint, and the chain's soft-limit compression.
 */
export interface RigRun {
  rateHz: number;
  ticks: number;
  /** Actuators per tick (legs, plus the yaw table). */
  actuators: number;
  /** Limited setpoints, actuator units, tick-major: [k·actuators + i]. */
  positions: Float64Array;
  /** The pose sent to IK after its scaling, [k·6 + j] (x y z roll pitch yaw). */
  commanded: Float64Array;
  /** IK scale per tick (1 when the pose was reachable as asked). */
  scale: Float64Array;
  /** Largest |limited − IK value| over the actuators, as a fraction of its usable travel. */
  limiterChange: Float64Array;
  /** Smallest distance of any actuator to its usable travel's ends, as a fraction of that travel. */
  endMargin: Float64Array;
  /** The chain's compression per tick, [k·12 + m] in CueingChain.compression's layout (soft-limit.ts). */
  compression: Float64Array;
  /** 1 when the supervisor was online at engagement 1 with the cue as target. */
  engaged: Uint8Array;
  /** Supervisor state per tick (SupervisorState.*). */
  state: Uint8Array;
  /** Samples pushed into the chain. */
  samples: number;
}

/** The virtual MCU follows setpoints at 400,000 wire units/s: within a tick, as the closed-loop tests have it. */
const MCU_SPEED = 400_000;

class VirtualWire implements FrameSink {
  nowMs = 0;
  constructor(readonly mcu: VirtualRig) {}
  write(frame: Uint8Array, length: number): boolean {
    this.mcu.receive(frame, length, this.nowMs);
    return true;
  }
}

export function runRig(samples: readonly TimedSample[], profile: CueProfile, rig: RigKinematics, rateHz: number): RigRun {
  const n = rig.actuatorCount;
  const t0 = samples.length > 0 ? samples[0]!.t : 0;
  const end = samples.length > 0 ? samples[samples.length - 1]!.t - t0 : 0;
  const ticks = Math.floor(end * rateHz + 1e-9) + 1;
  const mcu = new VirtualRig(n, MCU_SPEED, toWire(rig.geometry.actuators.park, rig.geometry.actuators));
  const wire = new VirtualWire(mcu);
  const step = new ControlStep({ rig, profile, rateHz, output: 'riglink', sink: wire });
  const loop = step.loop;
  const port = new Float64Array(Port.length);
  const sample = new MotionSample();
  const run: RigRun = {
    rateHz,
    ticks,
    actuators: n,
    positions: new Float64Array(ticks * n),
    commanded: new Float64Array(ticks * 6),
    scale: new Float64Array(ticks),
    limiterChange: new Float64Array(ticks),
    endMargin: new Float64Array(ticks),
    compression: new Float64Array(ticks * 12),
    engaged: new Uint8Array(ticks),
    state: new Uint8Array(ticks),
    samples: 0,
  };
  const invTravel = Float64Array.from(rig.low, (lo, i) => 1 / (rig.high[i]! - lo));
  let next = 0;
  for (let k = 0; k < ticks; k++) {
    const ms = (k * 1000) / rateHz;
    wire.nowMs = ms;
    mcu.advance(ms);
    mcu.publish(port);
    while (next < samples.length && samples[next]!.t - t0 <= k / rateHz + 1e-9) {
      copyMotionSample(samples[next]!.sample, sample);
      sample.onTrack = true;
      sample.replay = false;
      loop.sampleTime[0] = samples[next]!.t - t0;
      step.pushSample(sample, k);
      next++;
    }
    step.tick(k, port);

    const sup = loop.supervisor;
    const cue = sup.target === Target.cue;
    run.state[k] = sup.state;
    run.engaged[k] = sup.state === SupervisorState.online && sup.engagement === 1 && cue ? 1 : 0;
    const s = cue ? rig.scale : 1;
    run.scale[k] = s;
    for (let j = 0; j < 6; j++) run.commanded[k * 6 + j] = cue ? loop.pose[j]! * s : 0;
    run.compression.set(loop.chain.compression, k * 12);
    const p = loop.limiter.position;
    let change = 0;
    let margin = 1;
    for (let i = 0; i < n; i++) {
      const v = p[i]!;
      run.positions[k * n + i] = v;
      const d = Math.abs(v - loop.goal[i]!) * invTravel[i]!;
      if (d > change) change = d;
      const lo = (v - rig.low[i]!) * invTravel[i]!;
      const hi = (rig.high[i]! - v) * invTravel[i]!;
      if (lo < margin) margin = lo;
      if (hi < margin) margin = hi;
    }
    run.limiterChange[k] = change;
    run.endMargin[k] = margin;
  }
  run.samples = next;
  return run;
}
