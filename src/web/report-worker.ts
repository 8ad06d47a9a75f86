import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { compareTable, plotRecording, runProfile } from '../cli/report-command.js';
import type { RigSpec } from '../config/rig-schema.js';
import type { CueProfile } from '../cueing/profile.js';
import { rigFromSpec } from '../kinematics/rig.js';
import { readMotionFile } from '../telemetry/sample-file.js';

/**
 * `motion-rig report --compare` for the page, on a thread of its own: a report runs the
 * production control tick over the whole recording (seconds of CPU), which must not hold up
 * the main thread (the page's e-stop and the live stream are served there). The same code as
 * the command (src/cli/report-command.ts, src/report/): the table it prints and its SVG plot.
 */
export interface ReportJob {
  reportWorker: true;
  input: string;
  rig: RigSpec;
  rigFile: string;
  rateHz: number;
  a: { name: string; cue: CueProfile };
  b: { name: string; cue: CueProfile };
}

export type ReportResult = { ok: true; table: string; svg: string; scores: { a: number; b: number } } | { ok: false; error: string };

function run(job: ReportJob): ReportResult {
  const rig = rigFromSpec(job.rig);
  const samples = readMotionFile(job.input);
  if (samples.length === 0) return { ok: false, error: `${job.input}: no motion samples found` };
  const inputs = [{ path: job.input, samples }];
  const runs = [runProfile(job.a.name, job.a.cue, inputs, rig, job.rateHz), runProfile(job.b.name, job.b.cue, inputs, rig, job.rateHz)];
  return {
    ok: true,
    table: compareTable(runs[0]!, runs[1]!, { name: rig.geometry.name, file: job.rigFile }, job.rateHz),
    svg: plotRecording(job.input, runs, 0, job.rateHz, rig.geometry.name),
    scores: { a: runs[0]!.score, b: runs[1]!.score },
  };
}

if (!isMainThread && (workerData as { reportWorker?: boolean } | undefined)?.reportWorker) {
  let result: ReportResult;
  try {
    result = run(workerData as ReportJob);
  } catch (err) {
    result = { ok: false, error: (err as Error).message };
  }
  parentPort!.postMessage(result);
}
