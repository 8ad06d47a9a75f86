import { createSocket, type Socket } from 'node:dgram';
import { silentLogger, type Logger } from '../../log.js';
import { TelemetryFanout } from '../fanout.js';
import { MotionSample, copyMotionSample } from '../motion-sample.js';
import { GT7_SEQUENCE, SequenceGuard, SequenceVerdict } from '../sequence-guard.js';
import { TelemetryPortInUse, bindUdp } from '../udp.js';
import { PacketCipher } from './cipher.js';
import { type DiscoveryOptions, discoverPlayStation } from './discovery.js';
import { FORMATS, type Game, type Heartbeat, PORTS, formatContains, formatForLength } from './formats.js';
import { VelocityDifferentiator, gt7ToMotionSample } from './motion.js';
import { Gt7Packet, PACKET_ID_OFFSET, copyPacket, decodePacket } from './packet.js';

/**
 * The GT7 (and GT Sport) telemetry client. It binds the telemetry port, sends the one-byte
 * heartbeat from that socket (the console answers to where the heartbeat came from) on a
 * fixed interval and again whenever the stream has been silent for a while: resending only
 * when packets arrive could never recover from a stall.
 *
 * The console sends to port 33740 (GT Sport 33340) of the address the heartbeat came from,
 * whatever the heartbeat's source port, so that port is the default and the only one a real
 * console reaches; when another program holds it, start() rejects with TelemetryPortInUse.
 *
 * Target: a given address (always wins), a discovered console, or a broadcast whose first
 * valid answer fixes the console. Only packets from the console are accepted; garbage is
 * counted and dropped, never thrown. Packet ids go through a SequenceGuard: a jump of more
 * than 60 ids either way is believed only when the next packet continues from it.
 */

export interface Gt7ClientOptions {
  /** Console address; wins over `discover` and broadcast. */
  console?: string;
  /** Find the console by PlayStation discovery when no address is given. */
  discover?: boolean | DiscoveryOptions;
  /** Heartbeat broadcast address when neither an address nor discovery is used. */
  broadcastAddress?: string;
  heartbeat?: Heartbeat;
  game?: Game;
  /** Local address of the telemetry socket (default 0.0.0.0); the heartbeat leaves from it. */
  bindAddress?: string;
  /**
   * Local telemetry port, default 33740 (GT Sport 33340). For tests only: a real console
   * ignores it and sends to 33740 whatever this is.
   */
  telemetryPort?: number;
  /** The console's heartbeat port. */
  consolePort?: number;
  heartbeatIntervalMs?: number;
  /** Resend the heartbeat after this much silence. */
  silenceResendMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface Gt7ClientStats {
  datagrams: number;
  accepted: number;
  /** From an address other than the console. */
  foreign: number;
  /** Wrong length, wrong magic. */
  garbage: number;
  /** Packet ids skipped. */
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Ids more than 60 away (either way) that the next packet did not confirm: dropped. */
  unconfirmed: number;
  heartbeatsSent: number;
  /** Packets of a format smaller than the one asked for. */
  formatShortfall: number;
}

/** One received packet; objects handed to callbacks are reused, copy what you keep. */
export interface Gt7Telemetry {
  packet: Gt7Packet;
  sample: MotionSample;
  receiveTimeNs: number;
  /**
   * The decrypted datagram `packet` was decoded from (0x40–0x43 are keystream garbage), for
   * Gt7Relay.relay. Callbacks get the client's reused buffer, valid during the call only.
   */
  plaintext: Uint8Array;
}

export type Gt7Listener = (t: Gt7Telemetry) => void | Promise<void>;

export interface Gt7Notice {
  kind: 'format-shortfall' | 'console-learned' | 'stream-stalled' | 'stream-resumed' | 'stream-restarted';
  message: string;
}

const STALL_MS = 1000;

export class Gt7Client implements AsyncIterable<Gt7Telemetry> {
  readonly stats: Gt7ClientStats = {
    datagrams: 0,
    accepted: 0,
    foreign: 0,
    garbage: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    unconfirmed: 0,
    heartbeatsSent: 0,
    formatShortfall: 0,
  };
  readonly heartbeat: Heartbeat;
  /** Console address once known. */
  consoleAddress: string | undefined;
  /** Format of the packets the console actually sends. */
  receivedFormat: Heartbeat | undefined;

  private readonly cipher: PacketCipher;
  private readonly plain = new Map<number, { bytes: Uint8Array; view: DataView }>();
  private readonly packet = new Gt7Packet();
  private readonly sample = new MotionSample();
  private readonly differentiator = new VelocityDifferentiator();
  private readonly telemetry: Gt7Telemetry = { packet: this.packet, sample: this.sample, receiveTimeNs: 0, plaintext: new Uint8Array(0) };
  private readonly fanout: TelemetryFanout<Gt7Telemetry>;
  private readonly noticeListeners = new Set<(n: Gt7Notice) => void>();
  private readonly rawListeners = new Set<(datagram: Buffer, receiveTimeNs: number) => void>();
  private haveLatest = false;
  private readonly sequence = new SequenceGuard(GT7_SEQUENCE, this.stats);
  private lastPacketMs = -Infinity;
  private lastHeartbeatMs = -Infinity;
  private shortfallSaid = false;
  private stalled = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly heartbeatByte: Buffer;

  private constructor(
    private readonly socket: Socket,
    private readonly opts: Gt7ClientOptions,
    private readonly log: Logger,
    private target: string,
    broadcasting: boolean,
  ) {
    this.heartbeat = opts.heartbeat ?? 'B';
    this.heartbeatByte = Buffer.from(this.heartbeat, 'latin1');
    this.cipher = new PacketCipher(opts.game ?? 'gt7');
    for (const f of Object.values(FORMATS)) {
      const bytes = new Uint8Array(f.size);
      this.plain.set(f.size, { bytes, view: new DataView(bytes.buffer) });
    }
    if (!broadcasting) this.consoleAddress = target;
    this.fanout = new TelemetryFanout(log, (t) => {
      const packet = new Gt7Packet();
      copyPacket(t.packet, packet);
      return { packet, sample: copyMotionSample(t.sample, new MotionSample()), receiveTimeNs: t.receiveTimeNs, plaintext: t.plaintext.slice() };
    });
  }

  /** Resolves once the socket is bound and the first heartbeat is sent. */
  static async start(opts: Gt7ClientOptions = {}): Promise<Gt7Client> {
    const log = (opts.logger ?? silentLogger).child({ component: 'gt7' });
    let target = opts.console;
    let broadcasting = false;
    if (target === undefined && opts.discover) {
      const info = await discoverPlayStation({ ...(typeof opts.discover === 'object' ? opts.discover : {}), signal: opts.signal });
      target = info.address;
      log.info({ console: info.address, hostName: info.hostName, app: info.runningAppName }, 'console discovered');
    }
    if (target === undefined) {
      target = opts.broadcastAddress ?? '255.255.255.255';
      broadcasting = true;
    }
    const socket = createSocket({ type: 'udp4' });
    const client = new Gt7Client(socket, opts, log, target, broadcasting);
    await bindUdp(socket, opts.telemetryPort ?? PORTS[opts.game ?? 'gt7'].telemetry, opts.bindAddress ?? '0.0.0.0', telemetryPortInUse);
    if (broadcasting) socket.setBroadcast(true);
    socket.on('error', (err) => log.error({ err }, 'telemetry socket error'));
    socket.on('message', (msg, rinfo) => client.onDatagram(msg, rinfo.address));
    if (opts.signal) {
      if (opts.signal.aborted) await client.close();
      else opts.signal.addEventListener('abort', () => void client.close(), { once: true });
    }
    log.info({ target, broadcasting, heartbeat: client.heartbeat, port: client.port }, 'gt7 client started');
    client.sendHeartbeat();
    client.heartbeatTimer = setInterval(() => client.heartbeatDue(), Math.min(250, opts.silenceResendMs ?? STALL_MS));
    return client;
  }

  get port(): number {
    return this.socket.address().port;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The newest accepted packet, or undefined before the first. Reused object. */
  latest(): Gt7Telemetry | undefined {
    return this.haveLatest ? this.telemetry : undefined;
  }

  /** Registers a callback for every accepted packet; returns the function that removes it. */
  onTelemetry(listener: Gt7Listener): () => void {
    return this.fanout.add(listener);
  }

  offTelemetry(listener: Gt7Listener): void {
    this.fanout.remove(listener);
  }

  /** Every datagram from the console exactly as received (still encrypted), for recording. */
  onRawDatagram(listener: (datagram: Buffer, receiveTimeNs: number) => void): () => void {
    this.rawListeners.add(listener);
    return () => this.rawListeners.delete(listener);
  }

  onNotice(listener: (n: Gt7Notice) => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  /**
   * Yields a copy of every accepted packet until the client closes. A slow consumer gets
   * the newest packets: at most `bufferSize` wait, the oldest are dropped.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Gt7Telemetry> {
    yield* this.packets();
  }

  packets(bufferSize = 256): AsyncGenerator<Gt7Telemetry> {
    return this.fanout.iterate(bufferSize);
  }

  private notice(kind: Gt7Notice['kind'], message: string, level: 'info' | 'warn' = 'info'): void {
    this.log[level]({ notice: kind }, message);
    for (const l of this.noticeListeners) l({ kind, message });
  }

  private heartbeatDue(): void {
    if (this.closed) return;
    const now = performance.now();
    const silence = now - this.lastPacketMs;
    const resendAfter = this.opts.silenceResendMs ?? STALL_MS;
    if (this.haveLatest && silence > resendAfter && !this.stalled) {
      this.stalled = true;
      this.notice('stream-stalled', `no telemetry for ${Math.round(silence)} ms; resending the heartbeat`, 'warn');
    }
    const sinceHeartbeat = now - this.lastHeartbeatMs;
    if (sinceHeartbeat >= (this.opts.heartbeatIntervalMs ?? 2000) || (silence > resendAfter && sinceHeartbeat >= resendAfter)) {
      this.sendHeartbeat();
    }
  }

  private sendHeartbeat(): void {
    if (this.closed) return;
    this.lastHeartbeatMs = performance.now();
    this.stats.heartbeatsSent++;
    this.socket.send(this.heartbeatByte, this.opts.consolePort ?? PORTS[this.opts.game ?? 'gt7'].heartbeat, this.target, (err) => {
      if (err) this.log.warn({ err: err.message, target: this.target }, 'heartbeat send failed');
    });
  }

  private onDatagram(msg: Buffer, address: string): void {
    if (this.closed) return;
    const receiveTimeNs = performance.now() * 1e6;
    this.stats.datagrams++;
    if (this.consoleAddress !== undefined && address !== this.consoleAddress) {
      this.stats.foreign++;
      return;
    }
    for (const l of this.rawListeners) l(msg, receiveTimeNs);
    const slot = this.plain.get(msg.length);
    if (slot === undefined || this.cipher.decrypt(msg, slot.bytes) !== 'ok') {
      this.stats.garbage++;
      return;
    }
    if (this.consoleAddress === undefined) {
      this.consoleAddress = address;
      this.target = address;
      this.notice('console-learned', `console found at ${address} from its first packet`);
    }
    // Judged before decoding, so a dropped packet never overwrites latest().
    const lastId = this.sequence.last;
    const id = slot.view.getInt32(PACKET_ID_OFFSET, true);
    const verdict = this.sequence.judge(id);
    if (verdict === SequenceVerdict.jump) {
      this.differentiator.reset();
      this.notice('stream-restarted', `packet id jumped from ${lastId} to ${id}, confirmed by the packet after the jump; treating it as a new stream`);
    } else if (verdict !== SequenceVerdict.accept) return;
    const previousFormat = this.receivedFormat;
    decodePacket(slot.bytes, this.packet, slot.view);
    this.receivedFormat = this.packet.format;
    if (!formatContains(this.packet.format, this.heartbeat)) {
      this.stats.formatShortfall++;
      if (!this.shortfallSaid) {
        this.shortfallSaid = true;
        this.notice(
          'format-shortfall',
          `asked for format ${this.heartbeat} but the console sends ${this.packet.format} (${formatForLength(msg.length)!.size} bytes): ` +
            `it keeps the first heartbeat type it heard until its stream times out, so another app on the network asked first. ` +
            `Carrying on: acceleration is derived from world velocity (same timing as the game's own values), steering is unavailable.`,
          'warn',
        );
      }
    } else if (previousFormat !== undefined && !formatContains(previousFormat, this.heartbeat)) {
      this.notice('stream-restarted', `console now sends format ${this.packet.format}`);
    }
    this.stats.accepted++;
    this.lastPacketMs = receiveTimeNs / 1e6;
    if (this.stalled) {
      this.stalled = false;
      this.notice('stream-resumed', 'telemetry resumed');
    }
    gt7ToMotionSample(this.packet, receiveTimeNs, this.sample, this.differentiator);
    this.telemetry.receiveTimeNs = receiveTimeNs;
    this.telemetry.plaintext = slot.bytes;
    this.haveLatest = true;
    this.fanout.publish(this.telemetry);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.closed = true;
      clearInterval(this.heartbeatTimer);
      this.fanout.close();
      this.socket.close(() => {
        this.log.info({ stats: this.stats }, 'gt7 client closed');
        resolve();
      });
    });
    return this.closing;
  }
}

/** The one clear line for a taken telemetry port. */
function telemetryPortInUse(port: number, address: string): TelemetryPortInUse {
  return new TelemetryPortInUse(
    port,
    address,
    `UDP port ${port} on ${address} is already in use: another GT7 app on this machine (SimHub, a dashboard) probably holds it, ` +
      `and the console sends telemetry to that port only; stop that app, or let a GT7 relay share the console between them (see docs/gt7-telemetry.md)`,
  );
}
