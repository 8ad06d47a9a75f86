import { SerialPort } from 'serialport';
import { type Logger, silentLogger } from '../log.js';
import { writeFrame } from './write-frame.js';
import { FrameParser, type ParserCounters } from './riglink/parser.js';
import { FrameEncoder, MCU_STATE_NAMES, MessageType, type McuStateName, RIGLINK_VERSION, SetpointEncoder } from './riglink/protocol.js';

/**
 * The host end of RigLink on a serial port: open without resetting the board, handshake,
 * commands with ACKs, one SETPOINT per tick written straight to the port's file descriptor,
 * liveness judged by STATUS frames, and reconnection with backoff after an unplug.
 *
 * Link states (one log line per change):
 *   closed → opening → handshaking → ready ⇄ lost → opening …
 * `ready` means a fresh HELLO/HELLO_ACK on this connection. Nothing here enables motion by
 * itself: after every (re)connection the MCU is in whatever state its watchdog left it
 * (holding or parked), and the caller decides to ENABLE and unpark through its ramp.
 */

export type LinkState = 'closed' | 'opening' | 'handshaking' | 'ready' | 'lost';

export interface SerialLinkOptions {
  path: string;
  baud: number;
  /** Actuators the rig has; the MCU's HELLO_ACK must agree. */
  axes: number;
  /** DTR and RTS levels held after opening (false: an Arduino's auto-reset line stays quiet). */
  dtr?: boolean;
  rts?: boolean;
  /** ASYNC_LOW_LATENCY on USB serial adapters (FTDI: 16 ms latency timer → 1 ms). */
  lowLatency?: boolean;
  /** No STATUS for this long = link lost (default 200 ms). */
  statusTimeoutMs?: number;
  /** Reconnect backoff: first delay and cap (default 100 ms, 2 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** How long to wait for HELLO_ACK and for each ACK (default 300 ms). */
  replyTimeoutMs?: number;
  logger?: Logger;
}

export interface McuStatus {
  state: McuStateName;
  faults: number;
  lastSeq: number;
  positions: Uint16Array;
  /** performance.now() when it arrived. */
  receivedAt: number;
}

export interface LinkCounters extends ParserCounters {
  statusFrames: number;
  setpointsWritten: number;
  writeErrors: number;
  reconnects: number;
}

export class SerialLink {
  state: LinkState = 'closed';
  firmware = '';
  readonly status: McuStatus;
  readonly counters: LinkCounters;
  private port: SerialPort | undefined;
  private fd = -1;
  private readonly parser: FrameParser;
  private readonly encoder = new FrameEncoder();
  private readonly setpoints = new SetpointEncoder();
  private txSeq = 0;
  private readonly log: Logger;
  private readonly opts: Required<Omit<SerialLinkOptions, 'logger' | 'dtr' | 'rts' | 'lowLatency'>> & Pick<SerialLinkOptions, 'dtr' | 'rts' | 'lowLatency'>;
  private liveness: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoff: number;
  private wanted = false;
  private helloWaiter: ((ok: boolean) => void) | undefined;
  private readonly ackWaiters = new Map<number, (result: number) => void>();
  private readonly statusListeners = new Set<(s: McuStatus) => void>();
  private readonly stateListeners = new Set<(s: LinkState) => void>();

  constructor(options: SerialLinkOptions) {
    this.opts = { statusTimeoutMs: 200, reconnectMinMs: 100, reconnectMaxMs: 2000, replyTimeoutMs: 300, ...options };
    this.log = (options.logger ?? silentLogger).child({ component: 'serial', path: options.path });
    this.backoff = this.opts.reconnectMinMs;
    this.status = { state: 'parked', faults: 0, lastSeq: 0, positions: new Uint16Array(options.axes), receivedAt: 0 };
    this.parser = new FrameParser({ frame: (type, seq, payload) => this.onFrame(type, seq, payload) });
    this.counters = Object.assign(this.parser.counters, { statusFrames: 0, setpointsWritten: 0, writeErrors: 0, reconnects: 0 }) as LinkCounters;
  }

  onStatus(fn: (s: McuStatus) => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  onState(fn: (s: LinkState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** The port's file descriptor while open (-1 otherwise): the control loop writes frames to it itself. */
  get fileDescriptor(): number {
    return this.fd;
  }

  /** Opens and handshakes; keeps reconnecting until close(). Resolves when first ready. */
  start(): Promise<void> {
    this.wanted = true;
    return new Promise((resolve) => {
      const off = this.onState((s) => {
        if (s === 'ready') {
          off();
          resolve();
        }
      });
      void this.connect();
    });
  }

  /** Waits for the link to be ready (again), at most timeoutMs. */
  waitReady(timeoutMs: number): Promise<boolean> {
    if (this.state === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, timeoutMs);
      const off = this.onState((s) => {
        if (s === 'ready') {
          clearTimeout(timer);
          off();
          resolve(true);
        }
      });
    });
  }

  async close(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.reconnectTimer);
    await this.dropPort();
    this.setState('closed');
  }

  /**
   * One SETPOINT, written synchronously to the port (no allocation on success). targets are
   * wire values 0..65535. Returns false when the link is not ready or the write failed.
   */
  writeSetpoint(targets: Uint16Array, motionActive: boolean): boolean {
    if (this.state !== 'ready') return false;
    const n = this.setpoints.encode(this.nextSeq(), motionActive ? 1 : 0, targets, this.opts.axes);
    if (!this.writeFrame(this.setpoints.frame, n)) return false;
    this.counters.setpointsWritten++;
    return true;
  }

  enable(): Promise<number> {
    return this.command(MessageType.ENABLE);
  }
  park(): Promise<number> {
    return this.command(MessageType.PARK);
  }
  estop(): Promise<number> {
    return this.command(MessageType.ESTOP);
  }
  clearEstop(): Promise<number> {
    return this.command(MessageType.CLEAR_ESTOP);
  }

  /** Sends a command and resolves with the ACK's result (AckResult), or -1 when no ACK came in time. */
  private command(type: number, payload: ArrayLike<number> = []): Promise<number> {
    if (this.state !== 'ready') return Promise.resolve(-1);
    const seq = this.nextSeq();
    const n = this.encoder.encode(type, seq, payload);
    return new Promise((resolve) => {
      const key = (type << 16) | seq;
      const timer = setTimeout(() => {
        this.ackWaiters.delete(key);
        resolve(-1);
      }, this.opts.replyTimeoutMs);
      this.ackWaiters.set(key, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      if (!this.writeFrame(this.encoder.frame, n)) {
        clearTimeout(timer);
        this.ackWaiters.delete(key);
        resolve(-1);
      }
    });
  }

  private nextSeq(): number {
    const s = this.txSeq;
    this.txSeq = (s + 1) & 0xffff;
    return s;
  }

  private writeFrame(frame: Uint8Array, length: number): boolean {
    if (writeFrame(this.fd, frame, length)) return true;
    this.counters.writeErrors++;
    return false;
  }

  private setState(s: LinkState): void {
    if (s === this.state) return;
    this.state = s;
    this.log.info({ event: 'link', state: s }, `serial link ${s}`);
    for (const fn of this.stateListeners) fn(s);
  }

  private async connect(): Promise<void> {
    if (!this.wanted) return;
    this.setState('opening');
    this.parser.reset();
    const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baud, autoOpen: false, lock: true, hupcl: false });
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      this.log.warn({ event: 'open-failed', err: (err as Error).message }, 'serial port did not open');
      return this.scheduleReconnect();
    }
    this.port = port;
    this.fd = (port.port as unknown as { fd: number | null } | undefined)?.fd ?? -1;
    // Line levels: a pty has no modem lines (ENOTTY), which is fine; a real port gets them.
    await new Promise<void>((resolve) =>
      port.set({ dtr: this.opts.dtr ?? false, rts: this.opts.rts ?? false, ...(this.opts.lowLatency ? { lowLatency: true } : {}) } as Parameters<SerialPort['set']>[0], (err) => {
        if (err) this.log.debug({ event: 'set-lines', err: err.message }, 'could not set DTR/RTS/low latency');
        resolve();
      }),
    );
    port.on('data', (chunk: Buffer) => this.parser.push(chunk));
    port.on('close', () => this.lost('port closed'));
    port.on('error', (err: Error) => this.lost(err.message));
    this.setState('handshaking');
    for (let attempt = 0; attempt < 3 && this.port === port; attempt++) {
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          this.helloWaiter = undefined;
          resolve(false);
        }, this.opts.replyTimeoutMs);
        this.helloWaiter = (r) => {
          clearTimeout(timer);
          resolve(r);
        };
        const n = this.encoder.encode(MessageType.HELLO, this.nextSeq(), [RIGLINK_VERSION]);
        this.writeFrame(this.encoder.frame, n);
      });
      if (ok) {
        this.backoff = this.opts.reconnectMinMs;
        this.status.receivedAt = performance.now();
        this.setState('ready');
        this.liveness = setInterval(() => {
          if (performance.now() - this.status.receivedAt > this.opts.statusTimeoutMs) this.lost(`no STATUS for ${this.opts.statusTimeoutMs} ms`);
        }, Math.max(10, this.opts.statusTimeoutMs / 4));
        return;
      }
    }
    if (this.port === port) this.lost('no HELLO_ACK');
  }

  private lost(reason: string): void {
    if (this.state === 'lost' || this.state === 'closed' || !this.wanted) return;
    this.log.warn({ event: 'link-lost', reason }, `serial link lost: ${reason}`);
    this.setState('lost');
    for (const [, fn] of this.ackWaiters) fn(-1);
    this.ackWaiters.clear();
    void this.dropPort().then(() => this.scheduleReconnect());
  }

  private scheduleReconnect(): void {
    if (!this.wanted) return;
    this.setState('lost');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.counters.reconnects++;
      void this.connect();
    }, this.backoff);
    this.backoff = Math.min(this.opts.reconnectMaxMs, this.backoff * 2);
  }

  private async dropPort(): Promise<void> {
    clearInterval(this.liveness);
    this.liveness = undefined;
    const port = this.port;
    this.port = undefined;
    this.fd = -1;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private onFrame(type: number, _seq: number, p: Uint8Array): void {
    if (type === MessageType.STATUS) {
      const s = this.status;
      s.state = MCU_STATE_NAMES[p[0]!] ?? 'fault';
      s.faults = p[1]! | (p[2]! << 8);
      s.lastSeq = p[3]! | (p[4]! << 8);
      const n = Math.min(p[5]!, s.positions.length);
      for (let i = 0; i < n; i++) s.positions[i] = p[6 + 2 * i]! | (p[7 + 2 * i]! << 8);
      s.receivedAt = performance.now();
      this.counters.statusFrames++;
      for (const fn of this.statusListeners) fn(s);
    } else if (type === MessageType.HELLO_ACK) {
      const version = p[0]!;
      const axes = p[1]!;
      this.firmware = new TextDecoder().decode(p.subarray(2));
      const ok = version === RIGLINK_VERSION && axes === this.opts.axes;
      if (!ok) this.log.error({ event: 'hello-mismatch', version, axes, expectedAxes: this.opts.axes, firmware: this.firmware }, 'MCU protocol version or axis count does not match');
      else this.log.info({ event: 'hello', firmware: this.firmware, axes }, `MCU ${this.firmware}, ${axes} axes`);
      this.helloWaiter?.(ok);
      this.helloWaiter = undefined;
    } else if (type === MessageType.ACK) {
      const key = (p[0]! << 16) | (p[1]! | (p[2]! << 8));
      const fn = this.ackWaiters.get(key);
      if (fn) {
        this.ackWaiters.delete(key);
        fn(p[3]!);
      }
    }
  }
}
