import { type Heartbeat, heartbeatOf } from './formats.js';

/**
 * The relay's downstream senders, by address, held to the same rules as a console (and our
 * console simulator), applied per sender: a sender's first heartbeat type decides its format
 * until it has been silent for the timeout; a heartbeat of another type meanwhile keeps the
 * stream alive and does not switch the format. At most `maxClients` senders at once; a
 * heartbeat from one more is refused (counted) until a sender times out. A datagram that is
 * not a heartbeat (one byte: A, B, ~ or C) is counted as garbage and changes nothing, so a
 * sender that only sends garbage never becomes a client.
 *
 * No sockets and no clock of its own (callers pass `nowMs`), so the rules are unit-testable.
 */

export interface RelayClient {
  readonly address: string;
  /** Locked by the sender's first heartbeat until it times out. */
  readonly format: Heartbeat;
  lastHeartbeatMs: number;
  /** Packets sent to this sender. */
  packets: number;
  /** Heartbeats of another type than `format` heard from it (no effect). */
  otherFormat: number;
}

export type HeartbeatVerdict = 'new' | 'renewed' | 'other-format' | 'garbage' | 'refused';

export class RelayClientTable {
  /** Datagrams that were not a heartbeat. */
  garbage = 0;
  /** Heartbeats from a new sender while `maxClients` were streaming. */
  refused = 0;
  private readonly clients = new Map<string, RelayClient>();

  constructor(
    readonly maxClients: number,
    readonly timeoutMs: number,
  ) {
    if (!Number.isInteger(maxClients) || maxClients < 1) throw new RangeError(`maxClients must be an integer ≥ 1, not ${maxClients}`);
    if (!(timeoutMs > 0)) throw new RangeError(`heartbeatTimeoutMs must be > 0, not ${timeoutMs}`);
  }

  get size(): number {
    return this.clients.size;
  }

  /** The senders streaming now; call `expire` first for an up-to-date view. */
  values(): IterableIterator<RelayClient> {
    return this.clients.values();
  }

  get(address: string): RelayClient | undefined {
    return this.clients.get(address);
  }

  /** Takes one datagram that arrived on the heartbeat port from `address`. */
  heartbeat(datagram: Uint8Array, address: string, nowMs: number): HeartbeatVerdict {
    const hb = heartbeatOf(datagram);
    if (hb === undefined) {
      this.garbage++;
      return 'garbage';
    }
    const known = this.clients.get(address);
    if (known !== undefined && nowMs - known.lastHeartbeatMs <= this.timeoutMs) {
      known.lastHeartbeatMs = nowMs;
      if (hb === known.format) return 'renewed';
      known.otherFormat++;
      return 'other-format';
    }
    this.expire(nowMs);
    if (this.clients.size >= this.maxClients) {
      this.refused++;
      return 'refused';
    }
    this.clients.set(address, { address, format: hb, lastHeartbeatMs: nowMs, packets: 0, otherFormat: 0 });
    return 'new';
  }

  /** Drops every sender silent for longer than the timeout; calls `onGone` for each. */
  expire(nowMs: number, onGone?: (c: RelayClient) => void): void {
    for (const [address, c] of this.clients) {
      if (nowMs - c.lastHeartbeatMs > this.timeoutMs) {
        this.clients.delete(address);
        onGone?.(c);
      }
    }
  }
}
