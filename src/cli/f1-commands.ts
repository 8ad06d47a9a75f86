import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { createLogger } from '../log.js';
import { F1Client } from '../telemetry/f1/client.js';
import { F1MotionState } from '../telemetry/f1/motion.js';
import { DEFAULT_F1_PORT, type F1Packet, decodeF1Packet } from '../telemetry/f1/packet.js';
import { F1PacketSource, F1Simulator, SIMULATED_FORMATS, type SimulatedFormat } from '../telemetry/f1/simulator.js';
import { parsePhases } from '../telemetry/frame-clock.js';
import { MotionSample } from '../telemetry/motion-sample.js';
import { RECORDING_MAGIC, parseCapture } from '../telemetry/recording.js';
import { UsageError, intOption } from './usage.js';
import { TelemetryScreen, f1TelemetryTable } from './view.js';

/** `telemetry --game f1`, `decode --game f1`, `simulate-f1`. */


/** JSON that carries the u64 session id as a decimal string. */
export function f1Json(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

const GT7_ONLY = ['console', 'discover', 'heartbeat', 'console-port', 'broadcast'] as const;

export async function runF1Telemetry(v: Record<string, string | boolean | undefined> & { port?: string; count?: string; json?: boolean; sender?: string }, signal: AbortSignal): Promise<number> {
  const gt7Flags = GT7_ONLY.filter((k) => v[k] !== undefined);
  if (gt7Flags.length > 0) throw new UsageError(`--${gt7Flags.join(', --')}: GT7 options; F1 sends to us, set its UDP telemetry to this machine's address and port ${DEFAULT_F1_PORT}`);
  const count = intOption('count', v.count) ?? Infinity;
  const client = await F1Client.start({
    port: intOption('port', v.port, 0, 65535) ?? DEFAULT_F1_PORT,
    sender: v.sender,
    signal,
    logger: createLogger({ destination: 2, level: process.env.MOTION_RIG_LOG_LEVEL ?? 'warn' }),
  });
  client.onNotice((n) => process.stderr.write(`${n.kind}: ${n.message}\n`));
  const screen = new TelemetryScreen(process.stdout);
  let seen = 0;
  const waitMsg = setTimeout(() => {
    if (seen === 0) process.stderr.write(`waiting for F1 telemetry on UDP ${client.port}; in the game: Settings → Telemetry, UDP on, IP = this machine, port ${client.port}\n`);
  }, 3000);
  for await (const t of client) {
    seen++;
    if (v.json) {
      const me = t.packet.data.carMotionData[t.packet.header.playerCarIndex];
      process.stdout.write(f1Json({ receiveTimeNs: Math.round(t.receiveTimeNs), header: t.packet.header, player: me, motion: { ...t.sample } }) + '\n');
    } else screen.update(client.stats.samples, (rate) => f1TelemetryTable(t, client.stats, rate), seen >= count);
    if (seen >= count) break;
  }
  clearTimeout(waitMsg);
  await client.close();
  return 0;
}

function summary(p: F1Packet, s: MotionSample | undefined): string {
  const h = p.header;
  const head = `${h.packetFormat} ${p.type.padEnd(12)} frame ${String(h.frameIdentifier).padStart(7)} t ${h.sessionTime.toFixed(3).padStart(9)}s`;
  switch (p.type) {
    case 'motion':
      return s
        ? `${head} player ${h.playerCarIndex}: ${(s.speed * 3.6).toFixed(0).padStart(4)} km/h a=(${s.ax.toFixed(2)}, ${s.ay.toFixed(2)}, ${s.az.toFixed(2)}) m/s² ω=(${s.p.toFixed(3)}, ${s.q.toFixed(3)}, ${s.r.toFixed(3)}) rad/s`
        : `${head} player ${h.playerCarIndex}: no usable player car`;
    case 'session':
      return `${head} track ${p.data.trackId} ${p.data.trackLength} m, session type ${p.data.sessionType}, paused ${p.data.gamePaused}, spectating ${p.data.isSpectating}`;
    case 'participants': {
      const me = p.data.participants[h.playerCarIndex];
      return `${head} ${p.data.numCars} cars; player ${me ? `"${me.name}" team ${me.teamId}` : '?'}`;
    }
    case 'event':
      return `${head} ${p.data.eventStringCode}`;
    case 'carTelemetry': {
      const me = p.data.carTelemetryData[h.playerCarIndex];
      return me ? `${head} player ${me.speed} km/h gear ${me.gear} ${me.engineRPM} rpm throttle ${me.throttle} % brake ${me.brake} % steer ${me.steer}` : head;
    }
    case 'lapData': {
      const me = p.data.lapData[h.playerCarIndex];
      return me ? `${head} player P${me.carPosition} lap ${me.currentLapNum} ${me.lapDistance.toFixed(0)} m, driver status ${me.driverStatus}` : head;
    }
    default:
      return head;
  }
}

/**
 * `decode --game f1 FILE`: one raw packet per file, a *.lpr file, or our recording.
 * A raw packet starts with its u16 format; an .lpr starts with a u32 length.
 */
export function runF1Decode(file: string, v: { json?: boolean }): number {
  const bytes = new Uint8Array(readFileSync(file));
  const isRecording = Buffer.from(bytes.subarray(0, 8)).toString('latin1') === RECORDING_MAGIC;
  const records = isRecording || file.endsWith('.lpr') ? parseCapture(bytes, file).records.map((r) => r.datagram) : [bytes];
  const state = new F1MotionState();
  const sample = new MotionSample();
  let ok = 0;
  let bad = 0;
  for (const [i, datagram] of records.entries()) {
    const r = decodeF1Packet(datagram);
    if (!r.ok) {
      bad++;
      process.stderr.write(`record ${i}: ${r.message}; skipped\n`);
      continue;
    }
    ok++;
    const made = state.update(r.packet, 0, sample);
    if (v.json) process.stdout.write(f1Json({ record: i, type: r.packet.type, size: datagram.length, header: r.packet.header, data: r.packet.data, ...(made ? { motion: { ...sample } } : {}) }) + '\n');
    else process.stdout.write(`${String(i).padStart(6)} ${summary(r.packet, made ? sample : undefined)}\n`);
  }
  process.stderr.write(`${file}: ${records.length === 1 && !file.endsWith('.lpr') && !isRecording ? 'one raw packet' : `${records.length} records`}, ${ok} decoded, ${bad} skipped\n`);
  return ok > 0 ? 0 : 1;
}

function formatOption(value: string | undefined): SimulatedFormat {
  const n = Number(value ?? 2018);
  if (!(SIMULATED_FORMATS as readonly number[]).includes(n)) throw new UsageError(`--format must be one of ${SIMULATED_FORMATS.join(', ')} (got "${value}")`);
  return n as SimulatedFormat;
}

/**
 * `simulate-f1`: the synthetic lap as F1 packets to host:port, or with `--out FILE.lpr`
 * written to a capture file for `seconds` of game time (no network, no waiting).
 */
export async function runSimulateF1(
  v: { host?: string; port?: string; format?: string; rate?: string; phases?: string; team?: string; out?: string; seconds?: string },
  signal: AbortSignal,
): Promise<number> {
  const opts = {
    format: formatOption(v.format),
    rateHz: intOption('rate', v.rate, 1, 240) ?? 60,
    teamId: intOption('team', v.team, 0, 255) ?? 0,
  };
  const phases = v.phases ? parsePhases(v.phases) : undefined;
  if (v.out !== undefined) {
    const seconds = Number(v.seconds ?? 30);
    if (!(seconds > 0)) throw new UsageError(`--seconds wants a number > 0 (got "${v.seconds}")`);
    const source = new F1PacketSource(opts);
    const fd = openSync(v.out, 'w');
    let packets = 0;
    let step = 0;
    let stepEnds = phases ? phases[0]!.seconds : Infinity;
    if (phases) source.phase = phases[0]!.phase;
    const frames = Math.round(seconds * opts.rateHz);
    for (let i = 0; i < frames; i++) {
      const t = i / opts.rateHz;
      if (phases && t >= stepEnds) {
        step = (step + 1) % phases.length;
        source.phase = phases[step]!.phase;
        stepEnds = t + phases[step]!.seconds;
      }
      for (const d of source.next()) {
        const len = Buffer.alloc(4);
        len.writeUInt32LE(d.length);
        writeSync(fd, len);
        writeSync(fd, d);
        packets++;
      }
    }
    closeSync(fd);
    process.stderr.write(`wrote ${packets} F1 ${opts.format} packets (${frames} frames, ${seconds} s at ${opts.rateHz} Hz) to ${v.out} (${statSync(v.out).size} bytes)\n`);
    return 0;
  }
  const sim = await F1Simulator.start({
    ...opts,
    host: v.host ?? '127.0.0.1',
    port: intOption('port', v.port, 1, 65535) ?? DEFAULT_F1_PORT,
    phases,
    logger: createLogger({ destination: 2 }),
  });
  process.stderr.write(`sending F1 ${opts.format} packets at ${opts.rateHz} Hz to ${sim.host}:${sim.port}; Ctrl-C stops\n`);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await sim.close();
  process.stderr.write(`sent ${sim.stats.packetsSent} packets in ${sim.stats.framesSent} frames\n`);
  return 0;
}
