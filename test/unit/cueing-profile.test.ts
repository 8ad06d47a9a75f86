import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadYamlFile } from '../../src/config/load-yaml.js';
import { defaultCueProfile, profileFileSchema } from '../../src/cueing/profile.js';
import { REPO_ROOT } from '../helpers/shared-data.js';

const dir = mkdtempSync(join(tmpdir(), 'motion-rig-profile-'));
function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('cueing profiles', () => {
  it('profiles/default.yaml parses and says exactly what the built-in defaults are', () => {
    const p = loadYamlFile(join(REPO_ROOT, 'profiles', 'default.yaml'), profileFileSchema);
    expect(p.cue).toEqual(defaultCueProfile());
  });

  it('the issue\'s example keys are accepted; omegaB 0 and rate limit 0 are allowed', () => {
    const p = loadYamlFile(
      write('ok.yaml', 'cue:\n  surge: { gain: 1.0, highpass: { omegaN: 2.5, zeta: 1.0, omegaB: 0 }, limit: 0.10 }\n  tilt: { rateLimitDegPerS: 0 }\n'),
      profileFileSchema,
    );
    expect(p.cue.surge.highpass.omegaB).toBe(0);
    expect(p.cue.surge.gain).toBe(1);
    expect(p.cue.tilt.rateLimitDegPerS).toBe(0);
    expect(p.cue.sway.gain).toBe(defaultCueProfile().sway.gain);
  });

  it('errors name the file, the line, the key and the reason', () => {
    const file = write('bad.yaml', 'cue:\n  surge:\n    gain: 1\n    highpass:\n      omegaN: -2\n  tilt:\n    maxDegs: 10\n');
    let err: unknown;
    try {
      loadYamlFile(file, profileFileSchema);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    const omega = problems.find((p) => p.key === 'cue.surge.highpass.omegaN')!;
    expect(omega.file).toBe(file);
    expect(omega.line).toBe(5);
    expect(omega.reason).toMatch(/>0|positive|greater/i);
    const typo = problems.find((p) => p.key.startsWith('cue.tilt'))!;
    expect(typo.line).toBe(6);
    expect(typo.reason).toMatch(/maxDegs/);
    expect((err as Error).message).toContain(`${file}:5: cue.surge.highpass.omegaN:`);
  });

  it('YAML syntax errors carry a line too', () => {
    const file = write('syntax.yaml', 'cue:\n  surge: { gain: 1\n  sway: 2\n');
    expect(() => loadYamlFile(file, profileFileSchema)).toThrow(/syntax\.yaml:\d+: \(top level\): YAML syntax/);
  });
});
