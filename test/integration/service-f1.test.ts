import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F1Simulator } from '../../src/telemetry/f1/simulator.js';
import { freeUdpPort } from '../helpers/ports.js';
import { CLI, buildCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared-data.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `source.type: f1` end to end: the F1 packet simulator sends over loopback UDP to the
 * built CLI's `run`, which drives the in-process virtual rig. Nothing after the source
 * knows the game: the same supervisor holds on pause, garage, spectating and silence.
 */


interface Status {
  state: string;
  holdReason: string;
  telemetry: { source: string; samples: number; carId: number; profile: string };
}

describe('service with the F1 source (F1 simulator → UDP → service → virtual rig)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'motion-rig-f1-service-'));
  const statusFile = join(dir, 'status.json');
  let proc: ChildProcess | undefined;
  let sim: F1Simulator | undefined;
  let out = '';
  let exitCode: number | null = null;
  beforeAll(buildCli);
  afterAll(async () => {
    await sim?.close();
    if (proc && exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const status = (): Status | undefined => {
    try {
      return JSON.parse(readFileSync(statusFile, 'utf8')) as Status;
    } catch {
      return undefined;
    }
  };
  const waitState = (state: string, reasons?: string[], timeoutMs = 10_000) =>
    waitFor(() => {
      const s = status();
      return s?.state === state && (reasons === undefined || reasons.includes(s.holdReason));
    }, timeoutMs, `state ${state} ${reasons?.join('|') ?? ''}; last ${status()?.state} ${status()?.holdReason}`);

  it('drives online on F1 packets, picks the team profile, holds on pause, garage, spectating and silence, parks on SIGTERM', async () => {
    const port = await freeUdpPort();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `source: { type: f1, f1: { port: ${port}, bind: 127.0.0.1 } }
loop: { rateHz: 500 }
rig: ${join(REPO_ROOT, 'profiles/rigs/stewart-linear.yaml')}
output: { type: virtual }
profiles: { dir: ${join(REPO_ROOT, 'profiles')} }
status: { file: ${statusFile} }
`,
    );
    proc = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('exit', (code) => (exitCode = code));
    await waitState('parked', undefined, 15_000);
    // Nothing sent yet: no phantom sample from the never-written slot.
    await new Promise((r) => setTimeout(r, 300));
    expect([status()!.holdReason, status()!.telemetry.samples]).toEqual(['noTelemetry', 0]);

    sim = await F1Simulator.start({ host: '127.0.0.1', port, teamId: 5 });
    await waitState('online', undefined, 15_000);
    const s = status()!;
    expect(s.telemetry.source).toBe('f1');
    expect(s.telemetry.carId).toBe(5);
    expect(s.telemetry.profile).toBe('example override (F1 cars)');

    for (const [phase, reasons] of [
      ['pause', ['paused', 'stale', 'frozen']],
      ['menu', ['menu']],
      ['replay', ['replay']],
      ['silent', ['stale']],
    ] as const) {
      sim.setPhase(phase);
      await waitState('hold', [...reasons]);
      sim.setPhase('drive');
      await waitState('online');
    }

    proc.kill('SIGTERM');
    await waitFor(() => exitCode !== null, 15_000, 'exit after SIGTERM');
    expect(exitCode).toBe(0);
    expect(out).toMatch(/telemetry: F1 on UDP/);
    expect(out).toMatch(/"event":"car","carId":5/);
  }, 90_000);
});
