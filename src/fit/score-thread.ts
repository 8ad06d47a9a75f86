import { type MessagePort, isMainThread, workerData } from 'node:worker_threads';

/**
 * The entry of a fit's scoring thread (parallel-scores.ts), kept free of the scoring code's
 * imports: it first makes sure the search learns of the thread's end, whatever ends it (a
 * module that fails to load, an error nothing caught), since the search waits for the answer
 * with its own thread blocked and cannot hear the worker's 'exit' event. Then it loads the
 * scoring code.
 *
 * The slot's word: IDLE (answered, or not asked yet), PENDING (a candidate posted), GONE.
 */
export const IDLE = 1;
export const PENDING = 0;
export const GONE = 2;

/** What every scoring thread is started with (parallel-scores.ts adds the scoring job). */
export interface ThreadData {
  fitScoreWorker: true;
  flags: SharedArrayBuffer;
  slot: number;
  port: MessagePort;
}

if (!isMainThread && (workerData as { fitScoreWorker?: boolean } | undefined)?.fitScoreWorker) {
  const data = workerData as ThreadData;
  const flag = new Int32Array(data.flags);
  const gone = () => {
    Atomics.store(flag, data.slot, GONE);
    Atomics.notify(flag, data.slot);
  };
  process.on('exit', gone);
  import('./parallel-scores.js').then(
    (m) => m.serve(workerData as Parameters<typeof m.serve>[0]),
    (err: Error) => {
      data.port.postMessage({ error: `a fit thread could not load its code: ${err.message}` });
      gone();
    },
  );
}
