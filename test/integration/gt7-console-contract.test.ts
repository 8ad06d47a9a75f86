import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { serviceConfigSchema } from '../../src/config/service-config.js';
import { Gt7Client } from '../../src/telemetry/gt7/client.js';
import { ConsoleSimulator } from '../../src/telemetry/gt7/console-simulator.js';
import { TelemetryPortInUse } from '../../src/telemetry/udp.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The console contract (issue 14; ../shared/design/TELEMETRY-NOTES.md): a console takes
 * heartbeats on UDP 33739 and sends to port 33740 of the address a heartbeat came from,
 * whatever its source port; the first heartbeat type decides the format until the stream
 * stops. Numbers below are those facts, not values read from the code under test.
 * Loopback addresses 127.0.0.21–29 belong to this file; each test closes what it opened.
 */
const HEARTBEAT_PORT = 33739;
const TELEMETRY_PORT = 33740;
const SIM = '127.0.0.21';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function udpOn(address: string, port = 0): Promise<Socket> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(port, address, () => r()));
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  return sock;
}

async function sim(opts: Parameters<typeof ConsoleSimulator.start>[0] = {}): Promise<ConsoleSimulator> {
  const s = await ConsoleSimulator.start({ host: SIM, ...opts });
  cleanups.push(() => s.close());
  return s;
}

async function client(bindAddress: string, opts: Parameters<typeof Gt7Client.start>[0] = {}): Promise<Gt7Client> {
  const c = await Gt7Client.start({ console: SIM, bindAddress, ...opts });
  cleanups.push(() => c.close());
  return c;
}

describe('GT7 console contract', () => {
  it('the service config receives on 33740 of 0.0.0.0 unless told otherwise', () => {
    const gt7 = serviceConfigSchema.parse({}).source.gt7;
    expect(gt7.telemetryPort).toBe(TELEMETRY_PORT);
    expect(gt7.bind).toBe('0.0.0.0');
  });

  it('the simulator sends only to port 33740 of the heartbeat\'s source address; a client with every default port receives it', async () => {
    const s = await sim();
    expect(s.port).toBe(HEARTBEAT_PORT);
    // No port given anywhere: the client binds 33740 and sends its heartbeat to 33739.
    const c = await client('127.0.0.22');
    expect(c.port).toBe(TELEMETRY_PORT);
    await waitFor(() => c.stats.accepted > 10);
    expect(c.stats.foreign + c.stats.garbage).toBe(0);

    // A heartbeat from another port of another address: packets go to 33740 of that address,
    // none to the port the heartbeat came from.
    const sender = await udpOn('127.0.0.23');
    const listener = await udpOn('127.0.0.23', TELEMETRY_PORT);
    let toSender = 0;
    let toListener = 0;
    sender.on('message', () => void toSender++);
    listener.on('message', () => void toListener++);
    sender.send(Buffer.from('B'), HEARTBEAT_PORT, SIM);
    await waitFor(() => toListener > 10);
    expect(toSender).toBe(0);
  });

  it('the first heartbeat type decides the format; another host asking for another format while it streams changes nothing', async () => {
    // A short console timeout, so the test can watch a stream stop; heartbeats well within it.
    const s = await sim({ heartbeatTimeoutMs: 400 });
    const first = await client('127.0.0.22', { heartbeat: 'B', heartbeatIntervalMs: 100 });
    await waitFor(() => first.stats.accepted > 5);
    expect(s.streamFormat).toBe('B');

    // A second client on 127.0.0.24 asks for A, then C, while B streams.
    const second = await client('127.0.0.24', { heartbeat: 'A', heartbeatIntervalMs: 100 });
    await waitFor(() => second.stats.accepted > 10);
    const other = await udpOn('127.0.0.25');
    other.send(Buffer.from('C'), HEARTBEAT_PORT, SIM);
    await waitFor(() => s.stats.otherFormat >= 2);
    const before = first.stats.accepted;
    await waitFor(() => first.stats.accepted > before + 20);
    expect(s.streamFormat).toBe('B');
    expect(first.receivedFormat).toBe('B');
    expect(first.stats.formatShortfall).toBe(0);
    // B carries every field of A: the second client gets B, not A.
    expect(second.receivedFormat).toBe('B');

    // Once every sender has been silent for the timeout the stream stops; the next
    // heartbeat decides again.
    await first.close();
    await second.close();
    await waitFor(() => s.streamFormat === undefined, 3000);
    const third = await client('127.0.0.26', { heartbeat: 'C' });
    await waitFor(() => third.stats.accepted > 5);
    expect(third.receivedFormat).toBe('C');
  });

  it('33740 taken: start() rejects with one clear line naming the port, the likely holder and the way out', async () => {
    await udpOn('127.0.0.27', TELEMETRY_PORT);
    const err = await Gt7Client.start({ console: SIM, bindAddress: '127.0.0.27' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TelemetryPortInUse);
    const message = (err as Error).message;
    expect(message).not.toMatch(/\n/);
    expect(message).toMatch(/UDP port 33740/);
    expect(message).toMatch(/another GT7 app on this machine \(SimHub, a dashboard\)/);
    expect(message).toMatch(/relay/);
    expect(message).toMatch(/docs\/gt7-telemetry\.md/);
    expect((err as TelemetryPortInUse).port).toBe(TELEMETRY_PORT);
  });
});
