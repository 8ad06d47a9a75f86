import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../helpers/cli.js';
import { REPO_ROOT, dataPath, haveSharedData } from '../helpers/shared-data.js';

const dir = mkdtempSync(join(tmpdir(), 'motion-rig-cue-'));
const run = runCli;

beforeAll(buildCli);

function parseCsv(text: string): number[][] {
  const [header, ...rows] = text.trim().split('\n');
  expect(header).toBe('t,x,y,z,roll,pitch,yaw');
  return rows.map((r) => r.split(',').map(Number));
}

describe('motion-rig cue', () => {
  it('a CSV surge step through a linear profile follows the closed-form third-order response', () => {
    // Unit step of forward acceleration at t = 1 s, 60 Hz samples, level car.
    const lines = ['t,ax,ay,az,p,q,r,steer,speed'];
    for (let i = 0; i <= 60 * 12; i++) lines.push(`${(i / 60).toFixed(6)},${i / 60 >= 1 ? 1 : 0},0,0,0,0,0,0,20`);
    const input = join(dir, 'step.csv');
    writeFileSync(input, lines.join('\n'));
    // Gain 1, no soft limits, tilt and rotation off: the surge channel alone.
    const profile = join(dir, 'linear.yaml');
    writeFileSync(
      profile,
      'cue:\n  surge: { gain: 1, highpass: { omegaN: 2.5, zeta: 1, omegaB: 0.5 }, limit: 1000, saturation: 1000 }\n  tilt: { pitchGain: 0, rollGain: 0 }\n  guards: { spikeThreshold: 1000 }\n',
    );
    const r = run(['cue', '--profile', profile, '--input', input, '--rate', '1000']);
    expect(r.status, r.stderr).toBe(0);
    const rows = parseCsv(r.stdout);
    const a = 2.5;
    const b = 0.5;
    const closed = (t: number) => (t <= 0 ? 0 : (Math.exp(-b * t) - Math.exp(-a * t)) / (a - b) ** 2 - (t * Math.exp(-a * t)) / (a - b));
    // Interpolation ramps the step over one sample interval from its arrival: centred 1/120 s late.
    const delay = 1 + 1 / 120;
    let worst = 0;
    for (const [t, x] of rows) worst = Math.max(worst, Math.abs(x! - closed(t! - delay)));
    expect(worst).toBeLessThan(0.0005);
    const peak = rows.reduce((m, row) => (row[1]! > m[1]! ? row : m));
    expect(peak[1]).toBeCloseTo(0.0956, 2);
    expect(peak[0]! - delay).toBeCloseTo(1.33, 1);
  });

  it.skipIf(!haveSharedData)('replay-tilde with the default profile, with a plot', () => {
    const plot = join(dir, 'tilde.svg');
    const r = run(['cue', '--profile', join(REPO_ROOT, 'profiles', 'default.yaml'), '--input', dataPath('gt7', 'recordings', 'replay-tilde.lpr'), '--rate', '500', '--plot', plot]);
    expect(r.status, r.stderr).toBe(0);
    const rows = parseCsv(r.stdout);
    expect(rows.length).toBeGreaterThan(29_000);
    for (const row of rows) {
      expect(Math.abs(row[1]!)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(row[3]!)).toBeLessThanOrEqual(0.05);
      expect(Math.abs(row[4]!)).toBeLessThanOrEqual((10 * Math.PI) / 180);
    }
    const svg = readFileSync(plot, 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toMatch(/tilt pitch/);
    expect((svg.match(/<polyline/g) ?? []).length).toBe(13);
  });

  it('bad profile: file, line, key and reason, exit 2; --rig is refused until kinematics exist', () => {
    const profile = join(dir, 'bad.yaml');
    writeFileSync(profile, 'cue:\n  heave:\n    limit: -1\n');
    const input = join(dir, 'one.csv');
    writeFileSync(input, 't,ax,ay,az,p,q,r,steer,speed\n0,0,0,0,0,0,0,0,0\n');
    const r = run(['cue', '--profile', profile, '--input', input]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${profile}:3: cue.heave.limit:`);
    // A filter the chain cannot build at --rate (π·100 = 314.2 rad/s) is refused the same way.
    const fast = join(dir, 'fast.yaml');
    writeFileSync(fast, 'cue:\n  pitch:\n    highpass: { omega: 400 }\n');
    const f = run(['cue', '--profile', fast, '--input', input, '--rate', '100']);
    expect(f.status).toBe(2);
    expect(f.stderr).toContain(`${fast}:3: cue.pitch.highpass.omega: 400 rad/s is not below Nyquist`);
    expect(run(['cue', '--input', input, '--rig', 'x.yaml']).status).toBe(2);
  });
});
