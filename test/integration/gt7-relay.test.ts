import { createSocket, type Socket } from 'node:dgram';
import { salsa20 } from '@noble/ciphers/salsa.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Gt7Client } from '../../src/telemetry/gt7/client.js';
import { ConsoleSimulator } from '../../src/telemetry/gt7/console-simulator.js';
import { Gt7Relay, type Gt7RelayOptions } from '../../src/telemetry/gt7/relay.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The GT7 relay on loopback (issue 14): console simulator → the service's client asking for
 * C → Gt7Relay → downstream apps (Gt7Clients) asking for A and B, each on its own address,
 * every part with the console's real ports (33739 heartbeats, 33740 telemetry). The key,
 * nonce constants, sizes and magic below are TELEMETRY-NOTES.md's facts, written out here
 * rather than read from the code under test, and the downstream datagrams are decrypted
 * with them directly.
 * Loopback addresses 127.0.0.41–49 belong to this file (the service's tests use 127.0.0.1–2).
 */
const SIM = '127.0.0.41';
const SERVICE = '127.0.0.42';
const APP_A = '127.0.0.43';
const APP_B = '127.0.0.44';
const RELAY = '127.0.0.45';
const GARBAGE = '127.0.0.46';
const EXTRA = '127.0.0.47';
const QUIET = '127.0.0.48';
const HEARTBEAT_PORT = 33739;
const TELEMETRY_PORT = 33740;

const KEY = new TextEncoder().encode('Simulator Interface Packet GT7 ver 0.0').slice(0, 32);
const FACTS = {
  A: { size: 296, xor: 0xdeadbeaf },
  B: { size: 316, xor: 0xdeadbeef },
  '~': { size: 344, xor: 0x55fabb4f },
  C: { size: 368, xor: 0xdeadbeef },
} as const;
const MAGIC = 0x47375330;

function decryptWith(ct: Uint8Array, xor: number): { plain: Uint8Array; seed: number; magicOk: boolean } {
  const seed = new DataView(ct.buffer, ct.byteOffset, ct.byteLength).getUint32(0x40, true);
  const nonce = new Uint8Array(8);
  const nv = new DataView(nonce.buffer);
  nv.setUint32(0, (seed ^ xor) >>> 0, true);
  nv.setUint32(4, seed, true);
  const plain = salsa20(KEY, nonce, ct);
  return { plain, seed, magicOk: new DataView(plain.buffer).getUint32(0, true) === MAGIC };
}

const packetIdOf = (plain: Uint8Array) => new DataView(plain.buffer, plain.byteOffset).getInt32(0x70, true);
/** Bytes outside 0x40–0x43 (the seed in the ciphertext, keystream garbage in the clear). */
const withoutSeed = (b: Uint8Array) => [...b.subarray(0, 0x40), ...b.subarray(0x44)];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

let sim: ConsoleSimulator;
let service: Gt7Client;
/** Every console packet the service's client accepted, decrypted, by packet id. */
const consolePackets = new Map<number, Uint8Array>();
let relay: Gt7Relay | undefined;

beforeAll(async () => {
  sim = await ConsoleSimulator.start({ host: SIM, discoveryPort: null });
  service = await Gt7Client.start({ console: SIM, bindAddress: SERVICE, heartbeat: 'C' });
  // What the service does: hand the sample on, then relay the plaintext.
  service.onTelemetry((t) => {
    consolePackets.set(t.packet.packetId, t.plaintext.slice());
    relay?.relay(t.plaintext, t.receiveTimeNs);
  });
  await waitFor(() => service.stats.accepted > 5);
  expect(service.receivedFormat).toBe('C');
});
afterAll(async () => {
  await service.close();
  await sim.close();
});

async function startRelay(opts: Gt7RelayOptions = {}): Promise<Gt7Relay> {
  const r = await Gt7Relay.start({ bind: RELAY, ...opts });
  relay = r;
  cleanups.push(async () => {
    relay = undefined;
    await r.close();
  });
  return r;
}

async function app(bindAddress: string, heartbeat: 'A' | 'B', opts: Parameters<typeof Gt7Client.start>[0] = {}) {
  const c = await Gt7Client.start({ console: RELAY, consolePort: relay!.port, bindAddress, heartbeat, ...opts });
  const raw: Buffer[] = [];
  c.onRawDatagram((d) => raw.push(Buffer.from(d)));
  cleanups.push(() => c.close());
  return { client: c, raw };
}

/** A plain socket on 33740 of `address` that counts what arrives. */
async function listener(address: string): Promise<{ sock: Socket; received: Buffer[] }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(TELEMETRY_PORT, address, () => r()));
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  const received: Buffer[] = [];
  sock.on('message', (m) => received.push(m));
  return { sock, received };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GT7 relay: one console, many apps', () => {
  it('apps asking for A and B get every console packet in their format, with its own nonce constant, byte for byte but the seed', async () => {
    const r = await startRelay();
    expect(r.port).toBe(HEARTBEAT_PORT);
    const a = await app(APP_A, 'A');
    const b = await app(APP_B, 'B');
    await waitFor(() => a.client.stats.accepted >= 60 && b.client.stats.accepted >= 60, 5000, '60 packets at each app');

    for (const [h, d] of [['A', a], ['B', b]] as const) {
      const seeds = new Set<number>();
      for (const ct of d.raw) {
        expect(ct.length).toBe(FACTS[h].size);
        const { plain, seed, magicOk } = decryptWith(ct, FACTS[h].xor);
        expect(magicOk).toBe(true);
        seeds.add(seed);
        const source = consolePackets.get(packetIdOf(plain));
        expect(source, `console packet ${packetIdOf(plain)}`).toBeDefined();
        expect(withoutSeed(plain)).toEqual(withoutSeed(source!.subarray(0, FACTS[h].size)));
      }
      // A fresh seed per datagram.
      expect(seeds.size).toBe(d.raw.length);
      expect(d.client.receivedFormat).toBe(h);
      expect(d.client.stats.garbage + d.client.stats.foreign + d.client.stats.formatShortfall).toBe(0);
    }
    // A's nonce constant is not B's: an A datagram does not open with B's.
    expect(decryptWith(a.raw[0]!, FACTS.B.xor).magicOk).toBe(false);

    const stats = r.stats();
    expect(stats.clients.map((c) => [c.address, c.format]).sort()).toEqual([
      [APP_A, 'A'],
      [APP_B, 'B'],
    ]);
    expect(stats.relayed).toBeGreaterThanOrEqual(a.raw.length + b.raw.length);
    expect(stats.dropped + stats.refused + stats.garbage + stats.shortfall).toBe(0);
    expect(stats.maxDelayUs).toBeLessThan(100_000);
  });

  it('a sender of garbage is counted and gets nothing; one sender over maxClients is refused and gets nothing', async () => {
    const r = await startRelay({ maxClients: 2 });
    const a = await app(APP_A, 'A');
    const b = await app(APP_B, 'B');
    const garbage = await listener(GARBAGE);
    const extra = await listener(EXTRA);
    for (const d of ['X', 'AB', 'b', '', '\u0000'.repeat(368)]) garbage.sock.send(Buffer.from(d, 'latin1'), HEARTBEAT_PORT, RELAY);
    extra.sock.send(Buffer.from('C'), HEARTBEAT_PORT, RELAY);
    await waitFor(() => r.stats().garbage === 5 && r.stats().refused === 1, 2000, 'garbage and refusal counted');
    const before = a.client.stats.accepted + b.client.stats.accepted;
    await waitFor(() => a.client.stats.accepted + b.client.stats.accepted > before + 30);
    expect(garbage.received.length).toBe(0);
    expect(extra.received.length).toBe(0);
    expect(r.stats().clients.map((c) => c.address).sort()).toEqual([APP_A, APP_B]);
  });

  it('a sender\'s own timeout ends its stream, not the others\'; its next heartbeat decides the format again', async () => {
    const r = await startRelay({ heartbeatTimeoutMs: 400 });
    const a = await app(APP_A, 'A', { heartbeatIntervalMs: 100 });
    const quiet = await listener(QUIET);
    quiet.sock.send(Buffer.from('B'), HEARTBEAT_PORT, RELAY);
    await waitFor(() => quiet.received.length > 5);
    // One heartbeat, then silence: its stream stops after 400 ms.
    await waitFor(() => !r.stats().clients.some((c) => c.address === QUIET), 2000, 'the quiet sender to time out');
    await sleep(50); // anything sent before the expiry has landed
    const stoppedAt = quiet.received.length;
    expect(quiet.received.every((d) => d.length === FACTS.B.size)).toBe(true);
    const aBefore = a.client.stats.accepted;
    await sleep(300);
    expect(quiet.received.length).toBe(stoppedAt);
    expect(a.client.stats.accepted).toBeGreaterThan(aBefore + 10);

    quiet.sock.send(Buffer.from('C'), HEARTBEAT_PORT, RELAY);
    await waitFor(() => quiet.received.length > stoppedAt + 5);
    const last = quiet.received.at(-1)!;
    expect(last.length).toBe(FACTS.C.size);
    expect(decryptWith(last, FACTS.C.xor).magicOk).toBe(true);
  });
});
