import { createSocket, type Socket } from 'node:dgram';
import { silentLogger, type Logger } from '../../log.js';
import { TelemetryFanout } from '../fanout.js';
import { MotionSample, copyMotionSample } from '../motion-sample.js';
import { F1MotionState } from './motion.js';
import { DEFAULT_F1_PORT, type DropReason, type F1Packet, decodeF1Packet } from './packet.js';

/**
 * The F1 telemetry listener: the game sends UDP to us (no heartbeat), by default to port
 * 20777. Same shape as the GT7 client: `latest()`, `onTelemetry` callbacks for every motion
 * sample, `onPacket` for every decoded packet, an async iterator, an AbortSignal, counters.
 *
 * Source filter: datagrams are taken only from `sender` when given; otherwise from the
 * first address that sends a valid packet (two games or a second PC on the network would
 * otherwise interleave two cars). Bad datagrams are counted by reason and dropped; the
 * first of each reason is logged once, never thrown.
 */

export interface F1ClientOptions {
  /** Local UDP port (0: any free port). */
  port?: number;
  bindAddress?: string;
  /** Only accept datagrams from this address. */
  sender?: string;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface F1ClientStats {
  datagrams: number;
  /** Decoded packets of any type. */
  accepted: number;
  /** Motion samples produced. */
  samples: number;
  /** From an address other than the sender. */
  foreign: number;
  dropped: Record<DropReason, number>;
  /** Valid packets per format and type, e.g. "2018 motion". */
  byType: Record<string, number>;
  /** Motion frames skipped (frame identifier gaps). */
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Motion packets whose player index names no car, or with non-finite values. */
  unusable: number;
}

/** One motion sample; objects handed to callbacks are reused, copy what you keep. */
export interface F1Telemetry {
  packet: Extract<F1Packet, { type: 'motion' }>;
  sample: MotionSample;
  receiveTimeNs: number;
}

export type F1Listener = (t: F1Telemetry) => void | Promise<void>;

export interface F1Notice {
  kind: 'sender-learned' | 'dropped' | 'stream-restarted';
  message: string;
}

export class F1Client implements AsyncIterable<F1Telemetry> {
  readonly stats: F1ClientStats = {
    datagrams: 0,
    accepted: 0,
    samples: 0,
    foreign: 0,
    dropped: { 'too-short': 0, 'unknown-format': 0, 'unknown-packet-id': 0, 'not-decoded': 0, 'bad-size': 0 },
    byType: {},
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    unusable: 0,
  };
  /** The address packets are taken from, once known. */
  senderAddress: string | undefined;
  /** Packet format of the newest valid packet. */
  receivedFormat: number | undefined;
  readonly motion = new F1MotionState();

  private readonly sample = new MotionSample();
  private telemetry: F1Telemetry | undefined;
  private readonly fanout: TelemetryFanout<F1Telemetry>;
  private readonly packetListeners = new Set<(p: F1Packet, receiveTimeNs: number) => void>();
  private readonly noticeListeners = new Set<(n: F1Notice) => void>();
  private readonly rawListeners = new Set<(datagram: Buffer, receiveTimeNs: number) => void>();
  private readonly droppedSaid = new Set<string>();
  private lastFrame: number | undefined;
  private lastSession: bigint | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly opts: F1ClientOptions,
    private readonly log: Logger,
  ) {
    this.senderAddress = opts.sender;
    // The decoded packet is fresh per datagram, so a copy need not clone it.
    this.fanout = new TelemetryFanout(log, (t) => ({ packet: t.packet, sample: copyMotionSample(t.sample, new MotionSample()), receiveTimeNs: t.receiveTimeNs }));
  }

  static async start(opts: F1ClientOptions = {}): Promise<F1Client> {
    const log = (opts.logger ?? silentLogger).child({ component: 'f1' });
    const socket = createSocket({ type: 'udp4' });
    const client = new F1Client(socket, opts, log);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port ?? DEFAULT_F1_PORT, opts.bindAddress ?? '0.0.0.0', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => log.error({ err }, 'f1 socket error'));
    socket.on('message', (msg, rinfo) => client.onDatagram(msg, rinfo.address));
    if (opts.signal) {
      if (opts.signal.aborted) await client.close();
      else opts.signal.addEventListener('abort', () => void client.close(), { once: true });
    }
    log.info({ port: client.port, sender: opts.sender ?? 'first to send' }, 'f1 listener started');
    return client;
  }

  get port(): number {
    return this.socket.address().port;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The newest motion sample, or undefined before the first. Reused object. */
  latest(): F1Telemetry | undefined {
    return this.telemetry;
  }

  /** Registers a callback for every motion sample; returns the function that removes it. */
  onTelemetry(listener: F1Listener): () => void {
    return this.fanout.add(listener);
  }

  offTelemetry(listener: F1Listener): void {
    this.fanout.remove(listener);
  }

  /** Every decoded packet, of any type. The packet object is fresh; keep it if you like. */
  onPacket(listener: (p: F1Packet, receiveTimeNs: number) => void): () => void {
    this.packetListeners.add(listener);
    return () => this.packetListeners.delete(listener);
  }

  /** Every datagram from the sender exactly as received, for recording. */
  onRawDatagram(listener: (datagram: Buffer, receiveTimeNs: number) => void): () => void {
    this.rawListeners.add(listener);
    return () => this.rawListeners.delete(listener);
  }

  onNotice(listener: (n: F1Notice) => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<F1Telemetry> {
    yield* this.samples();
  }

  /** Yields a copy of every motion sample until the client closes; at most `bufferSize` wait. */
  samples(bufferSize = 256): AsyncGenerator<F1Telemetry> {
    return this.fanout.iterate(bufferSize);
  }

  private notice(kind: F1Notice['kind'], message: string, level: 'info' | 'warn' = 'info'): void {
    this.log[level]({ notice: kind }, message);
    for (const l of this.noticeListeners) l({ kind, message });
  }

  private onDatagram(msg: Buffer, address: string): void {
    if (this.closed) return;
    const receiveTimeNs = performance.now() * 1e6;
    this.stats.datagrams++;
    if (this.senderAddress !== undefined && address !== this.senderAddress) {
      this.stats.foreign++;
      return;
    }
    const result = decodeF1Packet(msg);
    if (!result.ok) {
      this.stats.dropped[result.reason]++;
      // One line per kind of problem, not per packet: a game sends 60 a second.
      const key = `${result.reason}:${result.format}:${result.packetId}`;
      if (result.reason !== 'not-decoded' && !this.droppedSaid.has(key)) {
        this.droppedSaid.add(key);
        this.notice('dropped', `dropped a datagram from ${address}: ${result.message} (further ones are only counted)`, 'warn');
      }
      return;
    }
    for (const l of this.rawListeners) l(msg, receiveTimeNs);
    if (this.senderAddress === undefined) {
      this.senderAddress = address;
      this.notice('sender-learned', `taking F1 telemetry from ${address} (the first sender)`);
    }
    const packet = result.packet;
    this.stats.accepted++;
    this.receivedFormat = packet.header.packetFormat;
    const typeKey = `${packet.header.packetFormat} ${packet.type}`;
    this.stats.byType[typeKey] = (this.stats.byType[typeKey] ?? 0) + 1;
    for (const l of this.packetListeners) l(packet, receiveTimeNs);

    if (packet.type === 'motion') {
      const frame = packet.header.frameIdentifier;
      if (this.lastSession !== packet.header.sessionUID) {
        if (this.lastSession !== undefined) this.notice('stream-restarted', 'new F1 session');
        this.lastSession = packet.header.sessionUID;
        this.lastFrame = undefined;
      }
      if (this.lastFrame !== undefined) {
        const step = frame - this.lastFrame;
        if (step === 0) {
          this.stats.duplicated++;
          return;
        }
        // A flashback rewinds the frame counter a long way; a small step back is reordering.
        if (step < 0 && step > -30) {
          this.stats.outOfOrder++;
          return;
        }
        if (step > 1 && step < 600) this.stats.lost += step - 1;
      }
      this.lastFrame = frame;
    }
    if (!this.motion.update(packet, receiveTimeNs, this.sample)) {
      // Only a motion packet makes a sample; one that does not is unusable.
      if (packet.type === 'motion') this.stats.unusable++;
      return;
    }
    this.stats.samples++;
    if (this.telemetry === undefined) this.telemetry = { packet: packet as F1Telemetry['packet'], sample: this.sample, receiveTimeNs };
    this.telemetry.packet = packet as F1Telemetry['packet'];
    this.telemetry.receiveTimeNs = receiveTimeNs;
    this.fanout.publish(this.telemetry);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.closed = true;
      this.fanout.close();
      this.socket.close(() => {
        this.log.info({ stats: this.stats }, 'f1 listener closed');
        resolve();
      });
    });
    return this.closing;
  }
}
