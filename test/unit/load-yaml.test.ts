import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, type ConfigProblem, loadYamlFile, readYamlValue } from '../../src/config/load-yaml.js';
import { loadServiceConfig } from '../../src/config/service-config.js';

const dir = mkdtempSync(join(tmpdir(), 'motion-rig-yaml-'));
function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const anything = z.unknown();

/** The problems of a refusal, and how long it took (ms). */
function refused(fn: () => unknown): { problems: ConfigProblem[]; ms: number; message: string } {
  const t0 = performance.now();
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems, ms: performance.now() - t0, message: err.message };
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('YAML limits: every refusal is a ConfigError naming the file, quickly', () => {
  it('a billion-laughs alias bomb (9 levels of 9 aliases: 9⁹ strings) is refused by file in < 1 s', () => {
    const letters = 'abcdefghi';
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) lines.push(`${letters[i]}: &${letters[i]} [${Array(9).fill(`*${letters[i - 1]}`).join(',')}]`);
    const bomb = write('bomb.yaml', `${lines.join('\n')}\n`);
    for (const load of [() => loadYamlFile(bomb, anything), () => loadServiceConfig(bomb), () => readYamlValue(bomb)]) {
      const r = refused(load);
      expect(r.ms).toBeLessThan(1000);
      expect(r.problems).toEqual([{ file: bomb, line: undefined, key: '', reason: expect.stringMatching(/alias/i) }]);
      expect(r.message.startsWith(`${bomb}: `)).toBe(true);
    }
  });

  it('10000 levels of `[` (closed or not), 10000 of `- `, 300 of indented keys (under 64 KiB): refused by file and line in < 1 s', () => {
    const deep = {
      'flow.yaml': `x: ${'['.repeat(10000)}${']'.repeat(10000)}\n`,
      'unclosed.yaml': '['.repeat(10000),
      'maps.yaml': `${'{a: '.repeat(10000)}1${'}'.repeat(10000)}\n`,
      'dashes.yaml': `${'- '.repeat(10000)}1\n`,
      'indent.yaml': `${Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`,
    };
    for (const [name, text] of Object.entries(deep)) {
      const file = write(name, text);
      const r = refused(() => loadServiceConfig(file));
      expect(r.ms, name).toBeLessThan(1000);
      expect(r.problems, name).toEqual([{ file, line: expect.any(Number), key: '', reason: expect.stringMatching(/nested more than \d+ levels/) }]);
    }
  });

  it('a file over 64 KiB is refused by name without being read whole (/dev/zero too)', () => {
    const big = write('big.yaml', `# ${'x'.repeat(70 * 1024)}\nsafety: { estop: false }\n`);
    expect(refused(() => loadServiceConfig(big)).problems).toEqual([{ file: big, line: undefined, key: '', reason: expect.stringContaining('64 KiB') }]);
    const zero = refused(() => loadYamlFile('/dev/zero', anything));
    expect(zero.ms).toBeLessThan(1000);
    expect(zero.problems[0]).toMatchObject({ file: '/dev/zero', reason: expect.stringContaining('64 KiB') });
  });

  it('syntax errors and a second document name the file and line', () => {
    const syntax = write('syntax.yaml', 'safety:\n  estop: [true\nstatus: {}\n');
    expect(refused(() => loadServiceConfig(syntax)).problems[0]).toMatchObject({ file: syntax, line: expect.any(Number), reason: expect.stringContaining('YAML syntax') });
    const two = write('two.yaml', 'safety: {}\n---\nsafety: { estop: true }\n');
    expect(refused(() => loadServiceConfig(two)).problems).toEqual([{ file: two, line: 2, key: '', reason: expect.stringContaining('more than one document') }]);
  });

  it('--set values are parsed within the same limits and name the flag', () => {
    const ok = write('ok.yaml', 'status: {}\n');
    expect(refused(() => loadServiceConfig(ok, [`rig=${'['.repeat(10000)}`])).problems[0]).toMatchObject({ file: '--set rig', reason: expect.stringMatching(/nested/) });
  });

  it('ordinary files still read: a few aliases, 20 levels of nesting, comments', () => {
    const file = write('fine.yaml', `# fine\nbase: &b { gain: 0.5, mix: [1, 2] }\nsurge: *b\nsway: *b\ndeep: ${'['.repeat(20)}7${']'.repeat(20)}\n`);
    const v = readYamlValue(file) as { surge: unknown; sway: unknown; deep: unknown };
    expect(v.surge).toEqual({ gain: 0.5, mix: [1, 2] });
    expect(v.sway).toEqual(v.surge);
    let d: unknown = v.deep;
    for (let i = 0; i < 20; i++) d = (d as unknown[])[0];
    expect(d).toBe(7);
  });
});
