import { close as closeFile } from 'node:fs';
import type { ReadStream } from 'node:tty';
import { FD_NONE, Port } from '../runtime/slots.js';
import type { SeqlockSlot } from '../runtime/shared-slot.js';
import { FrameParser } from './riglink/parser.js';
import { MCU_STATE_NAMES, McuState, MessageType } from './riglink/protocol.js';
import { closeTty, drainTty, flushTty, openTty, openTtyReadSide, setTtyLines, ttyReader } from './tty.js';

/**
 * The serial port of a rig, kept open: the half of RigLink that is not per tick. It runs on
 * its own thread (runtime/serial-thread.ts) so that nothing on the main thread can delay it.
 *   - opens the port (DTR/RTS set as configured right after the open, flock(LOCK_EX), optional
 *     low latency; tty.ts says what Linux does to DTR) and publishes its file descriptor with
 *     a new generation;
 *   - reads everything the MCU sends as it arrives (Node's tty stream on a read-only second
 *     descriptor: the thread sleeps until the MCU speaks, instead of polling every millisecond,
 *     which cost 11 % of a core on this VM), parses it and publishes STATUS, HELLO_ACK, ACK,
 *     refusals and the playout extension's CAPS and PLAYOUT_STATUS in the port slot;
 *   - when the control side gives the session up (Control.lostGeneration, with Atomics.notify)
 *     or the port fails:
 *     unpublishes the descriptor first, discards what is still queued for the MCU (tcflush, so
 *     no stale frame goes out later and close() does not wait for a drain), closes, and opens
 *     again with backoff.
 * It writes nothing: every host→MCU frame comes from the control step (runtime/rig-session.ts).
 * A STATUS whose position count is not the rig's axis count is refused and counted.
 */
export interface SerialLinkOptions {
  path: string;
  baud: number;
  /** Actuators the rig has: a STATUS must report exactly this many positions. */
  axes: number;
  dtr?: boolean;
  rts?: boolean;
  /** ASYNC_LOW_LATENCY on USB serial adapters (FTDI: 16 ms latency timer → 1 ms). */
  lowLatency?: boolean;
  /** false: an output that says nothing back (template); nothing is read. */
  feedback: boolean;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** How often the lost-session word is looked at without a notify (a backstop; default 100 ms). */
  lostBackstopMs?: number;
}

export type LinkEvent =
  | { event: 'port-open'; generation: number }
  | { event: 'open-failed'; error: string; first: boolean }
  | { event: 'port-closed'; generation: number; reason: string }
  | { event: 'hello'; firmware: string; version: number; axes: number }
  | { event: 'bad-status'; positions: number; axes: number };

export class SerialLink {
  private fd = FD_NONE;
  private reader: ReadStream | undefined;
  /** An open or a drop under way: close() waits for them, so neither leaves a descriptor behind. */
  private connecting: Promise<boolean> | undefined;
  private dropping: Promise<void> | undefined;
  private readonly values = new Float64Array(Port.length);
  private readonly parser: FrameParser;
  private readonly opts: Required<Omit<SerialLinkOptions, 'dtr' | 'rts' | 'lowLatency'>> & Pick<SerialLinkOptions, 'dtr' | 'rts' | 'lowLatency'>;
  private backoff: number;
  private wanted = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private badStatusLogged = false;

  constructor(
    private readonly slot: SeqlockSlot,
    private readonly control: Int32Array,
    private readonly lostWord: number,
    options: SerialLinkOptions,
    private readonly onEvent: (e: LinkEvent) => void,
  ) {
    this.opts = { reconnectMinMs: 100, reconnectMaxMs: 2000, lostBackstopMs: 100, ...options };
    this.backoff = this.opts.reconnectMinMs;
    this.values[Port.fd] = FD_NONE;
    this.slot.write(this.values);
    this.parser = new FrameParser({
      frame: (type, _seq, p) => this.onFrame(type, p),
      error: () => this.count(Port.badFrames),
    });
  }

  get generation(): number {
    return this.values[Port.generation]!;
  }

  /** Opens (and keeps reopening); resolves with whether the first attempt opened the port. */
  start(): Promise<boolean> {
    this.wanted = true;
    void this.watchLoss();
    return this.open();
  }

  async close(): Promise<void> {
    this.wanted = false;
    Atomics.notify(this.control, this.lostWord);
    clearTimeout(this.reconnectTimer);
    await this.connecting;
    await this.dropping;
    // A normal stop: the last frames (PARK) must go out, so drain (bounded) instead of discarding.
    await this.drop('closing', false);
  }

  private open(): Promise<boolean> {
    const p = this.connect();
    this.connecting = p;
    void p.finally(() => this.connecting === p && (this.connecting = undefined));
    return p;
  }

  private async connect(): Promise<boolean> {
    if (!this.wanted) return false;
    const first = this.attempts++ === 0;
    let port: { fd: number; readFd: number };
    let reader: ReadStream;
    try {
      // Bounded: these run on libuv's shared thread pool, where a close stuck in the kernel can
      // hold a thread; a late open is closed when it finally answers.
      const opening = openPort(this.opts.path, this.opts.baud);
      let late = false;
      opening.then((lateFds) => late && closePort(lateFds), () => undefined);
      port = await Promise.race([
        opening,
        new Promise<never>((_, reject) =>
          setTimeout(() => {
            late = true;
            reject(new Error('the system did not answer the open within 2 s'));
          }, 2000),
        ),
      ]);
      try {
        reader = ttyReader(port.readFd);
      } catch (err) {
        closePort(port);
        throw err;
      }
      await bounded(setTtyLines(port.fd, { dtr: this.opts.dtr ?? false, rts: this.opts.rts ?? false, lowLatency: this.opts.lowLatency ?? false }), 500);
    } catch (err) {
      this.onEvent({ event: 'open-failed', error: (err as Error).message, first });
      this.scheduleReconnect();
      return false;
    }
    const fd = port.fd;
    if (!this.wanted) {
      reader.destroy();
      await closeTty(fd).catch(() => undefined);
      return false;
    }
    this.fd = fd;
    this.backoff = this.opts.reconnectMinMs;
    this.parser.reset();
    this.badStatusLogged = false;
    const v = this.values;
    const generation = this.generation + 1;
    v.fill(0);
    v[Port.generation] = generation;
    v[Port.fd] = fd;
    this.slot.write(v);
    this.listen(reader);
    this.onEvent({ event: 'port-open', generation });
    return true;
  }

  /** What the MCU sends, as it arrives; an output without feedback is read and dropped. */
  private listen(reader: ReadStream): void {
    this.reader = reader;
    const gone = () => this.reader === reader && void this.drop('port gone (unplugged?)');
    reader.on('data', (bytes: Buffer) => this.reader === reader && this.opts.feedback && this.parser.push(bytes));
    reader.on('error', gone);
    reader.on('end', gone);
    reader.on('close', gone);
  }

  /**
   * The control side's verdict on the session, the only thing to react to: it stores the lost
   * generation and notifies. Waits without polling; the timeout (lostBackstopMs) is a backstop
   * for a store without a notify.
   */
  private async watchLoss(): Promise<void> {
    while (this.wanted) {
      const lost = Atomics.load(this.control, this.lostWord);
      if (this.fd !== FD_NONE && lost === this.generation) void this.drop('the control step gave the session up');
      const wait = Atomics.waitAsync(this.control, this.lostWord, lost, this.opts.lostBackstopMs);
      if (wait.async) await wait.value;
    }
  }

  private drop(reason: string, discard = true): Promise<void> {
    if (this.fd === FD_NONE) return this.dropping ?? Promise.resolve();
    const p = this.dropNow(reason, discard);
    this.dropping = p;
    void p.finally(() => this.dropping === p && (this.dropping = undefined));
    return p;
  }

  /** Unpublish first (the control step stops writing), then discard the queue, close, reopen later. */
  private async dropNow(reason: string, discard: boolean): Promise<void> {
    const fd = this.fd;
    this.fd = FD_NONE;
    const reader = this.reader;
    this.reader = undefined;
    this.values[Port.fd] = FD_NONE;
    this.slot.write(this.values);
    this.onEvent({ event: 'port-closed', generation: this.generation, reason });
    // Let a tick that read the old descriptor finish its write before the descriptor goes away.
    await new Promise((r) => setTimeout(r, 5));
    // Each step bounded: a port that vanished may never answer, and a close that waits in the
    // kernel for a drain must not keep the rig from a new session. A normal stop lets the last
    // frames (PARK) go out first; a lost session discards them.
    if (discard) await bounded(flushTty(fd), 200);
    else await bounded(drainTty(fd), 500);
    // The read side first: it is not the last descriptor, so its close (on this thread) cannot
    // wait in the kernel for output to drain; the last one's close runs bounded on the pool.
    reader?.destroy();
    await bounded(closeTty(fd), 500);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.wanted) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.open(), this.backoff);
    this.backoff = Math.min(this.opts.reconnectMaxMs, this.backoff * 2);
  }

  private count(at: number): void {
    this.values[at] = this.values[at]! + 1;
    this.slot.write(this.values);
  }

  private onFrame(type: number, p: Uint8Array): void {
    const v = this.values;
    if (type === MessageType.STATUS) {
      const n = p[5]!;
      if (n !== this.opts.axes) {
        if (!this.badStatusLogged) this.onEvent({ event: 'bad-status', positions: n, axes: this.opts.axes });
        this.badStatusLogged = true;
        return this.count(Port.badStatus);
      }
      // A state this protocol does not know is a fault, not a guess.
      v[Port.mcuState] = p[0]! < MCU_STATE_NAMES.length ? p[0]! : McuState.fault;
      v[Port.faults] = p[1]! | (p[2]! << 8);
      const lastSeq = p[3]! | (p[4]! << 8);
      v[Port.statusStuck] = v[Port.statusCount]! > 0 && lastSeq === v[Port.lastSeq] ? v[Port.statusStuck]! + 1 : 0;
      v[Port.lastSeq] = lastSeq;
      for (let i = 0; i < n; i++) v[Port.positions + i] = p[6 + 2 * i]! | (p[7 + 2 * i]! << 8);
      v[Port.statusCount] = v[Port.statusCount]! + 1;
      this.slot.write(v);
    } else if (type === MessageType.HELLO_ACK) {
      v[Port.helloVersion] = p[0]!;
      v[Port.helloAxes] = p[1]!;
      v[Port.helloCount] = v[Port.helloCount]! + 1;
      this.slot.write(v);
      this.onEvent({ event: 'hello', firmware: new TextDecoder().decode(p.subarray(2)), version: p[0]!, axes: p[1]! });
    } else if (type === MessageType.ACK) {
      v[Port.ackType] = p[0]!;
      v[Port.ackSeq] = p[1]! | (p[2]! << 8);
      v[Port.ackResult] = p[3]!;
      v[Port.ackCount] = v[Port.ackCount]! + 1;
      this.slot.write(v);
    } else if (type === MessageType.CAPS || type === MessageType.PLAYOUT_STATUS) {
      this.onPlayoutFrame(type, p);
    }
  }

  /** Playout extension (PROTOCOL.md §7): what the MCU can do, and how its playout goes. */
  private onPlayoutFrame(type: number, p: Uint8Array): void {
    const v = this.values;
    if (type === MessageType.CAPS) {
      v[Port.capsFeatures] = p[1]!;
      v[Port.capsMinPeriodNs] = u32(p, 3);
      v[Port.capsMaxPeriodNs] = u32(p, 7);
      v[Port.capsMaxDelayUs] = p[11]! | (p[12]! << 8);
      v[Port.capsCount] = v[Port.capsCount]! + 1;
    } else {
      v[Port.poLastTick] = u32(p, 0);
      v[Port.poAccepted] = u32(p, 4);
      v[Port.poLate] = u32(p, 8);
      v[Port.poStale] = u32(p, 12);
      v[Port.poOutside] = u32(p, 16);
      v[Port.poOverflow] = u32(p, 20);
      v[Port.poMinLeadUs] = i16(p, 24);
      v[Port.poRateAdjPpm] = i16(p, 26);
      v[Port.playoutCount] = v[Port.playoutCount]! + 1;
    }
    this.slot.write(v);
  }
}

const u32 = (p: Uint8Array, at: number) => (p[at]! | (p[at + 1]! << 8) | (p[at + 2]! << 16) | (p[at + 3]! << 24)) >>> 0;
const i16 = (p: Uint8Array, at: number) => ((p[at]! | (p[at + 1]! << 8)) << 16) >> 16;

/** The port's two descriptors: the read side (openTtyReadSide) and the one the control thread writes to. */
async function openPort(path: string, baud: number): Promise<{ fd: number; readFd: number }> {
  const readFd = await openTtyReadSide(path);
  try {
    return { fd: await openTty(path, { baudRate: baud, hupcl: false }), readFd };
  } catch (err) {
    closeFile(readFd, () => undefined);
    throw err;
  }
}

function closePort(p: { fd: number; readFd: number }): void {
  closeFile(p.readFd, () => undefined);
  void closeTty(p.fd).catch(() => undefined);
}

/** Waits for a promise (its failure too), at most ms. */
function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    p.then(
      () => (clearTimeout(timer), resolve()),
      () => (clearTimeout(timer), resolve()),
    );
  });
}
