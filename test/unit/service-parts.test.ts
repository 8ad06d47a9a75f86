import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pino, type Logger } from 'pino';
import { createSharedBuffers } from '../../src/runtime/slots.js';
import { type ServiceStatus, StatusFile } from '../../src/service/status.js';
import { TelemetryInput } from '../../src/service/telemetry-input.js';
import { MotionSample } from '../../src/telemetry/motion-sample.js';

/** A pino logger whose lines land in an array. */
function capture(): { lines: { event?: string; notLogged?: number }[]; log: Logger } {
  const lines: { event?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { event?: string });
      done();
    },
  });
  return { lines, log: pino({ level: 'info' }, sink) };
}

describe('status file', () => {
  it('a status file that cannot be written: one warning when it starts, the old file removed, one line when it works again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'motion-rig-status-'));
    const file = join(dir, 'sub', 'status.json');
    mkdirSync(join(dir, 'sub'));
    const { lines, log } = capture();
    const sf = new StatusFile(file, log);
    const status = { state: 'online' } as unknown as ServiceStatus;
    sf.write(status);
    expect(JSON.parse(readFileSync(file, 'utf8')).state).toBe('online');
    // The folder becomes unwritable (as root, chmod does not stop us: take the folder away instead).
    rmSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub'), 'not a folder');
    for (let i = 0; i < 50; i++) sf.write(status);
    expect(lines.filter((l) => l.event === 'status-write-failed').length).toBe(1);
    rmSync(join(dir, 'sub'));
    mkdirSync(join(dir, 'sub'));
    chmodSync(join(dir, 'sub'), 0o755);
    for (let i = 0; i < 5; i++) sf.write(status);
    expect(lines.filter((l) => l.event === 'status-write-ok').length).toBe(1);
    expect(existsSync(file)).toBe(true);
  });
});

describe('telemetry input', () => {
  it('a car id that changes on every packet is logged at most once a second, with how many were not', () => {
    const { lines, log } = capture();
    const cars: number[] = [];
    const input = new TelemetryInput(createSharedBuffers(), log, (carId) => {
      cars.push(carId);
      return `profile for ${carId}`;
    });
    const s = new MotionSample();
    for (let i = 0; i < 300; i++) {
      s.carId = 1000 + i;
      (input as unknown as { onSample(s: MotionSample, t: number): void }).onSample(s, i * 16.7e6);
    }
    expect(cars.length).toBe(300); // every change still selects its profile
    const logged = lines.filter((l) => l.event === 'car');
    expect(logged.length).toBe(1);
  });
});
