import { describe, expect, it } from 'vitest';
import { DeadlineScheduler } from '../../src/runtime/scheduler.js';

/** Busy-waits ms (a stall in the tick, as a GC pause or a descheduled thread would make). */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Histogram entries at or above `us`. */
function countFrom(h: Int32Array, us: number): number {
  let n = 0;
  for (let i = us; i < h.length; i++) n += h[i]!;
  return n;
}

describe('DeadlineScheduler', () => {
  for (const [maxSpinUs, playoutMs] of [[300, 0], [2000, 0], [300, 2]] as const) {
    const mode = playoutMs > 0 ? 'with MCU playout (sleeps to the deadline, no spin)' : maxSpinUs >= 1000 ? 'never sleeping (maxSpin ≥ period)' : 'sleeping then spinning';
    it(`${mode}: no tick starts before its grid point, indices only go up, a stall is skipped and counted, never caught up`, () => {
      const lateness = new Int32Array(20_000);
      const sched = new DeadlineScheduler(1000, lateness, maxSpinUs, 2);
      sched.setPlayoutDelay(playoutMs);
      const starts: number[] = [];
      const indices: number[] = [];
      for (let n = 0; n < 120; n++) {
        const k = sched.next();
        indices.push(k);
        starts.push(sched.nowMs);
        if (n === 60) stall(5.5);
      }
      for (let n = 0; n < indices.length; n++) {
        // The grid is start + k·period: drift-free, whatever the lateness before.
        expect(starts[n]!).toBeGreaterThanOrEqual(sched.startMs + indices[n]! * sched.periodMs);
        if (n > 0) expect(indices[n]!).toBeGreaterThan(indices[n - 1]!);
      }
      // After the 5.5 ms stall, at least 4 grid points are gone: skipped and counted, not run back to back.
      expect(indices[61]! - indices[60]!).toBeGreaterThanOrEqual(5);
      expect(sched.skippedTicks).toBe(indices.at(-1)! + 1 - indices.length);
      expect(sched.skippedTicks).toBeGreaterThanOrEqual(4);
      // The stall was the tick's own work: counted as a long tick, not only as lateness.
      expect(sched.maxTickMs).toBeGreaterThanOrEqual(5.5);
      expect(sched.longTicks).toBeGreaterThanOrEqual(1);
      expect(sched.maxLatenessMs).toBeGreaterThanOrEqual(4.5);
      // Every grid point is in the histogram: each skipped one at the lateness of the frame that
      // replaced it, which the stall made more than a period (and, for the first, 4.5 ms or more).
      expect(countFrom(lateness, 0)).toBe(indices.at(-1)! + 1);
      expect(countFrom(lateness, 1000)).toBeGreaterThanOrEqual(sched.skippedTicks);
      expect(countFrom(lateness, 4500)).toBeGreaterThanOrEqual(1);
      // Late: past 10 % of a period, or with playout past its delay; the stall's frames are.
      expect(sched.lateTicks).toBeGreaterThanOrEqual(playoutMs > 0 ? countFrom(lateness, 2001) : sched.skippedTicks);
      expect(sched.lateTicks).toBeLessThanOrEqual(countFrom(lateness, playoutMs > 0 ? 2000 : 100));
    });
  }

  it('skipped ticks past the histogram\'s end are judged late by their own lateness, not the clamped bin', () => {
    const lateness = new Int32Array(3000); // 3 ms: shorter than the playout delay below
    const sched = new DeadlineScheduler(1000, lateness, 300, 2);
    sched.setPlayoutDelay(3.5);
    sched.next();
    stall(10.5);
    sched.next();
    // Skipped ticks 1.. were about 9.5, 8.5, … ms late: those over 3.5 ms count, though their bin is 2999 (2.999 ms).
    expect(sched.lateTicks).toBeGreaterThanOrEqual(5);
  });

  it('a stall longer than the histogram: the skipped ticks past its end go to its last bin, none are lost', () => {
    const lateness = new Int32Array(3000); // 3 ms
    const sched = new DeadlineScheduler(1000, lateness, 300, 2);
    sched.next();
    stall(12.5);
    const k = sched.next();
    expect(k).toBeGreaterThanOrEqual(12);
    expect(countFrom(lateness, 0)).toBe(k + 1);
    // Skipped ticks 1..k-1, late by (k − j)·1 ms + the part of a period: those over 3 ms are in bin 2999.
    expect(lateness[2999]).toBeGreaterThanOrEqual(k - 3);
  });
});
