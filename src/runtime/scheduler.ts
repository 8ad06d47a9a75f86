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
 * With MCU-timed playout (PROTOCOL.md §7) the MCU plays each frame at its tick's instant plus
 * the playout delay, so lateness below that delay costs nothing at the actuator and spinning
 * buys nothing: `setPlayoutDelay(ms ≥ 1)` makes the loop sleep to each deadline and never spin
 * (the CPU the spin cost goes back), and counts a tick late only past the delay.
 *
 * A tick whose frame went out later than its tolerance after its deadline is counted late
 * (10 % of a period; with playout, the playout delay; skipped ticks included). When
 * a whole period or more was lost (a stall), the missed grid points are skipped and counted,
 * never run back to back: the rig gets one frame per tick, at most one per period. A skipped
 * tick enters the lateness histogram at the lateness of the frame that replaced it (the first
 * moment anything could be sent for that instant), so the histogram counts every grid point.
 *
 * This is the only clock the control loop reads. Its own state lives in typed arrays; what it
 * allocates is the clock: on Node 20 each performance.now() returns a boxed double, 16 B, so
 * a tick with playout makes about 49 B of young garbage and a spinning one more (bench/clock.ts).
 */
/** The least playout delay (ms) for which the loop stops spinning. */
export const PLAYOUT_NO_SPIN_MIN_MS = 1;

export class DeadlineScheduler {
  readonly periodMs: number;
  /** µs histogram of tick lateness (start − deadline), one count per tick. */
  readonly lateness: Int32Array;
  /** [start ms, spin margin ms, now ms of this tick, max lateness ms, longest tick ms]. */
  private readonly times = new Float64Array(5);
  /** [next tick index, late ticks, skipped ticks, ticks that ran over half a period]. */
  private readonly counts = new Float64Array(4);
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  /** [late threshold ms]: 10 % of a period, or the playout delay when longer. */
  private readonly lateMs = new Float64Array(1);
  /** 10 % of a period: the late threshold without playout, and its floor with it. */
  private readonly periodLateMs: number;

  private readonly maxSpinMs: number;
  private readonly neverSleep: boolean;
  /** The MCU times the frames (playout): sleep to the deadline, never spin. */
  private playout = false;

  constructor(rateHz: number, lateness: Int32Array, maxSpinUs = 300, startDelayMs = 2) {
    this.periodMs = 1000 / rateHz;
    this.maxSpinMs = Math.max(0.03, maxSpinUs / 1000);
    this.neverSleep = this.maxSpinMs >= this.periodMs;
    this.lateness = lateness;
    this.periodLateMs = this.periodMs * 0.1;
    this.lateMs[0] = this.periodLateMs;
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
  /** The longest a tick ran: from its start to the next call of `next` (the caller's work). */
  get maxTickMs(): number {
    return this.times[4]!;
  }
  /** Ticks that ran longer than half a period. */
  get longTicks(): number {
    return this.counts[3]!;
  }

  /**
   * The session's playout delay, ms (0: the MCU plays frames as they arrive, the loop keeps
   * time itself). Allocation-free; the worker sets it every tick from the session.
   */
  setPlayoutDelay(ms: number): void {
    // A delay shorter than a typical wake-up (0.1–1.6 ms p99 here) would not cover sleeping
    // to the deadline: below 1 ms the loop keeps time itself, as without playout.
    this.playout = ms >= PLAYOUT_NO_SPIN_MIN_MS;
    this.lateMs[0] = ms > this.periodLateMs ? ms : this.periodLateMs;
  }

  /** Waits for the next tick's deadline; returns its index k. */
  next(): number {
    const t = this.times;
    const c = this.counts;
    const period = this.periodMs;
    let k = c[0]!;
    let deadline = t[0]! + k * period;
    let now = performance.now();
    // How long the tick just ended ran: what its work, not a wake-up, cost.
    if (k > 0) {
      const ran = now - t[2]!;
      if (ran > t[4]!) t[4] = ran;
      if (ran > period * 0.5) c[3] = c[3]! + 1;
    }
    if (now > deadline + period) {
      // Stalled past a whole period: skip to the newest grid point instead of catching up.
      const behind = Math.floor((now - deadline) / period);
      this.countSkipped(now - deadline, behind);
      k += behind;
      c[2] = c[2]! + behind;
      deadline = t[0]! + k * period;
    }
    if (this.playout) {
      if (now < deadline) {
        Atomics.wait(this.sleeper, 0, 0, deadline - now);
        now = performance.now();
      }
    } else now = this.sleepThenSpin(deadline, now);
    while (now < deadline) now = performance.now();
    const late = now - deadline;
    if (late > t[3]!) t[3] = late;
    if (late > this.lateMs[0]!) c[1] = c[1]! + 1;
    this.record(late, 1);
    t[2] = now;
    c[0] = k + 1;
    return k;
  }

  /**
   * Sleeps until the spin margin before `deadline` and adapts the margin to the oversleep seen;
   * returns the clock as it last read it (the caller spins the rest).
   */
  private sleepThenSpin(deadline: number, now: number): number {
    const t = this.times;
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
    return now;
  }

  /**
   * `behind` skipped grid points, the first `firstLateMs` before now and each later one a
   * period closer: into the histogram at those latenesses (those past its end in one add).
   */
  private countSkipped(firstLateMs: number, behind: number): void {
    const period = this.periodMs;
    const lastUs = this.lateness.length - 1;
    let j = 0;
    if (firstLateMs > this.times[3]!) this.times[3] = firstLateMs;
    // Late: skipped tick j is firstLateMs − j·period late; those over the threshold, counted exactly.
    const over = firstLateMs - this.lateMs[0]!;
    if (over > 0) {
      const n = Math.ceil(over / period);
      this.counts[1] = this.counts[1]! + (n < behind ? n : behind);
    }
    const overflow = Math.ceil((firstLateMs - lastUs / 1000) / period);
    if (overflow > 0) {
      j = overflow < behind ? overflow : behind;
      this.record(lastUs / 1000, j);
    }
    for (; j < behind; j++) this.record(firstLateMs - j * period, 1);
  }

  /** Into the lateness histogram (the last bin holds everything past its end). */
  private record(lateMs: number, count: number): void {
    let us = Math.round(lateMs * 1000);
    if (us >= this.lateness.length) us = this.lateness.length - 1;
    Atomics.add(this.lateness, us, count);
  }
}
