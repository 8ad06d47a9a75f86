import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config/load-yaml.js';
import { loadProfiles } from '../../src/config/profiles.js';

// A chain that refuses what the schema let through (a future check the schema does not know yet).
vi.mock('../../src/cueing/chain.js', () => ({
  CueingChain: class {
    constructor(profile: { surge: { gain: number } }) {
      if (profile.surge.gain === 0.123) throw new RangeError('some new reason');
    }
  },
}));

describe('profile loading backstop', () => {
  it('a chain that throws on a profile becomes a ConfigError naming that profile file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'motion-rig-backstop-'));
    writeFileSync(join(dir, 'default.yaml'), 'cue: {}\n');
    writeFileSync(join(dir, 'odd.yaml'), 'match: { f1TeamIds: [3] }\ncue:\n  surge: { gain: 0.123 }\n');
    let err: unknown;
    try {
      loadProfiles(dir, 'default.yaml', 500);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([{ file: join(dir, 'odd.yaml'), line: undefined, key: 'cue', reason: 'the cueing chain cannot be built at loop.rateHz 500: some new reason' }]);
  });
});
