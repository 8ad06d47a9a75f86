import { createSocket, type Socket } from 'node:dgram';
import { randomFillSync } from 'node:crypto';
import { silentLogger, type Logger } from '../../log.js';
import { TelemetryPortInUse, bindUdp } from '../udp.js';
import { PacketCipher, isPlaintext } from './cipher.js';
import { FORMATS, type Heartbeat, PORTS, type PacketFormat, formatForLength } from './formats.js';
import { type RelayClient, RelayClientTable } from './relay-clients.js';

/**
 * The GT7 relay (issue 14): one console, many apps. It answers heartbeats on UDP 33739 of
 * `bind` the way a console does and sends every console packet the service hands it to port
 * 33740 of each sender, in the format that sender asked for, encrypted with the GT7 key and
 * that format's nonce XOR, a fresh random seed per datagram. Per-sender rules (first
 * heartbeat type decides, 16 s timeout, at most `maxClients`, garbage counted and ignored)
 * live in relay-clients.ts.
 *
 * Downstream formats are cut from the console's packet: A ⊂ B ⊂ ~ ⊂ C with the same offsets
 * (layout.ts; test/unit/gt7-relay.test.ts checks that every field of a format lies inside
 * its size and after the previous format's), so a format's packet is the first `size` bytes
 * of any longer one. No field of A, B or ~ is missing from C; nothing is converted or made
 * up. When the console sends less than a sender asked for (another app locked the console on
 * a shorter format), the sender gets what there is, as a console would send it, counted as
 * `shortfall`.
 *
 * Cost: per datagram one Salsa20 over at most 368 bytes and one send, from the caller's
 * thread (the service's main thread, after the sample went to the control worker). relay()
 * never throws; failures are counted and logged at most every 10 s.
 *
 * Not modelled: GT Sport (other key and ports), discovery (apps must be given the rig box's
 * address), and the console's own quirks (its real timeout, jitter, loss).
 */

export interface Gt7RelayOptions {
  /** Local address for heartbeats; packets leave from it. Default 0.0.0.0. */
  bind?: string;
  /** Heartbeat port, default 33739; 0 picks a free one (see `port`). Apps always use 33739. */
  heartbeatPort?: number;
  /** Port of each sender packets go to, default 33740. For tests only: a real app listens on 33740. */
  replyPort?: number;
  /** Senders served at once, default 8. */
  maxClients?: number;
  /** A sender silent this long stops getting packets, default 16000 (our console simulator's). */
  heartbeatTimeoutMs?: number;
  logger?: Logger;
}

export interface Gt7RelayClientStats {
  address: string;
  /** The format the sender asked for (locked by its first heartbeat). */
  format: Heartbeat;
  /** Datagrams sent to it. */
  packets: number;
  lastHeartbeatAgoMs: number;
  /** Heartbeats of another type it sent while streaming (no effect, as on a console). */
  otherFormat: number;
}

export interface Gt7RelayStats {
  clients: Gt7RelayClientStats[];
  /** Datagrams handed to the network (all senders). */
  relayed: number;
  /** relay() inputs that were no GT7 plaintext packet (once each) and failed sends (each). */
  dropped: number;
  /** Heartbeats from a new sender while maxClients were streaming. */
  refused: number;
  /** Datagrams on the heartbeat port that were no heartbeat. */
  garbage: number;
  /** Datagrams sent in a shorter format than the sender asked for (the console sent less). */
  shortfall: number;
  /** Console packet received → relayed, µs, when relay() is given `receivedAtNs` (0 before). */
  lastDelayUs: number;
  maxDelayUs: number;
}

const DEFAULT_TIMEOUT_MS = 16_000;
const LOG_EVERY_MS = 10_000;
type LogKind = 'garbage' | 'refused' | 'failure';

/** Random 32-bit seeds, refilled in blocks: one crypto call per 256 datagrams. */
class SeedPool {
  private readonly seeds = new Uint32Array(256);
  private next = this.seeds.length;

  take(): number {
    if (this.next === this.seeds.length) {
      randomFillSync(this.seeds);
      this.next = 0;
    }
    return this.seeds[this.next++]!;
  }
}

export class Gt7Relay {
  private readonly table: RelayClientTable;
  private readonly cipher = new PacketCipher('gt7');
  private readonly seeds = new SeedPool();
  private readonly counts = { relayed: 0, dropped: 0, shortfall: 0, lastDelayUs: 0, maxDelayUs: 0 };
  private readonly lastLogMs: Record<LogKind, number> = { garbage: -Infinity, refused: -Infinity, failure: -Infinity };
  private readonly replyPort: number;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** One callback for every send (no closure per datagram). */
  private readonly onSent = (err: Error | null): void => {
    if (err === null) {
      this.counts.relayed++;
      return;
    }
    this.counts.dropped++;
    this.logFailure('relay send failed', err);
  };

  private constructor(
    private readonly socket: Socket,
    opts: Gt7RelayOptions,
    private readonly log: Logger,
  ) {
    this.table = new RelayClientTable(opts.maxClients ?? 8, opts.heartbeatTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.replyPort = opts.replyPort ?? PORTS.gt7.telemetry;
  }

  /**
   * Binds the heartbeat port. Rejects with TelemetryPortInUse (one line to print) when it is
   * taken, and with a RangeError for a maxClients below 1 or a timeout not above 0.
   */
  static async start(opts: Gt7RelayOptions = {}): Promise<Gt7Relay> {
    const log = (opts.logger ?? silentLogger).child({ component: 'gt7-relay' });
    // Senders' addresses are numeric (rinfo.address), so no lookup: without this, every send
    // waits for a next-tick dns.lookup of its IP literal and its cost lands after relay().
    const socket = createSocket({ type: 'udp4', lookup: (address, _family, done) => done(null, address, 4) });
    let relay: Gt7Relay;
    try {
      relay = new Gt7Relay(socket, opts, log);
    } catch (err) {
      socket.close();
      throw err;
    }
    const bind = opts.bind ?? '0.0.0.0';
    await bindUdp(socket, opts.heartbeatPort ?? PORTS.gt7.heartbeat, bind, relayPortInUse);
    socket.on('error', (err) => log.error({ err }, 'relay socket error'));
    socket.on('message', (msg, rinfo) => relay.onHeartbeat(msg, rinfo.address));
    log.info({ bind, port: relay.port, replyPort: relay.replyPort, maxClients: relay.table.maxClients }, 'gt7 relay listening');
    return relay;
  }

  /** The bound heartbeat port. */
  get port(): number {
    return this.socket.address().port;
  }

  /**
   * Sends one console packet to every sender. `plaintext`: the decrypted console packet (C
   * for every sender to get its format; 0x40–0x43 are keystream garbage and are replaced by
   * each datagram's seed), read during the call only. `receivedAtNs`: when it arrived, on the
   * clock of Gt7Telemetry.receiveTimeNs (performance.now() × 1e6), for the delay counters.
   * Never throws.
   */
  relay(plaintext: Uint8Array, receivedAtNs?: number): void {
    if (this.closed) return;
    try {
      const now = performance.now();
      this.table.expire(now, this.onGone);
      const have = plaintext instanceof Uint8Array ? formatForLength(plaintext.length) : undefined;
      if (have === undefined || !isPlaintext(plaintext)) {
        this.counts.dropped++;
        this.logFailure('relay input is not a decrypted GT7 packet; dropped', undefined);
        return;
      }
      for (const client of this.table.values()) this.sendTo(client, plaintext, have);
      if (typeof receivedAtNs === 'number' && Number.isFinite(receivedAtNs) && this.table.size > 0) {
        const delayUs = Math.max(0, Math.round(now * 1e3 - receivedAtNs / 1e3));
        this.counts.lastDelayUs = delayUs;
        if (delayUs > this.counts.maxDelayUs) this.counts.maxDelayUs = delayUs;
      }
    } catch (err) {
      this.counts.dropped++;
      this.logFailure('relay failed', err);
    }
  }

  /** One sender's datagram; a failure here costs that sender this packet, not the others. */
  private sendTo(client: RelayClient, plaintext: Uint8Array, have: PacketFormat): void {
    try {
      const want = FORMATS[client.format];
      const format = want.rank <= have.rank ? want : have;
      if (format !== want) this.counts.shortfall++;
      // A fresh buffer per datagram: a send the kernel cannot take at once keeps a reference.
      const out = Buffer.allocUnsafe(format.size);
      this.cipher.encrypt(plaintext.subarray(0, format.size), this.seeds.take(), out);
      client.packets++;
      this.socket.send(out, this.replyPort, client.address, this.onSent);
    } catch (err) {
      this.counts.dropped++;
      this.logFailure('relay send failed', err);
    }
  }

  stats(): Gt7RelayStats {
    const now = performance.now();
    this.table.expire(now, this.onGone);
    const clients: Gt7RelayClientStats[] = [];
    for (const c of this.table.values()) {
      clients.push({ address: c.address, format: c.format, packets: c.packets, lastHeartbeatAgoMs: Math.round(now - c.lastHeartbeatMs), otherFormat: c.otherFormat });
    }
    return { clients, ...this.counts, refused: this.table.refused, garbage: this.table.garbage };
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.closed = true;
      this.socket.close(() => {
        this.log.info({ stats: this.stats() }, 'gt7 relay closed');
        resolve();
      });
    });
    return this.closing;
  }

  private onHeartbeat(msg: Buffer, address: string): void {
    if (this.closed) return;
    try {
      const now = performance.now();
      this.table.expire(now, this.onGone);
      const verdict = this.table.heartbeat(msg, address, now);
      if (verdict === 'new') {
        this.log.info({ address, format: this.table.get(address)?.format, clients: this.table.size }, 'relay client joined');
      } else if (verdict === 'garbage') {
        this.rateLimited('garbage', now, 'debug', { address, bytes: msg.length, garbage: this.table.garbage }, 'not a heartbeat on the relay port; ignored');
      } else if (verdict === 'refused') {
        this.rateLimited('refused', now, 'warn', { address, maxClients: this.table.maxClients, refused: this.table.refused }, 'relay full; heartbeat refused');
      }
    } catch (err) {
      this.logFailure('relay heartbeat failed', err);
    }
  }

  private readonly onGone = (c: RelayClient): void => {
    this.log.info({ address: c.address, format: c.format, packets: c.packets }, 'relay client silent for the timeout; no more packets to it');
  };

  private logFailure(message: string, err: unknown): void {
    this.rateLimited('failure', performance.now(), 'warn', { err, dropped: this.counts.dropped }, message);
  }

  private rateLimited(kind: LogKind, now: number, level: 'debug' | 'warn', fields: object, message: string): void {
    if (now - this.lastLogMs[kind] < LOG_EVERY_MS) return;
    this.lastLogMs[kind] = now;
    this.log[level](fields, `${message} (logged at most every ${LOG_EVERY_MS / 1000} s)`);
  }
}

function relayPortInUse(port: number, address: string): TelemetryPortInUse {
  return new TelemetryPortInUse(
    port,
    address,
    `UDP port ${port} on ${address} is already in use: the GT7 relay answers heartbeats there like a console, and another program ` +
      `(a console simulator on this machine, another relay) holds it; set relay.bind to one address of this machine, or stop that program`,
  );
}
