import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { Gt7Client, type Gt7Notice } from '../../src/telemetry/gt7/client.js';
import { ConsoleSimulator } from '../../src/telemetry/gt7/console-simulator.js';
import { DiscoveryError, discoverPlayStation } from '../../src/telemetry/gt7/discovery.js';
import { PacketCipher } from '../../src/telemetry/gt7/cipher.js';
import { AccelerationSource } from '../../src/telemetry/motion-sample.js';
import { readCapture } from '../../src/telemetry/recording.js';
import { Gt7PacketMaker } from '../helpers/gt7-packets.js';
import { dataPath, haveSharedData } from '../helpers/shared-data.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/**
 * The console contract on loopback, with no port tricks: the console simulator on its own
 * address with the console's ports (heartbeats to 33739, packets to 33740 of the client's
 * address), the client on another with 33740. Addresses 127.0.0.11–19 belong to this file
 * (test files run in parallel; its tests run one at a time and close everything after each).
 */
const SIM = '127.0.0.12';
const CLIENT = '127.0.0.11';

async function sim(opts: Parameters<typeof ConsoleSimulator.start>[0] = {}): Promise<ConsoleSimulator> {
  const s = await ConsoleSimulator.start({ host: SIM, ...opts });
  cleanups.push(() => s.close());
  return s;
}

async function client(opts: Parameters<typeof Gt7Client.start>[0] = {}): Promise<Gt7Client> {
  const c = await Gt7Client.start({ console: SIM, bindAddress: CLIENT, ...opts });
  cleanups.push(() => c.close());
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A UDP socket bound on a loopback address, closed after the test. */
async function udpOn(address: string) {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  return sock;
}

describe('GT7 client and console simulator on loopback', () => {
  for (const hb of ['A', 'B', '~', 'C'] as const) {
    it(`heartbeat ${hb} is honoured: packets arrive in that format at ~60 Hz`, async () => {
      await sim();
      const c = await client({ heartbeat: hb });
      await waitFor(() => c.stats.accepted >= 30);
      const t0 = c.stats.accepted;
      await sleep(500);
      const rate = (c.stats.accepted - t0) / 0.5;
      expect(rate).toBeGreaterThan(45);
      expect(rate).toBeLessThan(75);
      expect(c.receivedFormat).toBe(hb);
      expect(c.latest()!.packet.format).toBe(hb);
      expect(c.stats.garbage).toBe(0);
      const src = c.latest()!.sample.accelerationSource;
      expect(src).toBe(hb === 'A' ? AccelerationSource.Derived : AccelerationSource.Game);
    });
  }

  it('GT Sport: its own key end to end; a GT7 client cannot read it', async () => {
    await sim({ game: 'gtsport' });
    const c = await client({ game: 'gtsport' });
    await waitFor(() => c.stats.accepted > 5);
    // A GT7 client where GT Sport sends: 33339 / 33340, on another address.
    const wrong = await client({ game: 'gt7', consolePort: 33339, telemetryPort: 33340, bindAddress: '127.0.0.13' });
    await waitFor(() => wrong.stats.garbage > 5);
    expect(wrong.stats.accepted).toBe(0);
  });

  it('resends the heartbeat on its interval', async () => {
    const s = await sim();
    const c = await client({ heartbeatIntervalMs: 200 });
    await sleep(1100);
    expect(c.stats.heartbeatsSent).toBeGreaterThanOrEqual(5);
    expect(s.stats.heartbeats).toBe(c.stats.heartbeatsSent);
  });

  it('recovers from a stall: the console times out, silence triggers a resend, the stream resumes', async () => {
    await sim({ heartbeatTimeoutMs: 600 });
    // A periodic heartbeat far longer than the console's timeout: only the silence rule can save it.
    const c = await client({ heartbeatIntervalMs: 60_000, silenceResendMs: 300 });
    const notices: Gt7Notice[] = [];
    c.onNotice((n) => notices.push(n));
    await waitFor(() => c.stats.accepted > 10);
    await waitFor(() => notices.some((n) => n.kind === 'stream-stalled'), 4000);
    await waitFor(() => notices.some((n) => n.kind === 'stream-resumed'), 4000);
    const after = c.stats.accepted;
    await sleep(300);
    expect(c.stats.accepted).toBeGreaterThan(after + 10);
    expect(c.stats.heartbeatsSent).toBeGreaterThanOrEqual(2);
  });

  it('recovers when the console goes silent while heartbeats keep flowing', async () => {
    const s = await sim();
    const c = await client();
    await waitFor(() => c.stats.accepted > 10);
    s.setPhase('silent');
    await sleep(400);
    const frozen = c.stats.accepted;
    await sleep(200);
    expect(c.stats.accepted).toBe(frozen);
    s.setPhase('drive');
    await waitFor(() => c.stats.accepted > frozen + 10);
  });

  it('drops packets from anyone but the console and counts garbage, never throwing', async () => {
    await sim();
    const c = await client();
    await waitFor(() => c.stats.accepted > 5);
    const impostor = await udpOn('127.0.0.13');
    const valid = new Uint8Array(316);
    const plain = c.latest()!;
    expect(plain).toBeDefined();
    const cipher = new PacketCipher();
    const pt = new Uint8Array(316);
    new DataView(pt.buffer).setUint32(0, 0x47375330, true);
    cipher.encrypt(pt, 1234, valid);
    for (let i = 0; i < 5; i++) impostor.send(valid, c.port, CLIENT);
    // Garbage from the console's own address (another port of it).
    const garbageSender = await udpOn(SIM);
    const junk = [Buffer.alloc(0), Buffer.from('B'), Buffer.alloc(316, 7), Buffer.alloc(2000, 1), Buffer.alloc(296, 0xff)];
    for (const j of junk) garbageSender.send(j, c.port, CLIENT);
    await waitFor(() => c.stats.foreign >= 5 && c.stats.garbage >= junk.length);
    expect(c.stats.foreign).toBe(5);
    expect(c.stats.garbage).toBe(junk.length);
    const before = c.stats.accepted;
    await waitFor(() => c.stats.accepted > before + 5);
  });

  it('says once, with the reason, when another app locked a smaller format, and keeps working with derived acceleration', async () => {
    const s = await sim();
    const other = await udpOn('127.0.0.15');
    other.send(Buffer.from('A'), s.port, SIM);
    await waitFor(() => s.streamFormat === 'A');
    const c = await client({ heartbeat: 'B' });
    const notices: Gt7Notice[] = [];
    c.onNotice((n) => notices.push(n));
    await waitFor(() => c.stats.accepted > 30);
    const shortfalls = notices.filter((n) => n.kind === 'format-shortfall');
    expect(shortfalls).toHaveLength(1);
    expect(shortfalls[0]!.message).toMatch(/asked for format B but the console sends A/);
    expect(shortfalls[0]!.message).toMatch(/another app/);
    expect(c.stats.formatShortfall).toBeGreaterThan(30);
    const t = c.latest()!;
    expect(t.sample.accelerationSource).toBe(AccelerationSource.Derived);
    expect(Number.isFinite(t.sample.ax)).toBe(true);
  });

  it('accepts a superset: C packets serve a B request without complaint', async () => {
    const s = await sim();
    const other = await udpOn('127.0.0.15');
    other.send(Buffer.from('C'), s.port, SIM);
    await waitFor(() => s.streamFormat === 'C');
    const c = await client({ heartbeat: 'B' });
    const notices: Gt7Notice[] = [];
    c.onNotice((n) => notices.push(n));
    await waitFor(() => c.stats.accepted > 10);
    expect(c.receivedFormat).toBe('C');
    expect(c.stats.formatShortfall).toBe(0);
    expect(notices.filter((n) => n.kind === 'format-shortfall')).toHaveLength(0);
    expect(c.latest()!.sample.accelerationSource).toBe(AccelerationSource.Game);
  });

  it('broadcast mode learns the console from its first packet', async () => {
    await sim();
    // Loopback has no broadcast; an address with broadcast semantics (learn from the first
    // packet, then lock) is what is under test.
    const c = await client({ console: undefined, broadcastAddress: SIM });
    expect(c.consoleAddress).toBeUndefined();
    const notices: Gt7Notice[] = [];
    c.onNotice((n) => notices.push(n));
    await waitFor(() => c.stats.accepted > 3);
    expect(c.consoleAddress).toBe(SIM);
    expect(notices.some((n) => n.kind === 'console-learned')).toBe(true);
  });

  it('callbacks can be added and removed; a throwing or rejecting callback does not stop the client', async () => {
    await sim();
    const c = await client();
    let a = 0;
    let b = 0;
    c.onTelemetry(() => {
      throw new Error('boom');
    });
    c.onTelemetry(async () => {
      throw new Error('async boom');
    });
    const offA = c.onTelemetry(() => void a++);
    c.onTelemetry(async () => {
      b++;
    });
    await waitFor(() => a >= 5);
    offA();
    const frozen = a;
    await waitFor(() => b >= frozen + 10);
    expect(a).toBe(frozen);
  });

  it('the async iterator yields independent copies and ends on abort', async () => {
    await sim();
    const ac = new AbortController();
    const c = await client({ signal: ac.signal });
    const ids: number[] = [];
    const kept = [];
    for await (const t of c) {
      ids.push(t.packet.packetId);
      kept.push(t);
      if (ids.length === 20) ac.abort();
    }
    expect(c.isClosed).toBe(true);
    expect(ids.length).toBeGreaterThanOrEqual(20);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
    expect(kept[0]!.packet.packetId).toBe(ids[0]);
    expect(kept[0]!.sample.sequence).toBe(ids[0]);
  });

  it('tracks lost, duplicated and out-of-order packet ids', async () => {
    // A hand-driven "console": send chosen ids from a socket the client trusts.
    const fake = await udpOn(SIM);
    const c = await client({ consolePort: fake.address().port });
    const cipher = new PacketCipher();
    const send = (id: number) => {
      const pt = new Uint8Array(316);
      const v = new DataView(pt.buffer);
      v.setUint32(0, 0x47375330, true);
      v.setFloat32(0x28, 1, true);
      v.setInt32(0x70, id, true);
      const ct = new Uint8Array(316);
      cipher.encrypt(pt, id * 7919, ct);
      fake.send(ct, 33740, CLIENT);
    };
    for (const id of [100, 101, 104, 104, 103, 105]) {
      send(id);
      await sleep(5);
    }
    await waitFor(() => c.stats.datagrams >= 6);
    expect(c.stats.accepted).toBe(4); // 100 101 104 105
    expect(c.stats.lost).toBe(2); // 102 103 skipped at 104
    expect(c.stats.duplicated).toBe(1);
    expect(c.stats.outOfOrder).toBe(1);
    expect(c.latest()!.packet.packetId).toBe(105);
  });

  it('one forged packet with id +599 from the console\'s address: every genuine packet after it still arrives, the forged one is counted; a real restart is followed', async () => {
    // A hand-driven console on the console's address, sending to 33740 of the client's.
    const fake = await udpOn(SIM);
    const c = await client({ consolePort: fake.address().port });
    const notices: Gt7Notice[] = [];
    c.onNotice((n) => notices.push(n));
    const ids: number[] = [];
    c.onTelemetry((t) => void ids.push(t.packet.packetId));
    const m = new Gt7PacketMaker('B');
    let sent = 0;
    const send = async (datagram: Buffer) => {
      await new Promise<void>((r) => fake.send(datagram, 33740, CLIENT, () => r()));
      sent++;
      await sleep(1);
    };
    const genuine: number[] = [];
    const sendGenuine = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await send(m.next());
        genuine.push(m.id);
      }
    };
    await sendGenuine(30);
    await send(m.forge(m.id + 599));
    await sendGenuine(100);
    await waitFor(() => c.stats.datagrams >= sent);
    expect(ids).toEqual(genuine);
    expect(c.stats).toMatchObject({ accepted: 130, unconfirmed: 1, outOfOrder: 0, lost: 0, duplicated: 0 });
    expect(notices.filter((n) => n.kind === 'stream-restarted')).toEqual([]);

    // The console restarts its count: the first packet is held, the one after confirms it.
    for (let id = 1; id <= 20; id++) await send(m.next(id));
    await waitFor(() => c.stats.datagrams >= sent);
    expect(ids.slice(130)).toEqual(Array.from({ length: 19 }, (_, i) => i + 2));
    expect(notices.filter((n) => n.kind === 'stream-restarted')).toHaveLength(1);
    expect(c.stats.unconfirmed).toBe(1);
  });
});

describe('PlayStation discovery on loopback', () => {
  it('finds a console that is on, and the client uses it', async () => {
    const s = await sim({ discoveryPort: 0, hostName: 'living-room-ps5' });
    const info = await discoverPlayStation({ broadcastAddress: SIM, ports: { ps5: s.discoveryPort, ps4: s.discoveryPort }, timeoutMs: 1000 });
    expect(info.status).toBe('on');
    expect(info.hostName).toBe('living-room-ps5');
    expect(info.runningAppName).toBe('Gran Turismo 7');
    const c = await client({ console: undefined, discover: { broadcastAddress: SIM, ports: { ps5: s.discoveryPort, ps4: s.discoveryPort } } });
    expect(c.consoleAddress).toBe(SIM);
    await waitFor(() => c.stats.accepted > 3);
  });

  it('reports standby as a clear error', async () => {
    const s = await sim({ discoveryPort: 0, standby: true, hostName: 'ps5' });
    const err = await discoverPlayStation({ broadcastAddress: SIM, ports: { ps5: s.discoveryPort, ps4: s.discoveryPort }, timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscoveryError);
    expect((err as Error).message).toMatch(/standby/);
    expect((err as DiscoveryError).console?.statusCode).toBe(620);
  });

  it('times out with advice when nothing answers', async () => {
    const err = await discoverPlayStation({ broadcastAddress: SIM, ports: { ps5: 9, ps4: 9 }, timeoutMs: 200 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no PlayStation answered.*--console/);
  });

  it('a user-given address wins over discovery', async () => {
    await sim();
    // Discovery would time out (nothing on port 9); with an address it is never tried.
    const c = await client({ discover: { broadcastAddress: SIM, ports: { ps5: 9, ps4: 9 }, timeoutMs: 5000 } });
    await waitFor(() => c.stats.accepted > 3, 1000);
  });
});

describe.skipIf(!haveSharedData)('simulator playing a real capture', () => {
  it('serves the encrypted-A capture; a B request gets A and derived acceleration', async () => {
    await sim({ recording: readCapture(dataPath('gt7', 'encrypted-A', 'nurburgring-gp.lpr')) });
    const c = await client({ heartbeat: 'B' });
    await waitFor(() => c.stats.accepted > 20);
    expect(c.receivedFormat).toBe('A');
    expect(c.latest()!.packet.carCode).toBeGreaterThan(0);
  });

  it('serves replay-tilde as B, carrying the recording\'s own sway/surge', async () => {
    const cap = readCapture(dataPath('gt7', 'recordings', 'replay-tilde.lpr'));
    await sim({ recording: cap });
    const c = await client({ heartbeat: 'B' });
    await waitFor(() => c.stats.accepted > 20);
    expect(c.receivedFormat).toBe('B');
    expect(c.latest()!.packet.carCode).toBe(2108);
  });
});
