/**
 * The control loop's rate range, Hz: written once. The service config (`loop.rateHz`), the
 * cueing chain, profile loading and `motion-rig cue --rate` all take it from here.
 */
export const LOOP_RATE_MIN_HZ = 100;
export const LOOP_RATE_MAX_HZ = 2000;
export const LOOP_RATE_DEFAULT_HZ = 1000;

export function isLoopRate(rateHz: number): boolean {
  return rateHz >= LOOP_RATE_MIN_HZ && rateHz <= LOOP_RATE_MAX_HZ;
}

/** "100..2000 Hz", for messages. */
export const LOOP_RATE_RANGE = `${LOOP_RATE_MIN_HZ}..${LOOP_RATE_MAX_HZ} Hz`;
