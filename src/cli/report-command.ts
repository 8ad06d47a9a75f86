import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadProfileFile } from '../config/profiles.js';
import { type CueProfile, defaultCueProfile } from '../cueing/profile.js';
import { LOOP_RATE_DEFAULT_HZ, LOOP_RATE_RANGE, isLoopRate } from '../cueing/rate.js';
import { loadRigFile } from '../config/rig-file.js';
import type { RigKinematics } from '../kinematics/rig.js';
import { PACKAGE_ROOT } from '../paths.js';
import { CUE_CHANNELS } from '../report/compression.js';
import { LAG } from '../report/metrics.js';
import { CHANNELS, CHANNEL_UNITS } from '../report/reference.js';
import { type RecordingReport, type ReportSeries, reportOn } from '../report/report.js';
import { readMotionFile } from '../telemetry/sample-file.js';
import { type Series, svgPlot } from './plot.js';
import { UsageError } from './usage.js';

/**
 * `motion-rig report --input REC... [--profile P] [--rig R] [--rate 1000] [--json]
 * [--plot FILE.svg] [--compare PROFILE2]`: cue quality of a profile on a rig over
 * recordings, measured on the service's own control tick (docs/report.md).
 */
export const DEFAULT_REPORT_RIG = join(PACKAGE_ROOT, 'profiles', 'rigs', 'stewart-linear.yaml');

export interface ProfileRun {
  profile: string;
  /** Mean of the recordings' scores. */
  score: number;
  recordings: (RecordingReport & { input: string })[];
  series: ReportSeries[];
}

function loadProfile(path: string | undefined, rate: number): { name: string; profile: CueProfile } {
  if (path === undefined) return { name: 'default (built-in)', profile: defaultCueProfile() };
  return { name: path, profile: loadProfileFile(path, rate).cue };
}

export function runProfile(name: string, profile: CueProfile, inputs: { path: string; samples: ReturnType<typeof readMotionFile> }[], rig: RigKinematics, rateHz: number): ProfileRun {
  const recordings: ProfileRun['recordings'] = [];
  const series: ReportSeries[] = [];
  for (const input of inputs) {
    const r = reportOn(input.samples, { profile, rig, rateHz });
    recordings.push({ input: input.path, ...r.report });
    series.push(r.series);
  }
  const score = recordings.reduce((s, r) => s + r.score.total, 0) / recordings.length;
  return { profile: name, score, recordings, series };
}

export function runReport(v: { input?: string[]; profile?: string; rig?: string; rate?: string; json?: boolean; plot?: string; compare?: string }): number {
  if (!v.input || v.input.length === 0) throw new UsageError('report needs --input FILE (a GT7 or F1 recording or *.lpr, or CSV); repeat it for more recordings');
  const rate = v.rate === undefined ? LOOP_RATE_DEFAULT_HZ : Number(v.rate);
  if (!isLoopRate(rate)) throw new UsageError(`--rate must be ${LOOP_RATE_RANGE} (got "${v.rate}")`);
  if (v.plot !== undefined && !v.plot.endsWith('.svg')) throw new UsageError(`--plot wants a FILE.svg (got "${v.plot}")`);
  const base = loadProfile(v.profile, rate);
  const other = v.compare !== undefined ? loadProfile(v.compare, rate) : undefined;
  const rigPath = v.rig ?? DEFAULT_REPORT_RIG;
  const rig = loadRigFile(rigPath);
  const inputs = v.input.map((path) => ({ path, samples: readMotionFile(path) }));
  const empty = inputs.find((i) => i.samples.length === 0);
  if (empty) {
    process.stderr.write(`${empty.path}: no motion samples found\n`);
    return 1;
  }
  const runs = [runProfile(base.name, base.profile, inputs, rig, rate)];
  if (other) runs.push(runProfile(other.name, other.profile, inputs, rig, rate));

  if (v.plot !== undefined) {
    inputs.forEach((input, i) => {
      const file = inputs.length === 1 ? v.plot! : v.plot!.replace(/\.svg$/, `-${basename(input.path).replace(/\.[^.]*$/, '')}.svg`);
      writeFileSync(file, plotRecording(input.path, runs, i, rate, rig.geometry.name));
      process.stderr.write(`plot: ${file}\n`);
    });
  }
  const rigInfo = { name: rig.geometry.name, type: rig.geometry.type, file: rigPath };
  if (v.json) {
    const strip = (r: ProfileRun) => ({ profile: r.profile, score: r.score, recordings: r.recordings });
    const out = { ...strip(runs[0]!), rig: rigInfo, rateHz: rate, ...(runs[1] ? { compare: strip(runs[1]) } : {}) };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return 0;
  }
  process.stdout.write(runs.length === 1 ? singleTable(runs[0]!, rigInfo, rate) : compareTable(runs[0]!, runs[1]!, rigInfo, rate));
  return 0;
}

const f = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
/** A delay at the end of the lag search is marked: the correlation peak lies there or beyond. */
const delay = (ms: number) => `${f(ms, 0)}${Math.abs(ms) >= LAG.maxLagS * 1000 ? '!' : ''}`;
const EDGE_NOTE = `! best lag at the end of the ±${LAG.maxLagS * 1000} ms search: the correlation peak lies there or beyond.`;
const pad = (s: string, w: number) => s.padStart(w);

function header(r: RecordingReport & { input: string }): string {
  const skipped = r.skippedSamples > 0 ? ` (${r.skippedSamples} without acceleration left out)` : '';
  const held = r.notEngagedPct > 0 ? `; NOT fully engaged on ${f(r.notEngagedPct, 1)} % of those ticks` : '';
  return `${r.input}: ${r.samples} samples${skipped}, ${r.ticks} ticks; scored ${r.scoredSamples} samples, ${f(r.scoredFromS)}–${f(r.scoredToS)} s${held}`;
}

function workspaceLine(r: RecordingReport): string {
  const w = r.workspace;
  return `workspace: IK scaled ${f(w.ikScaledPct, 1)} % of ticks (min scale ${f(w.minScale, 3)}); an actuator within 2 % of its travel's ends ${f(w.nearEndPct, 1)} %; limiter changed a setpoint ${f(w.limiterChangedPct, 1)} % (largest ${f(w.limiterMaxChangePct, 2)} % of travel)`;
}

function compressionLine(r: RecordingReport): string {
  const parts = CUE_CHANNELS.map((c) => {
    const x = r.compression[c];
    return x.scoredPct > 0 ? `${c} ${f(x.compressedPct, 1)} % (max ${f(x.maxPct, 0)} %)` : `${c} –`;
  });
  return `compressed > 10 % by a soft limit, % of ticks the channel is in use (largest): ${parts.join(', ')}`;
}

function singleTable(run: ProfileRun, rig: { name: string; file: string }, rate: number): string {
  const lines = [`motion-rig report: profile ${run.profile}, rig ${rig.name} (${rig.file}), ${rate} Hz`, ''];
  for (const r of run.recordings) {
    lines.push(header(r));
    lines.push(`  channel  corr@0   best  delay ms      gain  false cues  vehicle σ  delivered σ  quality`);
    for (const c of CHANNELS) {
      const m = r.channels[c];
      lines.push(
        `  ${c.padEnd(7)}${pad(f(m.correlation), 7)}${pad(f(m.best), 7)}${pad(delay(m.delayMs), 10)}${pad(f(m.gain, 4), 10)}${pad(`${f(m.falseCuePct, 1)} %`, 12)}${pad(f(m.vehicleStd, 3), 11)}${pad(f(m.deliveredStd, 3), 13)} ${pad(f(r.score.channels[c], 3), 8)}   ${CHANNEL_UNITS[c]}`,
      );
    }
    lines.push(`  ${workspaceLine(r)}`);
    lines.push(`  ${compressionLine(r)}`);
    lines.push(`  score ${f(r.score.total, 1)} / 100 (workspace factor ${f(r.score.workspace, 3)})`, '');
  }
  if (run.recordings.length > 1) lines.push(`score over ${run.recordings.length} recordings (mean): ${f(run.score, 1)} / 100`, '');
  lines.push(EDGE_NOTE, 'Definitions and the score formula: docs/report.md.');
  return `${lines.join('\n')}\n`;
}

export function compareTable(a: ProfileRun, b: ProfileRun, rig: { name: string; file: string }, rate: number): string {
  const lines = [`motion-rig report: rig ${rig.name} (${rig.file}), ${rate} Hz`, `  A: ${a.profile}`, `  B: ${b.profile}`, ''];
  const row = (label: string, x: number, y: number, digits: number, show = (v: number) => f(v, digits)) =>
    `  ${label.padEnd(22)}${pad(show(x), 12)}${pad(show(y), 12)}${pad(f(y - x, digits), 12)}`;
  a.recordings.forEach((ra, i) => {
    const rb = b.recordings[i]!;
    lines.push(header(ra));
    lines.push(`  ${''.padEnd(22)}${pad('A', 12)}${pad('B', 12)}${pad('B − A', 12)}`);
    for (const c of CHANNELS) {
      const ma = ra.channels[c];
      const mb = rb.channels[c];
      lines.push(row(`${c} corr@0`, ma.correlation, mb.correlation, 2));
      lines.push(row(`${c} best`, ma.best, mb.best, 2));
      lines.push(row(`${c} delay ms`, ma.delayMs, mb.delayMs, 0, delay));
      lines.push(row(`${c} gain`, ma.gain, mb.gain, 4));
      lines.push(row(`${c} false cues %`, ma.falseCuePct, mb.falseCuePct, 1));
    }
    const wa = ra.workspace;
    const wb = rb.workspace;
    lines.push(row('IK scaled %', wa.ikScaledPct, wb.ikScaledPct, 1));
    lines.push(row('min scale', wa.minScale, wb.minScale, 3));
    lines.push(row('near an end %', wa.nearEndPct, wb.nearEndPct, 1));
    lines.push(row('limiter changed %', wa.limiterChangedPct, wb.limiterChangedPct, 1));
    for (const c of CUE_CHANNELS) {
      lines.push(row(`${c} compressed %`, ra.compression[c].compressedPct, rb.compression[c].compressedPct, 1));
      lines.push(row(`${c} max compression %`, ra.compression[c].maxPct, rb.compression[c].maxPct, 0));
    }
    lines.push(row('score', ra.score.total, rb.score.total, 1), '');
  });
  if (a.recordings.length > 1) lines.push(row(`score (mean of ${a.recordings.length})`, a.score, b.score, 1), '');
  lines.push(EDGE_NOTE, 'Definitions and the score formula: docs/report.md.');
  return `${lines.join('\n')}\n`;
}

const COLORS = ['#c0392b', '#2471a3'];

/** Vehicle vs delivered per channel; the vehicle is drawn scaled to the delivered spread of the first profile (σ-matched), so shapes compare. */
export function plotRecording(input: string, runs: ProfileRun[], i: number, rate: number, rigName: string): string {
  const s0 = runs[0]!.series[i]!;
  const panels = CHANNELS.map((c, j) => {
    const m = runs[0]!.recordings[i]!.channels[c];
    const k = m.vehicleStd > 0 ? m.deliveredStd / m.vehicleStd : 0;
    const series: Series[] = [{ label: `vehicle × ${k.toPrecision(2)}`, values: s0.vehicle[j]!.map((x) => x * k), color: '#7f8c8d' }];
    runs.forEach((run, p) => series.push({ label: runs.length > 1 ? `${'AB'[p]}: delivered` : 'delivered', values: run.series[i]!.delivered[j]!, color: COLORS[p]! }));
    return { title: `${c}: vehicle (scaled) and delivered at the driver`, unit: CHANNEL_UNITS[c], series };
  });
  const names = runs.map((r, p) => (runs.length > 1 ? `${'AB'[p]} ${r.profile}` : r.profile)).join(', ');
  return svgPlot(`motion-rig report: ${input}, ${names}, ${rigName}, ${rate} Hz`, s0.t, panels);
}
