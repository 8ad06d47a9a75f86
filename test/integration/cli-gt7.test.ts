import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gt7Client } from '../../src/telemetry/gt7/client.js';
import { ConsoleSimulator } from '../../src/telemetry/gt7/console-simulator.js';
import { readCapture } from '../../src/telemetry/recording.js';
import { CLI, buildCli, runCli } from '../helpers/cli.js';
import { dataPath, haveSharedData } from '../helpers/shared-data.js';
import { waitFor } from '../helpers/wait.js';

const run = (args: string[], timeoutMs = 20_000) => runCli(args, timeoutMs);

/**
 * Loopback addresses 127.0.0.31–39 belong to this file. The `telemetry` and `record` commands
 * bind 0.0.0.0, so they get the test-only port option (a real console ignores it) with a
 * port below Linux's ephemeral range, which no port-0 socket of a parallel test can take.
 */
const SIM = '127.0.0.31';
const CLI_PORT = 29740;

beforeAll(buildCli);

describe('motion-rig CLI (GT7)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'motion-rig-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('help prints usage; an unknown command exits 2 with usage', () => {
    expect(run(['help']).stdout).toMatch(/motion-rig telemetry/);
    const bad = run(['frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "frobnicate"/);
    const badFlag = run(['telemetry', '--heartbeat', 'Z', '--count', '1']);
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toMatch(/--heartbeat must be one of/);
  });

  it.skipIf(!haveSharedData)('decode --json: encrypted-A file, one object per packet with the promised keys', () => {
    const file = dataPath('gt7', 'encrypted-A', 'nurburgring-sprint.lpr');
    const r = run(['decode', file, '--json']);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(readCapture(file).records.length);
    for (const row of rows) {
      expect(row.encrypted).toBe(true);
      expect(row.format).toBe('A');
      expect(row.position).toHaveLength(3);
      expect(row.rotation).toHaveLength(4);
      expect(typeof row.flags).toBe('number');
      expect(row).not.toHaveProperty('sway');
      // Physics, not our code: |rotation| = 1 and |velocity| ≈ speed.
      expect(Math.hypot(...row.rotation)).toBeCloseTo(1, 4);
      expect(Math.abs(Math.hypot(...row.velocity) - row.speed)).toBeLessThan(0.01 * row.speed + 0.05);
    }
  });

  it.skipIf(!haveSharedData)('decode --json: plaintext ~ recording carries B and ~ fields; synthetic C carries C extras', () => {
    const tilde = run(['decode', dataPath('gt7', 'recordings', 'replay-tilde.lpr'), '--json']);
    const first = JSON.parse(tilde.stdout.split('\n')[0]!);
    expect(first.encrypted).toBe(false);
    for (const k of ['wheelRotation', 'wheelRotationRate', 'sway', 'heave', 'surge', 'throttleInput', 'brakeOutput', 'energyRecovery']) expect(first).toHaveProperty(k);
    const c = run(['decode', dataPath('gt7', 'synthetic', 'synthetic_C_encrypted.lpr'), '--json']);
    const row = JSON.parse(c.stdout.split('\n')[0]!);
    expect(row.format).toBe('C');
    for (const k of ['surfaces', 'currentLapTime', 'wheelSteerAngleFL', 'wheelSteerAngleFR', 'carCategory']) expect(row).toHaveProperty(k);
  });

  it('decode refuses a file with no packets and survives a truncated one', () => {
    const junk = join(dir, 'junk.lpr');
    // length prefix 10, then 10 bytes of garbage, then a truncated record.
    const buf = Buffer.concat([Buffer.from([10, 0, 0, 0]), Buffer.alloc(10, 1), Buffer.from([255, 0, 0, 0, 1, 2])]);
    writeFileSync(junk, buf);
    const r = run(['decode', junk]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/claims 255 bytes, file ends first/);
  });

  it('telemetry --json against the simulator, then record → decode round trip', async () => {
    const sim = await ConsoleSimulator.start({ host: SIM, replyPort: CLI_PORT });
    try {
      const t = await runAsync(['telemetry', '--console', SIM, '--port', String(CLI_PORT), '--heartbeat', 'C', '--count', '30', '--json']);
      expect(t.code).toBe(0);
      const rows = t.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(rows).toHaveLength(30);
      expect(rows.every((r) => r.format === 'C')).toBe(true);
      expect(rows[0].motion.accelerationSource).toBe(1);
      expect(rows[0].events.map((e: { name: string }) => e.name)).toContain('running');

    } finally {
      await sim.close();
    }
    // A fresh console: the first one keeps format C locked for 16 s after the last heartbeat.
    const sim2 = await ConsoleSimulator.start({ host: SIM, replyPort: CLI_PORT });
    try {
      const out = join(dir, 'lap.mrrec');
      const rec = await runAsync(['record', '--out', out, '--console', SIM, '--port', String(CLI_PORT), '--duration', '1']);
      expect(rec.code).toBe(0);
      const cap = readCapture(out);
      expect(cap.kind).toBe('recording');
      expect(cap.heartbeat).toBe('B');
      expect(cap.game).toBe('gt7');
      expect(cap.records.length).toBeGreaterThan(40);
      expect(cap.records.length).toBeLessThan(80);
      // Receive offsets increase and span about a second at ~16.7 ms.
      const gaps = cap.records.slice(1).map((r, i) => r.offsetNs - cap.records[i]!.offsetNs);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0);
      const dec = run(['decode', out, '--json']);
      const packets = dec.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(packets.length).toBe(cap.records.length);
      expect(packets.every((p) => p.encrypted === true && p.format === 'B')).toBe(true);
      // Recorded exactly as received: the wire bytes are ciphertext.
      expect(readFileSync(out).subarray(0, 8).toString('latin1')).toBe('MRIG-REC');
    } finally {
      await sim2.close();
    }
  });

  it('record onto a full disk (/dev/full) stops at once and says why (exit 1), no crash', async () => {
    const sim = await ConsoleSimulator.start({ host: SIM, replyPort: CLI_PORT });
    try {
      const t0 = performance.now();
      const rec = await runAsync(['record', '--out', '/dev/full', '--console', SIM, '--port', String(CLI_PORT), '--duration', '10']);
      expect(rec.code).toBe(1);
      expect(rec.stderr).toMatch(/recording \/dev\/full failed: ENOSPC/);
      expect(performance.now() - t0).toBeLessThan(8000);
    } finally {
      await sim.close();
    }
  });

  it('demo (npm start) runs the whole service on the built-in simulator and parks at the end', async () => {
    const r = await runAsync(['demo', '--seconds', '6', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { state: string; output: { framesWritten: number }; link: { mcu: string }; telemetry: { samples: number } };
    expect(status.state).toBe('parked');
    // The simulator answered the way a console does (to 33740 of the heartbeat's address) and the service heard it.
    expect(status.telemetry.samples).toBeGreaterThan(200);
    expect(status.link.mcu).toBe('parked');
    expect(status.output.framesWritten).toBeGreaterThan(4000);
    expect(r.stderr).toMatch(/console simulator .* → service at 1000 Hz → (RigLink over a socat pty pair|in-process virtual rig)/);
  });

  it('simulate-console on its own address, with the console\'s ports, serves a client on 33740 of another until Ctrl-C', async () => {
    const child = spawn(process.execPath, [CLI, 'simulate-console', '--host', '127.0.0.32', '--phases', 'drive:5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no port announced: ${stderr}`)), 10_000);
      child.stderr.on('data', () => {
        const m = /console simulator on UDP (\d+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    expect(port).toBe(33739);
    expect(stderr).toMatch(/sends to port 33740 of each heartbeat's address/);
    // Every port the console's: heartbeat to 33739, packets to 33740 of 127.0.0.33.
    const client = await Gt7Client.start({ console: '127.0.0.32', bindAddress: '127.0.0.33' });
    const ids: number[] = [];
    client.onTelemetry((t) => void ids.push(t.packet.packetId));
    await waitFor(() => ids.length >= 5);
    await client.close();
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', resolve);
      child.kill('SIGINT');
    });
    expect(code).toBe(0);
    expect(stderr).toMatch(/sent \d+ packets/);
  });

  it('telemetry with its port taken: exit 1 with one line naming the port and what probably holds it', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((r) => holder.bind(CLI_PORT + 1, '127.0.0.34', () => r()));
    try {
      const r = await runAsync(['telemetry', '--console', SIM, '--port', String(CLI_PORT + 1), '--count', '1']);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^motion-rig: UDP port ${CLI_PORT + 1} on 0\\.0\\.0\\.0 is already in use: another GT7 app on this machine \\(SimHub, a dashboard\\)`));
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
  });

  it('demo stops cleanly on Ctrl-C (SIGINT): parks, exit 0', async () => {
    const t0 = performance.now();
    const r = await runAsync(['demo'], 3000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/parking…/);
    expect(r.stderr).toMatch(/stopped: parked/);
    expect(performance.now() - t0).toBeLessThan(15_000);
  });
});

function runAsync(args: string[], interruptAfterMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (interruptAfterMs !== undefined) setTimeout(() => child.kill('SIGINT'), interruptAfterMs);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
