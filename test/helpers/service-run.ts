import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRigFile } from '../../src/config/rig-file.js';
import { PtyRig } from '../../src/service/pty-rig.js';
import { CLI } from './cli.js';
import { REPO_ROOT } from './shared-data.js';
import { waitFor } from './wait.js';

/**
 * The built CLI's `run` as a child process, with RigLink over a socat pty pair to the C MCU
 * simulator: what the service end-to-end tests drive and watch (status file, logs, the MCU's
 * log of every frame it received).
 */
export const RIG_FILE = join(REPO_ROOT, 'profiles/rigs/stewart-linear.yaml');
export const rig = loadRigFile(RIG_FILE);
export const g = rig.geometry.actuators;
export const toWire = (v: number) => ((v - g.min) / (g.max - g.min)) * 65535;
export const PARK_WIRE = Math.round(toWire(g.park));

export interface Status {
  updatedAt: string;
  state: string;
  estop: { trigger: boolean; configKey: boolean; filePresent: boolean };
  loop: { tick: number };
  link: { state: string; mcu: string; badStatus: number; sessions: number; playout: { on: boolean; why: string; accepted: number; late: number; stale: number; outside: number; overflow: number } };
  holdReason: string;
  engagement: number;
  output: { framesWritten: number };
  telemetry: { profile: string };
}

let runCount = 0;

/** The rig end of the serial link: the MCU simulator by default, or another (the AVR firmware in simavr). */
export interface RigEnd {
  readonly host: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceRunOptions {
  rigEnd?: RigEnd;
  rigFile?: string;
  baud?: number;
  rateHz?: number;
  /**
   * Run the service at this nice value, as systemd/motion-rig.service's Nice= does (through
   * `nice`, so that every thread starts from it). Default: the test runner's.
   */
  nice?: number;
}

export class ServiceRun {
  readonly dir = mkdtempSync(join(tmpdir(), 'motion-rig-e2e-'));
  readonly config = join(this.dir, 'config.yaml');
  readonly statusFile = join(this.dir, 'status.json');
  readonly estopFile = join(this.dir, 'estop');
  readonly pty: PtyRig;
  proc: ChildProcess | undefined;
  out = '';
  exitCode: number | null = null;

  /** The telemetry socket's own loopback address: runs in parallel never share 33740. */
  readonly bind = `127.${100 + (process.pid % 100)}.${(runCount++ % 250) + 1}.1`;
  /** Extra environment for the service (test hooks). */
  env: Record<string, string> = {};
  /** The profiles folder (a test that edits profiles points this at a copy, then calls writeConfig again). */
  profilesDir = join(REPO_ROOT, 'profiles');

  readonly rigEnd: RigEnd;
  private readonly rigFile: string;
  private readonly baud: number;
  private readonly rateHz: number;
  private readonly nice: number | undefined;

  constructor(mcuSim: string, phases: string, simArgs: string[] = [], opts: ServiceRunOptions = {}) {
    this.pty = new PtyRig(mcuSim, ['--axes', '6', '--speed', '400000', '--park', String(PARK_WIRE), ...simArgs], this.dir);
    this.rigEnd = opts.rigEnd ?? this.pty;
    this.rigFile = opts.rigFile ?? RIG_FILE;
    this.baud = opts.baud ?? 500000;
    this.rateHz = opts.rateHz ?? 1000;
    this.nice = opts.nice;
    this.writeConfig(phases, false);
  }

  writeConfig(phases: string, estop: boolean | string, extra = ''): void {
    writeFileSync(
      this.config,
      `source: { type: simulator, simulator: { phases: "${phases}" }, gt7: { bind: ${this.bind} } }
loop: { rateHz: ${this.rateHz} }
rig: ${this.rigFile}
output: { type: riglink, serial: { path: ${this.rigEnd.host}, baud: ${this.baud}, lowLatency: false } }
profiles: { dir: ${this.profilesDir} }
safety: { estop: ${estop}, estopFile: ${this.estopFile} }
status: { file: ${this.statusFile} }
${extra}`,
    );
  }

  async start(): Promise<void> {
    await this.rigEnd.start();
    const cmd = [process.execPath, CLI, 'run', '--config', this.config];
    const [file, ...args] = this.nice === undefined ? cmd : ['nice', '-n', String(this.nice), ...cmd];
    this.proc = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.on('exit', (code) => (this.exitCode = code));
  }

  status(): Status | undefined {
    try {
      return JSON.parse(readFileSync(this.statusFile, 'utf8')) as Status;
    } catch {
      return undefined;
    }
  }

  waitState(state: string, timeoutMs = 10_000, holdReason?: string): Promise<void> {
    return waitFor(() => {
      const s = this.status();
      return s?.state === state && (holdReason === undefined || s.holdReason === holdReason);
    }, timeoutMs, `state ${state}${holdReason ? ` (${holdReason})` : ''}; last ${JSON.stringify(this.status()?.state)} ${this.status()?.holdReason}`);
  }

  /** The sequence numbers and kinds of every frame the MCU received, in order. */
  mcuFrames(): { t: number; type: string; seq: number; flags: number }[] {
    return this.pty
      .simLog()
      .split('\n')
      .map((l) => / rx (\w+) (\d+)(?: (\d+))?/.exec(l) && [Number(l.split(' ')[0]), / rx (\w+) (\d+)(?: (\d+))?/.exec(l)!] as const)
      .filter((x): x is readonly [number, RegExpExecArray] => !!x)
      .map(([t, m]) => ({ t, type: m[1]!, seq: Number(m[2]), flags: m[3] === undefined ? -1 : Number(m[3]) }));
  }

  /** Logged state changes, in order. */
  states(): { state: string; holdReason: string; cause: string }[] {
    return this.out
      .split('\n')
      .filter((l) => l.includes('"event":"state"'))
      .map((l) => JSON.parse(l) as { state: string; holdReason: string; cause: string });
  }

  /**
   * ESTOP at the MCU after `trigger()`: ms from the trigger to the MCU's log line (both on
   * CLOCK_MONOTONIC). Reads only what the log gained since the trigger, so the test's own
   * polling stays light while it measures.
   */
  async estopLatency(trigger: () => unknown, what = ''): Promise<number> {
    const { t0, at } = await this.estopAfter(trigger, what);
    return at - t0;
  }

  /** The same as times on this process's monotonic clock (ms): `t0` just before the trigger, `at` the MCU's ESTOP line. */
  async estopAfter(trigger: () => unknown, what = ''): Promise<{ t0: number; at: number }> {
    const fd = openSync(this.pty.log, 'r');
    let offset = fstatSync(fd).size;
    let text = '';
    const t0 = monotonicMs();
    await trigger();
    try {
      await waitFor(() => {
        const size = fstatSync(fd).size;
        if (size > offset) {
          const buf = Buffer.alloc(size - offset);
          readSync(fd, buf, 0, buf.length, offset);
          offset = size;
          text += buf.toString();
        }
        return text.includes(' rx ESTOP ');
      }, 3000, `ESTOP at the MCU ${what}`);
    } finally {
      closeSync(fd);
    }
    const at = text.lastIndexOf('\n', text.indexOf(' rx ESTOP ')) + 1;
    return { t0, at: this.mcuTimes().offset + Number(text.slice(at, text.indexOf(' ', at))) };
  }

  /** The MCU log's times on this process's monotonic clock (ms). */
  mcuTimes(): { offset: number; lines: string[] } {
    const lines = this.pty.simLog().split('\n');
    const clock = lines.find((l) => l.includes('clock monotonic'))!;
    return { offset: Number(clock.split(' ').at(-1)), lines };
  }

  async stop(): Promise<number | null> {
    if (this.proc && this.exitCode === null) {
      this.proc.kill('SIGTERM');
      await waitFor(() => this.exitCode !== null, 15_000, 'service exit after SIGTERM');
    }
    await this.rigEnd.stop();
    return this.exitCode;
  }
}


export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
