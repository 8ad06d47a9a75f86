import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseYamlWith } from '../../src/config/load-yaml.js';
import { loadRigFile, rigFileSchema } from '../../src/config/rig-file.js';

/** Bad rig files are refused with file, line, key and reason; nothing half-valid gets through. */

function problems(text: string) {
  try {
    parseYamlWith(text, rigFileSchema, 'rig.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the rig to be refused');
}

const LIMITS = '  actuators: { min: 0, max: 0.1, maxVelocity: 0.3, maxAcceleration: 10 }\n';

describe('rig file validation', () => {
  it('anchor lists of the wrong length name the key and its line', () => {
    const p = problems(`rig:\n  type: four-corner\n  homeHeight: 0.25\n  base: [[0,0,0],[1,0,0],[0,1,0]]\n  length: 1\n  width: 0.5\n${LIMITS}`);
    expect(p).toContainEqual({ file: 'rig.yaml', line: 4, key: 'rig.base', reason: 'four-corner needs 4 anchors, got 3' });
  });

  it('a crank rig without horn or rod length, and keys that do not apply, are refused', () => {
    const p = problems(`rig:\n  type: stewart-rotary\n  homeHeight: 0.4\n  baseRadius: 0.4\n  platformRadius: 0.3\n  retractedLength: 0.5\n  width: 0.3\n  actuators: { min: -1, max: 1, maxVelocity: 5, maxAcceleration: 50 }\n`);
    const keys = p.map((x) => x.key);
    expect(keys).toContain('rig.hornLength');
    expect(keys).toContain('rig.rodLength');
    expect(p).toContainEqual(expect.objectContaining({ key: 'rig.retractedLength', line: 6, reason: 'only for linear actuators' }));
    expect(p).toContainEqual(expect.objectContaining({ key: 'rig.width', line: 7 }));
  });

  it('a neutral pose outside the usable travel is refused at homeHeight, with the numbers', () => {
    // Rams 0..0.1 m retracted at 0.3 m: a home height of 0.45 m asks for 0.15 m of extension.
    const p = problems(`rig:\n  type: four-corner\n  homeHeight: 0.45\n  length: 1\n  width: 0.5\n  retractedLength: 0.3\n${LIMITS}`);
    expect(p[0]).toMatchObject({ line: 3, key: 'rig.homeHeight' });
    expect(p[0]!.reason).toMatch(/actuator 1 would be at 0\.15 m, outside its usable travel 0\.003\.\.0\.097 m/);
  });

  it('a crank whose rod cannot reach at neutral is refused', () => {
    const p = problems(`rig:\n  type: two-actuator\n  actuator: crank\n  homeHeight: 0.6\n  actuatorX: -0.4\n  width: 0.5\n  hornLength: 0.05\n  rodLength: 0.3\n  actuators: { min: -1.2, max: 1.2, maxVelocity: 5, maxAcceleration: 50 }\n`);
    expect(p[0]!.key).toBe('rig.homeHeight');
    expect(p[0]!.reason).toMatch(/unreachable crank angle/);
  });

  it('park outside the usable travel, min above max, unknown keys and unknown types are refused', () => {
    const p = problems(`rig:\n  type: four-corner\n  homeHeight: 0.25\n  length: 1\n  width: 0.5\n  actuators: { min: 0, max: 0.1, maxVelocity: 0.3, maxAcceleration: 10, park: 0.0 }\n  colour: red\n`);
    expect(p).toContainEqual(expect.objectContaining({ key: 'rig.actuators.park', line: 6 }));
    expect(p).toContainEqual(expect.objectContaining({ key: 'rig', reason: expect.stringMatching(/colour/) }));
    expect(problems(`rig:\n  type: four-corner\n  homeHeight: 0.25\n  length: 1\n  width: 0.5\n  actuators: { min: 0.1, max: 0, maxVelocity: 0.3, maxAcceleration: 10 }\n`)).toContainEqual(
      expect.objectContaining({ key: 'rig.actuators.max', reason: 'max must be greater than min' }),
    );
    expect(problems(`rig:\n  type: hexapod\n  homeHeight: 0.25\n${LIMITS}`)[0]!.key).toBe('rig.type');
  });

  it('a real file on disk: problems name that file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'motion-rig-rig-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `rig:\n  type: three-actuator\n  homeHeight: 0.3\n  width: 0.5\n${LIMITS}`);
    // A missing key points at its parent's line.
    expect(() => loadRigFile(file)).toThrow(`${file}:1: rig.length: required to generate the three-actuator anchors when "platform" is not given`);
  });
});
