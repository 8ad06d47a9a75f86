import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { DeadlineScheduler } from '../../src/runtime/scheduler.js';
import { setThreadTimerSlack } from '../../src/runtime/timer-slack.js';

/** Busy-waits ms (a stall in the tick, as a GC pause or a descheduled thread would make). */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('DeadlineScheduler', () => {
  for (const maxSpinUs of [300, 2000]) {
    const mode = maxSpinUs >= 1000 ? 'never sleeping (maxSpin ≥ period)' : 'sleeping then spinning';
    it(`${mode}: no tick starts before its grid point, indices only go up, a stall is skipped and counted, never caught up`, () => {
      const sched = new DeadlineScheduler(1000, new Int32Array(20_000), maxSpinUs, 2);
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
    });
  }
});

describe('setThreadTimerSlack', () => {
  it.skipIf(!existsSync('/proc/thread-self'))('sets the calling thread\'s slack, as the kernel reads it back', () => {
    const file = `/proc/${readlinkSync('/proc/thread-self').split('/').pop()}/timerslack_ns`;
    const before = Number(readFileSync(file, 'utf8'));
    try {
      expect(setThreadTimerSlack(1)).toBe(1);
      expect(Number(readFileSync(file, 'utf8'))).toBe(1);
      expect(setThreadTimerSlack(2500)).toBe(2500);
    } finally {
      setThreadTimerSlack(before);
    }
    expect(Number(readFileSync(file, 'utf8'))).toBe(before);
  });
});
