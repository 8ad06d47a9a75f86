import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfileFile } from '../../src/config/profiles.js';
import { loadRigFile } from '../../src/config/rig-file.js';
import { cueSchemaAt } from '../../src/cueing/profile.js';
import { scoreProfile } from '../../src/fit/fit.js';
import type { openParallelScorer as OpenParallelScorer } from '../../src/fit/parallel-scores.js';
import { readMotionFile } from '../../src/telemetry/sample-file.js';
import { REPO_ROOT, dataPath, haveSharedData } from '../helpers/shared-data.js';

/**
 * `motion-rig fit` scores each recording on a worker thread of its own (src/fit/parallel-scores.ts):
 * it must give exactly the in-process scores, pass a report's error on, and never leave the
 * search waiting. The workers run the built module (npm test builds first).
 */
const { openParallelScorer } = (await import(new URL('../../dist/src/fit/parallel-scores.js', import.meta.url).href)) as { openParallelScorer: typeof OpenParallelScorer };
const rigFile = join(REPO_ROOT, 'profiles', 'rigs', 'stewart-linear.yaml');
const paths = ['replay-A', 'replay-tilde'].map((n) => dataPath('gt7', 'recordings', `${n}.lpr`));

// One core: the fit scores in process (the last test's path), there is nothing to run on threads.
describe.skipIf(!haveSharedData || availableParallelism() < 2)('fit: each recording scored on its own thread', () => {
  it('the same scores as scoreProfile in this thread (compression limit included), in the order of the paths', async () => {
    const rig = loadRigFile(rigFile);
    const inputs = paths.map((p) => readMotionFile(p));
    const profile = loadProfileFile(join(REPO_ROOT, 'profiles', 'alternatives', 'stronger.yaml'), 1000).cue;
    // With the compression limit: the score and the penalty both cross the thread.
    const max = 5;
    const here = scoreProfile(profile, inputs, rig, 1000, max);
    const scorer = openParallelScorer(paths, rigFile, 1000, max)!;
    const reversed = openParallelScorer([...paths].reverse(), rigFile, 1000, max)!;
    try {
      expect(scorer.threads).toBe(2);
      expect(scorer.score(profile)).toEqual(here);
      // Reversed paths, reversed scores: each comes back in its recording's place.
      expect(reversed.score(profile)).toEqual([...here].reverse());
    } finally {
      await scorer.close();
      await reversed.close();
    }
  }, 120_000);

  it("a profile the chain cannot run: the report's error, as in this thread; the scorer goes on after it", async () => {
    const scorer = openParallelScorer(paths, rigFile, 1000)!;
    try {
      // A profile the schema at this rate would refuse (fit never scores one; the chain throws).
      const good = cueSchemaAt(1000).parse({});
      const bad = { ...good, surge: { ...good.surge, highpass: { ...good.surge.highpass, omegaN: 25_000 } } };
      let here = '';
      try {
        scoreProfile(bad, [readMotionFile(paths[0]!)], loadRigFile(rigFile), 1000);
      } catch (err) {
        here = (err as Error).message;
      }
      expect(here).not.toBe('');
      expect(() => scorer.score(bad)).toThrow(here);
      // Both workers' answers to the bad one were taken: the next candidate gets its own scores.
      expect(scorer.score(good)).toEqual(scoreProfile(good, paths.map((p) => readMotionFile(p)), loadRigFile(rigFile), 1000));
    } finally {
      await scorer.close();
    }
  }, 120_000);

  it('a recording it cannot read: the error, not a search waiting for ever', async () => {
    const scorer = openParallelScorer([paths[0]!, join(REPO_ROOT, 'no-such-recording.lpr')], rigFile, 1000)!;
    try {
      expect(() => scorer.score(cueSchemaAt(1000).parse({}))).toThrow(/no-such-recording/);
    } finally {
      await scorer.close();
    }
  }, 60_000);

  it('one recording: no threads (undefined), the search scores in process', () => {
    expect(openParallelScorer([paths[0]!], rigFile, 1000)).toBeUndefined();
  });
});
