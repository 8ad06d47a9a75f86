import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared-data.js';

const RIGS = join(REPO_ROOT, 'profiles', 'rigs');
const dir = mkdtempSync(join(tmpdir(), 'motion-rig-ik-'));
const run = runCli;

beforeAll(buildCli);

describe('motion-rig ik', () => {
  it('--json: four-corner rams follow the corner heights (closed form)', () => {
    const r = run(['ik', '--rig', join(RIGS, 'four-corner.yaml'), '--pose', '0,0,0.01,0.02,-0.03,0', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { legs: number[]; actuators: number[]; reachable: boolean; scale: number };
    expect(out.reachable).toBe(true);
    expect(out.scale).toBe(1);
    const corners = [
      [0.65, 0.28],
      [0.65, -0.28],
      [-0.65, 0.28],
      [-0.65, -0.28],
    ];
    corners.forEach(([x, y], i) => {
      const dz = 0.01 - Math.sin(-0.03) * x! + Math.cos(-0.03) * Math.sin(0.02) * y!;
      expect(out.actuators[i]).toBeCloseTo(0.05 + dz, 12);
      expect(out.legs[i]).toBeCloseTo(0.25 + dz, 12);
    });
  });

  it('an unreachable pose is reported with its scale, and the result stays in the travel', () => {
    const r = run(['ik', '--rig', join(RIGS, 'stewart-linear.yaml'), '--pose', '0.5,0,0,0,0.3,0', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { actuators: number[]; reachable: boolean; scale: number };
    expect(out.reachable).toBe(false);
    expect(out.scale).toBeGreaterThan(0.1);
    expect(out.scale).toBeLessThan(0.5);
    for (const a of out.actuators) {
      expect(a).toBeGreaterThanOrEqual(0.0045 - 1e-12);
      expect(a).toBeLessThanOrEqual(0.1455 + 1e-12);
    }
    const human = run(['ik', '--rig', join(RIGS, 'stewart-linear.yaml'), '--pose', '0.5,0,0,0,0.3,0']);
    expect(human.stdout).toMatch(/NOT reachable as asked: scaled toward neutral, \d+\.\d\d % of it kept/);
  });

  it('bad input: a pose that is not six numbers, a missing rig, a bad rig file', () => {
    expect(run(['ik', '--rig', join(RIGS, 'four-corner.yaml'), '--pose', '0,0,0']).status).toBe(2);
    expect(run(['ik', '--rig', join(RIGS, 'four-corner.yaml'), '--pose', '0,0,0,0,0,x']).status).toBe(2);
    expect(run(['ik', '--pose', '0,0,0,0,0,0']).status).toBe(2);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'rig:\n  type: four-corner\n  homeHeight: 0.25\n  length: 1\n  width: 0.5\n  actuators: { min: 0, max: 0.1, maxVelocity: -1, maxAcceleration: 10 }\n');
    const r = run(['ik', '--rig', bad, '--pose', '0,0,0,0,0,0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bad}:6: rig.actuators.maxVelocity:`);
  });
});

describe('motion-rig cue --rig', () => {
  it('appends a1..aN; braking pitches the nose down, so the front rams of a four-corner rig drop', () => {
    // 3 s level, then 2 s of 8 m/s² braking at 60 Hz.
    const lines = ['t,ax,ay,az,p,q,r,steer,speed'];
    for (let i = 0; i <= 60 * 5; i++) lines.push(`${(i / 60).toFixed(6)},${i / 60 >= 3 ? -8 : 0},0,0,0,0,0,0,30`);
    const input = join(dir, 'brake.csv');
    writeFileSync(input, lines.join('\n'));
    const r = run(['cue', '--input', input, '--rate', '500', '--rig', join(RIGS, 'four-corner.yaml')]);
    expect(r.status, r.stderr).toBe(0);
    const [header, ...rows] = r.stdout.trim().split('\n');
    expect(header).toBe('t,x,y,z,roll,pitch,yaw,a1,a2,a3,a4');
    const values = rows.map((row) => row.split(',').map(Number));
    for (const v of values) {
      expect(v).toHaveLength(11);
      for (const a of v.slice(7)) {
        expect(a).toBeGreaterThanOrEqual(0.003 - 1e-12);
        expect(a).toBeLessThanOrEqual(0.097 + 1e-12);
      }
    }
    const end = values[values.length - 1]!;
    expect(end[5]).toBeGreaterThan(0.01); // nose down, rad
    expect(end[7]).toBeLessThan(0.05); // front left below mid-stroke
    expect(end[9]).toBeGreaterThan(0.05); // rear left above
    expect(r.stderr).toMatch(/rig four corners.*: 0 ticks scaled toward neutral/);
  });

  it('keeps the chain inside the rig\'s shared budgets as the service does: hard driving needs no IK scaling, unless workspace.shared is off', () => {
    const lines = ['t,ax,ay,az,p,q,r,steer,speed'];
    for (let i = 0; i <= 60 * 5; i++) {
      const t = i / 60;
      const s = Math.sin(2 * Math.PI * 0.7 * t);
      lines.push(`${t.toFixed(6)},${30 * s},${30 * Math.cos(Math.PI * t)},${20 * s},${2 * s},${2 * Math.cos(2 * Math.PI * 1.1 * t)},0,0,30`);
    }
    const input = join(dir, 'hard.csv');
    writeFileSync(input, lines.join('\n'));
    const own = join(dir, 'own-limits.yaml');
    writeFileSync(own, 'cue:\n  workspace: { shared: false }\n');
    const shared = run(['cue', '--input', input, '--rate', '500', '--rig', join(RIGS, 'four-corner.yaml')]);
    expect(shared.status, shared.stderr).toBe(0);
    expect(shared.stderr).toMatch(/: 0 ticks scaled toward neutral/);
    const unshared = run(['cue', '--input', input, '--rate', '500', '--rig', join(RIGS, 'four-corner.yaml'), '--profile', own]);
    expect(unshared.status, unshared.stderr).toBe(0);
    expect(Number(/: (\d+) ticks scaled toward neutral/.exec(unshared.stderr)?.[1])).toBeGreaterThan(500);
  });
});
