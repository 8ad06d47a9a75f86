import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The calling thread's kernel id (Linux: /proc/thread-self links to <pid>/task/<tid>), or undefined. */
function threadId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

/**
 * Changes the calling thread's nice value by `delta` (Linux keeps one per thread). The control
 * worker, the serial thread and the e-stop thread ask for −5, so that under CPU contention
 * they run before the main thread's reloads and status writes; that needs root or
 * CAP_SYS_NICE (systemd's Nice= is applied before the service drops to its user). The main
 * thread gives itself +5 once they run, which needs nothing. Once at start. Returns the nice
 * now in force, or undefined where it could not be read or changed.
 */
export function adjustThreadNice(delta: number): number | undefined {
  const tid = threadId();
  if (tid === undefined || !Number.isFinite(tid)) return undefined;
  try {
    setPriority(tid, Math.max(-20, Math.min(19, getPriority(tid) + delta)));
  } catch {
    // Not allowed (no CAP_SYS_NICE): the thread keeps the process's nice value.
  }
  try {
    return getPriority(tid);
  } catch {
    return undefined;
  }
}

/**
 * Sets the calling thread's timer slack (Linux): how late the kernel may end a timed wait to
 * batch wake-ups, 50 µs by default. The control worker sleeps until just before each
 * deadline, so its slack is lateness it must spin away. systemd's `TimerSlackNSec=1us` sets
 * it for the whole service; this covers the demo, the bench and runs without systemd.
 * On this 2-vCPU VM it cut Atomics.wait's oversleep from p50 85 / p99 157 µs to 35 / 110 µs.
 *
 * Once at start, never per tick (it does file I/O). Returns the slack now in force (ns), or
 * undefined where the thread's /proc entry is missing or not writable (not Linux, a sandbox).
 */
export function setThreadTimerSlack(ns: number): number | undefined {
  try {
    // timerslack_ns lives at /proc/<tid>/ only.
    const tid = threadId();
    if (tid === undefined) return undefined;
    const file = `/proc/${tid}/timerslack_ns`;
    writeFileSync(file, String(Math.max(1, Math.round(ns))));
    return Number(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

