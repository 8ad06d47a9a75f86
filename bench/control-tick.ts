import { openSync } from 'node:fs';
import { defaultCueProfile } from '../src/cueing/profile.js';
import { loadRigFile } from '../src/config/rig-file.js';
import { VirtualRig } from '../src/output/virtual-rig.js';
import { writeFrame } from '../src/output/write-frame.js';
import { toWire } from '../src/runtime/control-loop.js';
import { ControlStep } from '../src/runtime/control-step.js';
import { SeqlockSlot } from '../src/runtime/shared-slot.js';
import { Port, Sample, packSample, unpackSample } from '../src/runtime/slots.js';
import { gt7ToMotionSample } from '../src/telemetry/gt7/motion.js';
import { SyntheticDrive } from '../src/telemetry/gt7/synthetic-drive.js';
import { MotionSample } from '../src/telemetry/motion-sample.js';
import { bytesPerCall, measureBatches, round } from './measure.js';

/**
 * The worker's hot path without its sleep, through the production ControlStep: seqlock reads
 * of the newest sample (a new one every 16–17 ticks) and of the port snapshot, the session's
 * judgement, ControlLoop.tick (watch, supervisor, cueing, IK, limiter), SETPOINT encode and
 * writeSync to /dev/null. Online (engagement 1) on the linear hexapod at 1000 Hz; the MCU's
 * answers come from the in-process virtual rig, published through a real port slot.
 * Measured (allocation, bytes per call, with --expose-gc): ControlStep.tick itself 0 B;
 * a telemetry sample's push 0 B (its chain time goes in loop.sampleTime; as a double argument
 * it was boxed, 16 B per sample: bench/cueing.ts); this whole bench tick 6–7 B with the write
 * and 32–33 B without it (the difference is the JIT's, not the
 * step's: the cause was not found). See docs/service.md.
 */
const RATE = 1000;
const rig = loadRigFile('profiles/rigs/stewart-linear.yaml');
const mcu = new VirtualRig(rig.actuatorCount, 400_000, toWire(rig.geometry.actuators.park, rig.geometry.actuators));
const devNull = openSync('/dev/null', 'w');
const clock = new Float64Array(1); // virtual ms
/** [write to /dev/null too]: off to see what the step allocates without Node's writeSync. */
const writing = new Uint8Array([1]);
const sink = {
  write(frame: Uint8Array, length: number): boolean {
    mcu.receive(frame, length, clock[0]!);
    return writing[0] === 1 ? writeFrame(devNull, frame, length) : true;
  },
};
const step = new ControlStep({ rig, profile: defaultCueProfile(), rateHz: RATE, output: 'riglink', sink });
const loop = step.loop;
const drive = new SyntheticDrive();
const samples = Array.from({ length: 600 }, (_, i) => {
  const s = gt7ToMotionSample(drive.next('B'), 0, new MotionSample());
  s.receiveTimeNs = (i * 1e9) / 60;
  return s;
});
const slot = new SeqlockSlot(Sample.length);
const values = new Float64Array(Sample.length);
const portSlot = new SeqlockSlot(Port.length);
const port = new Float64Array(Port.length);
const scratch = new Float64Array(Port.length);
const sample = new MotionSample();
const state = new Float64Array(3); // [tick, samples pushed, last version]
state[2] = -1;

function publish(i: number): void {
  packSample(samples[i % samples.length]!, (i * 1000) / 60, values);
  slot.write(values);
}

function oneTick(): void {
  const k = state[0]!;
  clock[0] = k;
  if (Math.floor((k * 60) / RATE) >= state[1]!) {
    publish(state[1]!);
    state[1] = state[1]! + 1;
  }
  const v = slot.version;
  if (v !== state[2] && slot.read(values) >= 0) {
    state[2] = v;
    const ms = unpackSample(values, sample);
    step.loop.sampleTime[0] = ms / 1000;
    step.pushSample(sample, k);
  }
  mcu.advance(k);
  mcu.publish(port);
  portSlot.write(port);
  portSlot.readOrKeep(port, scratch);
  step.tick(k, port);
  state[0] = k + 1;
}

function tickWithoutWrite(): void {
  writing[0] = 0;
  oneTick();
  writing[0] = 1;
}

// Bring it online through the handshake, ENABLE and the unpark ramp.
for (let i = 0; i < 20_000 && loop.supervisor.state !== 2; i++) oneTick();
if (loop.supervisor.state !== 2) throw new Error(`not online (state ${loop.supervisor.state})`);

// Without the write first: switching the sink between measurements otherwise leaves the
// JIT's recompilation in the second one's count.
const withoutWrite = bytesPerCall(tickWithoutWrite, 100_000);
const { res, p } = measureBatches(oneTick, 1000, 1000);
console.log(
  JSON.stringify({
    bench: 'control-tick',
    what: 'worker hot path per tick at 1000 Hz, online, through the production ControlStep: sample and port slot reads, session, ControlLoop.tick, SETPOINT encode, writeSync to /dev/null, plus the in-process MCU (mean over batches of 1000 ticks)',
    nsPerTick: { p50: round(p.p50), p99: round(p.p99), max: round(p.max), over: '1000 batches of 1000' },
    allocatedBytesPerTick: bytesPerCall(oneTick, 100_000),
    allocatedBytesPerTickWithoutWrite: withoutWrite,
    allocatedBytesPerClockRead: bytesPerCall(() => void performance.now(), 100_000),
    ...res,
    node: process.version,
  }),
);
