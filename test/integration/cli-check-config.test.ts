import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared-data.js';

beforeAll(buildCli);

describe('motion-rig check-config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'motion-rig-check-'));
  const profiles = join(dir, 'profiles');
  mkdirSync(profiles);
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `rig: ${join(REPO_ROOT, 'profiles/rigs/stewart-linear.yaml')}\noutput: { type: virtual }\nprofiles: { dir: profiles }\n`);
  // π·1000 = 3141.6 rad/s and π·100 = 314.2 rad/s: the Nyquist limits at those loop rates.
  writeFileSync(join(profiles, 'default.yaml'), 'cue:\n  pitch: { highpass: { omega: 400 } }\n');

  it('refuses an override the cueing chain cannot build at loop.rateHz: exit 2, the file, line and key', () => {
    const fast = join(profiles, 'fast.yaml');
    writeFileSync(fast, 'match: { gt7CarCodes: [3321] }\ncue:\n  surge:\n    highpass: { omegaN: 25000 }\n');
    try {
      const r = runCli(['check-config', config], 30_000);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`${fast}:4: cue.surge.highpass.omegaN: 25000 rad/s is not below Nyquist`);
    } finally {
      rmSync(fast);
    }
  });

  it('checks the profiles at the configured rate, and says OK with the base profile’s name', () => {
    const ok = runCli(['check-config', config], 30_000);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: OK \\(stewart-linear.*, simulator source, virtual rig, 1000 Hz; profile default\\)\\n$`));
    const slow = runCli(['check-config', config, '--set', 'loop.rateHz=100'], 30_000);
    expect(slow.status).toBe(2);
    expect(slow.stderr).toContain(`${join(profiles, 'default.yaml')}:2: cue.pitch.highpass.omega: 400 rad/s is not below Nyquist`);
  });
});
