import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { F1Client, type F1Notice } from '../../src/telemetry/f1/client.js';
import { F1PacketSource, F1Simulator, type F1SimulatorOptions } from '../../src/telemetry/f1/simulator.js';
import { dataPath, haveSharedData } from '../helpers/shared-data.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function listener(opts: Parameters<typeof F1Client.start>[0] = {}): Promise<F1Client> {
  const c = await F1Client.start({ port: 0, bindAddress: '127.0.0.1', ...opts });
  cleanups.push(() => c.close());
  return c;
}

async function game(port: number, opts: F1SimulatorOptions = {}): Promise<F1Simulator> {
  const s = await F1Simulator.start({ host: '127.0.0.1', port, ...opts });
  cleanups.push(() => s.close());
  return s;
}

async function udpOn(address: string) {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  return sock;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('F1 listener and packet simulator on loopback', () => {
  it('2018: every packet type arrives, motion at ~60 Hz, samples through latest(), callbacks and the async iterator', async () => {
    const c = await listener();
    await game(c.port, { teamId: 3 });
    const seen: number[] = [];
    c.onTelemetry((t) => void seen.push(t.sample.sequence));
    const types = new Set<string>();
    c.onPacket((p) => void types.add(p.type));
    const iterated: number[] = [];
    const iterating = (async () => {
      for await (const t of c) {
        iterated.push(t.sample.sequence);
        if (iterated.length === 20) break;
      }
    })();
    await waitFor(() => c.stats.samples >= 30 && types.size === 8, 8000, 'all eight 2018 packet types');
    await iterating;
    const n0 = c.stats.samples;
    await sleep(500);
    const rate = (c.stats.samples - n0) / 0.5;
    expect(rate).toBeGreaterThan(45);
    expect(rate).toBeLessThan(75);
    expect([...types].sort()).toEqual(['carSetups', 'carStatus', 'carTelemetry', 'event', 'lapData', 'motion', 'participants', 'session']);
    const t = c.latest()!;
    expect(t.packet.header.packetFormat).toBe(2018);
    expect(t.sample.carId).toBe(3);
    expect(t.sample.speed).toBeGreaterThan(1);
    expect(iterated).toHaveLength(20);
    // Each sample once, in order.
    for (let i = 1; i < iterated.length; i++) expect(iterated[i]).toBeGreaterThan(iterated[i - 1]!);
    expect(c.stats.dropped['bad-size'] + c.stats.dropped['unknown-format']).toBe(0);
    expect(c.stats.byType['2018 motion']).toBeGreaterThan(30);
    expect(c.senderAddress).toBe('127.0.0.1');
  });

  for (const format of [2019, 2022, 2023, 2024] as const) {
    it(`format ${format}: motion${format >= 2023 ? ' + motion-ex' : ''} dispatch to samples with steering`, async () => {
      const c = await listener();
      await game(c.port, { format });
      await waitFor(() => c.stats.samples >= 20, 5000, `${format} samples`);
      expect(c.receivedFormat).toBe(format);
      expect(c.latest()!.sample.hasSteer).toBe(true);
    });
  }

  it('source filter: a given sender wins; otherwise the first sender is kept and others are counted foreign', async () => {
    const fixed = await listener({ sender: '127.0.0.2' });
    await game(fixed.port, { bindAddress: '127.0.0.1' });
    await waitFor(() => fixed.stats.foreign >= 20);
    expect(fixed.stats.samples).toBe(0);

    const c = await listener();
    const notices: F1Notice[] = [];
    c.onNotice((n) => notices.push(n));
    await game(c.port, { bindAddress: '127.0.0.1' });
    await waitFor(() => c.stats.samples >= 5);
    await game(c.port, { bindAddress: '127.0.0.2', sessionUID: 2n });
    await waitFor(() => c.stats.foreign >= 20);
    expect(c.senderAddress).toBe('127.0.0.1');
    expect(notices.filter((n) => n.kind === 'sender-learned')).toHaveLength(1);
  });

  it('garbage is counted by reason and said once per kind, never thrown; the stream carries on', async () => {
    const c = await listener();
    const notices: F1Notice[] = [];
    c.onNotice((n) => notices.push(n));
    await game(c.port);
    const sock = await udpOn('127.0.0.1');
    const send = (b: Uint8Array) => new Promise<void>((r) => sock.send(b, c.port, '127.0.0.1', () => r()));
    const junk = new Uint8Array(1341);
    junk[0] = 0xe2;
    junk[1] = 0x07;
    for (let i = 0; i < 5; i++) {
      await send(new Uint8Array([1]));
      await send(junk.subarray(0, 700));
      await send(new Uint8Array([0x11, 0x22, 0x33, 0x44, 0x55]));
    }
    await waitFor(() => c.stats.dropped['too-short'] >= 5 && c.stats.dropped['bad-size'] >= 5 && c.stats.dropped['unknown-format'] >= 5);
    const n = c.stats.samples;
    await waitFor(() => c.stats.samples > n + 10);
    // Each notice is also the one log line for that kind of problem.
    expect(notices.filter((x) => x.kind === 'dropped').map((x) => x.message.split(': ').slice(1).join(': '))).toHaveLength(3);
  });

  it('one forged motion packet with frame +599 or another session: the genuine frames after it all arrive, the forged ones are counted', async () => {
    const c = await listener();
    const frames: number[] = [];
    c.onTelemetry((t) => void frames.push(t.packet.header.frameIdentifier));
    const sock = await udpOn('127.0.0.1');
    const source = new F1PacketSource({ format: 2018 });
    // F1 2018 header (TELEMETRY-NOTES): u16 format, u8 version, u8 packet id (0 motion) at 3,
    // u64 session UID at 4, f32 session time at 12, u32 frame identifier at 16.
    const motion = () => source.next().find((d) => d[3] === 0)!;
    const send = (d: Uint8Array) => new Promise<void>((r) => sock.send(d, c.port, '127.0.0.1', () => r()));
    const sentFrames: number[] = [];
    const genuine = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const d = motion();
        sentFrames.push(new DataView(d.buffer, d.byteOffset).getUint32(16, true));
        await send(d);
        await sleep(1);
      }
    };
    await genuine(20);
    const forged = Uint8Array.from(motion());
    const view = new DataView(forged.buffer);
    view.setUint32(16, sentFrames.at(-1)! + 599, true);
    await send(forged);
    await genuine(20);
    view.setBigUint64(4, 0xbadn, true);
    view.setUint32(16, sentFrames.at(-1)! + 1, true);
    await send(forged);
    await genuine(20);
    await waitFor(() => c.stats.byType['2018 motion'] === 62);
    expect(frames).toEqual(sentFrames);
    expect(c.stats).toMatchObject({ unconfirmed: 2, outOfOrder: 0, duplicated: 0 });
  });

  it('AbortSignal closes the listener and ends the iterator', async () => {
    const ac = new AbortController();
    const c = await listener({ signal: ac.signal });
    await game(c.port);
    let count = 0;
    const done = (async () => {
      for await (const _ of c) count++;
    })();
    await waitFor(() => count > 5);
    ac.abort();
    await done;
    expect(c.isClosed).toBe(true);
  });

  it.skipIf(!haveSharedData)('real 2018 and later-format packets sent over UDP decode as they do from disk', async () => {
    const sock = await udpOn('127.0.0.1');
    // One listener per game: each capture is another session, and a lone motion packet of a
    // new session is not believed until the next one confirms it (SequenceGuard).
    const games = [
      ['2018/00-motion.bin', '2018/01-session.bin', '2018/04-participants.bin'],
      ['later-formats/racehub-2019-00.bin'],
      ['later-formats/maciejpedzich-2024-00.bin', 'later-formats/maciejpedzich-2024-13.bin'],
    ];
    const byType: Record<string, number> = {};
    let samples = 0;
    for (const files of games) {
      const c = await listener();
      for (const f of files) await new Promise<void>((r) => sock.send(readFileSync(dataPath('f1', f)), c.port, '127.0.0.1', () => r()));
      await waitFor(() => c.stats.accepted === files.length);
      Object.assign(byType, c.stats.byType);
      samples += c.stats.samples;
    }
    expect(byType).toMatchObject({ '2018 motion': 1, '2018 session': 1, '2018 participants': 1, '2019 motion': 1, '2024 motion': 1, '2024 motionEx': 1 });
    expect(samples).toBe(3);
  });
});
