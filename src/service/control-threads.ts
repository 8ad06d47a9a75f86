import { MessageChannel, Worker } from 'node:worker_threads';
import type { CueProfile } from '../cueing/profile.js';
import type { ServiceConfig } from '../config/service-config.js';
import type { RigKinematics } from '../kinematics/rig.js';
import type { Logger } from '../log.js';
import type { LinkEvent } from '../output/serial-link.js';
import { toWire } from '../runtime/control-loop.js';
import type { ControlWorkerData } from '../runtime/control-worker.js';
import type { SerialThreadData } from '../runtime/serial-thread.js';
import { Control, type SharedBuffers } from '../runtime/slots.js';
import type { ThreadPolicy } from '../runtime/thread-scheduling.js';
import type { EstopEvent } from './estop-watch.js';
import type { EstopThreadData, EstopThreadRealtime } from './estop-thread.js';

/**
 * The service's three threads besides the main one, started and stopped in order:
 *   - the e-stop thread (e-stop file and config key → control words);
 *   - the serial thread (the rig's port: open, read, flush, reopen);
 *   - the control worker (the fixed-rate loop; writes every frame).
 * Their events become log lines here. A thread that dies is fatal: the service parks and
 * exits non-zero (systemd restarts it); if it was the control worker, the MCU's watchdog parks.
 */
const CONTROL_URL = new URL('../runtime/control-worker.js', import.meta.url);
const SERIAL_URL = new URL('../runtime/serial-thread.js', import.meta.url);
const ESTOP_URL = new URL('./estop-thread.js', import.meta.url);

export class StartupError extends Error {}

export class ControlThreads {
  firmware = '';
  /** Epoch ms of the control loop's tick 0 (NaN until it runs). */
  startEpochMs = Number.NaN;
  private control: Worker | undefined;
  private serial: Worker | undefined;
  private estop: Worker | undefined;
  private readonly words: Int32Array;
  private readonly profiles = new MessageChannel();

  constructor(
    private readonly config: ServiceConfig,
    private readonly rig: RigKinematics,
    private readonly buffers: SharedBuffers,
    private readonly log: Logger,
    /** A thread died: the service must stop. */
    private readonly onFatal: () => void,
  ) {
    this.words = new Int32Array(buffers.control);
  }

  startEstop(configOverride: boolean | undefined): void {
    const c = this.config;
    const data: EstopThreadData = {
      estopThread: true,
      control: this.buffers.control,
      watch: { file: c.safety.estopFile, configFile: c.file, configOverride },
      realtimePriority: c.loop.realtimePriority,
    };
    const w = new Worker(ESTOP_URL, { workerData: data });
    this.estop = w;
    w.on('message', (e: EstopEvent | EstopThreadRealtime) => {
      if (e.event === 'estop-thread-realtime') {
        if (e.realtime.error !== undefined) this.log.warn({ event: 'realtime', thread: 'estop', ...e.realtime }, `e-stop thread not real-time (${e.realtime.error})`);
        else this.log.info({ event: 'realtime', thread: 'estop', ...e.realtime }, `e-stop thread SCHED_FIFO priority ${e.realtime.priority}`);
      } else if (e.event === 'estop-file') this.log.error({ ...e, file: c.safety.estopFile }, e.pulse ? 'E-STOP: the e-stop file appeared and went again' : e.present ? 'E-STOP: the e-stop file exists' : 'e-stop file gone; run `motion-rig clear-estop` to re-arm');
      else if (e.event === 'estop-config') this.log.error(e, e.estop ? 'E-STOP: safety.estop is set in the config' : 'safety.estop cleared in the config; run `motion-rig clear-estop` to re-arm');
      else if (e.event === 'estop-config-unreadable') this.log.warn(e, 'the config file does not parse; the e-stop key keeps its last state');
      else this.log.warn(e, `e-stop watch on ${e.dir} fell back to polling`);
    });
    this.watchExit(w, 'e-stop thread');
  }

  /** Resolves once the port opened; rejects with one clear line when the first attempt fails. */
  startSerial(): Promise<void> {
    const c = this.config;
    const s = c.output.serial;
    const data: SerialThreadData = {
      serialThread: true,
      buffers: this.buffers,
      link: { path: s.path, baud: s.baud, axes: this.rig.actuatorCount, dtr: s.dtr, rts: s.rts, lowLatency: s.lowLatency, feedback: c.output.type === 'riglink' },
    };
    const w = new Worker(SERIAL_URL, { workerData: data });
    this.serial = w;
    this.watchExit(w, 'serial thread');
    return new Promise((resolve, reject) => {
      w.on('message', (e: LinkEvent) => {
        switch (e.event) {
          case 'port-open':
            this.log.info({ ...e, path: s.path }, `serial port ${s.path} open (session ${e.generation})`);
            resolve();
            break;
          case 'open-failed':
            if (e.first) reject(new StartupError(`cannot open the rig's serial port ${s.path}: ${e.error} (is the rig connected, and is output.serial.path right?)`));
            else this.log.warn({ ...e, path: s.path }, `serial port ${s.path} did not open: ${e.error}`);
            break;
          case 'port-closed':
            this.log.warn({ ...e, path: s.path }, `serial port closed: ${e.reason}`);
            break;
          case 'hello':
            this.firmware = e.firmware;
            if (e.axes === this.rig.actuatorCount) this.log.info(e, `MCU ${e.firmware}, ${e.axes} axes`);
            else this.log.error({ ...e, rigAxes: this.rig.actuatorCount }, `handshake refused: the MCU (${e.firmware}) has ${e.axes} axes, the rig ${this.rig.actuatorCount}`);
            break;
          case 'bad-status':
            this.log.error(e, `MCU STATUS refused: ${e.positions} positions for a ${e.axes}-axis rig`);
            break;
        }
      });
    });
  }

  startControl(profile: CueProfile): void {
    const c = this.config;
    const data: ControlWorkerData & { controlWorker: true } = {
      controlWorker: true,
      buffers: this.buffers,
      geometry: this.rig.geometry,
      profile,
      rateHz: c.loop.rateHz,
      maxSpinUs: c.loop.maxSpinUs,
      realtimePriority: c.loop.realtimePriority,
      output: c.output.type,
      template: c.template,
      supervisor: { engageSeconds: c.safety.engageSeconds, disengageSeconds: c.safety.disengageSeconds, parkSpeedFraction: c.safety.parkSpeedFraction },
      watch: { staleMs: c.safety.staleMs, settleMs: c.safety.settleMs, teleportHoldMs: c.safety.teleportHoldMs, carChangeHoldMs: c.safety.carChangeHoldMs },
      profiles: this.profiles.port2,
      virtualPark: toWire(this.rig.geometry.actuators.park, this.rig.geometry.actuators),
      // The in-process virtual rig speaks only the core: do not ask it.
      playoutDelayMs: c.output.type === 'riglink' ? c.output.playoutDelayMs : 0,
      baud: c.output.serial.baud,
    };
    const w = new Worker(CONTROL_URL, { workerData: data, transferList: [this.profiles.port2] });
    this.control = w;
    w.on('message', (msg: { timerSlackNs?: number | null; nice?: number | null; profileRefused?: string; startEpochMs?: number; realtime?: ThreadPolicy & { error?: string } }) => {
      if (msg.realtime?.error !== undefined) this.log.warn({ event: 'realtime', ...msg.realtime }, `control thread not real-time (${msg.realtime.error}); ticks may start late under load`);
      else if (msg.realtime !== undefined) this.log.info({ event: 'realtime', ...msg.realtime }, `control thread SCHED_FIFO priority ${msg.realtime.priority}`);
      if (msg.nice !== undefined) this.log.info({ event: 'thread-nice', thread: 'control loop', nice: msg.nice }, `control thread nice ${msg.nice ?? 'unchanged'}`);
      if (msg.startEpochMs !== undefined) this.startEpochMs = msg.startEpochMs;
      else if (msg.profileRefused !== undefined) this.log.error({ event: 'profile-refused', err: msg.profileRefused }, `profile refused by the control loop, keeping the running one: ${msg.profileRefused}`);
      else if (msg.timerSlackNs === null) this.log.warn({ event: 'timer-slack', timerSlackNs: null }, "could not set the control thread's timer slack; ticks may start later");
      else if (msg.timerSlackNs !== undefined) this.log.info({ event: 'timer-slack', timerSlackNs: msg.timerSlackNs }, `control thread timer slack ${msg.timerSlackNs} ns`);
    });
    this.watchExit(w, 'control loop');
  }

  sendProfile(p: CueProfile): void {
    this.profiles.port1.postMessage({ profile: p });
    Atomics.add(this.words, Control.profileVersion, 1);
  }

  /** Stops the control loop first (no frame after this), then the serial and e-stop threads. */
  async stop(): Promise<void> {
    const ended = (w: Worker | undefined) => (w === undefined || w.threadId === -1 ? Promise.resolve() : new Promise<void>((r) => w.once('exit', () => r())));
    Atomics.store(this.words, Control.stop, 1);
    await ended(this.control);
    this.serial?.postMessage({ close: true });
    this.estop?.postMessage({ close: true });
    await Promise.race([Promise.all([ended(this.serial), ended(this.estop)]), new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.serial?.terminate();
    await this.estop?.terminate();
    this.profiles.port1.close();
  }

  private watchExit(w: Worker, what: string): void {
    w.on('error', (err) => {
      this.log.fatal({ event: 'thread-error', thread: what, err: err.message, stack: err.stack }, `${what} crashed${what === 'control loop' ? '; the MCU watchdog will park the rig' : ''}`);
      process.exitCode = 1;
      this.onFatal();
    });
  }
}
