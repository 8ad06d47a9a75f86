import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker, isMainThread, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { loadRigFile } from '../config/rig-file.js';
import type { CueProfile } from '../cueing/profile.js';
import { readMotionFile } from '../telemetry/sample-file.js';
import { scoreProfile } from './fit.js';

/**
 * A fit's evaluation is one report per recording, each independent of the others, and the
 * search waits for all of them: on a machine with more than one core, score each recording on
 * a worker thread of its own (up to a core each) and an evaluation takes the longest
 * recording's time, not the sum. The search stays sequential and synchronous (fitProfile is
 * pure; it gets `score` as its scorer): the main thread posts the candidate and blocks on
 * Atomics.wait until every worker has answered. The workers run scoreProfile on the same files,
 * rig file and rate, so the scores are those of the in-process path (test/unit/fit-parallel).
 */
export interface ParallelScorer {
  /** Scores per recording, in the order of the paths; throws what a report throws. */
  score(profile: CueProfile): number[];
  close(): Promise<void>;
  readonly threads: number;
}

interface ScoreJob {
  fitScoreWorker: true;
  paths: string[];
  rigFile: string;
  rateHz: number;
  maxCompressedPct: number | undefined;
  flags: SharedArrayBuffer;
  slot: number;
  port: MessagePort;
}

type Answer = { scores: number[] } | { error: string };

const PENDING = 0;
const ANSWERED = 1;
const GONE = 2;

/** Undefined when it would not help: one recording, or one core. */
export function openParallelScorer(paths: readonly string[], rigFile: string, rateHz: number, maxCompressedPct?: number): ParallelScorer | undefined {
  const threads = Math.min(paths.length, availableParallelism());
  if (threads < 2) return undefined;
  const flags = new SharedArrayBuffer(4 * threads);
  const flag = new Int32Array(flags);
  // Recording i goes to worker i mod threads; its scores come back in that worker's order.
  const share = Array.from({ length: threads }, (_, w) => paths.map((_p, i) => i).filter((i) => i % threads === w));
  const workers = share.map((indices, slot) => {
    const { port1, port2 } = new MessageChannel();
    const job: ScoreJob = { fitScoreWorker: true, paths: indices.map((i) => paths[i]!), rigFile, rateHz, maxCompressedPct, flags, slot, port: port2 };
    const worker = new Worker(new URL('./parallel-scores.js', import.meta.url), { workerData: job, transferList: [port2] });
    return { worker, port: port1, indices };
  });
  return {
    threads,
    score(profile) {
      for (let w = 0; w < threads; w++) {
        if (Atomics.load(flag, w) === GONE) throw new Error('a fit worker thread ended');
        Atomics.store(flag, w, PENDING);
        workers[w]!.port.postMessage(profile);
      }
      const scores = new Array<number>(paths.length);
      // Every worker's answer is taken before any error is thrown: one left in its port would
      // be read as the answer to the next candidate.
      let error: string | undefined;
      for (let w = 0; w < threads; w++) {
        Atomics.wait(flag, w, PENDING);
        const answer = receiveMessageOnPort(workers[w]!.port)?.message as Answer | undefined;
        if (!answer) error ??= Atomics.load(flag, w) === GONE ? 'a fit worker thread ended' : 'a fit worker thread did not answer';
        else if ('error' in answer) error ??= answer.error;
        else workers[w]!.indices.forEach((i, j) => (scores[i] = answer.scores[j]!));
      }
      if (error !== undefined) throw new Error(error);
      return scores;
    },
    async close() {
      for (const w of workers) w.port.close();
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}

function serve(job: ScoreJob): void {
  const flag = new Int32Array(job.flags);
  const answer = (a: Answer) => {
    job.port.postMessage(a);
    Atomics.store(flag, job.slot, ANSWERED);
    Atomics.notify(flag, job.slot);
  };
  // An ending thread (an error nothing caught) must not leave the search waiting for ever.
  process.on('exit', () => {
    Atomics.store(flag, job.slot, GONE);
    Atomics.notify(flag, job.slot);
  });
  let setup: { inputs: ReturnType<typeof readMotionFile>[]; rig: ReturnType<typeof loadRigFile> } | { error: string };
  try {
    setup = { inputs: job.paths.map((p) => readMotionFile(p)), rig: loadRigFile(job.rigFile) };
  } catch (err) {
    setup = { error: (err as Error).message };
  }
  job.port.on('message', (profile: CueProfile) => {
    if ('error' in setup) return answer(setup);
    try {
      answer({ scores: scoreProfile(profile, setup.inputs, setup.rig, job.rateHz, job.maxCompressedPct) });
    } catch (err) {
      answer({ error: (err as Error).message });
    }
  });
}

if (!isMainThread && (workerData as { fitScoreWorker?: boolean } | undefined)?.fitScoreWorker) serve(workerData as ScoreJob);
