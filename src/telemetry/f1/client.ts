import { createSocket, type Socket } from 'node:dgram';
import { silentLogger, type Logger } from '../../log.js';
import { TelemetryFanout } from '../fanout.js';
import { MotionSample, copyMotionSample } from '../motion-sample.js';
import { F1_SEQUENCE, SequenceGuard, SequenceVerdict } from '../sequence-guard.js';
import { TelemetryPortInUse, bindUdp } from '../udp.js';
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
 *
 * Motion frames go through a SequenceGuard keyed by session UID: a frame identifier more than
 * 60 frames from the last one (either way), or another session, is believed only when the
 * next motion packet continues from it; a lone forged or stray packet is dropped and counted.
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
  /** Motion packets far from the stream (frame or session) that the next one did not confirm. */
  unconfirmed: number;
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
    unconfirmed: 0,
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
  private readonly sequence = new SequenceGuard<bigint>(F1_SEQUENCE, this.stats);
  private session: bigint | undefined;
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
    await bindUdp(socket, opts.port ?? DEFAULT_F1_PORT, opts.bindAddress ?? '0.0.0.0', (port, address) => new TelemetryPortInUse(
      port,
      address,
      `UDP port ${port} on ${address} is already in use: another F1 telemetry app on this machine probably holds it; ` +
        `stop it, or give the game and this listener another port`,
    ));
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
      // A flashback rewinds the frame counter a long way: a jump, confirmed by the next frame.
      const { frameIdentifier: frame, sessionUID: session } = packet.header;
      const verdict = this.sequence.judge(frame, session);
      if (verdict === SequenceVerdict.jump) {
        this.notice('stream-restarted', session !== this.session ? 'new F1 session' : `frame identifier jumped to ${frame} (flashback or restart), confirmed by the next frame`);
      } else if (verdict !== SequenceVerdict.accept) return;
      this.session = session;
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
