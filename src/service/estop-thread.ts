import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { adjustThreadNice } from '../runtime/thread-scheduling.js';
import { type EstopEvent, EstopWatch, type EstopWatchOptions } from './estop-watch.js';

/**
 * The e-stop thread: runs EstopWatch on an event loop of its own. Its control words reach the
 * control worker directly; its events go to the main thread only for the log.
 */
export interface EstopThreadData {
  estopThread: true;
  control: SharedArrayBuffer;
  watch: EstopWatchOptions;
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
}

if (!isMainThread && (workerData as { estopThread?: boolean } | undefined)?.estopThread) runEstopThread(workerData as EstopThreadData);
