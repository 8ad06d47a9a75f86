import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadYamlFile } from '../../src/config/load-yaml.js';
import { CueingChain } from '../../src/cueing/chain.js';
import { cueSchema, cueSchemaAt, defaultCueProfile, profileFileSchema } from '../../src/cueing/profile.js';
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

  it('rotational washout order: the channel default (roll, pitch 2; yaw 1), 2 when only zeta is given, as given otherwise; tilt.gain within 0..1', () => {
    const d = defaultCueProfile();
    expect([d.roll.highpass.order, d.pitch.highpass.order, d.yaw.highpass.order]).toEqual([2, 2, 1]);
    const p = cueSchema.parse({ yaw: { highpass: { zeta: 0.7 } }, roll: { highpass: { order: 1 } } });
    expect(p.yaw.highpass).toEqual({ omega: d.yaw.highpass.omega, order: 2, zeta: 0.7 });
    expect(p.roll.highpass).toEqual({ omega: d.roll.highpass.omega, order: 1, zeta: 1 });
    expect(cueSchema.safeParse({ pitch: { highpass: { order: 3 } } }).success).toBe(false);
    expect(cueSchema.safeParse({ tilt: { gain: 1.5 } }).success).toBe(false);
    expect(cueSchema.safeParse({ workspace: { marginPct: -1 } }).success).toBe(false);
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

  it('at a loop rate, the schema refuses exactly what the chain cannot build, by key', () => {
    const builds = (cue: unknown, rate: number) => {
      try {
        new CueingChain(cueSchema.parse(cue), rate);
        return true;
      } catch {
        return false;
      }
    };
    // Every frequency key the chain designs a filter from; near, at and past Nyquist (π·rate).
    const omega = fc.oneof(fc.double({ min: 0.01, max: 8000, noNaN: true }), fc.constantFrom(314.159, 314.16, 3141.59, 3141.6, 6283.18, 6283.19));
    fc.assert(
      fc.property(fc.constantFrom(100, 250, 1000, 2000), omega, omega, omega, omega, omega, omega, fc.constantFrom(0, 0.5), (rate, a, b, c, d, e, f, omegaB) => {
        const cue = {
          surge: { highpass: { omegaN: a, omegaB } },
          sway: { highpass: { omegaB: b } },
          heave: { highpass: { omegaN: c } },
          roll: { highpass: { omega: d } },
          yaw: { highpass: { omega: e, zeta: 0.7 } },
          tilt: { lowpass: { omegaN: f } },
        };
        const accepted = cueSchemaAt(rate).safeParse(cue);
        expect(accepted.success, JSON.stringify({ rate, cue })).toBe(builds(cue, rate));
      }),
      { numRuns: 400 },
    );
  });

  it('names the key and the limit: surge.highpass.omegaN 25000 at 1000 Hz (π·1000 = 3141.6 rad/s)', () => {
    const r = cueSchemaAt(1000).safeParse({ surge: { highpass: { omegaN: 25000 } }, pitch: { highpass: { omega: 3000 } } });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['surge.highpass.omegaN', expect.stringMatching(/25000 rad\/s .*Nyquist.*3141\.6 rad\/s at loop\.rateHz 1000/)]]);
    // 3000 rad/s builds at 1000 Hz but not at 500 Hz (π·500 = 1570.8 rad/s).
    expect(cueSchemaAt(500).safeParse({ pitch: { highpass: { omega: 3000 } } }).error!.issues[0]!.path).toEqual(['pitch', 'highpass', 'omega']);
  });
});
