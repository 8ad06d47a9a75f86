import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { silentLogger, type Logger } from '../../log.js';
import type { Capture } from '../recording.js';
import { PacketCipher, openDatagram } from './cipher.js';
import { FORMATS, type Game, type Heartbeat, PORTS, isHeartbeat } from './formats.js';
import { FLAG_BITS } from './layout.js';
import { Gt7Packet, decodePacket, encodePacket } from './packet.js';
import { type DrivePhase, SyntheticDrive } from './synthetic-drive.js';

/**
 * A fake PlayStation for tests and the demo. Like the console it waits for one-byte
 * heartbeats, locks the packet format to the first heartbeat type it hears until the stream
 * times out, and sends encrypted packets at 60 Hz to whoever sent a heartbeat, until that
 * sender has been silent for the timeout (16 s by default). It can also answer discovery.
 */

export type SimulatorPhase = DrivePhase | 'silent';

export interface PhaseStep {
  phase: SimulatorPhase;
  seconds: number;
}

/** Parses `drive:20,pause:3,menu:2` into steps. */
export function parsePhases(text: string): PhaseStep[] {
  return text.split(',').map((part) => {
    const [phase, seconds] = part.split(':');
    if (!['drive', 'pause', 'menu', 'replay', 'silent'].includes(phase ?? '') || !(Number(seconds) > 0)) {
      throw new Error(`bad phase step "${part}": want NAME:SECONDS with NAME one of drive, pause, menu, replay, silent`);
    }
    return { phase: phase as SimulatorPhase, seconds: Number(seconds) };
  });
}

export interface ConsoleSimulatorOptions {
  host?: string;
  /** Heartbeat port; 0 picks a free one (see `port` after start). */
  port?: number;
  game?: Game;
  /** Play this capture (looped) instead of the synthetic drive. */
  recording?: Capture;
  rateHz?: number;
  heartbeatTimeoutMs?: number;
  /** Answer discovery searches on this port (null: do not). */
  discoveryPort?: number | null;
  hostName?: string;
  standby?: boolean;
  /** Cycle through these phases; without it, drive forever (or use setPhase). */
  phases?: PhaseStep[];
  logger?: Logger;
}

function bufferFor(pool: Map<number, Uint8Array>, size: number): Uint8Array {
  let b = pool.get(size);
  if (!b) pool.set(size, (b = new Uint8Array(size)));
  return b;
}

interface Subscriber {
  address: string;
  port: number;
  lastHeartbeatMs: number;
}

export class ConsoleSimulator {
  readonly stats = { heartbeats: 0, packetsSent: 0, ignored: 0, discoveryReplies: 0 };
  /** Format locked by the first heartbeat of the current stream. */
  streamFormat: Heartbeat | undefined;
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly cipher: PacketCipher;
  private readonly drive = new SyntheticDrive();
  private readonly frames: Uint8Array[] = [];
  private frameIndex = 0;
  private packetId = 1;
  private phase: SimulatorPhase = 'drive';
  private phaseStep = 0;
  private phaseEndsMs = Infinity;
  private readonly period: number;
  private nextDueMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private discovery: Socket | undefined;
  private readonly plain = new Gt7Packet();
  private readonly cipherBuffers = new Map<number, Uint8Array>();
  private readonly plainBuffers = new Map<number, Uint8Array>();
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly opts: ConsoleSimulatorOptions,
    private readonly log: Logger,
  ) {
    this.cipher = new PacketCipher(opts.game ?? 'gt7');
    this.period = 1000 / (opts.rateHz ?? 60);
    if (opts.recording) this.loadRecording(opts.recording);
    if (opts.phases && opts.phases.length > 0) this.enterStep(0, performance.now());
  }

  static async start(opts: ConsoleSimulatorOptions = {}): Promise<ConsoleSimulator> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    const log = (opts.logger ?? silentLogger).child({ component: 'console-simulator' });
    const sim = new ConsoleSimulator(socket, opts, log);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port ?? PORTS[opts.game ?? 'gt7'].heartbeat, opts.host ?? '0.0.0.0', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => log.error({ err }, 'simulator socket error'));
    socket.on('message', (msg, rinfo) => sim.onHeartbeat(msg, rinfo.address, rinfo.port));
    if (opts.discoveryPort !== undefined && opts.discoveryPort !== null) await sim.startDiscovery(opts.discoveryPort);
    sim.nextDueMs = performance.now() + sim.period;
    sim.schedule();
    log.info({ port: sim.port, source: opts.recording ? 'recording' : 'synthetic' }, 'console simulator listening');
    return sim;
  }

  get port(): number {
    return this.socket.address().port;
  }

  get discoveryPort(): number | undefined {
    return this.discovery?.address().port;
  }

  get currentPhase(): SimulatorPhase {
    return this.phase;
  }

  /** Switch phase by hand (stops any phase script). */
  setPhase(phase: SimulatorPhase): void {
    this.opts.phases = undefined;
    this.phaseEndsMs = Infinity;
    this.applyPhase(phase);
  }

  private applyPhase(phase: SimulatorPhase): void {
    if (phase !== this.phase) this.log.info({ phase }, 'phase');
    this.phase = phase;
    if (phase !== 'silent') this.drive.phase = phase;
  }

  private enterStep(step: number, nowMs: number): void {
    const steps = this.opts.phases!;
    this.phaseStep = step % steps.length;
    const s = steps[this.phaseStep]!;
    this.phaseEndsMs = nowMs + s.seconds * 1000;
    this.applyPhase(s.phase);
  }

  private loadRecording(capture: Capture): void {
    for (const r of capture.records) {
      const plain = openDatagram(r.datagram, [this.cipher]);
      if (typeof plain !== 'string') this.frames.push(plain);
    }
    if (this.frames.length === 0) throw new Error('the recording holds no GT7 packet this simulator can decrypt');
  }

  private async startDiscovery(port: number): Promise<void> {
    const sock = createSocket({ type: 'udp4' });
    this.discovery = sock;
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, this.opts.host ?? '0.0.0.0', () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.on('message', (msg, rinfo) => {
      if (!msg.toString('utf8').startsWith('SRCH * HTTP/1.1')) return;
      const status = this.opts.standby ? 'HTTP/1.1 620 Server Standby' : 'HTTP/1.1 200 Ok';
      const reply =
        `${status}\nhost-id:0123456789AB\nhost-type:PS5\nhost-name:${this.opts.hostName ?? 'motion-rig-sim'}\n` +
        `host-request-port:997\ndevice-discovery-protocol-version:00030010\nsystem-version:09000000\n` +
        (this.opts.standby ? '' : 'running-app-name:Gran Turismo 7\nrunning-app-titleid:PPSA01316\n');
      this.stats.discoveryReplies++;
      sock.send(reply, rinfo.port, rinfo.address);
    });
  }

  private onHeartbeat(msg: Buffer, address: string, port: number): void {
    const hb = msg.length === 1 ? String.fromCharCode(msg[0]!) : '';
    if (!isHeartbeat(hb)) {
      this.stats.ignored++;
      return;
    }
    this.stats.heartbeats++;
    const key = `${address}:${port}`;
    const now = performance.now();
    if (this.subscribers.size === 0) {
      this.streamFormat = hb;
      this.log.info({ format: hb, address, port }, 'stream started');
    }
    this.subscribers.set(key, { address, port, lastHeartbeatMs: now });
  }

  private schedule(): void {
    if (this.closed) return;
    const delay = Math.max(0, this.nextDueMs - performance.now());
    this.timer = setTimeout(() => this.tick(), delay);
  }

  private tick(): void {
    const now = performance.now();
    // Never burst to catch up: a late timer skips frames like a real console would drop them.
    this.nextDueMs += this.period;
    if (this.nextDueMs < now) this.nextDueMs = now + this.period;
    if (this.opts.phases && now >= this.phaseEndsMs) this.enterStep(this.phaseStep + 1, now);
    this.expireSubscribers(now);
    if (this.phase !== 'silent' && this.subscribers.size > 0 && this.streamFormat) {
      const bytes = this.nextPlaintext(this.streamFormat);
      const out = bufferFor(this.cipherBuffers, bytes.length);
      this.cipher.encrypt(bytes, randomInt(0, 0x1_0000_0000), out);
      for (const s of this.subscribers.values()) {
        this.socket.send(out, s.port, s.address);
        this.stats.packetsSent++;
      }
    }
    this.schedule();
  }

  private expireSubscribers(now: number): void {
    const timeout = this.opts.heartbeatTimeoutMs ?? 16_000;
    for (const [key, s] of this.subscribers) {
      if (now - s.lastHeartbeatMs > timeout) {
        this.subscribers.delete(key);
        this.log.info({ address: s.address, port: s.port }, 'heartbeats stopped, stream ended');
      }
    }
    if (this.subscribers.size === 0) this.streamFormat = undefined;
  }

  /** The next frame as plaintext of `format`, or of a shorter format when that is all the recording has. */
  private nextPlaintext(format: Heartbeat): Uint8Array {
    if (this.frames.length === 0) {
      const p = this.drive.next(format);
      const bytes = bufferFor(this.plainBuffers, FORMATS[format].size);
      encodePacket(p, bytes);
      return bytes;
    }
    const frame = this.frames[this.frameIndex]!;
    if (this.phase === 'drive' || this.phase === 'replay') this.frameIndex = (this.frameIndex + 1) % this.frames.length;
    decodePacket(frame, this.plain);
    const p = this.plain;
    if (FORMATS[p.format].rank > FORMATS[format].rank) p.format = format;
    p.packetId = this.packetId++;
    if (this.phase === 'drive') p.flags |= 1 << FLAG_BITS.carOnTrack;
    else p.flags &= ~(1 << FLAG_BITS.carOnTrack);
    if (this.phase === 'pause') p.flags |= 1 << FLAG_BITS.paused | (1 << FLAG_BITS.carOnTrack);
    if (this.phase === 'menu') {
      p.velocity.fill(0);
      p.angularVelocity.fill(0);
      p.speed = 0;
    }
    const bytes = bufferFor(this.plainBuffers, FORMATS[p.format].size);
    encodePacket(p, bytes);
    return bytes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    if (this.discovery) await new Promise<void>((resolve) => this.discovery!.close(() => resolve()));
  }
}
