import { createSocket, type Socket } from 'node:dgram';
import { PacketCipher } from '../src/telemetry/gt7/cipher.js';
import { Gt7Client } from '../src/telemetry/gt7/client.js';
import { FORMATS, GT7_MAGIC, HEARTBEATS } from '../src/telemetry/gt7/formats.js';
import { PACKET_ID_OFFSET } from '../src/telemetry/gt7/packet.js';
import { Gt7Relay } from '../src/telemetry/gt7/relay.js';
import { percentiles, round } from './measure.js';

/**
 * The GT7 relay (issue 14) on loopback, with N downstream apps asking for A, B, ~, C in turn.
 * - Added latency: a stand-in console sends an encrypted C packet to a Gt7Client (the
 *   service's), whose callback hands the plaintext to Gt7Relay.relay; measured from the
 *   client's receive time to each app socket's 'message' event, one packet at a time (no
 *   queueing), all in this process. It includes the client's decrypt/decode, the relay's
 *   encrypt + send per app, loopback delivery and the event loop's dispatch.
 * - relay() call: wall time of the call itself on the caller's thread (what the main thread
 *   spends per console packet).
 * - CPU: process.cpuUsage over `--cpu-packets` relay() calls in a row (user + system, the
 *   kernel's loopback delivery included), per console packet and per datagram sent.
 *   node dist/bench/relay.js [--clients 1,4,8] [--packets 2000] [--cpu-packets 5000]
 */
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const clientCounts = arg('clients', '1,4,8').split(',').map(Number);
const packets = Number(arg('packets', '2000'));
const cpuPackets = Number(arg('cpu-packets', '5000'));
const WARMUP = 200;

const CONSOLE = '127.0.0.60';
const SERVICE = '127.0.0.61';
const RELAY = '127.0.0.62';
const appAddress = (i: number) => `127.0.0.${70 + i}`;

const cipher = new PacketCipher();

/** A plausible C plaintext: magic, packet id, identity orientation. */
function plaintextC(id: number): Uint8Array {
  const b = new Uint8Array(FORMATS.C.size);
  const v = new DataView(b.buffer);
  v.setUint32(0, GT7_MAGIC, true);
  v.setFloat32(0x28, 1, true);
  v.setInt32(PACKET_ID_OFFSET, id, true);
  return b;
}

function bound(address: string, port = 0): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((r) => s.bind(port, address, () => r(s)));
}

const closeSocket = (s: Socket) => new Promise<void>((r) => s.close(() => r()));

async function run(nClients: number) {
  const consoleSock = await bound(CONSOLE);
  const apps: Socket[] = [];
  const first = await bound(appAddress(0));
  const replyPort = first.address().port;
  apps.push(first);
  for (let i = 1; i < nClients; i++) apps.push(await bound(appAddress(i), replyPort));
  const relay = await Gt7Relay.start({ bind: RELAY, heartbeatPort: 0, replyPort, maxClients: nClients });
  const service = await Gt7Client.start({ console: CONSOLE, consolePort: consoleSock.address().port, bindAddress: SERVICE, telemetryPort: 0, heartbeat: 'C' });

  let lastReceiveNs = 0;
  let arrived = 0;
  let measuring = false;
  let done: (() => void) | undefined;
  const latencyUs: number[] = [];
  const callUs: number[] = [];
  service.onTelemetry((t) => {
    lastReceiveNs = t.receiveTimeNs;
    const t0 = performance.now();
    relay.relay(t.plaintext, t.receiveTimeNs);
    if (measuring) callUs.push((performance.now() - t0) * 1e3);
  });
  for (const app of apps) {
    app.on('message', () => {
      if (measuring) latencyUs.push(performance.now() * 1e3 - lastReceiveNs / 1e3);
      if (++arrived === nClients) done?.();
    });
  }
  apps.forEach((app, i) => app.send(Buffer.from(HEARTBEATS[i % 4]!, 'latin1'), relay.port, RELAY));
  while (relay.stats().clients.length < nClients) await new Promise((r) => setTimeout(r, 5));

  let id = 1;
  let lost = 0;
  const ct = new Uint8Array(FORMATS.C.size);
  const sendOne = () =>
    new Promise<void>((resolve) => {
      arrived = 0;
      const timer = setTimeout(() => {
        lost += nClients - arrived;
        resolve();
      }, 200);
      done = () => {
        clearTimeout(timer);
        resolve();
      };
      cipher.encrypt(plaintextC(id++), (id * 2654435761) >>> 0, ct);
      consoleSock.send(ct, service.port, SERVICE);
    });
  for (let k = 0; k < WARMUP; k++) await sendOne();
  measuring = true;
  for (let k = 0; k < packets; k++) await sendOne();
  measuring = false;

  // CPU: relay() back to back on one plaintext (the apps' sockets drop what overflows).
  const plain = plaintextC(id);
  for (let k = 0; k < 1000; k++) relay.relay(plain);
  await new Promise((r) => setTimeout(r, 50));
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let k = 0; k < cpuPackets; k++) relay.relay(plain);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  const cpuUs = cpu.user + cpu.system;
  await new Promise((r) => setTimeout(r, 50));
  const stats = relay.stats();

  await service.close();
  await relay.close();
  for (const s of [consoleSock, ...apps]) await closeSocket(s);
  const lat = percentiles(latencyUs);
  const call = percentiles(callUs);
  return {
    clients: nClients,
    formats: apps.map((_, i) => HEARTBEATS[i % 4]),
    addedLatencyUs: { p50: round(lat.p50), p99: round(lat.p99), max: round(lat.max), over: `${latencyUs.length} datagrams` },
    relayCallUs: { p50: round(call.p50), p99: round(call.p99), max: round(call.max), over: `${callUs.length} console packets` },
    cpuUsPerConsolePacket: round(cpuUs / cpuPackets, 2),
    cpuUsPerDatagram: round(cpuUs / (cpuPackets * nClients), 2),
    cpuUserSystemUs: { user: cpu.user, system: cpu.system, over: `${cpuPackets} relay() calls in ${round(wallMs)} ms` },
    lost,
    relayStats: { relayed: stats.relayed, dropped: stats.dropped, refused: stats.refused, garbage: stats.garbage, shortfall: stats.shortfall },
  };
}

const results = [];
for (const n of clientCounts) results.push(await run(n));
console.log(
  JSON.stringify({
    bench: 'relay',
    what: 'GT7 relay on loopback: console packet received by the service client → relayed datagram at each app (lockstep), relay() wall time, CPU per relayed datagram',
    results,
    node: process.version,
  }),
);
