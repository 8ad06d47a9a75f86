import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { silentLogger, type Logger } from '../../log.js';
import type { Capture } from '../recording.js';
import { PacketCipher, openDatagram } from './cipher.js';
import { FORMATS, type Game, type Heartbeat, PORTS, heartbeatOf } from './formats.js';
import { FLAG_BITS } from './layout.js';
import { Gt7Packet, decodePacket, encodePacket } from './packet.js';
import { FrameClock, type PhaseStep, type SimulatorPhase } from '../frame-clock.js';
import { SyntheticDrive } from './synthetic-drive.js';
import { bindUdp } from '../udp.js';

/**
 * A fake PlayStation for tests and the demo, held to the console contract in
 * ../shared/design/TELEMETRY-NOTES.md:
 * - It waits for one-byte heartbeats (A, B, ~, C) on UDP 33739 (GT Sport 33339) of `host`.
 * - It sends encrypted packets at 60 Hz to port 33740 (GT Sport 33340) of the address each
 *   heartbeat came from, never to the heartbeat's source port (`replyPort` changes that
 *   port, for tests only), until that address has been silent for the heartbeat timeout.
 * - The first heartbeat type decides the format of the stream until the stream has stopped
 *   (every address silent for the timeout); a heartbeat of another type, from the same
 *   address or another host, while it streams does not switch the format.
 * - It can answer PlayStation discovery, and plays phases (drive, pause, menu, replay, silent).
 * Run it on its own loopback address (127.0.0.2) so a client on 127.0.0.1:33740 can share
 * the machine with it.
 *
 * What it does not model, because nothing here has verified it on a real console:
 * - The console's heartbeat timeout: it is not documented; tools resend every 1.6–10 s.
 *   16 s here is a choice, not a measurement.
 * - Several listeners: this one streams to every address heard within the timeout; a real
 *   console may stream to one address only (issue 14 says so; not checked here).
 * - Whether a stream restart continues the packet-id count (here it does), the console's
 *   timing jitter, loss and reordering, broadcast heartbeats, and anything on the wire
 *   besides the four one-byte heartbeats (all else is ignored and counted).
 */


export interface ConsoleSimulatorOptions {
  /** Local address to bind (default 0.0.0.0); packets leave from it. */
  host?: string;
  /** Heartbeat port, default 33739 (GT Sport 33339); 0 picks a free one (see `port` after start). */
  port?: number;
  /** Where packets go on each heartbeat's address: default 33740 (GT Sport 33340). For tests only. */
  replyPort?: number;
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
  lastHeartbeatMs: number;
}

export class ConsoleSimulator {
  /** otherFormat: heartbeats of a type other than the stream's, heard while it streams (no effect). */
  readonly stats = { heartbeats: 0, packetsSent: 0, ignored: 0, otherFormat: 0, discoveryReplies: 0 };
  /** Format locked by the first heartbeat of the current stream. */
  streamFormat: Heartbeat | undefined;
  /** Addresses that sent a heartbeat within the timeout, by address. */
  private readonly subscribers = new Map<string, Subscriber>();
  readonly replyPort: number;
  private readonly cipher: PacketCipher;
  private readonly drive = new SyntheticDrive();
  private readonly frames: Uint8Array[] = [];
  private frameIndex = 0;
  private packetId = 1;
  private readonly clock: FrameClock;
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
    this.replyPort = opts.replyPort ?? PORTS[opts.game ?? 'gt7'].telemetry;
    if (opts.recording) this.loadRecording(opts.recording);
    this.clock = new FrameClock(
      opts.rateHz ?? 60,
      (phase) => this.frame(phase),
      (phase) => {
        if (phase !== 'silent') this.drive.phase = phase;
      },
      log,
      opts.phases,
    );
  }

  static async start(opts: ConsoleSimulatorOptions = {}): Promise<ConsoleSimulator> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    const log = (opts.logger ?? silentLogger).child({ component: 'console-simulator' });
    const sim = new ConsoleSimulator(socket, opts, log);
    await bindUdp(socket, opts.port ?? PORTS[opts.game ?? 'gt7'].heartbeat, opts.host ?? '0.0.0.0');
    socket.on('error', (err) => log.error({ err }, 'simulator socket error'));
    socket.on('message', (msg, rinfo) => sim.onHeartbeat(msg, rinfo.address));
    if (opts.discoveryPort !== undefined && opts.discoveryPort !== null) await sim.startDiscovery(opts.discoveryPort);
    sim.clock.start();
    log.info({ host: opts.host ?? '0.0.0.0', port: sim.port, replyPort: sim.replyPort, source: opts.recording ? 'recording' : 'synthetic' }, 'console simulator listening');
    return sim;
  }

  get port(): number {
    return this.socket.address().port;
  }

  get discoveryPort(): number | undefined {
    return this.discovery?.address().port;
  }

  get currentPhase(): SimulatorPhase {
    return this.clock.phase;
  }

  /** Switch phase by hand (stops any phase script). */
  setPhase(phase: SimulatorPhase): void {
    this.clock.setPhase(phase);
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
    await bindUdp(sock, port, this.opts.host ?? '0.0.0.0');
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

  /** The heartbeat's source port plays no part: replies go to `replyPort` of its address. */
  private onHeartbeat(msg: Buffer, address: string): void {
    const hb = heartbeatOf(msg);
    if (hb === undefined) {
      this.stats.ignored++;
      return;
    }
    this.stats.heartbeats++;
    const now = performance.now();
    this.expireSubscribers(now);
    if (this.subscribers.size === 0) {
      this.streamFormat = hb;
      this.log.info({ format: hb, address, replyPort: this.replyPort }, 'stream started');
    } else if (hb !== this.streamFormat) {
      this.stats.otherFormat++;
    }
    const known = this.subscribers.get(address);
    if (known) known.lastHeartbeatMs = now;
    else this.subscribers.set(address, { address, lastHeartbeatMs: now });
  }

  private frame(phase: SimulatorPhase): void {
    this.expireSubscribers(performance.now());
    if (phase !== 'silent' && this.subscribers.size > 0 && this.streamFormat) {
      const bytes = this.nextPlaintext(this.streamFormat);
      const out = bufferFor(this.cipherBuffers, bytes.length);
      this.cipher.encrypt(bytes, randomInt(0, 0x1_0000_0000), out);
      for (const s of this.subscribers.values()) {
        this.socket.send(out, this.replyPort, s.address);
        this.stats.packetsSent++;
      }
    }
  }

  private expireSubscribers(now: number): void {
    const timeout = this.opts.heartbeatTimeoutMs ?? 16_000;
    for (const [key, s] of this.subscribers) {
      if (now - s.lastHeartbeatMs > timeout) {
        this.subscribers.delete(key);
        this.log.info({ address: s.address }, 'heartbeats stopped, no more packets to this address');
      }
    }
    if (this.subscribers.size === 0 && this.streamFormat !== undefined) {
      this.streamFormat = undefined;
      this.log.info('stream stopped; the next heartbeat decides the format');
    }
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
    if (this.clock.phase === 'drive' || this.clock.phase === 'replay') this.frameIndex = (this.frameIndex + 1) % this.frames.length;
    decodePacket(frame, this.plain);
    const p = this.plain;
    if (FORMATS[p.format].rank > FORMATS[format].rank) p.format = format;
    p.packetId = this.packetId++;
    if (this.clock.phase === 'drive') p.flags |= 1 << FLAG_BITS.carOnTrack;
    else p.flags &= ~(1 << FLAG_BITS.carOnTrack);
    if (this.clock.phase === 'pause') p.flags |= 1 << FLAG_BITS.paused | (1 << FLAG_BITS.carOnTrack);
    if (this.clock.phase === 'menu') {
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
    this.clock.stop();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    if (this.discovery) await new Promise<void>((resolve) => this.discovery!.close(() => resolve()));
  }
}
