import { type FSWatcher, readFileSync, renameSync, watch, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { SerialPort } from 'serialport';
import { parse as parseYaml } from 'yaml';
import { type CarProfile, type ProfileSet, loadProfiles, profileForCar } from '../config/profiles.js';
import { ConfigError } from '../config/load-yaml.js';
import { type ServiceConfig, loadServiceConfig } from '../config/service-config.js';
import { rigFromSpec } from '../kinematics/load-rig.js';
import type { RigKinematics } from '../kinematics/rig.js';
import type { Logger } from '../log.js';
import { MCU_STATE_NAMES, McuState } from '../output/riglink/protocol.js';
import { SerialLink } from '../output/serial-link.js';
import { toWire } from '../runtime/control-loop.js';
import type { ControlWorkerData } from '../runtime/control-worker.js';
import { SeqlockSlot } from '../runtime/shared-slot.js';
import { Control, FD_VIRTUAL, LINK_SLOT_LENGTH, Link, SAMPLE_SLOT_LENGTH, STATUS_SLOT_LENGTH, Status, TRANSITION_RING, createSharedBuffers, histogramCount, histogramPercentile, packSample } from '../runtime/slots.js';
import { CAUSE_NAMES, COMMAND_NAMES, Mcu, SUPERVISOR_STATE_NAMES, SupervisorState } from '../safety/supervisor.js';
import { HOLD_REASON_NAMES } from '../safety/telemetry-watch.js';
import { F1Client } from '../telemetry/f1/client.js';
import type { MotionSample } from '../telemetry/motion-sample.js';
import { Gt7Client } from '../telemetry/gt7/client.js';
import { parsePhases } from '../telemetry/frame-clock.js';
import { ConsoleSimulator } from '../telemetry/gt7/console-simulator.js';
import { readCapture } from '../telemetry/recording.js';
import { EstopFileWatch } from './estop-watch.js';
import { SystemdNotifier } from './systemd.js';

/**
 * `motion-rig run`: the main thread's half of the service. It owns everything that is I/O
 * and not per tick — telemetry (UDP), the serial session (handshake, STATUS, reconnects),
 * config and profile files, the e-stop triggers, logs, the status file and systemd — and
 * hands numbers to the control worker through shared slots (src/runtime/slots.ts).
 */
export interface ServiceStatus {
  pid: number;
  updatedAt: string;
  state: string;
  cause: string;
  holdReason: string;
  engagement: number;
  estop: { trigger: boolean; configKey: boolean; file: string | null; filePresent: boolean };
  link: { type: string; state: string; mcu: string; firmware: string; reconnects: number; badFrames: number };
  loop: { rateHz: number; tick: number; lateTicks: number; skippedTicks: number; maxLatenessUs: number; latenessP50Us: number; latenessP99Us: number };
  latency: { p50Us: number; p99Us: number; samples: number };
  telemetry: { source: string; samples: number; ratePerS: number; carId: number; profile: string; teleports: number; carChanges: number };
  output: { framesWritten: number; writeErrors: number; commandsSent: number; lastCommand: string };
  cue: Record<string, number>;
  pose: Record<string, number>;
  scale: number;
  actuators: number[];
  wire: number[];
  config: { file: string; lastError: string | null };
}

const POSE_KEYS = ['x', 'y', 'z', 'roll', 'pitch', 'yaw'];
const WORKER_URL = new URL('../runtime/control-worker.js', import.meta.url);

export class MotionService {
  readonly config: ServiceConfig;
  private readonly log: Logger;
  private readonly buffers = createSharedBuffers();
  private readonly control = new Int32Array(this.buffers.control);
  private readonly sampleSlot = new SeqlockSlot(this.buffers.sample);
  private readonly linkSlot = new SeqlockSlot(this.buffers.link);
  private readonly statusSlot = new SeqlockSlot(this.buffers.status);
  private readonly lateness = new Int32Array(this.buffers.lateness);
  private readonly latency = new Int32Array(this.buffers.latency);
  private readonly sampleValues = new Float64Array(SAMPLE_SLOT_LENGTH);
  private readonly linkValues = new Float64Array(LINK_SLOT_LENGTH);
  private readonly statusValues = new Float64Array(STATUS_SLOT_LENGTH);
  private readonly rig: RigKinematics;
  private readonly notifier: SystemdNotifier;
  private readonly profilesChannel = new MessageChannel();
  private worker: Worker | undefined;
  private workerExit: Promise<number> | undefined;
  private link: SerialLink | undefined;
  private templatePort: SerialPort | undefined;
  private client: Gt7Client | F1Client | undefined;
  /** Which game's car ids the profiles are matched on. */
  private readonly game: 'gt7' | 'f1';
  private simulator: ConsoleSimulator | undefined;
  private estopFile: EstopFileWatch | undefined;
  private estopConfigKey: boolean;
  private profiles: ProfileSet;
  private profile: CarProfile;
  private carId = -1;
  private linkGeneration = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly watchers: FSWatcher[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly transitions = new Int32Array(this.buffers.transitions);
  private transitionsSeen = 0;
  private lastHoldReason = -1;
  private lastTickForWatchdog = -1;
  private lastConfigError: string | null = null;
  private samplesAtLastRate = 0;
  private rateAt = performance.now();
  private samplesPerS = 0;
  private stopping: Promise<void> | undefined;
  private readyNotified = false;

  constructor(config: ServiceConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.rig = rigFromSpec(config.rig);
    this.notifier = new SystemdNotifier(log);
    this.profiles = loadProfiles(config.profiles.dir, config.profiles.default);
    this.profile = this.profiles.base;
    this.estopConfigKey = config.safety.estop;
    this.game = config.source.type === 'f1' ? 'f1' : 'gt7';
  }

  /** Starts everything; resolves once the control loop runs (the rig stays parked until telemetry is fresh). */
  async start(): Promise<void> {
    const c = this.config;
    this.log.info({ event: 'starting', config: c.file, source: c.source.type, output: c.output.type, rateHz: c.loop.rateHz, rig: c.rig.name ?? c.rig.type, actuators: this.rig.actuatorCount }, 'motion-rig starting');
    this.publishLink(false, -1);
    if (c.safety.estopFile) this.estopFile = new EstopFileWatch(c.safety.estopFile, () => this.updateEstopTrigger());
    this.updateEstopTrigger();
    this.startWorker();
    await this.startOutput();
    await this.startTelemetry();
    this.watchFiles();
    this.timers.push(setInterval(() => this.poll(), 10));
    if (c.status.file) this.timers.push(setInterval(() => this.writeStatusFile(), 100));
    if (this.notifier.watchdogIntervalMs > 0) this.timers.push(setInterval(() => this.watchdog(), this.notifier.watchdogIntervalMs));
    process.on('SIGUSR2', this.onClearEstop);
  }

  /** Parks through the ramp, sends PARK, waits (bounded) for the MCU to report parked, then stops. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** The latest status snapshot (what the status file holds). */
  status(): ServiceStatus {
    const v = this.statusValues;
    this.statusSlot.read(v);
    const n = this.rig.actuatorCount;
    const round = (x: number, d = 6) => Math.round(x * 10 ** d) / 10 ** d;
    const now = performance.now();
    if (now - this.rateAt >= 1000) {
      this.samplesPerS = ((v[Status.samples]! - this.samplesAtLastRate) * 1000) / (now - this.rateAt);
      this.samplesAtLastRate = v[Status.samples]!;
      this.rateAt = now;
    }
    const mcu = v[Status.mcu]!;
    const ls = this.link;
    return {
      pid: process.pid,
      updatedAt: new Date().toISOString(),
      state: SUPERVISOR_STATE_NAMES[v[Status.state]!] ?? 'starting',
      cause: CAUSE_NAMES[v[Status.cause]!] ?? 'start',
      holdReason: HOLD_REASON_NAMES[v[Status.holdReason]!] ?? 'noTelemetry',
      engagement: round(v[Status.engagement]!, 4),
      estop: { trigger: Atomics.load(this.control, Control.estop) === 1, configKey: this.estopConfigKey, file: this.config.safety.estopFile ?? null, filePresent: this.estopFile?.present ?? false },
      link: {
        type: this.config.output.type,
        state: ls ? ls.state : this.linkValues[Link.up] === 1 ? 'ready' : 'closed',
        mcu: mcu === Mcu.noFeedback ? 'no feedback' : (MCU_STATE_NAMES[mcu] ?? 'unknown'),
        firmware: ls?.firmware ?? (this.config.output.type === 'virtual' ? 'in-process virtual rig' : ''),
        reconnects: ls?.counters.reconnects ?? 0,
        badFrames: ls ? ls.counters.badCrc + ls.counters.badCobs + ls.counters.truncated + ls.counters.oversize + ls.counters.unknownType + ls.counters.badLength : 0,
      },
      loop: {
        rateHz: this.config.loop.rateHz,
        tick: v[Status.tick]!,
        lateTicks: v[Status.lateTicks]!,
        skippedTicks: v[Status.skippedTicks]!,
        maxLatenessUs: round(v[Status.maxLatenessUs]!, 1),
        latenessP50Us: histogramPercentile(this.lateness, 50),
        latenessP99Us: histogramPercentile(this.lateness, 99),
      },
      latency: { p50Us: histogramPercentile(this.latency, 50), p99Us: histogramPercentile(this.latency, 99), samples: histogramCount(this.latency) },
      telemetry: {
        source: this.config.source.type,
        samples: v[Status.samples]!,
        ratePerS: round(this.samplesPerS, 1),
        carId: this.carId,
        profile: this.profile.name,
        teleports: v[Status.teleports]!,
        carChanges: v[Status.carChanges]!,
      },
      output: { framesWritten: v[Status.framesWritten]!, writeErrors: v[Status.writeErrors]!, commandsSent: v[Status.commandsSent]!, lastCommand: COMMAND_NAMES[v[Status.lastCommand]!] ?? 'none' },
      cue: Object.fromEntries(POSE_KEYS.map((k, i) => [k, round(v[Status.cue + i]!)])),
      pose: Object.fromEntries(POSE_KEYS.map((k, i) => [k, round(v[Status.pose + i]!)])),
      scale: round(v[Status.scale]!, 4),
      actuators: Array.from({ length: n }, (_, i) => round(v[Status.actuators + i]!)),
      wire: Array.from({ length: n }, (_, i) => v[Status.wire + i]!),
      config: { file: this.config.file, lastError: this.lastConfigError },
    };
  }

  /** The µs histograms of tick lateness and sample-to-frame latency (for the bench). */
  histograms(): { lateness: Int32Array; latency: Int32Array } {
    return { lateness: this.lateness, latency: this.latency };
  }

  // ---- control worker ------------------------------------------------------------------
  private startWorker(): void {
    const c = this.config;
    const data: ControlWorkerData & { controlWorker: true } = {
      controlWorker: true,
      buffers: this.buffers,
      rig: c.rig,
      profile: this.profile.cue,
      rateHz: c.loop.rateHz,
      maxSpinUs: c.loop.maxSpinUs,
      output: c.output.type === 'template' ? 'template' : 'riglink',
      template: c.template,
      supervisor: { engageSeconds: c.safety.engageSeconds, disengageSeconds: c.safety.disengageSeconds, parkSpeedFraction: c.safety.parkSpeedFraction },
      watch: { staleMs: c.safety.staleMs, settleMs: c.safety.settleMs, teleportHoldMs: c.safety.teleportHoldMs, carChangeHoldMs: c.safety.carChangeHoldMs },
      profiles: this.profilesChannel.port2,
      virtualPark: toWire(this.rig.geometry.actuators.park, this.rig.geometry.actuators),
    };
    const worker = new Worker(WORKER_URL, { workerData: data, transferList: [this.profilesChannel.port2] });
    this.worker = worker;
    this.workerExit = new Promise((resolve) => worker.once('exit', resolve));
    worker.on('message', (msg: { timerSlackNs?: number | null }) => {
      if (msg.timerSlackNs === undefined) return;
      if (msg.timerSlackNs === null) this.log.warn({ event: 'timer-slack', timerSlackNs: null }, 'could not set the control thread\'s timer slack; ticks may start later');
      else this.log.info({ event: 'timer-slack', timerSlackNs: msg.timerSlackNs }, `control thread timer slack ${msg.timerSlackNs} ns`);
    });
    worker.on('error', (err) => {
      // The loop died: nothing writes setpoints any more, so the MCU's watchdog holds and parks.
      this.log.fatal({ event: 'worker-error', err: err.message, stack: err.stack }, 'control loop crashed; the MCU watchdog will park the rig');
      process.exitCode = 1;
      void this.stop();
    });
  }

  // ---- output --------------------------------------------------------------------------
  private publishLink(up: boolean, fd: number, mcu: number = Mcu.unknown): void {
    const v = this.linkValues;
    v[Link.up] = up ? 1 : 0;
    v[Link.generation] = this.linkGeneration;
    v[Link.fd] = fd;
    v[Link.mcu] = mcu;
    this.linkSlot.write(v);
  }

  private async startOutput(): Promise<void> {
    const c = this.config;
    const axes = this.rig.actuatorCount;
    if (c.output.type === 'virtual') {
      this.linkGeneration++;
      this.publishLink(true, FD_VIRTUAL);
      this.log.info({ event: 'output', type: 'virtual' }, 'output: in-process virtual rig (nothing physical moves)');
      this.ready();
      return;
    }
    const s = c.output.serial;
    if (c.output.type === 'template') {
      this.openTemplatePort();
      this.ready();
      return;
    }
    const link = new SerialLink({ path: s.path, baud: s.baud, axes, dtr: s.dtr, rts: s.rts, lowLatency: s.lowLatency, logger: this.log });
    this.link = link;
    link.onState((state) => {
      if (state === 'ready') {
        this.linkGeneration++;
        this.linkValues[Link.statusCount] = 0;
        this.publishLink(true, link.fileDescriptor, Mcu.unknown);
        this.ready();
      } else this.publishLink(false, -1, Mcu.unknown);
    });
    link.onStatus((st) => {
      const v = this.linkValues;
      v[Link.mcu] = McuState[st.state];
      v[Link.statusCount] = v[Link.statusCount]! + 1;
      for (let i = 0; i < axes; i++) v[Link.positions + i] = st.positions[i]!;
      this.linkSlot.write(v);
    });
    // Does not wait for the rig: the service runs (and reports) while the link keeps trying.
    void link.start();
  }

  private openTemplatePort(): void {
    const s = this.config.output.serial;
    const port = new SerialPort({ path: s.path, baudRate: s.baud, autoOpen: false, lock: true, hupcl: false });
    port.open((err) => {
      if (err) {
        this.log.warn({ event: 'open-failed', path: s.path, err: err.message }, 'template output port did not open; retrying in 1 s');
        if (!this.stopping) setTimeout(() => this.openTemplatePort(), 1000).unref();
        return;
      }
      this.templatePort = port;
      this.linkGeneration++;
      this.publishLink(true, (port.port as unknown as { fd: number }).fd);
      this.log.info({ event: 'link', state: 'ready', path: s.path }, 'template output port open (no feedback from the controller)');
      port.on('close', () => {
        this.publishLink(false, -1);
        this.log.warn({ event: 'link-lost', path: s.path }, 'template output port closed');
        if (!this.stopping) setTimeout(() => this.openTemplatePort(), 1000).unref();
      });
    });
  }

  private ready(): void {
    if (this.readyNotified) return;
    this.readyNotified = true;
    this.notifier.notify('READY=1', 'STATUS=running');
    this.log.info({ event: 'ready' }, 'ready');
  }

  // ---- telemetry -----------------------------------------------------------------------
  private async startTelemetry(): Promise<void> {
    const c = this.config;
    if (c.source.type === 'f1') {
      const f1 = await F1Client.start({ port: c.source.f1.port, bindAddress: c.source.f1.bind, sender: c.source.f1.sender, logger: this.log });
      this.client = f1;
      this.log.info({ event: 'telemetry', source: 'f1', port: f1.port, sender: c.source.f1.sender ?? 'first to send' }, `telemetry: F1 on UDP ${f1.port}`);
      f1.onTelemetry((t) => this.onSample(t.sample, t.receiveTimeNs));
      return;
    }
    let console = c.source.gt7.console;
    let consolePort: number | undefined;
    if (c.source.type === 'simulator' || c.source.type === 'replay') {
      this.simulator = await ConsoleSimulator.start({
        host: '127.0.0.1',
        port: 0,
        discoveryPort: null,
        phases: c.source.type === 'simulator' ? parsePhases(c.source.simulator.phases) : undefined,
        recording: c.source.type === 'replay' ? readCapture(c.source.replay.file!) : undefined,
        logger: this.log,
      });
      console = '127.0.0.1';
      consolePort = this.simulator.port;
    }
    const discover = console === 'discover';
    this.client = await Gt7Client.start({
      console: discover ? undefined : console,
      discover,
      consolePort,
      heartbeat: c.source.type === 'gt7' ? c.source.gt7.heartbeat : 'B',
      telemetryPort: c.source.type === 'gt7' ? c.source.gt7.telemetryPort : 0,
      logger: this.log,
    });
    this.log.info({ event: 'telemetry', source: c.source.type, console, port: this.client.port }, `telemetry: ${c.source.type}`);
    this.client.onTelemetry((t) => this.onSample(t.sample, t.receiveTimeNs));
  }

  private onSample(sample: MotionSample, receiveTimeNs: number): void {
    packSample(sample, performance.timeOrigin + receiveTimeNs / 1e6, this.sampleValues);
    this.sampleSlot.write(this.sampleValues);
    if (sample.carId !== this.carId && sample.carId !== -1) this.carChanged(sample.carId);
  }

  private carChanged(carId: number): void {
    this.carId = carId;
    const next = profileForCar(this.profiles, this.game, carId);
    this.log.info({ event: 'car', carId, profile: next.name }, `car ${carId}: profile ${next.name}`);
    if (next !== this.profile) this.sendProfile(next);
  }

  private sendProfile(p: CarProfile): void {
    this.profile = p;
    this.profilesChannel.port1.postMessage({ profile: p.cue });
    Atomics.add(this.control, Control.profileVersion, 1);
  }

  // ---- e-stop --------------------------------------------------------------------------
  private updateEstopTrigger(): void {
    const file = this.estopFile?.present ?? false;
    const on = this.estopConfigKey || file;
    const was = Atomics.exchange(this.control, Control.estop, on ? 1 : 0) === 1;
    if (on !== was) {
      if (on) this.log.error({ event: 'estop-trigger', configKey: this.estopConfigKey, file: this.config.safety.estopFile, filePresent: file }, 'E-STOP triggered');
      else this.log.warn({ event: 'estop-trigger-gone' }, 'e-stop trigger gone; run `motion-rig clear-estop` to re-arm');
    }
  }

  private readonly onClearEstop = (): void => {
    Atomics.add(this.control, Control.clearRequests, 1);
    const present = Atomics.load(this.control, Control.estop) === 1;
    this.log.warn({ event: 'clear-estop', triggerPresent: present }, present ? 'clear-estop refused: the trigger is still present' : 'clear-estop: re-arming');
  };

  // ---- files ---------------------------------------------------------------------------
  private watchFiles(): void {
    const c = this.config;
    const watchDir = (dir: string, names: ((n: string) => boolean) | undefined, fast: boolean) => {
      try {
        const w = watch(dir, (_e, name) => {
          if (name !== null && names && !names(name)) return;
          if (fast) this.fastEstopCheck();
          clearTimeout(this.reloadTimer);
          this.reloadTimer = setTimeout(() => this.reload(), 150);
        });
        w.on('error', () => w.close());
        this.watchers.push(w);
      } catch (err) {
        this.log.warn({ event: 'watch-failed', dir, err: (err as Error).message }, 'cannot watch for changes');
      }
    };
    // Folders, not files: editors replace files by renaming, which ends a file watch.
    watchDir(dirname(c.file), (n) => n === basename(c.file), true);
    if (c.rigFile) watchDir(dirname(c.rigFile), (n) => n === basename(c.rigFile!), false);
    watchDir(c.profiles.dir, (n) => /\.ya?ml$/.test(n), false);
  }

  /** `safety.estop: true` acts at once, even if the rest of the file is mid-edit or invalid. */
  private fastEstopCheck(): void {
    try {
      const raw = parseYaml(readFileSync(this.config.file, 'utf8')) as { safety?: { estop?: unknown } } | null;
      if (raw?.safety?.estop === true && !this.estopConfigKey) {
        this.estopConfigKey = true;
        this.updateEstopTrigger();
      }
    } catch {
      // The full reload reports it.
    }
  }

  private reload(): void {
    const c = this.config;
    let next: ServiceConfig;
    let profiles: ProfileSet;
    try {
      next = loadServiceConfig(c.file, this.overrides);
      profiles = loadProfiles(next.profiles.dir, next.profiles.default);
    } catch (err) {
      this.lastConfigError = err instanceof ConfigError ? err.message : String(err);
      this.log.error({ event: 'config-refused', problems: err instanceof ConfigError ? err.problems : undefined, err: this.lastConfigError }, `config change refused, keeping the last good one: ${this.lastConfigError}`);
      return;
    }
    this.lastConfigError = null;
    if (next.safety.estop !== this.estopConfigKey) {
      this.estopConfigKey = next.safety.estop;
      this.updateEstopTrigger();
    }
    const restart: string[] = [];
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    for (const key of ['source', 'loop', 'rig', 'output', 'status'] as const) if (!same(next[key], c[key])) restart.push(key);
    if (!same({ ...next.safety, estop: 0 }, { ...c.safety, estop: 0 })) restart.push('safety (other than estop)');
    if (restart.length > 0) this.log.warn({ event: 'config-needs-restart', keys: restart }, `changed keys take effect after a restart: ${restart.join(', ')}`);
    this.profiles = profiles;
    const p = this.carId === -1 ? profiles.base : profileForCar(profiles, this.game, this.carId);
    if (!same(p.cue, this.profile.cue) || p.name !== this.profile.name) {
      this.log.info({ event: 'profile-reloaded', profile: p.name }, `profile ${p.name} reloaded; applying through hold`);
      this.sendProfile(p);
    } else this.profile = p;
  }

  /** `--set` overrides given at start apply to reloads too. */
  overrides: string[] = [];

  // ---- status, logs, systemd -----------------------------------------------------------
  /** One log line per state change (from the worker's ring), and per hold reason change while holding. */
  private poll(): void {
    const ring = this.transitions;
    const count = Atomics.load(ring, 0);
    if (count - this.transitionsSeen > TRANSITION_RING) {
      this.log.warn({ event: 'state-log-overrun', missed: count - this.transitionsSeen - TRANSITION_RING }, 'state changes came faster than they could be logged');
      this.transitionsSeen = count - TRANSITION_RING;
    }
    for (; this.transitionsSeen < count; this.transitionsSeen++) {
      const at = 1 + (this.transitionsSeen % TRANSITION_RING) * 4;
      const state = SUPERVISOR_STATE_NAMES[ring[at]!];
      const fields = { event: 'state', state, cause: CAUSE_NAMES[ring[at + 1]!], holdReason: HOLD_REASON_NAMES[ring[at + 2]!], tick: ring[at + 3] };
      if (state === 'estop' || state === 'fault') this.log.error(fields, `state ${state}`);
      else this.log.info(fields, `state ${state}${state === 'hold' ? ` (${fields.holdReason})` : ''}`);
      this.lastHoldReason = ring[at + 2]!;
    }
    const v = this.statusValues;
    if (this.statusSlot.read(v) < 0) return;
    const hold = v[Status.holdReason]!;
    if (v[Status.state] === SupervisorState.hold && hold !== this.lastHoldReason && hold !== 0) {
      this.log.info({ event: 'hold-reason', holdReason: HOLD_REASON_NAMES[hold] }, `holding: ${HOLD_REASON_NAMES[hold]}`);
    }
    this.lastHoldReason = hold;
  }

  private writeStatusFile(): void {
    const file = this.config.status.file!;
    try {
      writeFileSync(`${file}.tmp`, `${JSON.stringify(this.status())}\n`);
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.log.warn({ event: 'status-write-failed', file, err: (err as Error).message }, 'cannot write the status file');
    }
  }

  private watchdog(): void {
    const tick = this.statusValues[Status.tick]!;
    if (tick !== this.lastTickForWatchdog) this.notifier.notify('WATCHDOG=1');
    this.lastTickForWatchdog = tick;
  }

  private async doStop(): Promise<void> {
    this.log.info({ event: 'stopping' }, 'stopping: parking the rig');
    this.notifier.notify('STOPPING=1');
    Atomics.store(this.control, Control.shutdown, 1);
    const deadline = performance.now() + this.config.safety.shutdownTimeoutMs;
    const done = () => {
      this.statusSlot.read(this.statusValues);
      const v = this.statusValues;
      const state = v[Status.state];
      const linkUp = this.linkValues[Link.up] === 1;
      if (!linkUp || state === SupervisorState.estop || state === SupervisorState.fault) return true;
      return state === SupervisorState.parked && (v[Status.mcu] === Mcu.parked || v[Status.mcu] === Mcu.noFeedback);
    };
    while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const parked = done();
    if (!parked) this.log.error({ event: 'park-timeout', timeoutMs: this.config.safety.shutdownTimeoutMs }, 'the rig did not report parked in time; the MCU watchdog takes over');
    this.poll();
    Atomics.store(this.control, Control.stop, 1);
    await this.workerExit;
    process.off('SIGUSR2', this.onClearEstop);
    for (const t of this.timers) clearInterval(t);
    for (const w of this.watchers) w.close();
    clearTimeout(this.reloadTimer);
    this.estopFile?.close();
    if (this.config.status.file) this.writeStatusFile();
    await this.client?.close();
    await this.simulator?.close();
    await this.link?.close();
    if (this.templatePort?.isOpen) await new Promise<void>((r) => this.templatePort!.close(() => r()));
    this.profilesChannel.port1.close();
    this.log.info({ event: 'stopped', parked }, parked ? 'stopped, rig parked' : 'stopped');
  }
}
