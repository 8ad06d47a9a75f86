import { CueingChain } from '../src/cueing/chain.js';
import { loadRigFile } from '../src/config/rig-file.js';
import { budgetsFor } from '../src/runtime/control-loop.js';
import { defaultCueProfile } from '../src/cueing/profile.js';
import { gt7ToMotionSample } from '../src/telemetry/gt7/motion.js';
import { SyntheticDrive } from '../src/telemetry/gt7/synthetic-drive.js';
import { MotionSample } from '../src/telemetry/motion-sample.js';
import { bytesPerCall, measureBatches, round } from './measure.js';

/**
 * One control tick of the full cueing chain at 1000 Hz with a new 60 Hz sample every 16–17
 * ticks, as in the service. Target (issue 3): < 5 µs per tick, zero allocation per tick.
 */
const RATE = 1000;
const drive = new SyntheticDrive();
const samples = Array.from({ length: 600 }, () => gt7ToMotionSample(drive.next('B'), 0, new MotionSample()));
/**
 * `chain` without budgets: the profile's own limits, rarely reached by the synthetic lap.
 * `shared`: as the service builds it, with stewart-linear's channel budgets, whose much smaller
 * limits the lap drives into the soft limits' compressed range (a different code path: it
 * once allocated there alone, 4.3 B per tick, docs/cueing.md).
 */
const chain = new CueingChain(defaultCueProfile(), RATE);
const shared = new CueingChain(defaultCueProfile(), RATE, budgetsFor(loadRigFile('profiles/rigs/stewart-linear.yaml'), defaultCueProfile()));
let tick = 0;
let sampleIdx = 0;
let sharedTick = 0;

function sharedTickWithSamples(): void {
  const t = sharedTick / RATE;
  shared.sampleTime[0] = t;
  if (sharedTick % 17 === 0) shared.pushSample(samples[(sharedTick / 17) % samples.length]!);
  shared.tick(sharedTick++);
}

function oneTick(): void {
  const t = tick / RATE;
  // A new sample whenever the 60 Hz clock passes one.
  if (Math.floor(t * 60) >= sampleIdx) {
    chain.sampleTime[0] = t;
    chain.pushSample(samples[sampleIdx % samples.length]!);
    sampleIdx++;
  }
  chain.tick(tick);
  tick++;
}

function tickOnly(): void {
  chain.tick(tick++);
}
let pushes = 0;
function pushOnly(): void {
  chain.sampleTime[0] = pushes++ / 60;
  chain.pushSample(samples[pushes % samples.length]!);
}

for (let i = 0; i < 200_000; i++) oneTick();

const BATCH = 1000;
const BATCHES = 2000;
const { res, p } = measureBatches(oneTick, BATCH, BATCHES);
console.log(
  JSON.stringify({
    bench: 'cueing',
    what: 'full cueing chain per control tick at 1000 Hz (guards, reconstruction, mixer, washout, tilt), mean over batches of 1000 ticks',
    nsPerTick: { p50: round(p.p50), p99: round(p.p99), max: round(p.max), over: `${BATCHES} batches of ${BATCH}` },
    targetNsPerTick: 5000,
    allocatedBytesPerTickWithSamples: bytesPerCall(oneTick, 200_000),
    allocatedBytesPerTickAlone: bytesPerCall(tickOnly, 200_000),
    allocatedBytesPerSamplePush: bytesPerCall(pushOnly, 50_000),
    allocatedBytesPerTickWithRigBudgets: bytesPerCall(sharedTickWithSamples, 200_000),
    ...res,
    node: process.version,
  }),
);
