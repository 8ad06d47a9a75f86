import { statSync } from 'node:fs';
import { createLogger } from '../log.js';
import { PacketCipher, openDatagram } from '../telemetry/gt7/cipher.js';
import { F1Client } from '../telemetry/f1/client.js';
import { DEFAULT_F1_PORT } from '../telemetry/f1/packet.js';
import { Gt7Client, type Gt7ClientOptions } from '../telemetry/gt7/client.js';
import { parsePhases } from '../telemetry/frame-clock.js';
import { ConsoleSimulator } from '../telemetry/gt7/console-simulator.js';
import { DiscoveryError, discoverPlayStation } from '../telemetry/gt7/discovery.js';
import { Gt7EventTracker } from '../telemetry/gt7/events.js';
import { type Game, type Heartbeat, isHeartbeat } from '../telemetry/gt7/formats.js';
import { VelocityDifferentiator, gt7ToMotionSample } from '../telemetry/gt7/motion.js';
import { Gt7Packet, decodePacket, packetToJson } from '../telemetry/gt7/packet.js';
import { MotionSample } from '../telemetry/motion-sample.js';
import { Recorder, readCapture } from '../telemetry/recording.js';
import { TelemetryScreen, telemetryTable } from './view.js';
import { UsageError, intOption } from './usage.js';

export function heartbeatOption(value: string | undefined): Heartbeat {
  const hb = value ?? 'B';
  if (!isHeartbeat(hb)) throw new UsageError(`--heartbeat must be one of A, B, ~, C (got "${hb}")`);
  return hb;
}

export function gameOption(value: string | undefined): Game {
  const g = value ?? 'gt7';
  if (g !== 'gt7' && g !== 'gtsport') throw new UsageError(`--game must be gt7 or gtsport here (got "${g}")`);
  return g;
}


export interface ClientFlags {
  console?: string;
  discover?: boolean;
  heartbeat?: string;
  game?: string;
  port?: string;
  'console-port'?: string;
  broadcast?: string;
}

export function clientOptions(v: ClientFlags, signal: AbortSignal): Gt7ClientOptions {
  return {
    console: v.console,
    discover: v.discover && !v.console ? { broadcastAddress: v.broadcast } : false,
    broadcastAddress: v.broadcast,
    heartbeat: heartbeatOption(v.heartbeat),
    game: gameOption(v.game),
    telemetryPort: intOption('port', v.port),
    consolePort: intOption('console-port', v['console-port']),
    signal,
    logger: createLogger({ destination: 2, level: process.env.MOTION_RIG_LOG_LEVEL ?? 'warn' }),
  };
}

/** `motion-rig telemetry`: a refreshing table for humans, or one JSON object per packet. */
export async function runTelemetry(v: ClientFlags & { count?: string; json?: boolean }, signal: AbortSignal): Promise<number> {
  const count = intOption('count', v.count) ?? Infinity;
  const client = await Gt7Client.start(clientOptions(v, signal));
  client.onNotice((n) => process.stderr.write(`${n.kind}: ${n.message}\n`));
  const screen = new TelemetryScreen(process.stdout);
  const tracker = new Gt7EventTracker();
  const recent: string[] = [];
  let seen = 0;
  const waitMsg = setTimeout(() => {
    if (seen === 0) process.stderr.write(`waiting for telemetry from ${client.consoleAddress ?? 'a console (broadcast)'}; is GT7 running and on track?\n`);
  }, 3000);
  for await (const t of client.packets()) {
    seen++;
    const events = tracker.update(t.packet);
    for (const e of events) {
      recent.push(`${e.name} ${String(e.previous ?? '')}→${String(e.value)}`);
      if (recent.length > 6) recent.shift();
    }
    if (v.json) {
      process.stdout.write(JSON.stringify({ receiveTimeNs: Math.round(t.receiveTimeNs), ...packetToJson(t.packet), motion: { ...t.sample }, events }) + '\n');
    } else screen.update(client.stats.accepted, (rate) => `${telemetryTable(t, client.stats, rate)}\nevents: ${recent.join(' · ')}`, seen >= count);
    if (seen >= count) break;
  }
  clearTimeout(waitMsg);
  await client.close();
  return 0;
}

const BIG_FILE_HINT = 50 * 1024 * 1024;

/** `motion-rig decode FILE`: every packet of a recording or *.lpr file, encrypted or not. */
export function runDecode(file: string, v: { json?: boolean }): number {
  if (statSync(file).size > BIG_FILE_HINT) process.stderr.write(`${file} is large; decoding may take a while\n`);
  const capture = readCapture(file);
  const ciphers = [new PacketCipher('gt7'), new PacketCipher('gtsport')];
  const packet = new Gt7Packet();
  const sample = new MotionSample();
  const diff = new VelocityDifferentiator();
  let ok = 0;
  let bad = 0;
  for (const [i, r] of capture.records.entries()) {
    const bytes = openDatagram(r.datagram, ciphers);
    if (bytes === 'bad-length') {
      bad++;
      process.stderr.write(`record ${i}: ${r.datagram.length} bytes is no GT7 format; skipped\n`);
      continue;
    }
    if (bytes === 'no-key') {
      bad++;
      process.stderr.write(`record ${i}: does not decrypt with the GT7 or GT Sport key; skipped\n`);
      continue;
    }
    const encrypted = bytes !== r.datagram;
    decodePacket(bytes, packet);
    ok++;
    if (v.json) {
      process.stdout.write(JSON.stringify({ record: i, offsetNs: r.offsetNs, encrypted, ...packetToJson(packet) }) + '\n');
    } else {
      gt7ToMotionSample(packet, r.offsetNs, sample, diff);
      process.stdout.write(
        `${String(i).padStart(6)} ${(r.offsetNs / 1e9).toFixed(3).padStart(9)}s id ${packet.packetId} ${packet.format} ` +
          `${(packet.speed * 3.6).toFixed(0).padStart(4)} km/h g${packet.currentGear} ${packet.engineRpm.toFixed(0).padStart(5)} rpm ` +
          `thr ${String(packet.throttle).padStart(3)} brk ${String(packet.brake).padStart(3)} ` +
          `a=(${sample.ax.toFixed(2)}, ${sample.ay.toFixed(2)}, ${sample.az.toFixed(2)}) m/s² flags ${packet.flags.toString(2).padStart(12, '0')}\n`,
      );
    }
  }
  process.stderr.write(`${file}: ${capture.kind}, ${ok} packets decoded, ${bad} skipped\n`);
  return ok > 0 ? 0 : 1;
}

/** `motion-rig record`: raw datagrams as received, with receive times. */
export async function runRecord(v: ClientFlags & { out?: string; duration?: string; sender?: string }, signal: AbortSignal): Promise<number> {
  if (!v.out) throw new UsageError('record needs --out FILE');
  const duration = v.duration === undefined ? Infinity : Number(v.duration);
  if (!(duration > 0)) throw new UsageError(`--duration wants seconds > 0 (got "${v.duration}")`);
  let recorder: Recorder;
  let client: Gt7Client | F1Client;
  // A write error (disk full) ends the recording at once; it is reported after the close.
  const failed = new AbortController();
  const onError = () => failed.abort();
  if (v.game === 'f1') {
    // F1 sends to us; every valid datagram of every packet type is kept, as received.
    recorder = new Recorder(v.out, { game: 'f1', onError });
    client = await F1Client.start({ port: intOption('port', v.port, 0, 65535) ?? DEFAULT_F1_PORT, sender: v.sender, signal, logger: createLogger({ destination: 2, level: process.env.MOTION_RIG_LOG_LEVEL ?? 'warn' }) });
  } else {
    const opts = clientOptions(v, signal);
    recorder = new Recorder(v.out, { heartbeat: opts.heartbeat, game: opts.game, onError });
    client = await Gt7Client.start(opts);
  }
  client.onNotice((n) => process.stderr.write(`\n${n.kind}: ${n.message}\n`));
  client.onRawDatagram((d, t) => recorder.write(d, t));
  const started = performance.now();
  const tty = process.stderr.isTTY;
  await new Promise<void>((resolve) => {
    const progress = setInterval(() => {
      const s = (performance.now() - started) / 1000;
      const line = `recording ${v.out}: ${recorder.count} packets, ${(recorder.bytes / 1024).toFixed(0)} KiB, ${s.toFixed(0)} s`;
      if (tty) process.stderr.write(`\r${line}\x1b[K`);
      if (s >= duration || signal.aborted || failed.signal.aborted) {
        clearInterval(progress);
        resolve();
      }
    }, 200);
    const end = () => {
      clearInterval(progress);
      resolve();
    };
    signal.addEventListener('abort', end);
    failed.signal.addEventListener('abort', end);
  });
  await client.close();
  const error = await recorder.close();
  const dropped = recorder.dropped > 0 ? ` (${recorder.dropped} dropped: the disk could not keep up${error ? ' or had failed' : ''})` : '';
  if (error) {
    process.stderr.write(`\nrecording ${v.out} failed: ${error.message}; ${recorder.count} packets written before it${dropped}\n`);
    return 1;
  }
  process.stderr.write(`\nwrote ${recorder.count} packets to ${v.out}${dropped}\n`);
  return recorder.count > 0 ? 0 : 1;
}

export async function runDiscover(v: { broadcast?: string; timeout?: string; json?: boolean }): Promise<number> {
  try {
    const info = await discoverPlayStation({ broadcastAddress: v.broadcast, timeoutMs: intOption('timeout', v.timeout) });
    if (v.json) process.stdout.write(JSON.stringify(info) + '\n');
    else process.stdout.write(`${info.hostType ?? 'PlayStation'} "${info.hostName ?? '?'}" at ${info.address}: on, running ${info.runningAppName ?? 'nothing'} (system ${info.systemVersion ?? '?'})\n`);
    return 0;
  } catch (err) {
    if (err instanceof DiscoveryError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** The flags of `simulate-console`, for main.ts's parseArgs. */
export const SIMULATE_CONSOLE_FLAGS = {
  recording: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'reply-port': { type: 'string' },
  phases: { type: 'string' },
  'discovery-port': { type: 'string' },
  game: { type: 'string' },
} as const;

/**
 * `motion-rig simulate-console`: a fake console on `--host` (e.g. 127.0.0.2, beside a client on
 * 127.0.0.1) that sends to port 33740 of each heartbeat's address, or `--reply-port` (tests only).
 */
export async function runSimulateConsole(
  v: { recording?: string; port?: string; host?: string; 'reply-port'?: string; phases?: string; 'discovery-port'?: string; game?: string },
  signal: AbortSignal,
): Promise<number> {
  const host = v.host ?? '0.0.0.0';
  const sim = await ConsoleSimulator.start({
    host,
    port: intOption('port', v.port),
    replyPort: intOption('reply-port', v['reply-port'], 1, 65535),
    game: gameOption(v.game),
    recording: v.recording ? readCapture(v.recording) : undefined,
    phases: v.phases ? parsePhases(v.phases) : undefined,
    discoveryPort: v['discovery-port'] === 'none' ? null : (intOption('discovery-port', v['discovery-port']) ?? null),
    logger: createLogger({ destination: 2 }),
  });
  process.stderr.write(
    `console simulator on UDP ${sim.port} of ${host}${sim.discoveryPort ? `, discovery on ${sim.discoveryPort}` : ''}; ` +
      `sends to port ${sim.replyPort} of each heartbeat's address; Ctrl-C stops\n`,
  );
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await sim.close();
  process.stderr.write(`sent ${sim.stats.packetsSent} packets\n`);
  return 0;
}
