import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { loadRigFile } from '../config/rig-file.js';
import type { CueProfile } from '../cueing/profile.js';
import { readMotionFile } from '../telemetry/sample-file.js';
import { FitThreadError, scoreProfile } from './fit.js';
import { GONE, IDLE, PENDING, type ThreadData } from './score-thread.js';

/**
 * A fit's evaluation is one report per recording, each independent of the others, and the
 * search waits for all of them: on a machine with more than one core, score each recording on
 * a worker thread of its own (up to a core each) and an evaluation takes the longest
 * recording's time, not the sum. The search stays sequential and synchronous (fitProfile is
 * pure; it gets `score` as its scorer): the main thread posts the candidate and blocks on
 * Atomics.wait until every worker has answered. The workers run scoreProfile on the same files,
 * rig file and rate, so the scores are those of the in-process path (test/integration/fit-parallel).
 * A report's error (a candidate the chain cannot run) is thrown as it is; a thread that ends or
 * does not answer within ANSWER_LIMIT_MS is a FitThreadError, which ends the fit (it is not a
 * bad candidate), and the scorer refuses every later candidate.
 */
export interface ParallelScorer {
  /** Scores per recording, in the order of the paths; throws what a report throws. */
  score(profile: CueProfile): number[];
  close(): Promise<void>;
  readonly threads: number;
}

interface ScoreJob extends ThreadData {
  paths: string[];
  rigFile: string;
  rateHz: number;
  maxCompressedPct: number | undefined;
}

type Answer = { scores: number[] } | { error: string };

/** A thread that has not answered one candidate in this long is taken for dead. */
export const ANSWER_LIMIT_MS = 600_000;

/** Undefined when it would not help: one recording, or one core. */
export function openParallelScorer(paths: readonly string[], rigFile: string, rateHz: number, maxCompressedPct?: number): ParallelScorer | undefined {
  const threads = Math.min(paths.length, availableParallelism());
  if (threads < 2) return undefined;
  const flags = new SharedArrayBuffer(4 * threads);
  const flag = new Int32Array(flags).fill(IDLE);
  // Recording i goes to worker i mod threads; its scores come back in that worker's order.
  const share = Array.from({ length: threads }, (_, w) => paths.map((_p, i) => i).filter((i) => i % threads === w));
  const workers = share.map((indices, slot) => {
    const { port1, port2 } = new MessageChannel();
    const job: ScoreJob = { fitScoreWorker: true, paths: indices.map((i) => paths[i]!), rigFile, rateHz, maxCompressedPct, flags, slot, port: port2 };
    const worker = new Worker(new URL('./score-thread.js', import.meta.url), { workerData: job, transferList: [port2] });
    return { worker, port: port1, indices };
  });
  let broken: string | undefined;
  const fail = (why: string): never => {
    broken = why;
    throw new FitThreadError(why);
  };
  return {
    threads,
    score(profile) {
      if (broken !== undefined) throw new FitThreadError(broken);
      // Every slot idle before anything is posted; taken with compare-and-swap, so a thread that
      // ends in between is seen (its GONE is not overwritten with PENDING).
      for (let w = 0; w < threads; w++) {
        if (Atomics.load(flag, w) === IDLE) continue;
        const last = receiveMessageOnPort(workers[w]!.port)?.message as Answer | undefined;
        fail(last && 'error' in last ? last.error : 'a fit thread ended');
      }
      for (let w = 0; w < threads; w++) {
        if (Atomics.compareExchange(flag, w, IDLE, PENDING) !== IDLE) fail('a fit thread ended');
        workers[w]!.port.postMessage(profile);
      }
      const scores = new Array<number>(paths.length);
      // Every thread's answer is taken before any error is thrown: one left in its port would
      // be read as the answer to the next candidate.
      let error: string | undefined;
      for (let w = 0; w < threads; w++) {
        const since = performance.now();
        while (Atomics.wait(flag, w, PENDING, 1000) === 'timed-out') {
          if (performance.now() - since > ANSWER_LIMIT_MS) fail(`a fit thread did not answer in ${ANSWER_LIMIT_MS / 1000} s`);
        }
        const answer = receiveMessageOnPort(workers[w]!.port)?.message as Answer | undefined;
        if (!answer) fail('a fit thread ended');
        else if ('error' in answer) error ??= answer.error;
        else workers[w]!.indices.forEach((i, j) => (scores[i] = answer.scores[j]!));
        if (Atomics.load(flag, w) === GONE) fail(answer && 'error' in answer ? answer.error : 'a fit thread ended');
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

/** The scoring thread's loop (entered from score-thread.ts, which reports the thread's end). */
export function serve(job: ScoreJob): void {
  const flag = new Int32Array(job.flags);
  const answer = (a: Answer) => {
    // The answer is in the port before the word says so: receiveMessageOnPort will see it.
    job.port.postMessage(a);
    Atomics.store(flag, job.slot, IDLE);
    Atomics.notify(flag, job.slot);
  };
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
