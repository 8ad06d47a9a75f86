/**
 * Turns ~60 Hz telemetry samples into a smooth signal at the loop rate. One instance handles
 * a fixed number of signals (Float64Array lanes) so a tick allocates nothing.
 *
 * - hold: the newest sample until the next one. Steps at 60 Hz.
 * - interpolate: a straight line from the previous sample to the newest, drawn over one
 *   sample interval starting when the newest arrived: smooth, one sample interval of lag.
 * - predict: extrapolate the newest sample along a smoothed slope, bounded to one sample
 *   interval ahead. When a packet arrives, the difference between the old extrapolation and
 *   the new one decays away (time constant `predictBlendS`) instead of snapping.
 *
 * Lag is measured in test/unit/cueing-reconstruction.test.ts and docs/cueing.md.
 */
export type ReconstructionMode = 'hold' | 'interpolate' | 'predict';

export class Reconstructor {
  /** Now, in seconds: set by the caller before `push` and `evaluate` (no double arguments on the hot path). */
  readonly clock = new Float64Array(1);
  readonly out: Float64Array;
  private readonly prev: Float64Array;
  private readonly latest: Float64Array;
  private readonly slope: Float64Array;
  private readonly offset: Float64Array;
  /** [time of the newest sample (s), smoothed sample interval (s)] */
  private readonly times = Float64Array.of(0, 1 / 60);
  private count = 0;

  constructor(
    readonly lanes: number,
    public mode: ReconstructionMode = 'interpolate',
    public predictBlendS = 0.012,
  ) {
    this.out = new Float64Array(lanes);
    this.prev = new Float64Array(lanes);
    this.latest = new Float64Array(lanes);
    this.slope = new Float64Array(lanes);
    this.offset = new Float64Array(lanes);
  }

  /** Smoothed sample interval, s. */
  get interval(): number {
    return this.times[1]!;
  }

  /** A new sample `values` that arrived now (clock[0]). Call `evaluate` first for the current tick. */
  push(values: Float64Array): void {
    const n = this.lanes;
    const t = this.clock[0]!;
    const times = this.times;
    if (this.count > 0) {
      const dt = t - times[0]!;
      // Sample interval, smoothed; receive jitter must not shake the interpolation.
      if (dt > 0.002 && dt < 0.25) times[1] = times[1]! + 0.1 * (dt - times[1]!);
    }
    const interval = times[1]!;
    for (let i = 0; i < n; i++) {
      if (this.count === 0) {
        this.prev[i] = values[i]!;
        this.out[i] = values[i]!;
      } else {
        this.prev[i] = this.mode === 'interpolate' ? this.out[i]! : this.latest[i]!;
      }
      if (this.mode === 'predict' && this.count > 0) {
        const raw = (values[i]! - this.latest[i]!) / interval;
        this.slope[i] = this.slope[i]! + 0.5 * (raw - this.slope[i]!);
        // Where the old extrapolation is now, relative to the new one at its start.
        this.offset[i] = this.out[i]! - values[i]!;
      }
      this.latest[i] = values[i]!;
    }
    times[0] = t;
    this.count++;
  }

  /** Signal values now (clock[0]) into `this.out`. */
  evaluate(): Float64Array {
    const n = this.lanes;
    if (this.count === 0) return this.out;
    const interval = this.times[1]!;
    const since = this.clock[0]! - this.times[0]!;
    if (this.mode === 'hold') {
      for (let i = 0; i < n; i++) this.out[i] = this.latest[i]!;
    } else if (this.mode === 'interpolate') {
      // From wherever the output was when this sample arrived, to the sample, in one interval.
      let f = since / interval;
      f = f < 0 ? 0 : f > 1 ? 1 : f;
      for (let i = 0; i < n; i++) this.out[i] = this.prev[i]! + (this.latest[i]! - this.prev[i]!) * f;
    } else {
      const ahead = since < 0 ? 0 : since > interval ? interval : since;
      const decay = Math.exp(-(since < 0 ? 0 : since) / this.predictBlendS);
      for (let i = 0; i < n; i++) this.out[i] = this.latest[i]! + this.slope[i]! * ahead + this.offset[i]! * decay;
    }
    return this.out;
  }

  reset(): void {
    this.count = 0;
    this.slope.fill(0);
    this.offset.fill(0);
  }
}
