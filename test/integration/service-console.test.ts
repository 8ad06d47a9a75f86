import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PtyRig, haveSocat, mcuSimArgs } from '../../src/service/pty-rig.js';
import { CLI, buildCli } from '../helpers/cli.js';
import { buildFirmwareHostPrograms } from '../helpers/firmware.js';
import { rig } from '../helpers/service-run.js';
import { REPO_ROOT } from '../helpers/shared-data.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The console contract as a new user meets it: `motion-rig run` with config.example.yaml,
 * only `source.type: gt7` and `source.gt7.console` changed (and the serial path and status
 * file pointed at this test's rig), against `simulate-console` on its own loopback address,
 * which, like a PS5, only ever sends to port 33740 of the heartbeat's address. The service
 * must hear it and go online. (The old default, a random telemetry port, heard nothing.)
 */
describe.skipIf(!haveSocat() && process.env.CI !== 'true')('service with the example config against a console that sends only to 33740', () => {
  const procs: ChildProcess[] = [];
  let pty: PtyRig;
  const dir = mkdtempSync(join(tmpdir(), 'motion-rig-console-'));
  beforeAll(async () => {
    if (!haveSocat()) throw new Error('socat is required under CI=true (.ci/run installs it)');
    buildCli();
    pty = new PtyRig(buildFirmwareHostPrograms().mcuSim, mcuSimArgs(rig), dir);
    await pty.start();
  });
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await pty?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('goes online, then parks and exits 0 on SIGTERM', async () => {
    const sim = spawn(process.execPath, [CLI, 'simulate-console', '--host', '127.0.0.2', '--phases', 'drive:120'], { stdio: 'ignore' });
    procs.push(sim);
    const statusFile = join(dir, 'status.json');
    const run = spawn(
      process.execPath,
      [CLI, 'run', '--config', join(REPO_ROOT, 'config.example.yaml'), '--set', 'source.type=gt7', '--set', 'source.gt7.console=127.0.0.2', '--set', `output.serial.path=${pty.host}`, '--set', 'output.serial.lowLatency=false', '--set', `status.file=${statusFile}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    procs.push(run);
    let out = '';
    run.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    run.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const status = () => {
      try {
        return JSON.parse(readFileSync(statusFile, 'utf8')) as { state: string; telemetry: { samples: number; ratePerS: number } };
      } catch {
        return undefined;
      }
    };
    await waitFor(() => status()?.state === 'online', 20_000, `online; last ${status()?.state}; ${out.split('\n').slice(-5).join('\n')}`);
    expect(status()!.telemetry.samples).toBeGreaterThan(30);
    const exit = new Promise<number | null>((r) => run.on('exit', r));
    run.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(out).toContain('stopped, rig parked');
  }, 60_000);
});
