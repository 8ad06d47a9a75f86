import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type LinkEvent, SerialLink, type SerialLinkOptions } from '../output/serial-link.js';
import { SeqlockSlot } from './shared-slot.js';
import { adjustThreadNice } from './thread-scheduling.js';
import { Control, type SharedBuffers } from './slots.js';

/**
 * The serial thread: keeps the rig's port open and reads what the MCU says (output/serial-link.ts),
 * on a thread of its own so that config reloads, status writes or a busy main thread never
 * delay a STATUS (a late STATUS would look like a lost link). Events go to the main thread
 * for its log; a message { close: true } closes the port and ends the thread.
 */
export interface SerialThreadData {
  serialThread: true;
  buffers: SharedBuffers;
  link: SerialLinkOptions;
}

export function runSerialThread(data: SerialThreadData): void {
  adjustThreadNice(-5);
  const link = new SerialLink(new SeqlockSlot(data.buffers.port), new Int32Array(data.buffers.control), Control.lostGeneration, data.link, (e: LinkEvent) =>
    parentPort?.postMessage(e),
  );
  parentPort?.on('message', (msg: { close?: boolean }) => {
    if (msg.close) void link.close().then(() => process.exit(0));
  });
  void link.start();
}

if (!isMainThread && (workerData as { serialThread?: boolean } | undefined)?.serialThread) runSerialThread(workerData as SerialThreadData);
