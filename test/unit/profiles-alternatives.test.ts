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
 * profiles/alternatives/uncompressed.yaml was fitted for stewart-linear with issue 15's
 * compression target as a constraint (`fit --max-compressed 5`, docs/fit.md). What it was
 * fitted for must stay true of the file as shipped, judged by the report on a real recording.
 */
describe('profiles/alternatives/uncompressed.yaml', () => {
  const file = join(REPO_ROOT, 'profiles', 'alternatives', 'uncompressed.yaml');

  it('loads as the service loads a profile', () => {
    const { cue } = loadProfileFile(file, 1000);
    expect(cue.sway.saturation).toBe(80);
  });

  // ../shared/data absent: skipped here with the helper's message; under CI=true the helper fails instead.
  it.skipIf(!haveSharedData)('on replay-A (stewart-linear): no channel compressed > 10 % on > 5 % of ticks, fx and fy best ≥ 0.7 with ≤ 10 % false cues, no IK scaling', () => {
    const { cue } = loadProfileFile(file, 1000);
    const rig = loadRigFile(join(REPO_ROOT, 'profiles', 'rigs', 'stewart-linear.yaml'));
    const { report } = reportOn(readMotionFile(dataPath('gt7', 'recordings', 'replay-A.lpr')), { profile: cue, rig, rateHz: 1000 });
    for (const c of CUE_CHANNELS) expect(report.compression[c].compressedPct, c).toBeLessThanOrEqual(5);
    for (const c of ['fx', 'fy'] as const) {
      expect(report.channels[c].best, c).toBeGreaterThanOrEqual(0.7);
      expect(report.channels[c].falseCuePct, c).toBeLessThanOrEqual(10);
    }
    expect(report.workspace.ikScaledPct).toBe(0);
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
});
