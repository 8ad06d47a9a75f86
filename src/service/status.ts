import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Logger } from '../log.js';
import { LEAD_NONE, MCU_STATE_NAMES } from '../output/riglink/protocol.js';
import { LINK_LOSS_NAMES, LINK_PHASE_NAMES, PLAYOUT_WHY_NAMES } from '../runtime/rig-session.js';
import { SeqlockSlot } from '../runtime/shared-slot.js';
import { Control, Port, type SharedBuffers, Status, histogramCount, histogramPercentile } from '../runtime/slots.js';
import { CAUSE_NAMES, COMMAND_NAMES, Mcu, SUPERVISOR_STATE_NAMES } from '../safety/supervisor.js';
import { HOLD_REASON_NAMES } from '../safety/telemetry-watch.js';
import type { Gt7RelayStats } from '../telemetry/gt7/relay.js';

/**
 * The service's status as a rig owner reads it (`motion-rig status`, the status file): the
 * worker's status slot turned into names and units, plus what only the main thread knows.
 */
export interface ServiceStatus {
  pid: number;
  updatedAt: string;
  state: string;
  cause: string;
  holdReason: string;
  engagement: number;
  estop: { trigger: boolean; configKey: boolean; file: string | null; filePresent: boolean };
  link: { type: string; state: string; loss: string; mcu: string; firmware: string; sessions: number; reconnects: number; badFrames: number; badStatus: number; playout: PlayoutStatus };
  loop: { rateHz: number; tick: number; lateTicks: number; skippedTicks: number; maxLatenessUs: number; maxTickUs: number; longTicks: number; latenessP50Us: number; latenessP99Us: number };
  latency: { p50Us: number; p99Us: number; samples: number };
  telemetry: { source: string; samples: number; ratePerS: number; carId: number; profile: string; teleports: number; carChanges: number };
  output: { framesWritten: number; writeErrors: number; commandsSent: number; lastCommand: string; nextSeq: number };
  cue: Record<string, number>;
  pose: Record<string, number>;
  scale: number;
  actuators: number[];
  wire: number[];
  config: { file: string; lastError: string | null; profileErrors: number };
  /** A park asked for on the web page / API stands (the rig stays parked until unparked there). */
  parkRequested: boolean;
  /** The web page's address and where its generated token is kept (null: the config gives it); null when it is off. */
  web: { url: string; tokenFile: string | null } | null;
  /** The GT7 relay's apps and counters; null when it is off. */
  relay: { clients: { address: string; format: string; packets: number }[]; relayed: number; dropped: number; refused: number; garbage: number } | null;
}

/**
 * MCU-timed playout (PROTOCOL.md §7): on, or why not; the MCU's counters from its newest
 * PLAYOUT_STATUS (this session's; zero before the first).
 */
export interface PlayoutStatus {
  on: boolean;
  why: string;
  lastTick: number;
  accepted: number;
  late: number;
  stale: number;
  outside: number;
  overflow: number;
  /** Smallest lead (play time − arrival) the MCU saw in its last report interval, µs; null: none. */
  minLeadUs: number | null;
  rateAdjPpm: number;
  reanchors: number;
}

/** What the main thread adds to the worker's numbers. */
export interface StatusExtras {
  outputType: string;
  source: string;
  configFile: string;
  estopFile: string | undefined;
  firmware: string;
  carId: number;
  profile: string;
  lastConfigError: string | null;
  relay: Gt7RelayStats | undefined;
  web: { url: string; tokenFile: string | null } | undefined;
}

const POSE_KEYS = ['x', 'y', 'z', 'roll', 'pitch', 'yaw'];
const round = (x: number, d = 6) => Math.round(x * 10 ** d) / 10 ** d;

export class StatusView {
  readonly values = new Float64Array(Status.length);
  private readonly slot: SeqlockSlot;
  private readonly port: SeqlockSlot;
  private readonly portValues = new Float64Array(Port.length);
  private readonly control: Int32Array;
  private readonly lateness: Int32Array;
  private readonly latency: Int32Array;
  private samplesAtLastRate = 0;
  private rateAt = performance.now();
  private samplesPerS = 0;

  constructor(buffers: SharedBuffers, private readonly axes: number) {
    this.slot = new SeqlockSlot(buffers.status);
    this.port = new SeqlockSlot(buffers.port);
    this.control = new Int32Array(buffers.control);
    this.lateness = new Int32Array(buffers.lateness);
    this.latency = new Int32Array(buffers.latency);
  }

  /** Refreshes `values` from the worker; false if the worker kept the slot busy (values unchanged). */
  refresh(): boolean {
    return this.slot.read(this.values) >= 0;
  }

  private playout(): PlayoutStatus {
    const v = this.values;
    const p = this.portValues;
    const on = v[Status.playout] === 1;
    return {
      on,
      why: on ? 'mcu-timed' : (PLAYOUT_WHY_NAMES[v[Status.playoutWhy]!] ?? 'disabled'),
      lastTick: p[Port.poLastTick]!,
      accepted: p[Port.poAccepted]!,
      late: p[Port.poLate]!,
      stale: p[Port.poStale]!,
      outside: p[Port.poOutside]!,
      overflow: p[Port.poOverflow]!,
      minLeadUs: p[Port.playoutCount]! === 0 || p[Port.poMinLeadUs] === LEAD_NONE ? null : p[Port.poMinLeadUs]!,
      rateAdjPpm: p[Port.poRateAdjPpm]!,
      reanchors: v[Status.playoutReanchors]!,
    };
  }

  snapshot(x: StatusExtras): ServiceStatus {
    this.refresh();
    this.port.read(this.portValues);
    const v = this.values;
    const now = performance.now();
    if (now - this.rateAt >= 1000) {
      this.samplesPerS = ((v[Status.samples]! - this.samplesAtLastRate) * 1000) / (now - this.rateAt);
      this.samplesAtLastRate = v[Status.samples]!;
      this.rateAt = now;
    }
    const mcu = v[Status.mcu]!;
    const fileOn = Atomics.load(this.control, Control.estopFile) === 1;
    const keyOn = Atomics.load(this.control, Control.estopConfig) === 1;
    const sessions = v[Status.sessions]!;
    return {
      pid: process.pid,
      updatedAt: new Date().toISOString(),
      state: SUPERVISOR_STATE_NAMES[v[Status.state]!] ?? 'starting',
      cause: CAUSE_NAMES[v[Status.cause]!] ?? 'start',
      holdReason: HOLD_REASON_NAMES[v[Status.holdReason]!] ?? 'noTelemetry',
      engagement: round(v[Status.engagement]!, 4),
      estop: { trigger: fileOn || keyOn, configKey: keyOn, file: x.estopFile ?? null, filePresent: fileOn },
      link: {
        type: x.outputType,
        state: x.outputType === 'virtual' ? 'ready' : (LINK_PHASE_NAMES[v[Status.linkPhase]!] ?? 'down'),
        loss: LINK_LOSS_NAMES[v[Status.linkLoss]!] ?? 'none',
        mcu: mcu === Mcu.noFeedback ? 'no feedback' : (MCU_STATE_NAMES[mcu] ?? 'unknown'),
        firmware: x.outputType === 'virtual' ? 'in-process virtual rig' : x.firmware,
        sessions,
        reconnects: Math.max(0, sessions - 1),
        badFrames: this.portValues[Port.badFrames]!,
        badStatus: v[Status.badStatus]!,
        playout: this.playout(),
      },
      loop: {
        rateHz: v[Status.rateHz]!,
        tick: v[Status.tick]!,
        lateTicks: v[Status.lateTicks]!,
        skippedTicks: v[Status.skippedTicks]!,
        maxLatenessUs: round(v[Status.maxLatenessUs]!, 1),
        maxTickUs: round(v[Status.maxTickUs]!, 1),
        longTicks: v[Status.longTicks]!,
        latenessP50Us: histogramPercentile(this.lateness, 50),
        latenessP99Us: histogramPercentile(this.lateness, 99),
      },
      latency: { p50Us: histogramPercentile(this.latency, 50), p99Us: histogramPercentile(this.latency, 99), samples: histogramCount(this.latency) },
      telemetry: {
        source: x.source,
        samples: v[Status.samples]!,
        ratePerS: round(this.samplesPerS, 1),
        carId: x.carId,
        profile: x.profile,
        teleports: v[Status.teleports]!,
        carChanges: v[Status.carChanges]!,
      },
      output: {
        framesWritten: v[Status.framesWritten]!,
        writeErrors: v[Status.writeErrors]!,
        commandsSent: v[Status.commandsSent]!,
        lastCommand: COMMAND_NAMES[v[Status.lastCommand]!] ?? 'none',
        nextSeq: v[Status.txSeq]!,
      },
      cue: Object.fromEntries(POSE_KEYS.map((k, i) => [k, round(v[Status.cue + i]!)])),
      pose: Object.fromEntries(POSE_KEYS.map((k, i) => [k, round(v[Status.pose + i]!)])),
      scale: round(v[Status.scale]!, 4),
      actuators: Array.from({ length: this.axes }, (_, i) => round(v[Status.actuators + i]!)),
      wire: Array.from({ length: this.axes }, (_, i) => v[Status.wire + i]!),
      config: { file: x.configFile, lastError: x.lastConfigError, profileErrors: v[Status.profileErrors]! },
      parkRequested: Atomics.load(this.control, Control.parkRequest) === 1,
      web: x.web ?? null,
      relay: x.relay
        ? {
            clients: x.relay.clients.map((c) => ({ address: c.address, format: c.format, packets: c.packets })),
            relayed: x.relay.relayed,
            dropped: x.relay.dropped,
            refused: x.relay.refused,
            garbage: x.relay.garbage,
          }
        : null,
    };
  }
}

/**
 * Writes the status file atomically (temp file, rename). A failure is logged once when it
 * starts and once when it ends, never per write; while it fails, the old file is removed if
 * possible, so that nobody reads a stale "online" from it.
 */
export class StatusFile {
  private failing = false;

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  write(status: ServiceStatus): void {
    try {
      writeFileSync(`${this.file}.tmp`, `${JSON.stringify(status)}\n`);
      renameSync(`${this.file}.tmp`, this.file);
      if (this.failing) this.log.info({ event: 'status-write-ok', file: this.file }, 'status file written again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) {
        this.log.warn({ event: 'status-write-failed', file: this.file, err: (err as Error).message }, 'cannot write the status file; removing the old one so it is not read as current');
        try {
          rmSync(this.file, { force: true });
        } catch {
          // Nothing more to do: status readers also see updatedAt grow old.
        }
      }
      this.failing = true;
    }
  }
}
