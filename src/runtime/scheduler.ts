/**
 * The control loop's clock: tick k is due at start + k·period (a drift-free grid). It sleeps
 * with Atomics.wait until shortly before the deadline and spins the rest, because a timed
 * wait wakes late (timer slack, scheduling; on the 2-vCPU CI VM: p50 ~110 µs, p90 0.5–0.8 ms,
 * p99 6 ms). The spin margin follows the oversleep it sees — up fast (10 % of the excess),
 * down slowly (1 %), which settles near the 90th percentile — between 30 µs and
 * `maxSpinMs`, the CPU-for-timing trade (loop.maxSpinUs: spinning costs that fraction of a
 * core). A maxSpin of a whole period or more never sleeps: the loop spins all the time and
 * costs a core, but no wake-up can make it late. On this VM that is the only way to a
 * lateness p99 of a few µs: an idle vCPU takes 0.1–1.6 ms (p99) to wake (docs/service.md).
 *
 * A tick that starts later than `lateThresholdMs` after its deadline is counted late. When
 * a whole period or more was lost (a stall), the missed grid points are skipped and counted,
 * never run back to back: the rig gets one frame per tick, at most one per period.
 *
 * This is the only clock the control loop reads. Allocation-free.
 */
export class DeadlineScheduler {
  readonly periodMs: number;
  /** µs histogram of tick lateness (start − deadline), one count per tick. */
  readonly lateness: Int32Array;
  /** [start ms, spin margin ms, now ms of this tick, max lateness ms]. */
  private readonly times = new Float64Array(4);
  /** [next tick index, late ticks, skipped ticks]. */
  private readonly counts = new Float64Array(3);
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  private readonly lateThresholdMs: number;

  private readonly maxSpinMs: number;
  private readonly neverSleep: boolean;

  constructor(rateHz: number, lateness: Int32Array, maxSpinUs = 300, startDelayMs = 2) {
    this.periodMs = 1000 / rateHz;
    this.maxSpinMs = Math.max(0.03, maxSpinUs / 1000);
    this.neverSleep = this.maxSpinMs >= this.periodMs;
    this.lateness = lateness;
    this.lateThresholdMs = this.periodMs * 0.1;
    this.times[0] = performance.now() + startDelayMs;
    this.times[1] = Math.min(0.15, this.maxSpinMs);
  }

  /** performance.now() of tick 0's deadline. */
  get startMs(): number {
    return this.times[0]!;
  }
  /** performance.now() at the start of the current tick. */
  get nowMs(): number {
    return this.times[2]!;
  }
  get lateTicks(): number {
    return this.counts[1]!;
  }
  get skippedTicks(): number {
    return this.counts[2]!;
  }
  get maxLatenessMs(): number {
    return this.times[3]!;
  }

  /** Waits for the next tick's deadline; returns its index k. */
  next(): number {
    const t = this.times;
    const c = this.counts;
    const period = this.periodMs;
    let k = c[0]!;
    let deadline = t[0]! + k * period;
    let now = performance.now();
    if (now > deadline + period) {
      // Stalled past a whole period: skip to the newest grid point instead of catching up.
      const behind = Math.floor((now - deadline) / period);
      k += behind;
      c[2] = c[2]! + behind;
      deadline = t[0]! + k * period;
    }
    const wakeAt = deadline - t[1]!;
    if (now < wakeAt && !this.neverSleep) {
      Atomics.wait(this.sleeper, 0, 0, wakeAt - now);
      now = performance.now();
      const over = now - wakeAt;
      let margin = t[1]!;
      margin += over > margin ? (over - margin) * 0.1 : (over - margin) * 0.01;
      margin = margin < 0.03 ? 0.03 : margin > this.maxSpinMs ? this.maxSpinMs : margin;
      t[1] = margin;
    }
    while (now < deadline) now = performance.now();
    const late = now - deadline;
    if (late > this.lateThresholdMs) c[1] = c[1]! + 1;
    if (late > t[3]!) t[3] = late;
    let us = Math.round(late * 1000);
    if (us >= this.lateness.length) us = this.lateness.length - 1;
    Atomics.add(this.lateness, us, 1);
    t[2] = now;
    c[0] = k + 1;
    return k;
  }
}
