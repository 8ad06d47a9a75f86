import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureFormatError, RECORDER_BACKLOG_BYTES, Recorder, parseCapture, readCapture, replay } from '../../src/telemetry/recording.js';
import { dataPath, haveSharedData } from '../helpers/shared-data.js';

const dir = mkdtempSync(join(tmpdir(), 'motion-rig-rec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('capture files', () => {
  it('recorder → reader round trip keeps bytes, order and receive offsets', async () => {
    const file = join(dir, 'a.mrrec');
    const rec = new Recorder(file, { heartbeat: '~', game: 'gtsport' });
    const datagrams = [Buffer.from([1, 2, 3]), Buffer.alloc(316, 9), Buffer.alloc(0)];
    rec.write(datagrams[0]!, 5_000_000);
    rec.write(datagrams[1]!, 21_666_667);
    rec.write(datagrams[2]!, 38_333_333);
    await rec.close();
    const cap = readCapture(file);
    expect(cap.kind).toBe('recording');
    expect(cap.heartbeat).toBe('~');
    expect(cap.game).toBe('gtsport');
    expect(cap.records.map((r) => r.offsetNs)).toEqual([0, 16_666_667, 33_333_333]);
    cap.records.forEach((r, i) => expect(Buffer.from(r.datagram).equals(datagrams[i]!)).toBe(true));
    // Layout per docs/recording-format.md: 24-byte header, then 12-byte record heads.
    const raw = readFileSync(file);
    expect(raw.length).toBe(24 + 3 * 12 + 3 + 316);
    expect(raw.readUInt16LE(8)).toBe(1);
    expect(raw.readBigUInt64LE(24 + 12 + 3)).toBe(16_666_667n);
  });

  it('a full disk (/dev/full) never throws: the first error is kept and reported once, later datagrams are dropped and counted', async () => {
    const errors: Error[] = [];
    const rec = new Recorder('/dev/full', { game: 'gt7', onError: (e) => errors.push(e) });
    rec.write(Buffer.alloc(316, 1), 0);
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 1; i <= 10; i++) rec.write(Buffer.alloc(316, 1), i * 16_666_667);
    const err = await rec.close();
    expect(err?.message).toMatch(/ENOSPC/);
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ENOSPC']);
    expect(rec.dropped).toBe(10);
  });

  it('a folder that cannot be written throws from the constructor; flags wx refuses an existing file', () => {
    expect(() => new Recorder(join(dir, 'no-such-folder', 'x.mrrec'))).toThrow(/ENOENT/);
    const file = join(dir, 'exists.mrrec');
    writeFileSync(file, 'keep me');
    expect(() => new Recorder(file, { flags: 'wx' })).toThrow(/EEXIST/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('a backed-up stream drops and counts datagrams instead of buffering without bound', async () => {
    const file = join(dir, 'backlog.mrrec');
    const rec = new Recorder(file);
    // 5000 × 328 bytes in one tick (1.6 MB): the stream cannot drain in between.
    for (let i = 0; i < 5000; i++) rec.write(Buffer.alloc(316, 2), i);
    expect(rec.dropped).toBeGreaterThan(0);
    expect(rec.count + rec.dropped).toBe(5000);
    expect(rec.count * 328).toBeLessThanOrEqual(RECORDER_BACKLOG_BYTES + 328);
    expect(await rec.close()).toBeUndefined();
    expect(readCapture(file).records.length).toBe(rec.count);
  });

  it('refuses truncated files and unknown versions with the byte offset', () => {
    expect(() => parseCapture(Buffer.from([5, 0, 0, 0, 1, 2]), 'x.lpr')).toThrow(/x.lpr: record at byte 0 claims 5 bytes/);
    expect(() => parseCapture(Buffer.from([5, 0]), 'y.lpr')).toThrow(CaptureFormatError);
    const header = Buffer.alloc(24);
    header.write('MRIG-REC', 0, 'latin1');
    header.writeUInt16LE(7, 8);
    expect(() => parseCapture(header, 'z.mrrec')).toThrow(/version 7 is not supported/);
    const file = join(dir, 'empty.lpr');
    writeFileSync(file, Buffer.alloc(0));
    expect(readCapture(file).records).toHaveLength(0);
  });

  it.skipIf(!haveSharedData)('reads the shared *.lpr files at 60 Hz', () => {
    const cap = readCapture(dataPath('gt7', 'recordings', 'replay-A.lpr'));
    expect(cap.kind).toBe('lpr');
    expect(cap.records).toHaveLength(6420);
    expect(cap.records[60]!.offsetNs).toBeCloseTo(1e9, 0);
  });

  it('replays as fast as possible, in real time, and looped', async () => {
    const records = Array.from({ length: 12 }, (_, i) => ({ offsetNs: i * 10_000_000, datagram: new Uint8Array([i]) }));
    const cap = { kind: 'lpr' as const, game: 'unknown' as const, records };
    const t0 = performance.now();
    const fast = [];
    for await (const r of replay(cap)) fast.push(r.datagram[0]);
    expect(fast).toEqual([...Array(12).keys()]);
    expect(performance.now() - t0).toBeLessThan(50);

    const t1 = performance.now();
    const times: number[] = [];
    for await (const _ of replay(cap, { realTime: true })) times.push(performance.now() - t1);
    // 110 ms of offsets: paced to absolute targets, so the end is on time, not late by the sum of timer errors.
    expect(times.at(-1)!).toBeGreaterThanOrEqual(105);
    expect(times.at(-1)!).toBeLessThan(170);

    const ac = new AbortController();
    const looped: number[] = [];
    for await (const r of replay(cap, { loop: true, signal: ac.signal })) {
      looped.push(r.offsetNs);
      if (looped.length === 30) ac.abort();
    }
    expect(looped).toHaveLength(30);
    // The second pass continues the clock one period after the last record.
    expect(looped[12]).toBe(120_000_000);
  });
});
