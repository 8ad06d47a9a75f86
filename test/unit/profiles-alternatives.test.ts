import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfileFile } from '../../src/config/profiles.js';
import { loadRigFile } from '../../src/config/rig-file.js';
import { CUE_CHANNELS } from '../../src/report/compression.js';
import { reportOn } from '../../src/report/report.js';
import { readMotionFile } from '../../src/telemetry/sample-file.js';
import { REPO_ROOT, dataPath, haveSharedData } from '../helpers/shared-data.js';

/**
 * profiles/default.yaml (the built-in defaults: test/unit/cueing-profile.test.ts) is fitted for
 * stewart-linear under issue 15's compression target (docs/fit.md). What it is shipped for must
 * stay true of the file, judged by the report on both real recordings: the issue's targets it
 * meets there. Its numbers, measured 2026-12-01: fx best 0.93 / 0.705, fy 0.96 / 0.75, largest
 * compression 0 % / 4.7 % (pitch on replay-tilde), r 0.87 / 0.89 (replay-A / replay-tilde).
 */
describe('profiles/default.yaml on stewart-linear, against issue 15\'s targets', () => {
  const file = join(REPO_ROOT, 'profiles', 'default.yaml');

  it('loads as the service loads a profile', () => {
    const { cue } = loadProfileFile(file, 1000);
    expect(cue.sway.saturation).toBe(80);
  });

  // ../shared/data absent: skipped here with the helper's message; under CI=true the helper fails instead.
  for (const name of ['replay-A', 'replay-tilde']) {
    it.skipIf(!haveSharedData)(`on ${name}: no channel compressed > 10 % on > 5 % of ticks; fx, fy best ≥ 0.7 within 150 ms with ≤ 10 % false cues; r ≥ 0.85; no IK scaling`, () => {
      const { cue } = loadProfileFile(file, 1000);
      const rig = loadRigFile(join(REPO_ROOT, 'profiles', 'rigs', 'stewart-linear.yaml'));
      const { report } = reportOn(readMotionFile(dataPath('gt7', 'recordings', `${name}.lpr`)), { profile: cue, rig, rateHz: 1000 });
      for (const c of CUE_CHANNELS) expect(report.compression[c].compressedPct, c).toBeLessThanOrEqual(5);
      for (const c of ['fx', 'fy'] as const) {
        expect(report.channels[c].best, c).toBeGreaterThanOrEqual(0.7);
        expect(Math.abs(report.channels[c].delayMs), c).toBeLessThanOrEqual(150);
        expect(report.channels[c].falseCuePct, c).toBeLessThanOrEqual(10);
      }
      expect(report.channels.r.best).toBeGreaterThanOrEqual(0.85);
      expect(report.workspace.ikScaledPct).toBe(0);
    }, 60_000);
  }
});

/** The previous default, kept for drivers who prefer stronger cues with clipped peaks (docs/fit.md). */
describe('profiles/alternatives/stronger.yaml', () => {
  const file = join(REPO_ROOT, 'profiles', 'alternatives', 'stronger.yaml');

  it('loads as the service loads a profile, and is not the default', () => {
    const { cue } = loadProfileFile(file, 1000);
    expect(cue.tilt.gain).toBe(0.03);
    expect(cue).not.toEqual(loadProfileFile(join(REPO_ROOT, 'profiles', 'default.yaml'), 1000).cue);
  });

  it.skipIf(!haveSharedData)('on replay-A (stewart-linear): what it trades, a stronger lateral cue than the default with roll compressed on > 5 % of ticks', () => {
    const rig = loadRigFile(join(REPO_ROOT, 'profiles', 'rigs', 'stewart-linear.yaml'));
    const samples = readMotionFile(dataPath('gt7', 'recordings', 'replay-A.lpr'));
    const strong = reportOn(samples, { profile: loadProfileFile(file, 1000).cue, rig, rateHz: 1000 }).report;
    const dflt = reportOn(samples, { profile: loadProfileFile(join(REPO_ROOT, 'profiles', 'default.yaml'), 1000).cue, rig, rateHz: 1000 }).report;
    expect(strong.channels.fy.deliveredStd).toBeGreaterThan(1.5 * dflt.channels.fy.deliveredStd);
    expect(strong.compression.roll.compressedPct).toBeGreaterThan(5);
    expect(strong.score.total).toBeGreaterThan(dflt.score.total);
  }, 60_000);
});

describe('profiles/fitted: one per example rig that has one', () => {
  const dir = join(REPO_ROOT, 'profiles', 'fitted');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('each loads as the service loads a profile, names a rig file that exists, and that rig file names it back', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      loadProfileFile(join(dir, f), 1000);
      const rigFile = join(REPO_ROOT, 'profiles', 'rigs', f);
      loadRigFile(rigFile);
      expect(readFileSync(rigFile, 'utf8')).toContain(`# Profile: profiles/fitted/${f}`);
      expect(readFileSync(join(dir, f), 'utf8')).toContain(`(profiles/rigs/${f});`);
    }
  });

  // What each was fitted for (docs/fit.md, "Fitted per rig"), judged by the report on both real
  // recordings: issue 15's targets but p, q and the rate delays (classical washout cannot:
  // docs/cueing.md), and r only on a rig that can yaw.
  for (const f of files) {
    for (const name of ['replay-A', 'replay-tilde']) {
      it.skipIf(!haveSharedData)(`${f} on its rig, ${name}: no channel compressed > 10 % on > 5 % of ticks; fx, fy best ≥ 0.7 within 150 ms, ≤ 10 % false cues; r ≥ 0.85 if it yaws; no IK scaling`, () => {
        const { cue } = loadProfileFile(join(dir, f), 1000);
        const rig = loadRigFile(join(REPO_ROOT, 'profiles', 'rigs', f));
        const { report } = reportOn(readMotionFile(dataPath('gt7', 'recordings', `${name}.lpr`)), { profile: cue, rig, rateHz: 1000 });
        for (const c of CUE_CHANNELS) if (report.compression[c].scoredPct > 0) expect(report.compression[c].compressedPct, c).toBeLessThanOrEqual(5);
        for (const c of ['fx', 'fy'] as const) {
          expect(report.channels[c].best, c).toBeGreaterThanOrEqual(0.7);
          expect(Math.abs(report.channels[c].delayMs), c).toBeLessThanOrEqual(150);
          expect(report.channels[c].falseCuePct, c).toBeLessThanOrEqual(10);
        }
        if (rig.follows(5)) expect(report.channels.r.best).toBeGreaterThanOrEqual(0.85);
        expect(report.workspace.ikScaledPct).toBe(0);
      }, 60_000);
    }
  }
});
