import { checkBandwidth } from '../output/bandwidth.js';
import { AckResult, FEATURE_PLAYOUT, FrameEncoder, MessageType, RIGLINK_VERSION, SetpointEncoder, TimedSetpointEncoder, timedSetpointFrameBytes } from '../output/riglink/protocol.js';
import { Mcu } from '../safety/supervisor.js';
import { layout, namesOf } from './layout.js';
import { FD_NONE, Port } from './slots.js';

/**
 * The control side's end of one RigLink session, judged where the frames are made. The
 * serial thread opens the port and reports what the MCU says (the port slot); this class,
 * run inside the control tick, writes every host→MCU frame with one sequence counter (HELLO
 * included, continuous across sessions) and decides when the session is no longer to be
 * trusted:
 *   - no HELLO_ACK after three tries, or one whose version or axis count does not fit;
 *   - no STATUS for statusTimeoutMs;
 *   - a write the port did not take (its queue is full: the MCU is not reading);
 *   - the MCU's lastSeq not moving over three STATUS frames in a row while what was written is
 *     more than lagLimitMs of frames ahead of it (an MCU that stopped reading).
 * A lost session writes nothing more: the caller tells the serial thread, which flushes what
 * is still queued, closes the port and opens it again (a new generation, a new handshake).
 * SETPOINTs go out only once this session's MCU has reported where the actuators are.
 *
 * MCU-timed playout (PROTOCOL.md §7.2): once HELLO_ACK made the session ready (it runs on core
 * SETPOINT meanwhile, commands included), when a playout delay is configured, the session asks
 * GET_CAPS (100 ms, twice); an MCU whose CAPS admit this rate and delay, and whose timed frames
 * fit the line, gets SET_PLAYOUT, and once it ACKs ok every tick's frame is a SETPOINT_TIMED
 * carrying the tick number. Anything else (a core-only MCU says nothing) leaves the session on
 * core SETPOINT; `playoutWhy` says why. If the MCU reports every frame
 * `outside` for 5 PLAYOUT_STATUS in a row, or sends 5 STATUS without one (it reset), SET_PLAYOUT
 * goes again.
 * Allocation-free per tick.
 */
export const LinkPhase = { down: 0, handshaking: 1, ready: 2, lost: 3 } as const;
export const LINK_PHASE_NAMES = namesOf(LinkPhase);
export const LinkLoss = { none: 0, portClosed: 1, noHelloAck: 2, helloRefused: 3, noStatus: 4, backpressure: 5, mcuLagging: 6 } as const;
export const LINK_LOSS_NAMES = namesOf(LinkLoss);
/** Why a session runs without playout (none: it runs with it). */
export const PlayoutWhy = { none: 0, disabled: 1, noCaps: 2, noFeature: 3, limits: 4, bandwidth: 5, refused: 6, noAck: 7, noFeedback: 8, negotiating: 9 } as const;
export const PLAYOUT_WHY_NAMES = namesOf(PlayoutWhy);
/** Playout negotiation: not under way, waiting for CAPS, waiting for SET_PLAYOUT's ACK. */
const Hs = { idle: 0, caps: 1, setPlayout: 2 } as const;

export interface FrameSink {
  /** Writes one whole frame without blocking; false when the port did not take all of it. */
  write(frame: Uint8Array, length: number): boolean;
}

export interface RigSessionOptions {
  axes: number;
  rateHz: number;
  /** false for outputs that say nothing back (template): ready as soon as the port is open. */
  feedback: boolean;
  statusTimeoutMs?: number;
  replyTimeoutMs?: number;
  helloAttempts?: number;
  lagLimitMs?: number;
  /** MCU-timed playout delay (ms); 0 or absent: never ask for playout. */
  playoutDelayMs?: number;
  /** The line's baud rate: playout only if its larger frames fit (absent: not checked). */
  baud?: number;
}

// Numbers that change per tick live in one typed array (no boxing), at these indices.
const N = layout({
  gen: 1, seq: 1, helloAt: 1, helloTries: 1, statusSeen: 1, statusAt: 1, helloSeen: 1, frames: 1, writeErrors: 1, commands: 1, sessions: 1, lastTx: 1,
  hs: 1, capsAt: 1, capsTries: 1, capsSeen: 1, ackSeen: 1, playoutSeq: 1, tick: 1, playoutSeen: 1, outsideStreak: 1, outsideSeen: 1, acceptedSeen: 1, replays: 1, quiet: 1,
});

export class RigSession {
  phase: number = LinkPhase.down;
  loss: number = LinkLoss.none;
  /** Mcu.* from this session's newest STATUS; unknown before it; noFeedback without feedback. */
  mcu: number = Mcu.unknown;
  /** Wire positions from this session's newest STATUS, valid when positionsKnown. */
  readonly positions: Uint16Array;
  positionsKnown = false;
  /** A STATUS with positions arrived this tick. */
  newPositions = false;
  /** The session was given up this tick (tell the serial thread once). */
  lostNow = false;
  /** This session sends SETPOINT_TIMED (the MCU plays them out); else core SETPOINT, PlayoutWhy says why. */
  playout = false;
  playoutWhy: number = PlayoutWhy.disabled;
  private readonly n = new Float64Array(N.length);
  private readonly axes: number;
  private readonly feedback: boolean;
  private readonly statusTimeoutTicks: number;
  private readonly replyTicks: number;
  private readonly helloAttempts: number;
  private readonly lagLimit: number;
  private readonly capsTicks: number;
  private readonly commands = new FrameEncoder();
  private readonly setpoints = new SetpointEncoder();
  private readonly helloPayload = new Uint8Array([RIGLINK_VERSION]);
  private readonly timed = new TimedSetpointEncoder();
  private readonly setPlayoutPayload = new Uint8Array(6);
  private readonly periodNs: number;
  private readonly delayUs: number;
  private readonly playoutFits: boolean;

  constructor(
    private readonly sink: FrameSink,
    opts: RigSessionOptions,
  ) {
    this.axes = opts.axes;
    this.feedback = opts.feedback;
    const ticks = (ms: number) => Math.max(1, Math.round((ms * opts.rateHz) / 1000));
    this.statusTimeoutTicks = ticks(opts.statusTimeoutMs ?? 200);
    this.replyTicks = ticks(opts.replyTimeoutMs ?? 300);
    this.helloAttempts = opts.helloAttempts ?? 3;
    this.lagLimit = Math.max(8, ticks(opts.lagLimitMs ?? 60));
    this.capsTicks = ticks(100);
    this.positions = new Uint16Array(opts.axes);
    this.periodNs = Math.round(1e9 / opts.rateHz);
    this.delayUs = Math.round((opts.playoutDelayMs ?? 0) * 1000);
    this.playoutFits = opts.baud === undefined || checkBandwidth(opts.baud, opts.rateHz, timedSetpointFrameBytes(opts.axes)).ok;
    const sp = this.setPlayoutPayload;
    for (let i = 0; i < 4; i++) sp[i] = Math.floor(this.periodNs / 2 ** (8 * i)) & 0xff;
    sp[4] = this.delayUs & 0xff;
    sp[5] = (this.delayUs >>> 8) & 0xff;
    this.n[N.gen] = -1;
    this.n[N.lastTx] = -1;
    if (!this.feedback) this.mcu = Mcu.noFeedback;
  }

  get linkUp(): boolean {
    return this.phase === LinkPhase.ready;
  }
  get generation(): number {
    return this.n[N.gen]!;
  }
  /** The sequence number the next frame gets. */
  get nextSeq(): number {
    return this.n[N.seq]!;
  }
  get framesWritten(): number {
    return this.n[N.frames]!;
  }
  get writeErrors(): number {
    return this.n[N.writeErrors]!;
  }
  get commandsSent(): number {
    return this.n[N.commands]!;
  }
  get sessions(): number {
    return this.n[N.sessions]!;
  }

  /** Tick k: takes the serial side's newest snapshot and judges the session. */
  observe(port: Float64Array, k: number): void {
    const n = this.n;
    this.newPositions = false;
    this.lostNow = false;
    const gen = port[Port.generation]!;
    const open = port[Port.fd]! !== FD_NONE;
    if (gen !== n[N.gen]) {
      n[N.gen] = gen;
      // Only what this session's MCU says from now on counts (a HELLO_ACK can only answer our HELLO).
      n[N.statusSeen] = port[Port.statusCount]!;
      n[N.helloSeen] = port[Port.helloCount]!;
      this.positionsKnown = false;
      this.mcu = this.feedback ? Mcu.unknown : Mcu.noFeedback;
      this.loss = LinkLoss.none;
      this.playout = false;
      this.playoutWhy = this.feedback ? PlayoutWhy.disabled : PlayoutWhy.noFeedback;
      n[N.hs] = Hs.idle;
      if (!open) {
        this.phase = LinkPhase.down;
        return;
      }
      n[N.sessions] = n[N.sessions]! + 1;
      if (!this.feedback) {
        this.phase = LinkPhase.ready;
        return;
      }
      this.phase = LinkPhase.handshaking;
      n[N.helloTries] = 0;
      n[N.helloAt] = -1e12;
    } else if (!open && (this.phase === LinkPhase.handshaking || this.phase === LinkPhase.ready)) {
      return this.lose(LinkLoss.portClosed);
    }

    n[N.tick] = k;
    if (this.phase === LinkPhase.handshaking) {
      if (port[Port.helloCount]! !== n[N.helloSeen]) {
        n[N.helloSeen] = port[Port.helloCount]!;
        if (port[Port.helloVersion] !== RIGLINK_VERSION || port[Port.helloAxes] !== this.axes) return this.lose(LinkLoss.helloRefused);
        this.phase = LinkPhase.ready;
        n[N.statusAt] = k;
        if (this.delayUs <= 0) return;
        // Negotiated beside the running core session; GET_CAPS next tick, so a due ESTOP goes first.
        this.playoutWhy = PlayoutWhy.negotiating;
        n[N.hs] = Hs.caps;
        n[N.capsTries] = 0;
        n[N.capsAt] = k - this.capsTicks + 1;
        n[N.capsSeen] = port[Port.capsCount]!;
        n[N.ackSeen] = port[Port.ackCount]!;
      } else if (k - n[N.helloAt]! >= this.replyTicks) {
        if (n[N.helloTries]! >= this.helloAttempts) return this.lose(LinkLoss.noHelloAck);
        n[N.helloTries] = n[N.helloTries]! + 1;
        n[N.helloAt] = k;
        this.writeMessage(MessageType.HELLO, this.helloPayload);
      }
      return;
    }

    if (this.phase !== LinkPhase.ready || !this.feedback) return;
    if (n[N.hs] !== Hs.idle) this.negotiatePlayout(port, k);
    if (port[Port.statusCount]! !== n[N.statusSeen]) {
      n[N.statusSeen] = port[Port.statusCount]!;
      n[N.statusAt] = k;
      this.mcu = port[Port.mcuState]!;
      for (let i = 0; i < this.axes; i++) this.positions[i] = port[Port.positions + i]!;
      this.positionsKnown = true;
      this.newPositions = true;
      // An MCU that stopped reading: STATUS after STATUS says it took nothing new (each says what
      // it had read when it sent it, so a STATUS we read late proves nothing), while what we
      // wrote is more than lagLimit frames ahead of it.
      const behind = (n[N.lastTx]! - port[Port.lastSeq]! + 0x10000) & 0xffff;
      if (n[N.lastTx]! >= 0 && port[Port.statusStuck]! >= STUCK_STATUS && behind > this.lagLimit) return this.lose(LinkLoss.mcuLagging);
      n[N.quiet] = n[N.quiet]! + 1;
    } else if (k - n[N.statusAt]! > this.statusTimeoutTicks) return this.lose(LinkLoss.noStatus);
    if (!this.playout) return;
    if (port[Port.playoutCount]! !== n[N.playoutSeen]) this.watchPlayout(port);
    // PLAYOUT_STATUS follows every STATUS while the MCU plays out: 5 STATUS without one, and it
    // no longer does (it reset without a new HELLO from us): configure it again.
    if (n[N.quiet]! >= OUTSIDE_STREAK) this.replayout();
  }

  /** GET_CAPS, then SET_PLAYOUT (PROTOCOL.md §7.2), on a ready session. */
  private negotiatePlayout(port: Float64Array, k: number): void {
    const n = this.n;
    if (n[N.hs] === Hs.caps) {
      if (port[Port.capsCount]! !== n[N.capsSeen]) {
        const why =
          (port[Port.capsFeatures]! & FEATURE_PLAYOUT) === 0
            ? PlayoutWhy.noFeature
            : this.periodNs < port[Port.capsMinPeriodNs]! || this.periodNs > port[Port.capsMaxPeriodNs]! || this.delayUs > port[Port.capsMaxDelayUs]!
              ? PlayoutWhy.limits
              : !this.playoutFits
                ? PlayoutWhy.bandwidth
                : PlayoutWhy.none;
        if (why !== PlayoutWhy.none) return this.decide(why);
        n[N.hs] = Hs.setPlayout;
        n[N.capsAt] = k;
        n[N.playoutSeq] = n[N.seq]!;
        this.writeMessage(MessageType.SET_PLAYOUT, this.setPlayoutPayload);
      } else if (k - n[N.capsAt]! >= this.capsTicks) {
        // A core-only MCU counts GET_CAPS as an unknown type and says nothing.
        if (n[N.capsTries]! >= CAPS_ATTEMPTS) return this.decide(PlayoutWhy.noCaps);
        n[N.capsTries] = n[N.capsTries]! + 1;
        n[N.capsAt] = k;
        this.writeMessage(MessageType.GET_CAPS, EMPTY);
      }
      return;
    }
    if (port[Port.ackCount]! !== n[N.ackSeen]) {
      n[N.ackSeen] = port[Port.ackCount]!;
      if (port[Port.ackType] === MessageType.SET_PLAYOUT && port[Port.ackSeq] === n[N.playoutSeq]) {
        this.decide(port[Port.ackResult] === AckResult.ok ? PlayoutWhy.none : PlayoutWhy.refused);
      }
    } else if (k - n[N.capsAt]! >= this.capsTicks) this.decide(PlayoutWhy.noAck);
  }

  private decide(why: number): void {
    this.n[N.hs] = Hs.idle;
    this.playoutWhy = why;
    this.playout = why === PlayoutWhy.none;
    this.n[N.playoutSeen] = this.n[N.outsideStreak] = this.n[N.quiet] = 0;
  }

  /** An MCU that drops every timed frame as outside its window (its anchor no longer fits): re-anchor. */
  private watchPlayout(port: Float64Array): void {
    const n = this.n;
    n[N.playoutSeen] = port[Port.playoutCount]!;
    const outsideGrew = port[Port.poOutside]! !== n[N.outsideSeen];
    const acceptedGrew = port[Port.poAccepted]! !== n[N.acceptedSeen];
    n[N.outsideSeen] = port[Port.poOutside]!;
    n[N.acceptedSeen] = port[Port.poAccepted]!;
    n[N.outsideStreak] = outsideGrew && !acceptedGrew ? n[N.outsideStreak]! + 1 : 0;
    n[N.quiet] = 0;
    if (n[N.outsideStreak]! >= OUTSIDE_STREAK) this.replayout();
  }

  private replayout(): void {
    const n = this.n;
    n[N.outsideStreak] = 0;
    n[N.quiet] = 0;
    n[N.replays] = n[N.replays]! + 1;
    this.writeMessage(MessageType.SET_PLAYOUT, this.setPlayoutPayload);
  }

  /** SET_PLAYOUT sent again: the MCU dropped every frame (re-anchoring), or stopped reporting playout. */
  get playoutReanchors(): number {
    return this.n[N.replays]!;
  }

  /** A command (ENABLE, PARK, ESTOP, CLEAR_ESTOP) on a ready session; false if not written. */
  sendCommand(type: number): boolean {
    if (this.phase !== LinkPhase.ready) return false;
    this.n[N.commands] = this.n[N.commands]! + 1;
    return this.writeMessage(type, EMPTY);
  }

  /** This tick's SETPOINT; only once this session's MCU has said where the actuators are. */
  sendSetpoint(motionActive: boolean, wire: Uint16Array): boolean {
    if (this.phase !== LinkPhase.ready || !(this.positionsKnown || !this.feedback)) return false;
    if (this.playout) return this.write(this.timed.frame, this.timed.encode(this.n[N.seq]!, motionActive ? 1 : 0, this.n[N.tick]!, wire, this.axes));
    const len = this.setpoints.encode(this.n[N.seq]!, motionActive ? 1 : 0, wire, this.axes);
    return this.write(this.setpoints.frame, len);
  }

  /** Bytes for an output with its own format (template): same backpressure rule. */
  sendRaw(frame: Uint8Array, length: number): boolean {
    if (this.phase !== LinkPhase.ready) return false;
    return this.write(frame, length);
  }

  private writeMessage(type: number, payload: Uint8Array): boolean {
    const len = this.commands.encode(type, this.n[N.seq]!, payload);
    return this.write(this.commands.frame, len);
  }

  private write(frame: Uint8Array, length: number): boolean {
    const n = this.n;
    if (!this.sink.write(frame, length)) {
      n[N.writeErrors] = n[N.writeErrors]! + 1;
      this.lose(LinkLoss.backpressure);
      return false;
    }
    n[N.lastTx] = n[N.seq]!;
    n[N.seq] = (n[N.seq]! + 1) & 0xffff;
    n[N.frames] = n[N.frames]! + 1;
    return true;
  }

  private lose(reason: number): void {
    this.phase = LinkPhase.lost;
    this.loss = reason;
    this.lostNow = true;
    this.positionsKnown = false;
    this.mcu = this.feedback ? Mcu.unknown : Mcu.noFeedback;
  }
}

const EMPTY = new Uint8Array(0);
/** GET_CAPS tries, each waited for capsTicks (100 ms); PLAYOUT_STATUS with only `outside` growing (or STATUS without one) before SET_PLAYOUT goes again. */
const [CAPS_ATTEMPTS, OUTSIDE_STREAK] = [2, 5];
/** STATUS frames in a row without progress before a lag counts (3 × the 20 ms STATUS period = 60 ms of the MCU's time). */
const STUCK_STATUS = 3;
