import { getHeapSpaceStatistics } from 'node:v8';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { round } from './measure.js';
import { DeadlineScheduler } from '../src/runtime/scheduler.js';
import { HISTOGRAM_BUCKETS } from '../src/runtime/slots.js';

/**
 * What the control loop's clock costs in heap: bytes allocated per `performance.now()` and per
 * `DeadlineScheduler.next()` tick (1000 Hz, with playout: sleep to each deadline; without:
 * sleep then spin), on the main thread and on a worker (where the control loop runs). On Node
 * 20 `performance.now()` is a JavaScript wrapper around a C++ call that returns its double
 * boxed, so each read allocates a 16-byte heap number even in optimised code; a tick with
 * playout reads it about three times, a spinning one until the deadline. The tick's own work
 * allocates nothing (bench/control-tick.ts). Needs --expose-gc on the process (run-all passes
 * it); a worker inherits it.
 *   node --expose-gc dist/bench/clock.js [--ticks 1000]   (each measurement: 5 runs of that many ticks)
 */
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};

interface Measured {
  thread: string;
  bytesPerNowCall: number;
  bytesPerTickPlayout: number;
  bytesPerTickSpin: number;
  ticks: number;
}

const newSpaceUsed = () => getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')!.space_used_size;

/**
 * Young-generation bytes a run allocates (what per-tick garbage fills; code and feedback that
 * the JIT makes while it warms up go elsewhere), the least of 5 runs after a GC each, less what
 * measuring itself costs.
 */
function youngBytes(run: () => void): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const once = (f: () => void) => {
    gc();
    const before = newSpaceUsed();
    f();
    return newSpaceUsed() - before;
  };
  const overhead = Math.min(...[0, 1, 2, 3, 4].map(() => once(() => undefined)));
  return Math.min(...[0, 1, 2, 3, 4].map(() => once(run))) - overhead;
}

function measure(thread: string, ticks: number): Measured {
  const calls = 10_000;
  const sink = new Float64Array(1);
  const nowLoop = () => {
    let x = 0;
    for (let i = 0; i < calls; i++) x += performance.now();
    sink[0] = x;
  };
  for (let r = 0; r < 20; r++) nowLoop(); // the optimised loop's numbers, not the interpreter's
  const perNow = youngBytes(nowLoop) / calls;
  const perTick = (playoutMs: number) => {
    const sched = new DeadlineScheduler(1000, new Int32Array(HISTOGRAM_BUCKETS), 300, 2);
    sched.setPlayoutDelay(playoutMs);
    for (let i = 0; i < 2000; i++) sched.next();
    return (
      youngBytes(() => {
        for (let i = 0; i < ticks; i++) sched.next();
      }) / ticks
    );
  };
  return { thread, bytesPerNowCall: round(perNow, 1), bytesPerTickPlayout: round(perTick(2), 1), bytesPerTickSpin: round(perTick(0), 1), ticks };
}

if (isMainThread) {
  const ticks = Number(arg('ticks', '1000'));
  const main = measure('main', ticks);
  const worker = await new Promise<Measured>((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { ticks } });
    w.once('message', resolve);
    w.once('error', reject);
  });
  console.log(
    JSON.stringify({
      bench: 'clock',
      what: 'heap bytes per clock read and per scheduler tick (1000 Hz), main thread and worker',
      results: [main, worker],
      node: process.version,
    }),
  );
} else {
  parentPort!.postMessage(measure('worker', (workerData as { ticks: number }).ticks));
}
