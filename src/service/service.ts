import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { CarProfile } from '../config/profiles.js';
import type { ServiceConfig } from '../config/service-config.js';
import { rigFromSpec } from '../kinematics/rig.js';
import type { RigKinematics } from '../kinematics/rig.js';
import type { Logger } from '../log.js';
import { LINK_LOSS_NAMES, LinkPhase, PLAYOUT_WHY_NAMES, PlayoutWhy } from '../runtime/rig-session.js';
import { SeqlockSlot } from '../runtime/shared-slot.js';
import { adjustThreadNice } from '../runtime/thread-scheduling.js';
import { Control, FD_NONE, Port, Status, TRANSITION_RING, Transition, createSharedBuffers } from '../runtime/slots.js';
import { CAUSE_NAMES, Mcu, SUPERVISOR_STATE_NAMES, SupervisorState } from '../safety/supervisor.js';
import { HOLD_REASON_NAMES } from '../safety/telemetry-watch.js';
import { ConfigWatch } from './config-watch.js';
import { ControlThreads } from './control-threads.js';
import { type ServiceStatus, StatusFile, StatusView } from './status.js';
import { SystemdNotifier } from './systemd.js';
import { TelemetryInput } from './telemetry-input.js';
import type { RigControls } from '../web/api.js';
import { type WebPart, startWeb } from '../web/web-service.js';
import { profileRoutes } from '../web/profile-api.js';
import { recordingRoutes } from '../web/recordings-api.js';

export type { ServiceStatus } from './status.js';
export { StartupError } from './control-threads.js';

/**
 * `motion-rig run`: the main thread's half of the service, wiring the parts together. It
 * owns telemetry (UDP), config and profile reloads, the status file, logs and systemd. The
 * control loop, the serial port and the e-stop triggers each run on their own thread
 * (control-threads.ts), so nothing here can delay a frame or a stop.
 *
 * Start order: e-stop watch, telemetry socket, serial port, control loop. Anything that fails
 * before the control loop runs ends the start with one clear message and no frame sent.
 */
export class MotionService {
  readonly config: ServiceConfig;
  private readonly log: Logger;
  private readonly buffers = createSharedBuffers();
  private readonly control = new Int32Array(this.buffers.control);
  private readonly rig: RigKinematics;
  private readonly notifier: SystemdNotifier;
  private readonly view: StatusView;
  private readonly threads: ControlThreads;
  private readonly telemetry: TelemetryInput;
  private readonly configWatch: ConfigWatch;
  private readonly statusFile: StatusFile | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private transitionsSeen = 0;
  private lastHoldReason = -1;
  /** The session and playout decision last logged, and SET_PLAYOUT re-sends seen. */
  private playoutLogged = -1;
  private reanchorsSeen = 0;
  private lastTickForWatchdog = -1;
  private stopping: Promise<void> | undefined;
  private started = false;
  private web: WebPart | undefined;
  private recordings: ReturnType<typeof recordingRoutes> | undefined;

  constructor(config: ServiceConfig, log: Logger, overrides: string[] = []) {
    this.config = config;
    this.log = log;
    this.rig = rigFromSpec(config.rig);
    this.notifier = new SystemdNotifier(log);
    this.view = new StatusView(this.buffers, this.rig.actuatorCount);
    const game = config.source.type === 'f1' ? 'f1' : 'gt7';
    this.configWatch = new ConfigWatch(config, overrides, game, log, (p: CarProfile) => this.threads.sendProfile(p.cue));
    this.threads = new ControlThreads(config, this.rig, this.buffers, log, () => void this.stop());
    this.telemetry = new TelemetryInput(this.buffers, log, (carId) => this.configWatch.selectFor(carId));
    this.configWatch.currentCar = () => this.telemetry.carId;
    this.statusFile = config.status.file ? new StatusFile(config.status.file, log) : undefined;
    this.estopOverride = overrides.some((s) => s.startsWith('safety.estop=')) ? config.safety.estop : undefined;
    // No descriptor until the serial thread opens one (a zeroed slot would say fd 0).
    const port = new Float64Array(Port.length);
    port[Port.fd] = FD_NONE;
    new SeqlockSlot(this.buffers.port).write(port);
  }

  private readonly estopOverride: boolean | undefined;

  /** Starts everything; rejects (nothing sent to the rig) when the telemetry socket or the serial port cannot be had. */
  async start(): Promise<void> {
    const c = this.config;
    this.log.info({ event: 'starting', config: c.file, source: c.source.type, output: c.output.type, rateHz: c.loop.rateHz, rig: c.rig.name ?? c.rig.type, actuators: this.rig.actuatorCount }, 'motion-rig starting');
    try {
      this.threads.startEstop(this.estopOverride);
      await this.telemetry.start(c);
      if (c.output.type !== 'virtual') await this.threads.startSerial();
      else this.log.info({ event: 'output', type: 'virtual' }, 'output: in-process virtual rig (nothing physical moves)');
    } catch (err) {
      this.log.fatal({ event: 'start-failed', err: (err as Error).message }, (err as Error).message);
      await this.threads.stop();
      await this.telemetry.close();
      throw err;
    }
    this.threads.startControl(this.configWatch.profile.cue);
    this.started = true;
    // After the threads exist (they would inherit it): reloads and status writes yield to them.
    adjustThreadNice(5);
    this.configWatch.start();
    this.timers.push(setInterval(() => this.poll(), 10));
    if (this.statusFile) this.timers.push(setInterval(() => this.statusFile!.write(this.status()), 100));
    if (this.notifier.watchdogIntervalMs > 0) this.timers.push(setInterval(() => this.watchdog(), this.notifier.watchdogIntervalMs));
    process.on('SIGUSR2', this.onClearEstop);
    this.recordings = recordingRoutes({ config: c, telemetry: this.telemetry, watch: this.configWatch, log: this.log });
    this.web = await startWeb({
      config: c, buffers: this.buffers, rig: this.rig, log: this.log, controls: this.controls,
      routes: [
        ...profileRoutes({ dir: c.profiles.dir, defaultName: c.profiles.default, rateHz: c.loop.rateHz, watch: this.configWatch, carId: () => this.telemetry.carId }),
        ...this.recordings.routes,
      ],
    });
    this.notifier.notify('READY=1', 'STATUS=running');
    this.log.info({ event: 'ready' }, 'ready');
  }

  /** Parks through the ramp, sends PARK, waits (bounded) for the MCU to report parked, then stops. Later calls get the same promise. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** The latest status snapshot (what the status file holds). */
  status(): ServiceStatus {
    return this.view.snapshot({
      outputType: this.config.output.type,
      source: this.config.source.type,
      configFile: this.config.file,
      estopFile: this.config.safety.estopFile,
      firmware: this.threads.firmware,
      carId: this.telemetry.carId,
      profile: this.configWatch.profile.name,
      lastConfigError: this.configWatch.lastError,
      relay: this.telemetry.relayStats(),
      web: this.web && { url: this.web.url, tokenFile: this.web.tokenFile },
    });
  }

  /**
   * What the web page and its API can make the rig do, over the same control words as the
   * other triggers: an e-stop is an e-stop pulse (latched by the supervisor on the worker's
   * next tick, which sends ESTOP first); park holds Control.parkRequest until unpark; clear
   * is a clear request, refused here (as by the CLI) while a trigger is present.
   */
  readonly controls: RigControls = {
    status: () => this.status(),
    estop: () => void Atomics.add(this.control, Control.estopPulses, 1),
    park: () => Atomics.store(this.control, Control.parkRequest, 1),
    unpark: () => Atomics.store(this.control, Control.parkRequest, 0),
    clearEstop: () => {
      const s = this.status();
      if (s.state !== 'estop') return `not in e-stop (state ${s.state}); nothing to clear`;
      if (s.estop.trigger) return `the e-stop trigger is still present (${[s.estop.configKey ? 'safety.estop is set in the config' : '', s.estop.filePresent ? `${s.estop.file} exists` : ''].filter(Boolean).join(' and ')}); remove it first`;
      this.onClearEstop();
      return undefined;
    },
  };

  /** The µs histograms of tick lateness and sample-to-frame latency (for the bench). */
  histograms(): { lateness: Int32Array; latency: Int32Array } {
    return { lateness: new Int32Array(this.buffers.lateness), latency: new Int32Array(this.buffers.latency) };
  }

  private readonly onClearEstop = (): void => {
    Atomics.add(this.control, Control.clearRequests, 1);
    const present = Atomics.load(this.control, Control.estopFile) === 1 || Atomics.load(this.control, Control.estopConfig) === 1;
    this.log.warn({ event: 'clear-estop', triggerPresent: present }, present ? 'clear-estop refused: the trigger is still present' : 'clear-estop: re-arming');
  };

  /** One log line per state change (from the worker's ring), and per hold reason change while holding. */
  private poll(): void {
    blockForTest();
    const ring = new Int32Array(this.buffers.transitions);
    const count = Atomics.load(ring, 0);
    if (count - this.transitionsSeen > TRANSITION_RING) {
      this.log.warn({ event: 'state-log-overrun', missed: count - this.transitionsSeen - TRANSITION_RING }, 'state changes came faster than they could be logged');
      this.transitionsSeen = count - TRANSITION_RING;
    }
    for (; this.transitionsSeen < count; this.transitionsSeen++) {
      const at = 1 + (this.transitionsSeen % TRANSITION_RING) * Transition.length;
      const state = SUPERVISOR_STATE_NAMES[ring[at + Transition.state]!];
      const cause = CAUSE_NAMES[ring[at + Transition.cause]!];
      const loss = cause === 'linkLost' ? LINK_LOSS_NAMES[ring[at + Transition.linkLoss]!] : undefined;
      const tick = ring[at + Transition.tick]!;
      // When it happened (the grid time of its tick), not when this poll got to it.
      const atMs = Math.round(this.threads.startEpochMs + (tick * 1000) / this.config.loop.rateHz);
      const fields = { event: 'state', state, cause, linkLoss: loss, holdReason: HOLD_REASON_NAMES[ring[at + Transition.holdReason]!], tick, atMs };
      if (state === 'estop' || state === 'fault') this.log.error(fields, `state ${state}${loss ? ` (link lost: ${loss})` : ''}`);
      else this.log.info(fields, `state ${state}${state === 'hold' ? ` (${fields.holdReason})` : ''}`);
      this.lastHoldReason = ring[at + Transition.holdReason]!;
    }
    if (!this.view.refresh()) return;
    const v = this.view.values;
    const hold = v[Status.holdReason]!;
    if (v[Status.state] === SupervisorState.hold && hold !== this.lastHoldReason && hold !== 0) {
      this.log.info({ event: 'hold-reason', holdReason: HOLD_REASON_NAMES[hold] }, `holding: ${HOLD_REASON_NAMES[hold]}`);
    }
    this.lastHoldReason = hold;
    this.logPlayout(v);
  }

  /** One line per session: MCU-timed playout on, or why not (PROTOCOL.md §7.2); one per re-anchoring. */
  private logPlayout(v: Float64Array): void {
    if (this.config.output.type !== 'riglink' || v[Status.linkPhase] !== LinkPhase.ready || v[Status.playoutWhy] === PlayoutWhy.negotiating) return;
    const key = v[Status.sessions]! * 64 + v[Status.playout]! * 16 + v[Status.playoutWhy]!;
    if (key !== this.playoutLogged) {
      this.playoutLogged = key;
      const on = v[Status.playout] === 1;
      const why = PLAYOUT_WHY_NAMES[v[Status.playoutWhy]!];
      const delayMs = this.config.output.playoutDelayMs;
      this.log.info({ event: 'playout', on, why: on ? undefined : why, delayMs }, on ? `MCU-timed playout on, ${delayMs} ms delay` : `MCU-timed playout off (${why}): core SETPOINT`);
    }
    const reanchors = v[Status.playoutReanchors]!;
    if (reanchors > this.reanchorsSeen) this.log.warn({ event: 'playout-reanchor', count: reanchors }, 'the MCU dropped every timed frame as outside its window: SET_PLAYOUT sent again');
    this.reanchorsSeen = reanchors;
  }

  private watchdog(): void {
    const tick = this.view.values[Status.tick]!;
    if (tick !== this.lastTickForWatchdog) this.notifier.notify('WATCHDOG=1');
    this.lastTickForWatchdog = tick;
  }

  private async doStop(): Promise<void> {
    this.log.info({ event: 'stopping' }, 'stopping: parking the rig');
    this.notifier.notify('STOPPING=1');
    Atomics.store(this.control, Control.shutdown, 1);
    const deadline = performance.now() + this.config.safety.shutdownTimeoutMs;
    const v = this.view.values;
    const done = () => {
      if (!this.started) return true;
      this.view.refresh();
      const state = v[Status.state];
      if (v[Status.linkPhase] !== LinkPhase.ready && this.config.output.type !== 'virtual') return true;
      if (state === SupervisorState.estop || state === SupervisorState.fault) return true;
      return state === SupervisorState.parked && (v[Status.mcu] === Mcu.parked || v[Status.mcu] === Mcu.noFeedback);
    };
    while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const parked = done();
    if (!parked) this.log.error({ event: 'park-timeout', timeoutMs: this.config.safety.shutdownTimeoutMs }, 'the rig did not report parked in time; the MCU watchdog takes over');
    this.poll();
    // After the park: until then the page still shows it, and its e-stop still works.
    await this.web?.server.close();
    await this.recordings?.close();
    process.off('SIGUSR2', this.onClearEstop);
    for (const t of this.timers) clearInterval(t);
    this.configWatch.close();
    await this.threads.stop();
    if (this.statusFile) this.statusFile.write(this.status());
    await this.telemetry.close();
    this.log.info({ event: 'stopped', parked }, parked ? 'stopped, rig parked' : 'stopped');
  }
}

/**
 * Test hook: with MOTION_RIG_TEST_BLOCK_MAIN=FILE in the environment, a FILE holding a number
 * of milliseconds makes the main thread busy-wait that long (then FILE is removed), so tests
 * can show that nothing safety-related waits for it.
 */
const BLOCK_FILE = process.env.MOTION_RIG_TEST_BLOCK_MAIN;
function blockForTest(): void {
  if (BLOCK_FILE === undefined || !existsSync(BLOCK_FILE)) return;
  const ms = Number(readFileSync(BLOCK_FILE, 'utf8')) || 0;
  rmSync(BLOCK_FILE, { force: true });
  const until = performance.now() + Math.min(ms, 10_000);
  while (performance.now() < until);
}
