import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { adjustThreadNice, setThreadFifo, type ThreadPolicy } from '../runtime/thread-scheduling.js';
import { type EstopEvent, EstopWatch, type EstopWatchOptions } from './estop-watch.js';

/**
 * The e-stop thread: runs EstopWatch on an event loop of its own. Its control words reach the
 * control worker directly; its events go to the main thread only for the log.
 */
export interface EstopThreadData {
  estopThread: true;
  control: SharedArrayBuffer;
  watch: EstopWatchOptions;
  /** SCHED_FIFO priority (the control thread's, loop.realtimePriority); 0: an ordinary thread. */
  realtimePriority: number;
}

/** The thread's scheduling, for the main thread's log. */
export interface EstopThreadRealtime {
  event: 'estop-thread-realtime';
  realtime: ThreadPolicy & { error?: string };
}

export function runEstopThread(data: EstopThreadData): void {
  adjustThreadNice(-5);
  const w = new EstopWatch(new Int32Array(data.control), data.watch, (e: EstopEvent) => parentPort?.postMessage(e));
  parentPort?.on('message', (msg: { close?: boolean }) => {
    if (msg.close) {
      w.close();
      parentPort?.close();
    }
  });
  // Then real-time, at the control thread's priority: on the 2-vCPU test VM, with the control
  // thread (SCHED_FIFO) and the pty stand-ins (SCHED_FIFO 5) busy, this thread at nice -5 woke
  // up to 25-27 ms after the e-stop file appeared (2 of 3 CI runs, 2026-12-02; the test's bound
  // is 20 ms). It sleeps on inotify and does little when woken; at the same priority it does
  // not preempt the control thread, only everything below it. After the watch is set up: its
  // first read of the config (the YAML parser's first, slowest run) need not hold a core.
  if (data.realtimePriority > 0) parentPort?.postMessage({ event: 'estop-thread-realtime', realtime: setThreadFifo(data.realtimePriority) } satisfies EstopThreadRealtime);
}

if (!isMainThread && (workerData as { estopThread?: boolean } | undefined)?.estopThread) runEstopThread(workerData as EstopThreadData);
