import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRigFile } from '../src/config/rig-file.js';
import { bytesPerCall, percentiles, resources, round, timeBatches } from './measure.js';

/**
 * Inverse kinematics per solve for each example rig under profiles/rigs: random poses the
 * rig can reach (what a tuned cue asks for nearly always) and random poses it cannot, which
 * pay for the search toward neutral. Target (issue 4): < 2 µs per 6DOF solve; zero
 * allocation per solve.
 */
const ALL_RIGS = ['stewart-linear', 'stewart-rotary', 'three-actuator', 'two-actuator', 'four-corner'];
const rigDir = join(process.cwd(), 'profiles', 'rigs');
const WHAT =
  'RigKinematics.solve per pose, mean over batches of 1000, one process per rig; reachable poses drawn from ±5 cm ±0.15 rad, unreachable ones from ±0.1 m ±0.35 rad (the default cue output limits), scaled toward neutral; a smooth 1 kHz stream that leaves the reach in runs';

// Deterministic pose sets (xorshift), so runs compare.
let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
const COUNT = 4096;
/** COUNT poses within ±metres, ±radians that the rig can (or cannot) reach as asked. */
function poseSet(rig: ReturnType<typeof loadRigFile>, metres: number, radians: number, wantReachable: boolean): Float64Array {
  const out = new Float64Array(COUNT * 6);
  const pose = new Float64Array(6);
  for (let n = 0; n < COUNT; ) {
    for (let k = 0; k < 6; k++) pose[k] = (rand() * 2 - 1) * (k >= 3 ? radians : metres);
    if (rig.evaluate(pose, 0) === wantReachable) out.set(pose, 6 * n++);
  }
  return out;
}

function benchOne(name: string): void {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const rig = loadRigFile(join(rigDir, `${name}.yaml`));
  const cuePoses = poseSet(rig, 0.05, 0.15, true);
  // What the default cue profile's output limits allow (0.1 m, 10° + 10° tilt, 15° yaw): the unreachable poses a real cue can ask for.
  const wildPoses = poseSet(rig, 0.1, 0.35, false);
  let k = 0;
  let reachable = 0;
  const solveCue = () => {
    if (rig.solve(cuePoses, (k & (COUNT - 1)) * 6)) reachable++;
    k++;
  };
  // A cue stream at 1 kHz: every axis swinging at 0.3–0.7 Hz to 1.5× what the rig reaches alone, so runs of ticks need scaling.
  const streamPoses = new Float64Array(COUNT * 6);
  for (let n = 0; n < COUNT; n++) {
    for (let k = 0; k < 6; k++) streamPoses[6 * n + k] = 1.5 * (k >= 3 ? 0.12 : 0.04) * Math.sin(2 * Math.PI * (0.3 + 0.08 * k) * (n / 1000) + k);
  }
  let t = 0;
  let streamScaled = 0;
  const solveStream = () => {
    if (!rig.solve(streamPoses, (t & (COUNT - 1)) * 6)) streamScaled++;
    t++;
  };
  let w = 0;
  let scaled = 0;
  const solveWild = () => {
    if (!rig.solve(wildPoses, (w & (COUNT - 1)) * 6)) scaled++;
    w++;
  };
  for (let i = 0; i < 100_000; i++) {
    solveCue();
    solveWild();
    solveStream();
  }
  reachable = 0;
  k = 0;
  const cue = percentiles(timeBatches(solveCue, 1000, 1000).nsPerCall);
  const cueReachablePct = round((100 * reachable) / k);
  scaled = 0;
  w = 0;
  const wild = percentiles(timeBatches(solveWild, 1000, 300).nsPerCall);
  const wildScaledPct = round((100 * scaled) / w);
  streamScaled = 0;
  t = 0;
  const stream = percentiles(timeBatches(solveStream, 1000, 1000).nsPerCall);
  const streamScaledPct = round((100 * streamScaled) / t);
  console.log(
    JSON.stringify({
      rig: name,
      actuators: rig.actuatorCount,
      nsPerSolveReachable: { p50: round(cue.p50), p99: round(cue.p99), max: round(cue.max) },
      nsPerSolveUnreachable: { p50: round(wild.p50), p99: round(wild.p99), max: round(wild.max) },
      nsPerSolveCueStream: { p50: round(stream.p50), p99: round(stream.p99), max: round(stream.max), scaledPct: streamScaledPct },
      check: { reachablePct: cueReachablePct, scaledPct: wildScaledPct },
      allocatedBytesPerSolve: bytesPerCall(solveCue, 200_000),
      allocatedBytesPerScaledSolve: bytesPerCall(solveWild, 50_000),
      ...resources(cpu, wall),
    }),
  );
}

// The service drives one rig per process; several rig types in one process make the solver's
// call sites polymorphic and slower than any real run. So: one child process per rig.
const only = process.argv[2];
if (only === undefined) {
  const here = fileURLToPath(import.meta.url);
  const rigs = ALL_RIGS.map((name) => {
    const r = spawnSync(process.execPath, [...process.execArgv, here, name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench for ${name} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as unknown;
  });
  console.log(JSON.stringify({ bench: 'kinematics', what: WHAT, targetNsPerSolve6Dof: 2000, rigs, node: process.version }));
} else {
  benchOne(only);
}
