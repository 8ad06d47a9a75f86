import type { YamlSource } from '../config/load-yaml.js';
import type { FitResult } from './fit.js';
import { keyName } from './params.js';

/**
 * The fitted profile as YAML text: the base file with the fitted keys set (its other keys,
 * comments and layout kept), under a header saying what was fitted, on what, how, and each
 * fitted key's old value. Re-fitting a fitted file replaces its fit header.
 */
export interface FitRecord {
  rig: { name: string; file: string };
  inputs: string[];
  base: string;
  rateHz: number;
  date: Date;
  search: string;
}

const BEGIN = '# ── motion-rig fit ──';
const END = '# ── end of fit notes ──';

/** The header block, one line each, without the base file's own header. */
export function fitHeader(result: FitResult, rec: FitRecord): string[] {
  const f = (x: number) => x.toFixed(2);
  // With a compression limit the numbers are the objective, not the report's score.
  const what = result.maxCompressedPct === undefined ? 'score' : 'objective';
  const lines = [
    BEGIN,
    `# Fitted by \`motion-rig fit\` on ${rec.date.toISOString()} (docs/fit.md).`,
    `# Rig: ${rec.rig.name} (${rec.rig.file}); loop ${rec.rateHz} Hz.`,
    `# Base profile: ${rec.base}.`,
    '# Recordings:',
    ...rec.inputs.map((input, i) => `#   ${input}: ${what} ${f(result.recordingsBefore[i]!)} → ${f(result.recordingsAfter[i]!)}`),
    result.maxCompressedPct === undefined
      ? `# Score of motion-rig report (mean over the recordings, 0..100): ${f(result.scoreBefore)} before → ${f(result.scoreAfter)} after.`
      : `# Objective (mean over the recordings): report's score less, per channel, the points by which its ticks compressed > 10 % exceed ${result.maxCompressedPct} %: ${f(result.scoreBefore)} before → ${f(result.scoreAfter)} after.`,
    `# Search: ${rec.search}; ${result.evaluations} evaluations in ${result.seconds.toFixed(1)} s, stopped: ${stopText(result)}.`,
  ];
  if (!result.improved) lines.push('# No point beat the base: the keys below are the base values, unchanged.');
  lines.push('# Fitted keys (under cue:), old → new, [search range, scale]:');
  for (const k of result.keys) {
    const changed = k.after !== k.before ? '' : '   (unchanged)';
    lines.push(`#   ${keyName(k.parameter).padEnd(28)} ${String(k.before).padStart(8)} → ${String(k.after).padEnd(8)} [${k.parameter.min}..${k.parameter.max}, ${k.parameter.scale}]${changed}  ${k.parameter.note}`);
  }
  lines.push(END);
  return lines;
}

function stopText(r: FitResult): string {
  if (r.stop === 'converged') return `converged (no direction improved at a step of ${(r.step * 2).toPrecision(2)} of each range)`;
  if (r.stop === 'evaluations') return 'evaluation budget spent';
  return 'time budget spent';
}

/** A previous fit header (and the blank line after it), if the base was itself fitted. */
function withoutFitHeader(text: string): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return text;
  return text.slice(0, start) + text.slice(end + END.length).replace(/^\n+/, '');
}

export function fittedProfileText(base: YamlSource, result: FitResult, rec: FitRecord): string {
  const doc = base.doc.clone();
  for (const k of result.keys) if (k.after !== k.before) doc.setIn(['cue', ...k.parameter.path], k.after);
  // lineWidth 0: flow maps stay on one line as the shipped profiles write them.
  const body = withoutFitHeader(doc.toString({ lineWidth: 0 }));
  return `${fitHeader(result, rec).join('\n')}\n${body}`;
}
