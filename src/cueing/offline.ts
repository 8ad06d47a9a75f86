import type { TimedSample } from '../telemetry/sample-file.js';
import { CueingChain } from './chain.js';
import type { CueProfile } from './profile.js';

/**
 * Runs timed samples through a cueing chain at `rateHz`, as the control loop would: at each
 * tick k (time k/rate), every sample received by then is pushed, then the tick runs. `onTick` sees the chain
 * after each tick (pose, tilt, reconstructed signals); `budgets` as for the chain (with a rig,
 * runtime/control-loop.ts `budgetsFor`). Used by `motion-rig cue` and the tests.
 */
export function runCueing(profile: CueProfile, rateHz: number, samples: TimedSample[], onTick: (t: number, chain: CueingChain) => void, budgets?: ArrayLike<number>): CueingChain {
  const chain = new CueingChain(profile, rateHz, budgets);
  if (samples.length === 0) return chain;
  const t0 = samples[0]!.t;
  const end = samples[samples.length - 1]!.t - t0;
  const ticks = Math.floor(end * rateHz) + 1;
  let next = 0;
  for (let k = 0; k < ticks; k++) {
    const t = k / rateHz;
    while (next < samples.length && samples[next]!.t - t0 <= t + 1e-9) {
      chain.sampleTime[0] = samples[next]!.t - t0;
      chain.pushSample(samples[next]!.sample);
      next++;
    }
    chain.tick(k);
    onTick(t, chain);
  }
  return chain;
}
