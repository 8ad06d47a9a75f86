import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ServiceConfig } from '../../src/config/service-config.js';
import { silentLogger } from '../../src/log.js';
import type { ConfigWatch } from '../../src/service/config-watch.js';
import type { TelemetryInput } from '../../src/service/telemetry-input.js';
import { readCapture } from '../../src/telemetry/recording.js';
import { recordingRoutes } from '../../src/web/recordings-api.js';

/**
 * A page recording on a failing disk: the real Recorder writes to /dev/full (every write fails
 * with ENOSPC, as on a full disk) when `fullDisk.on` is set; the only thing changed is the
 * path it opens. The service must keep running (an unhandled stream error would end this
 * process), the recording must end, and GET /api/recordings must say why.
 */
const fullDisk = vi.hoisted(() => ({ on: false }));
vi.mock('../../src/telemetry/recording.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/telemetry/recording.js')>();
  class Recorder extends m.Recorder {
    constructor(path: string, opts: ConstructorParameters<typeof m.Recorder>[1] = {}) {
      super(fullDisk.on ? '/dev/full' : path, fullDisk.on ? { ...opts, flags: 'w' } : opts);
    }
  }
  return { ...m, Recorder };
});

const dir = mkdtempSync(join(tmpdir(), 'motion-rig-web-rec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Body {
  recording?: { name: string } | null;
  failed?: { error: string } | null;
  packets?: number;
  error?: string;
}

function setup(recordingsDir: string) {
  const tap: { listener?: (d: Buffer, t: number) => void; stops: number } = { stops: 0 };
  const telemetry = {
    tapRaw: (l: (d: Buffer, t: number) => void) => {
      tap.listener = l;
      return { stop: () => ((tap.listener = undefined), tap.stops++), game: 'gt7', heartbeat: 'B' };
    },
  } as unknown as TelemetryInput;
  const config = { web: { recordingsDir } } as unknown as ServiceConfig;
  const { routes, close } = recordingRoutes({ config, telemetry, watch: {} as ConfigWatch, log: silentLogger });
  const call = async (path: string, method = 'POST') => {
    const r = routes.find((x) => x.path === path && x.method === method)!;
    return r.handle({ rest: '', query: new URLSearchParams(), body: '' }) as Promise<{ status: number; body: Body }>;
  };
  return { tap, call, close };
}

describe('web recording names', () => {
  it('two recordings started in the same millisecond get two files (a counter), neither overwritten', async () => {
    const recs = join(dir, 'names');
    const { tap, call, close } = setup(recs);
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-01T10:00:00.123Z') });
    try {
      const names: string[] = [];
      for (let i = 0; i < 2; i++) {
        const r = await call('/api/recordings/start');
        expect(r.status).toBe(200);
        names.push(r.body.recording!.name);
        tap.listener?.(Buffer.alloc(10 + i, 1), 0);
        expect((await call('/api/recordings/stop')).status).toBe(200);
      }
      expect(names).toEqual(['rig-2026-12-01_10-00-00-123.mrrec', 'rig-2026-12-01_10-00-00-123-1.mrrec']);
      expect(names.map((n) => readCapture(join(recs, n)).records[0]!.datagram.length)).toEqual([10, 11]);
    } finally {
      vi.useRealTimers();
      await close();
    }
  });
});

describe('web recordings on a failing disk', () => {
  it('a full disk ends the recording, logs it, and the recordings state shows the error; the next start works', async () => {
    const { tap, call, close } = setup(join(dir, 'recs'));
    fullDisk.on = true;
    expect((await call('/api/recordings/start')).status).toBe(200);
    for (let i = 0; i < 5; i++) tap.listener?.(Buffer.alloc(316, i), i * 16_666_667);
    await vi.waitFor(async () => expect((await call('/api/recordings', 'GET')).body.recording).toBeNull());
    const state = (await call('/api/recordings', 'GET')).body;
    expect(state.failed?.error).toMatch(/ENOSPC/);
    expect(tap.stops).toBe(1);
    expect(tap.listener).toBeUndefined();
    expect((await call('/api/recordings/stop')).status).toBe(409);

    fullDisk.on = false;
    expect((await call('/api/recordings/start')).status).toBe(200);
    expect((await call('/api/recordings', 'GET')).body.failed).toBeNull();
    tap.listener?.(Buffer.alloc(316, 1), 0);
    const stopped = await call('/api/recordings/stop');
    expect(stopped.status).toBe(200);
    expect(stopped.body.packets).toBe(1);
    await close();
  });

  it('a recordings folder that cannot be made is refused with the reason (500), nothing left running', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const { tap, call } = setup(join(file, 'recs'));
    const r = await call('/api/recordings/start');
    expect(r.status).toBe(500);
    expect(r.body.error).toMatch(/ENOTDIR|EEXIST/);
    expect(tap.listener).toBeUndefined();
  });
});
