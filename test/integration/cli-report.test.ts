import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../helpers/cli.js';
import { REPO_ROOT, dataPath, haveSharedData } from '../helpers/shared-data.js';

const dir = mkdtempSync(join(tmpdir(), 'motion-rig-report-'));
const CHANNELS = ['fx', 'fy', 'fz', 'p', 'q', 'r'];
const CUE_CHANNELS = ['surge', 'sway', 'heave', 'roll', 'pitch', 'yaw'];
const RECORDINGS = ['replay-A.lpr', 'replay-tilde.lpr'].map((f) => dataPath('gt7', 'recordings', f));

beforeAll(buildCli);

interface Recording {
  input: string;
  samples: number;
  scoredSamples: number;
  scoredFromS: number;
  scoredToS: number;
  notEngagedPct: number;
  channels: Record<string, { correlation: number; best: number; delayMs: number; gain: number; falseCuePct: number; vehicleStd: number; deliveredStd: number }>;
  workspace: { ikScaledPct: number; minScale: number; nearEndPct: number; limiterChangedPct: number; limiterMaxChangePct: number };
  fk: { maxResidual: number; inexactPct: number };
  compression: Record<string, { scoredPct: number; compressedPct: number; saturationPct: number; limitPct: number; maxPct: number }>;
  score: { total: number; workspace: number; channels: Record<string, number> };
}

describe('motion-rig report', () => {
  // ../shared/data absent: skipped here with the helper's message; under CI=true the helper fails instead.
  it.skipIf(!haveSharedData)('both shared GT7 recordings, default profile vs profiles/default.yaml: JSON shape, sane numbers, identical sides, a plot per recording', () => {
    const plot = join(dir, 'report.svg');
    const r = runCli(['report', ...RECORDINGS.flatMap((f) => ['--input', f]), '--json', '--plot', plot, '--compare', join(REPO_ROOT, 'profiles', 'default.yaml')]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { profile: string; score: number; rateHz: number; rig: { type: string; file: string }; recordings: Recording[]; compare: { profile: string; score: number; recordings: Recording[] } };
    expect(out.rateHz).toBe(1000);
    expect(out.rig.type).toBe('stewart-linear');
    expect(out.profile).toMatch(/default/);
    expect(out.recordings.map((x) => x.input)).toEqual(RECORDINGS);
    for (const rec of out.recordings) {
      expect(rec.scoredSamples).toBeGreaterThan(3000);
      expect(rec.scoredFromS).toBeGreaterThan(2);
      expect(rec.scoredFromS).toBeLessThan(5);
      expect(rec.notEngagedPct).toBe(0);
      expect(rec.fk.inexactPct).toBe(0);
      expect(rec.fk.maxResidual).toBeLessThan(1e-9);
      expect(Object.keys(rec.channels)).toEqual(CHANNELS);
      for (const c of CHANNELS) {
        const m = rec.channels[c]!;
        expect(Math.abs(m.correlation)).toBeLessThanOrEqual(1);
        expect(m.best).toBeGreaterThanOrEqual(m.correlation);
        expect(m.best).toBeLessThanOrEqual(1);
        expect(Math.abs(m.delayMs)).toBeLessThanOrEqual(300);
        expect(m.falseCuePct).toBeGreaterThanOrEqual(0);
        expect(m.falseCuePct).toBeLessThanOrEqual(100);
        expect(m.vehicleStd).toBeGreaterThan(0);
        expect(m.deliveredStd).toBeGreaterThan(0);
        expect(Number.isFinite(m.gain)).toBe(true);
      }
      // The default profile on real cars (docs/report.md, part 2: 0.74–0.95 and 0.81–0.87 measured):
      // sustained forces and yaw rate are cued, within a workspace the channels share (no IK scaling).
      expect(rec.channels.fx!.best).toBeGreaterThan(0.65);
      expect(rec.channels.fy!.best).toBeGreaterThan(0.65);
      expect(rec.channels.r!.best).toBeGreaterThan(0.7);
      expect(rec.channels.r!.delayMs).toBeGreaterThan(0);
      expect(rec.workspace.ikScaledPct).toBeLessThan(2);
      const w = rec.workspace;
      for (const pct of [w.ikScaledPct, w.nearEndPct, w.limiterChangedPct]) {
        expect(pct).toBeGreaterThanOrEqual(0);
        expect(pct).toBeLessThanOrEqual(100);
      }
      expect(w.minScale).toBeGreaterThan(0);
      expect(w.minScale).toBeLessThanOrEqual(1);
      expect(Object.keys(rec.compression)).toEqual(CUE_CHANNELS);
      for (const c of CUE_CHANNELS) {
        const x = rec.compression[c]!;
        for (const pct of [x.scoredPct, x.compressedPct, x.saturationPct, x.limitPct]) {
          expect(pct).toBeGreaterThanOrEqual(0);
          expect(pct).toBeLessThanOrEqual(100);
        }
        // Compressed by either limit: at least by each one, at most by both.
        expect(x.compressedPct).toBeGreaterThanOrEqual(Math.max(x.saturationPct, x.limitPct) - 1e-9);
        expect(x.compressedPct).toBeLessThanOrEqual(x.saturationPct + x.limitPct + 1e-9);
        expect(x.maxPct).toBeGreaterThanOrEqual(0);
        expect(x.maxPct).toBeLessThan(100);
        // The default drives every channel, on real driving nearly every tick is scored. Heave on
        // replay-A least (89.3 %): a tick is scored when either soft limit's input passes 1 % of
        // it, and the default's heave saturation is 80 m/s² (floor 0.8 m/s² of fz, σ 2.6 there) and
        // its gain 0.08; with the previous default's 25 m/s² and 0.2 it was over 90 %.
        expect(x.scoredPct).toBeGreaterThan(85);
      }
      expect(rec.score.total).toBeGreaterThanOrEqual(0);
      expect(rec.score.total).toBeLessThanOrEqual(100);
    }
    expect(out.score).toBeCloseTo((out.recordings[0]!.score.total + out.recordings[1]!.score.total) / 2, 9);
    // The same profile on both sides: the same numbers (the run is deterministic).
    expect(out.compare.profile).toContain('default.yaml');
    expect(out.compare.recordings.map((x) => ({ ...x, input: '' }))).toEqual(out.recordings.map((x) => ({ ...x, input: '' })));
    for (const name of ['replay-A', 'replay-tilde']) {
      const svg = readFileSync(join(dir, `report-${name}.svg`), 'utf8');
      expect(svg).toMatch(/^<svg/);
      // Six panels, each the vehicle and both profiles' delivered signals.
      expect((svg.match(/<polyline/g) ?? []).length).toBe(18);
      expect(svg).toContain('delivered at the driver');
    }
  });

  it.skipIf(!haveSharedData)('the human table: every channel, the workspace and the score', () => {
    const r = runCli(['report', '--input', RECORDINGS[1]!, '--rate', '500']);
    expect(r.status, r.stderr).toBe(0);
    for (const c of CHANNELS) expect(r.stdout).toMatch(new RegExp(`^  ${c} +-?\\d`, 'm'));
    expect(r.stdout).toMatch(/workspace: IK scaled [\d.]+ % of ticks/);
    expect(r.stdout).toMatch(/score [\d.]+ \/ 100/);
    expect(r.stdout).toMatch(/compressed > 10 % by a soft limit.*surge [\d.]+ % \(max \d+ %\).*yaw [\d.]+ %/);
    expect(r.stdout).toContain('500 Hz');
  });

  it('usage errors: no input, a bad rate, a plot that is not SVG; a recording too short to score', () => {
    expect(runCli(['report']).status).toBe(2);
    const input = join(dir, 'short.csv');
    const lines = ['t,ax,ay,az,p,q,r,steer,speed'];
    for (let i = 0; i <= 60; i++) lines.push(`${(i / 60).toFixed(6)},${Math.sin(i)},0,0,0,0,0,0,20`);
    writeFileSync(input, lines.join('\n'));
    expect(runCli(['report', '--input', input, '--rate', '5']).status).toBe(2);
    expect(runCli(['report', '--input', input, '--plot', 'x.png']).status).toBe(2);
    // One second: the rig is still unparking when the telemetry ends.
    const short = runCli(['report', '--input', input]);
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/never reached full engagement|too short/);
  });
});
