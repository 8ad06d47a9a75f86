import { readFileSync } from 'node:fs';
import { PacketCipher, openDatagram } from './gt7/cipher.js';
import { VelocityDifferentiator, gt7ToMotionSample } from './gt7/motion.js';
import { Gt7Packet, decodePacket } from './gt7/packet.js';
import { F1MotionState } from './f1/motion.js';
import { decodeF1Packet, looksLikeF1 } from './f1/packet.js';
import { MotionSample } from './motion-sample.js';
import { type Capture, CaptureFormatError, parseCapture } from './recording.js';

/**
 * Motion input files for the offline tools: a GT7 recording or *.lpr file (encrypted or
 * plaintext, per packet), an F1 recording or *.lpr file (any mix of packet types; the
 * motion packets give the samples, timed by the game's session clock), or a CSV with header `t,ax,ay,az,p,q,r,steer,speed` and optional
 * `gx,gy,gz` (s; m/s² ISO 8855 body frame, gravity excluded; rad/s; rad; m/s; unit gravity
 * direction in the body frame, level car when absent).
 */

export interface TimedSample {
  /** Seconds from the start of the file. */
  t: number;
  sample: MotionSample;
}

const REQUIRED = ['t', 'ax', 'ay', 'az', 'p', 'q', 'r', 'steer', 'speed'] as const;

export function parseMotionCsv(text: string, name = 'input.csv'): TimedSample[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim());
  const missing = REQUIRED.filter((k) => !header.includes(k));
  if (missing.length > 0) throw new CaptureFormatError(`${name}:1: CSV header lacks ${missing.join(', ')} (want ${REQUIRED.join(',')}[,gx,gy,gz])`);
  const col = (k: string) => header.indexOf(k);
  const hasG = ['gx', 'gy', 'gz'].every((k) => header.includes(k));
  const out: TimedSample[] = [];
  lines.forEach((line, i) => {
    const cells = line.split(',').map(Number);
    const v = (k: string) => cells[col(k)]!;
    if (cells.length < header.length || !Number.isFinite(v('t'))) throw new CaptureFormatError(`${name}:${i + 2}: expected ${header.length} numbers`);
    const s = new MotionSample();
    s.ax = v('ax');
    s.ay = v('ay');
    s.az = v('az');
    s.p = v('p');
    s.q = v('q');
    s.r = v('r');
    s.steer = v('steer');
    s.hasSteer = true;
    s.speed = v('speed');
    s.onTrack = true;
    if (hasG) {
      s.gx = v('gx');
      s.gy = v('gy');
      s.gz = v('gz');
      s.hasGravity = true;
    }
    s.sequence = i;
    out.push({ t: v('t'), sample: s });
  });
  // Steering rate from the steering angle, as the game would report it.
  for (let i = 1; i < out.length; i++) {
    const dt = out[i]!.t - out[i - 1]!.t;
    if (dt > 0) out[i]!.sample.steerRate = (out[i]!.sample.steer - out[i - 1]!.sample.steer) / dt;
  }
  return out;
}

export function gt7CaptureSamples(capture: Capture): TimedSample[] {
  const ciphers = [new PacketCipher('gt7'), new PacketCipher('gtsport')];
  const packet = new Gt7Packet();
  const diff = new VelocityDifferentiator();
  const out: TimedSample[] = [];
  for (const r of capture.records) {
    const bytes = openDatagram(r.datagram, ciphers);
    if (typeof bytes === 'string') continue;
    decodePacket(bytes, packet);
    out.push({ t: r.offsetNs / 1e9, sample: gt7ToMotionSample(packet, r.offsetNs, new MotionSample(), diff) });
  }
  return out;
}

export function f1CaptureSamples(capture: Capture): TimedSample[] {
  const state = new F1MotionState();
  const out: TimedSample[] = [];
  let t0: number | undefined;
  let lastFrame = -1;
  for (const r of capture.records) {
    const decoded = decodeF1Packet(r.datagram);
    if (!decoded.ok) continue;
    // A paused game repeats its frame; like the live listener, keep each frame once.
    if (decoded.packet.type === 'motion') {
      if (decoded.packet.header.frameIdentifier === lastFrame) continue;
      lastFrame = decoded.packet.header.frameIdentifier;
    }
    const sample = new MotionSample();
    if (!state.update(decoded.packet, r.offsetNs, sample)) continue;
    t0 ??= decoded.packet.header.sessionTime;
    out.push({ t: decoded.packet.header.sessionTime - t0, sample });
  }
  return out;
}

export function isF1Capture(capture: Capture): boolean {
  return capture.game === 'f1' || (capture.records.length > 0 && looksLikeF1(capture.records[0]!.datagram));
}

/** Reads any supported motion input file. */
export function readMotionFile(path: string): TimedSample[] {
  const bytes = readFileSync(path);
  const head = bytes.subarray(0, 64).toString('latin1');
  if (/^\s*#|^t,|^\s*t\s*,/.test(head)) return parseMotionCsv(bytes.toString('utf8'), path);
  const capture = parseCapture(bytes, path);
  return isF1Capture(capture) ? f1CaptureSamples(capture) : gt7CaptureSamples(capture);
}
