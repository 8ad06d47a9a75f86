import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { FIRMWARE_DIR } from './firmware.js';
import { waitFor } from './wait.js';

/**
 * The AVR firmware (firmware-protocol/avr) in simavr: `make -C firmware-protocol avr` builds
 * the Mega and Uno images and the harness; AvrRig runs `avr-rig` (pty link, simulated plant,
 * e-stop and fault-injection files) and reads its plant log.
 */
export const AVR_BUILD = join(FIRMWARE_DIR, 'build');
export const MEGA_ELF = join(AVR_BUILD, 'riglink-mega2560.elf');
export const UNO_ELF = join(AVR_BUILD, 'riglink-uno328p.elf');
export const AVR_RIG = join(AVR_BUILD, 'avr-rig');
export const AVR_RIG_FILE = join(FIRMWARE_DIR, '..', 'test', 'fixtures', 'rigs', 'avr-rig.yaml');
/** The Uno image's rig: two DC rams (test/fixtures/rigs/avr-rig-uno.yaml). */
export const AVR_UNO_RIG_FILE = join(FIRMWARE_DIR, '..', 'test', 'fixtures', 'rigs', 'avr-rig-uno.yaml');
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
  /** Each DC axis's PWM duty at the H-bridge, per mille, signed by the direction pin (before the drive-enable gate). */
  duty: number[];
}

export interface StateEvent {
  state: number;
  simMs: number;
  monoMs: number;
  lastRxMs: number;
  faults: number;
}

export interface Injection {
  on: number;
  simMs: number;
  monoMs: number;
  behindMs: number;
  x: number;
  v: number;
  duty: number;
  enable: number;
}

/** The simulated DC ram's constants (firmware-protocol/sim/plant.h), read from the header the harness is built from. */
export function plantConstants(): { vmaxWireS: number; tauS: number; load: number; dtMs: number; potMv0: number; potMv1: number; potNoiseMv: number } {
  const h = readFileSync(join(FIRMWARE_DIR, 'sim', 'plant.h'), 'utf8');
  const get = (name: string) => {
    const m = new RegExp(`#define PLANT_${name}\\s+([0-9.]+)`).exec(h);
    if (!m) throw new Error(`PLANT_${name} not in sim/plant.h`);
    return Number(m[1]);
  };
  // avr_rig.c steps the plant every PLANT_DT_CYCLES (1,600 cycles at 16 MHz).
  const dt = /#define PLANT_DT_CYCLES\s+(\d+)/.exec(readFileSync(join(FIRMWARE_DIR, 'sim', 'avr_rig.c'), 'utf8'));
  if (!dt) throw new Error('PLANT_DT_CYCLES not in sim/avr_rig.c');
  return {
    vmaxWireS: get('VMAX') * 65535,
    tauS: get('TAU'),
    load: get('LOAD'),
    dtMs: Number(dt[1]) / 16000,
    // The pot's wiper at travel 0 and 1, and its noise (uniform ±), mV.
    potMv0: get('POT_MV0'),
    potMv1: get('POT_MV1'),
    potNoiseMv: get('POT_NOISE'),
  };
}

/** Which image runs: the Mega's default build (2 DC + 1 step/dir) or the Uno's (2 DC). */
export type AvrMcu = 'atmega2560' | 'atmega328p';

export class AvrRig {
  readonly host: string;
  readonly plantLog: string;
  readonly stats: string;
  readonly estopFile: string;
  readonly jamFile: string;
  /** While it exists, DC axis 0's pot is disconnected; its content is the wiper's level (avr_rig.c: "" = 0 V, "5000" = 5 V, "hold"). */
  readonly potLostFile: string;
  private proc: ChildProcess | undefined;
  out = '';

  constructor(
    readonly dir: string,
    private readonly args: string[] = [],
    readonly mcu: AvrMcu = 'atmega2560',
    /** Another image for this board than the default one (e.g. the calibration image). */
    private readonly elf?: string,
  ) {
    this.host = join(dir, 'avr-link');
    this.plantLog = join(dir, 'plant.log');
    this.stats = join(dir, 'avr-stats.json');
    this.estopFile = join(dir, 'avr-estop');
    this.jamFile = join(dir, 'avr-jam');
    this.potLostFile = join(dir, 'avr-pot-lost');
  }

  /**
   * Starts a fault injection: the file with its content, renamed into place in one step (avr-rig
   * reads the content when the file appears; written in place, it could read it still empty).
   */
  inject(file: string, content = ''): void {
    writeFileSync(`${file}.tmp`, content);
    renameSync(`${file}.tmp`, file);
  }

  /** Axes on the wire: DC first, then step/dir. */
  get axes(): { dc: number; step: number } {
    return this.mcu === 'atmega328p' ? { dc: 2, step: 0 } : { dc: 2, step: 1 };
  }

  async start(): Promise<void> {
    const { dc, step } = this.axes;
    const elf = this.elf ?? (this.mcu === 'atmega328p' ? UNO_ELF : MEGA_ELF);
    const files = ['--estop-file', this.estopFile, '--plant-log', this.plantLog, '--stats', this.stats, '--jam-file', this.jamFile, '--pot-lost-file', this.potLostFile];
    const args = ['--firmware', elf, '--link', this.host, '--mcu', this.mcu, '--axes-dc', String(dc), '--axes-step', String(step), ...files, ...this.args];
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

  /*
   * The plant log, read incrementally: the tests poll it every 10 ms for minutes, and
   * re-reading and parsing the whole file each time would take CPU from simavr on a loaded host.
   */
  private logOffset = 0;
  private logRest = '';
  private readonly logSamples: PlantSample[] = [];
  private readonly logMarks: string[][] = [];
  private readLog(): void {
    if (!existsSync(this.plantLog)) return;
    const fd = openSync(this.plantLog, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size <= this.logOffset) return;
      const buf = Buffer.alloc(size - this.logOffset);
      readSync(fd, buf, 0, buf.length, this.logOffset);
      this.logOffset = size;
      const text = this.logRest + buf.toString();
      const end = text.lastIndexOf('\n');
      this.logRest = text.slice(end + 1);
      for (const l of text.slice(0, end).split('\n')) {
        if (!l) continue;
        if (l.startsWith('# ')) {
          this.logMarks.push(l.split(' '));
          continue;
        }
        const [head, t, r, d] = l.split(' | ');
        if (d === undefined) continue;
        const h = head!.split(' ').map(Number);
        const nums = (x: string) => (x === '' ? [] : x.split(' ').map(Number));
        this.logSamples.push({ simMs: h[0]!, monoMs: h[1]!, enable: h[2]!, state: h[3]!, plant: h.slice(4), targets: nums(t!), reported: nums(r!), duty: nums(d) });
      }
    } finally {
      closeSync(fd);
    }
  }

  samples(): PlantSample[] {
    this.readLog();
    return this.logSamples;
  }

  /** The last sample (undefined before the first). */
  last(): PlantSample | undefined {
    return this.samples().at(-1);
  }

  /** The plant log's `# KIND name value name value …` lines, each as its space-separated fields. */
  private marked(kind: string): string[][] {
    this.readLog();
    return this.logMarks.filter((f) => f[1] === kind);
  }

  events(): StateEvent[] {
    return this.marked('state').map((f) => ({ state: Number(f[2]), simMs: Number(f[4]), monoMs: Number(f[6]), lastRxMs: Number(f[8]), faults: Number(f[10]) }));
  }

  /** E-stop input changes: pressed (1) or released (0), and how far simavr trailed the wall clock then (ms). */
  estopPin(): { pressed: number; simMs: number; monoMs: number; behindMs: number }[] {
    return this.marked('estop-pin').map((f) => ({ pressed: Number(f[2]), simMs: Number(f[4]), monoMs: Number(f[6]), behindMs: Number(f[8]) }));
  }

  /**
   * Fault injections (pot-lost, jam): when the file appeared (1) or went (0), in simulated time,
   * and DC axis 0 then: plant position (wire units) and speed (wire units/s) as of its last plant
   * step, duty (per mille, signed) and drive enable.
   */
  injections(kind: 'pot-lost' | 'jam'): Injection[] {
    return this.marked('inject')
      .filter((f) => f[2] === kind)
      .map((f) => ({ on: Number(f[3]), simMs: Number(f[5]), monoMs: Number(f[7]), behindMs: Number(f[9]), x: Number(f[11]), v: Number(f[13]), duty: Number(f[15]), enable: Number(f[17]) }));
  }

  /** For 20 ms (simulated; --drive-log-ms) after each injection: the plant steps (0.1 ms apart) where DC axis 0's duty or the drive enable changed. */
  drives(): { duty: number; enable: number; simMs: number }[] {
    return this.marked('drive').map((f) => ({ duty: Number(f[3]), enable: Number(f[5]), simMs: Number(f[7]) }));
  }

  /** DC axis 0's drive as the H-bridge got it from an injection on: then, and at each later change (drives()). */
  drivesFrom(inj: Injection): { duty: number; enable: number; simMs: number }[] {
    return [{ duty: inj.duty, enable: inj.enable, simMs: inj.simMs }, ...this.drives().filter((d) => d.simMs >= inj.simMs)];
  }

  /** Waits (wall clock, up to timeoutMs) until the plant log has reached `simMs` of simulated time. */
  async reachSim(simMs: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(() => (this.last()?.simMs ?? -1) >= simMs, timeoutMs, `simulated time ${simMs} ms in the plant log`);
  }

  statsJson(): Record<string, unknown> {
    return JSON.parse(readFileSync(this.stats, 'utf8')) as Record<string, unknown>;
  }
}

/**
 * Per sample, how far simavr trailed the wall clock when it logged it (ms), from the log's two
 * clocks: (monoMs − simMs) less its smallest value in the log (simavr never runs ahead).
 */
export function behindWall(s: PlantSample[]): number[] {
  let base = Infinity;
  for (const x of s) base = Math.min(base, x.monoMs - x.simMs);
  return s.map((x) => x.monoMs - x.simMs - base);
}

/**
 * Per sample: simavr kept the wall clock (within `maxBehindMs`) over the last `windowMs` of
 * simulated time. Only there did the firmware get the host's frames at the host's pace; after
 * simavr trailed (a loaded host), the frames queued meanwhile reach it in a burst at line rate,
 * which no real MCU sees. Judging the firmware on these samples makes host load unable to fail
 * a test while a firmware fault (it shows in every window) still does.
 */
export function keptTime(s: PlantSample[], windowMs = 500, maxBehindMs = 5): boolean[] {
  const behind = behindWall(s);
  const ok: boolean[] = [];
  let lastBad = -Infinity; // simulated time of the last sample that trailed
  for (let k = 0; k < s.length; k++) {
    if (behind[k]! > maxBehindMs) lastBad = s[k]!.simMs;
    ok.push(s[k]!.simMs - lastBad > windowMs);
  }
  return ok;
}
