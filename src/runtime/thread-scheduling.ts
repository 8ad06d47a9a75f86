import { spawnSync } from 'node:child_process';
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


/** The calling thread's scheduling policy as the kernel reports it, or undefined where unreadable. */
export interface ThreadPolicy {
  /** SCHED_FIFO is 1, SCHED_OTHER 0 (sched.h). */
  policy: number;
  /** Real-time priority, 1–99 under SCHED_FIFO; 0 otherwise. */
  priority: number;
}

export function threadPolicy(tid = threadId()): ThreadPolicy | undefined {
  const stat = procStat(`/proc/${tid}/stat`);
  return stat && { priority: stat.field(40), policy: stat.field(41) };
}

/**
 * A /proc/…/stat file (proc(5)) as its command name and its numeric fields from 3 on, by their
 * 1-based number in proc(5) (4 ppid, 14 utime, 15 stime, 40 rt_priority, 41 policy), or undefined when it
 * cannot be read (the process or thread is gone, not Linux).
 */
export function procStat(path: string): { name: string; field: (n: number) => number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  // The name is in parentheses and may hold spaces and parentheses: the fields follow the last ')'.
  const close = stat.lastIndexOf(')');
  const f = stat.slice(close + 2).split(' ');
  // f[0] is field 3 (state).
  return { name: stat.slice(stat.indexOf('(') + 1, close), field: (n) => Number(f[n - 3]) };
}

/**
 * Puts the calling thread under SCHED_FIFO at `priority`, so that a wake-up preempts every
 * ordinary thread on its core: on the 2-vCPU test VM under load 3.5, a C thread sleeping to
 * 1 ms deadlines woke > 1 ms late 3,200 times per million as SCHED_OTHER and never in 10 s
 * as SCHED_FIFO (max 922 µs; bench/wakeup-latency, docs/service.md). Only for a thread that
 * sleeps every period: the kernel's RT throttle stops a spinning FIFO thread for ~50 ms a
 * second. Node has no call for it, so `chrt` (util-linux) sets it on this thread's id; that
 * needs root, CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least `priority` (systemd's
 * LimitRTPRIO=, in systemd/motion-rig.service). Once at start (it spawns a process). Returns
 * the policy now in force and, when it is not FIFO, why.
 */
export function setThreadFifo(priority: number): ThreadPolicy & { error?: string } {
  const tid = threadId();
  if (tid === undefined || !Number.isFinite(tid)) return { policy: -1, priority: 0, error: 'no /proc/thread-self' };
  return setFifo(tid, priority);
}

/** SCHED_FIFO at `priority` for thread or process `tid` (setThreadFifo says when and why). */
export function setFifo(tid: number, priority: number): ThreadPolicy & { error?: string } {
  const r = spawnSync('chrt', ['-f', '-p', String(priority), String(tid)], { encoding: 'utf8', timeout: 5000 });
  const now = threadPolicy(tid) ?? { policy: -1, priority: 0 };
  if (now.policy === 1 && now.priority === priority) return now;
  const why = r.error ? r.error.message : (r.stderr || `chrt exited ${r.status}`).trim();
  return { ...now, error: why };
}
