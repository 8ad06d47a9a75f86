import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { FIRMWARE_DIR } from './firmware.js';
import { waitFor } from './wait.js';

/**
 * The AVR firmware (firmware-protocol/avr) in simavr: `make -C firmware-protocol avr` builds
 * the Mega image and the harness; AvrRig runs `avr-rig` (pty link, simulated plant, e-stop
 * file) and reads its plant log.
 */
export const AVR_BUILD = join(FIRMWARE_DIR, 'build');
export const MEGA_ELF = join(AVR_BUILD, 'riglink-mega2560.elf');
export const AVR_RIG = join(AVR_BUILD, 'avr-rig');
export const AVR_RIG_FILE = join(FIRMWARE_DIR, '..', 'test', 'fixtures', 'rigs', 'avr-rig.yaml');
/** The firmware's park position (avr/config.h PARK_WIRE), = the fixture rig's default park. */
export const AVR_PARK_WIRE = 1966;
export const AVR_AXES = 3;

/** Builds firmware and harness; null when the toolchain is absent (an error under CI=true: .ci/run installs it). */
export function buildAvr(): { missing: string } | null {
  const tools = spawnSync('sh', ['-c', 'command -v avr-gcc && test -f /usr/include/simavr/sim_avr.h'], { encoding: 'utf8' });
  if (tools.status !== 0) {
    const why = 'avr-gcc or libsimavr-dev not installed (apt-get install gcc-avr avr-libc libsimavr-dev libelf-dev)';
    if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
    return { missing: why };
  }
  const r = spawnSync('make', ['-s', '-C', FIRMWARE_DIR, 'avr'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make -C firmware-protocol avr failed:\n${r.stdout}${r.stderr}`);
  return null;
}

export interface PlantSample {
  simMs: number;
  monoMs: number;
  enable: number;
  /** RigLink state from the firmware's last STATUS (−1 before the first). */
  state: number;
  /** Simulated actuator positions, wire units. */
  plant: number[];
  /** Targets of the last SETPOINT the firmware received. */
  targets: number[];
  /** Positions the firmware's last STATUS reported. */
  reported: number[];
}

export interface StateEvent {
  state: number;
  simMs: number;
  monoMs: number;
  lastRxMs: number;
  faults: number;
}

export class AvrRig {
  readonly host: string;
  readonly plantLog: string;
  readonly stats: string;
  readonly estopFile: string;
  readonly jamFile: string;
  private proc: ChildProcess | undefined;
  out = '';

  constructor(
    readonly dir: string,
    private readonly args: string[] = [],
  ) {
    this.host = join(dir, 'avr-link');
    this.plantLog = join(dir, 'plant.log');
    this.stats = join(dir, 'avr-stats.json');
    this.estopFile = join(dir, 'avr-estop');
    this.jamFile = join(dir, 'avr-jam');
  }

  async start(): Promise<void> {
    const args = ['--firmware', MEGA_ELF, '--link', this.host, '--estop-file', this.estopFile, '--plant-log', this.plantLog, '--stats', this.stats, '--jam-file', this.jamFile, ...this.args];
    this.proc = spawn(AVR_RIG, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // It stands in for a microcontroller, which no load on the host can slow down: when
    // simavr falls behind the wall clock it catches up at full speed, and the bytes queued
    // meanwhile reach the firmware at line rate, a burst no real host sends. Priority where
    // allowed (root: tests, CI), as PtyRig gives socat and mcu_sim.
    try {
      if (this.proc.pid !== undefined) setPriority(this.proc.pid, -10);
    } catch {
      // Not allowed: run at the default priority.
    }
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    await waitFor(() => existsSync(this.host) && existsSync(this.plantLog), 5000, `avr-rig link (${this.out})`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }

  samples(): PlantSample[] {
    if (!existsSync(this.plantLog)) return [];
    const out: PlantSample[] = [];
    for (const l of readFileSync(this.plantLog, 'utf8').split('\n')) {
      if (!l || l.startsWith('#')) continue;
      const [head, t, r] = l.split(' | ');
      if (r === undefined) continue;
      const h = head!.split(' ').map(Number);
      out.push({ simMs: h[0]!, monoMs: h[1]!, enable: h[2]!, state: h[3]!, plant: h.slice(4), targets: t!.split(' ').map(Number), reported: r.split(' ').map(Number) });
    }
    return out;
  }

  /** The plant log's `# KIND name value name value …` lines, each as its space-separated fields. */
  private marked(kind: string): string[][] {
    if (!existsSync(this.plantLog)) return [];
    return readFileSync(this.plantLog, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(`# ${kind} `))
      .map((l) => l.split(' '));
  }

  events(): StateEvent[] {
    return this.marked('state').map((f) => ({ state: Number(f[2]), simMs: Number(f[4]), monoMs: Number(f[6]), lastRxMs: Number(f[8]), faults: Number(f[10]) }));
  }

  /** E-stop input changes: pressed (1) or released (0), and how far simavr trailed the wall clock then (ms). */
  estopPin(): { pressed: number; simMs: number; monoMs: number; behindMs: number }[] {
    return this.marked('estop-pin').map((f) => ({ pressed: Number(f[2]), simMs: Number(f[4]), monoMs: Number(f[6]), behindMs: Number(f[8]) }));
  }

  statsJson(): Record<string, unknown> {
    return JSON.parse(readFileSync(this.stats, 'utf8')) as Record<string, unknown>;
  }
}
