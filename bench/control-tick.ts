import { openSync } from 'node:fs';
import { defaultCueProfile } from '../src/cueing/profile.js';
import { loadRigFile } from '../src/kinematics/load-rig.js';
import { SetpointEncoder } from '../src/output/riglink/protocol.js';
import { writeFrame } from '../src/output/write-frame.js';
import { ControlLoop } from '../src/runtime/control-loop.js';
import { SeqlockSlot } from '../src/runtime/shared-slot.js';
import { SAMPLE_SLOT_LENGTH, packSample, unpackSample } from '../src/runtime/slots.js';
import { Mcu } from '../src/safety/supervisor.js';
import { gt7ToMotionSample } from '../src/telemetry/gt7/motion.js';
import { SyntheticDrive } from '../src/telemetry/gt7/synthetic-drive.js';
import { MotionSample } from '../src/telemetry/motion-sample.js';
import { bytesPerCall, measureBatches, round } from './measure.js';

/**
 * The worker's hot path without its sleep: seqlock read of the newest sample (a new one every
 * 16–17 ticks), ControlLoop.tick (watch, supervisor, cueing, IK, limiter), SETPOINT encode and
 * writeSync to /dev/null. Online (engagement 1) on the linear hexapod at 1000 Hz.
 * Claim: zero allocation per tick apart from what writeSync itself allocates.
 */
const RATE = 1000;
const loop = new ControlLoop({ rig: loadRigFile('profiles/rigs/stewart-linear.yaml'), profile: defaultCueProfile(), rateHz: RATE });
const drive = new SyntheticDrive();
const samples = Array.from({ length: 600 }, (_, i) => {
  const s = gt7ToMotionSample(drive.next('B'), 0, new MotionSample());
  s.receiveTimeNs = (i * 1e9) / 60;
  return s;
});
const slot = new SeqlockSlot(SAMPLE_SLOT_LENGTH);
const values = new Float64Array(SAMPLE_SLOT_LENGTH);
const sample = new MotionSample();
const encoder = new SetpointEncoder();
const devNull = openSync('/dev/null', 'w');
const inp = loop.inputs;
inp.linkUp = true;
inp.linkGeneration = 1;
const state = new Float64Array(3); // [tick, samples pushed, last version]
state[2] = -1;

function publish(i: number): void {
  packSample(samples[i % samples.length]!, (i * 1000) / 60, values);
  slot.write(values);
}

function oneTick(): void {
  const k = state[0]!;
  if (Math.floor((k * 60) / RATE) >= state[1]!) {
    publish(state[1]!);
    state[1] = state[1]! + 1;
  }
  const v = slot.version;
  if (v !== state[2] && slot.read(values) >= 0) {
    state[2] = v;
    const ms = unpackSample(values, sample);
    loop.pushSample(sample, ms / 1000, k);
  }
  loop.tick(k);
  const n = encoder.encode(k & 0xffff, 1, loop.wire, 6);
  writeFrame(devNull, encoder.frame, n);
  state[0] = k + 1;
}

let plainK = 0;
function tickOnly(): void {
  if (plainK === 0) plainK = state[0]!;
  loop.tick(plainK++);
}

// Bring it online: the MCU answers ENABLE at once and reports the setpoints as positions.
for (let i = 0; i < 20_000; i++) {
  inp.mcu = loop.supervisor.command === 1 || inp.mcu === Mcu.enabled ? Mcu.enabled : Mcu.parked;
  oneTick();
}
if (loop.supervisor.state !== 2) throw new Error(`not online (state ${loop.supervisor.state})`);

const { res, p } = measureBatches(oneTick, 1000, 1000);
console.log(
  JSON.stringify({
    bench: 'control-tick',
    what: 'worker hot path per tick at 1000 Hz, online: sample slot read, ControlLoop.tick, SETPOINT encode, writeSync to /dev/null (mean over batches of 1000 ticks)',
    nsPerTick: { p50: round(p.p50), p99: round(p.p99), max: round(p.max), over: '1000 batches of 1000' },
    allocatedBytesPerTick: bytesPerCall(oneTick, 100_000),
    allocatedBytesPerTickWithoutWrite: bytesPerCall(tickOnly, 100_000),
    allocatedBytesPerClockRead: bytesPerCall(() => void performance.now(), 100_000),
    ...res,
    node: process.version,
  }),
);
