import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCueProfile } from '../../src/cueing/profile.js';
import { freeUdpPort } from '../helpers/ports.js';
import { CLI, buildCli, runCli } from '../helpers/cli.js';
import { dataPath, haveSharedData } from '../helpers/shared-data.js';

const run = (args: string[], timeoutMs = 30_000) => runCli(args, timeoutMs);

beforeAll(buildCli);

type Row = number[];
const csvRows = (text: string): Row[] =>
  text
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number));
const at = (rows: Row[], t: number): Row => rows.find((r) => r[0]! >= t) ?? rows.at(-1)!;

/** An .lpr of `frames` copies of one real motion packet, clock and frame counter advancing at 60 Hz. */
function lprOfRepeated(packet: Buffer, frames: number, playerCarIndex?: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < frames; i++) {
    const b = Buffer.from(packet);
    b.writeFloatLE(100 + i / 60, 12);
    b.writeUInt32LE(5000 + i, 16);
    if (playerCarIndex !== undefined) b[20] = playerCarIndex;
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}


describe('motion-rig CLI (F1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'motion-rig-f1-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!haveSharedData)('decode --game f1: every real 2018 and later-format packet, as text and as JSON', () => {
    for (const sub of ['2018', 'later-formats']) {
      for (const f of readdirSync(dataPath('f1', sub)).filter((x) => x.endsWith('.bin'))) {
        const file = dataPath('f1', sub, f);
        const text = run(['decode', '--game', 'f1', file]);
        expect(text.status, `${f}: ${text.stderr}`).toBe(0);
        expect(text.stderr).toMatch(/one raw packet, 1 decoded, 0 skipped/);
        const json = run(['decode', '--game', 'f1', file, '--json']);
        const row = JSON.parse(json.stdout) as { type: string; size: number; header: { packetFormat: number; sessionUID: string } };
        expect(row.size).toBe(readFileSync(file).length);
        expect(row.header.packetFormat).toBe(sub === '2018' ? 2018 : Number(/-(\d{4})-/.exec(f)![1]));
        expect(row.header.sessionUID).toMatch(/^\d+$/);
      }
    }
    const motion = run(['decode', '--game', 'f1', dataPath('f1', '2018', '00-motion.bin'), '--json']);
    const m = JSON.parse(motion.stdout) as { data: { carMotionData: unknown[]; wheelSpeed: number[] }; motion: { ax: number; speed: number } };
    expect(m.data.carMotionData).toHaveLength(20);
    expect(m.data.wheelSpeed).toHaveLength(4);
    expect(m.motion.ax).toBeLessThan(0);
    expect(m.motion.speed).toBeCloseTo(63, 0);
  });

  it('decode --game f1 refuses a file of garbage with a reason and exit 1', () => {
    const file = join(dir, 'junk.bin');
    writeFileSync(file, Buffer.from('not an F1 packet at all'));
    const r = run(['decode', '--game', 'f1', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/packet format \d+ is not one of 2018/);
  });

  it.skipIf(!haveSharedData)('cue over replayed real braking packets: nose down, platform surges back; for the lightest and the hardest braker', () => {
    const packet = readFileSync(dataPath('f1', '2018', '00-motion.bin'));
    // Car 4 brakes at 0.69 g, car 11 at 4.28 g (their longitudinal g in this packet).
    const { tilt } = defaultCueProfile();
    for (const car of [4, 11]) {
      const file = join(dir, `brake-${car}.lpr`);
      writeFileSync(file, lprOfRepeated(packet, 180, car));
      const r = run(['cue', '--input', file, '--rate', '500']);
      expect(r.status, r.stderr).toBe(0);
      const rows = csvRows(r.stdout);
      // Pitch (rad, + nose down) once the tilt has settled: the default's tilt for the lightest
      // braker's 0.69 g is pitchGain·asin(gain·0.69) (0.0115 rad with gain 0.01193 and pitchGain
      // 1.4); the hardest gets more, up to the rig's budget. At least 80 % of it for both.
      expect(at(rows, 2.5)[5]).toBeGreaterThan(0.8 * tilt.pitchGain * Math.asin(tilt.gain * 0.69));
      expect(at(rows, 0.5)[1]).toBeLessThan(-0.001); // surge, m, backward (over 1 mm with the fitted default's surge gain 0.005)
      for (const row of rows) for (const v of row) expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('simulate-f1 --out writes a capture that decode and cue read; every braking stretch pitches toward nose down', () => {
    const file = join(dir, 'lap.lpr');
    const w = run(['simulate-f1', '--out', file, '--seconds', '30', '--team', '5']);
    expect(w.status, w.stderr).toBe(0);
    const dec = run(['decode', '--game', 'f1', file, '--json']);
    expect(dec.status).toBe(0);
    const rows = dec.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; header: { sessionTime: number }; motion?: { ax: number; carId: number } });
    expect(new Set(rows.map((r) => r.type)).size).toBe(8);
    const motion = rows.filter((r) => r.motion);
    expect(motion.length).toBe(30 * 60);
    expect(motion.at(-1)!.motion!.carId).toBe(5);
    const cue = run(['cue', '--input', file, '--rate', '500']);
    expect(cue.status, cue.stderr).toBe(0);
    const pose = csvRows(cue.stdout);
    // Braking stretches: ax below −6 m/s² for at least 0.5 s.
    const t0 = motion[0]!.header.sessionTime;
    const stretches: [number, number][] = [];
    let start: number | undefined;
    for (const r of motion) {
      const t = r.header.sessionTime - t0;
      if (r.motion!.ax < -6) start ??= t;
      else if (start !== undefined) {
        if (t - start >= 0.5) stretches.push([start, t]);
        start = undefined;
      }
    }
    expect(stretches.length).toBeGreaterThanOrEqual(4);
    for (const [a, b] of stretches) {
      // The tilt channel is rate-limited and starts from the nose-up of the straight before.
      expect(at(pose, b)[5]! - at(pose, a)[5]!, `braking ${a.toFixed(2)}–${b.toFixed(2)} s`).toBeGreaterThan(0.003);
      expect(at(pose, a + 0.4)[1]!, `surge after braking starts at ${a.toFixed(2)} s`).toBeLessThan(at(pose, a)[1]!);
    }
  });

  it('telemetry --game f1 --json receives simulate-f1 over loopback; GT7 flags are refused', async () => {
    const port = await freeUdpPort();
    const listener = runCliAsync(['telemetry', '--game', 'f1', '--port', String(port), '--count', '10', '--json']);
    await new Promise((r) => setTimeout(r, 400));
    const sender = spawn(process.execPath, [CLI, 'simulate-f1', '--port', String(port), '--format', '2023'], { stdio: 'ignore' });
    try {
      const out = await listener;
      expect(out.code).toBe(0);
      const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { header: { packetFormat: number }; motion: { hasSteer: boolean; speed: number } });
      expect(lines).toHaveLength(10);
      expect(lines.every((l) => l.header.packetFormat === 2023 && l.motion.speed > 0)).toBe(true);
    } finally {
      sender.kill('SIGINT');
    }
    const bad = run(['telemetry', '--game', 'f1', '--console', '10.0.0.2', '--count', '1']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/GT7 options/);
  });
});

describe('motion-rig record --game f1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'motion-rig-f1-rec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records what the game sends; decode and cue read the recording', async () => {
    const port = await freeUdpPort();
    const file = join(dir, 'session.mrrec');
    const recording = runCliAsync(['record', '--game', 'f1', '--out', file, '--port', String(port), '--duration', '2']);
    await new Promise((r) => setTimeout(r, 400));
    const sender = spawn(process.execPath, [CLI, 'simulate-f1', '--port', String(port)], { stdio: 'ignore' });
    try {
      const out = await recording;
      expect(out.code, out.stderr).toBe(0);
    } finally {
      sender.kill('SIGINT');
    }
    const dec = run(['decode', '--game', 'f1', file]);
    expect(dec.status).toBe(0);
    const decoded = Number(/(\d+) decoded, 0 skipped/.exec(dec.stderr)![1]);
    expect(decoded).toBeGreaterThan(150);
    const cue = run(['cue', '--input', file, '--rate', '200']);
    expect(cue.status, cue.stderr).toBe(0);
    expect(csvRows(cue.stdout).length).toBeGreaterThan(150);
  });
});

function runCliAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), 15_000);
    p.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}
