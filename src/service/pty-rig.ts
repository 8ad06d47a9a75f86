import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RigKinematics } from '../kinematics/rig.js';
import { PACKAGE_ROOT } from '../paths.js';
import { toWire } from '../runtime/control-loop.js';
import { waitFor } from '../util/wait.js';

/**
 * A real pty pair made by socat, with the MCU simulator (firmware-protocol/c/mcu_sim) on one
 * end: what the serial tests and the demo use instead of a rig. `host` is the path the
 * service opens.
 */
export function haveSocat(): boolean {
  return spawnSync('socat', ['-V'], { encoding: 'utf8' }).status === 0;
}

/** mcu_sim arguments for a rig: its axis count and park position, fast actuators (the host's limiter is what limits). */
export function mcuSimArgs(rig: RigKinematics): string[] {
  return ['--axes', String(rig.actuatorCount), '--speed', '400000', '--park', String(toWire(rig.geometry.actuators.park, rig.geometry.actuators))];
}

/** Detached children outlive us unless told: stop them when this process exits, however it exits. */
function killOnExit(child: ChildProcess): void {
  const kill = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

/** Builds the MCU simulator with make and the C compiler; returns its path, or an error message. */
export function buildMcuSim(): { path: string } | { error: string } {
  const dir = join(PACKAGE_ROOT, 'firmware-protocol', 'c');
  const r = spawnSync('make', ['-s', '-C', dir, 'build/mcu_sim'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return { error: `make -C firmware-protocol/c build/mcu_sim failed: ${r.error?.message ?? `${r.stdout}${r.stderr}`.trim()}` };
  return { path: join(dir, 'build', 'mcu_sim') };
}

export class PtyRig {
  readonly dir: string;
  readonly host: string;
  readonly mcu: string;
  readonly log: string;
  private socat: ChildProcess | undefined;
  private sim: ChildProcess | undefined;

  constructor(
    private readonly mcuSim: string,
    private readonly simArgs: string[] = [],
    dir?: string,
  ) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'motion-rig-pty-'));
    this.host = join(this.dir, 'host');
    this.mcu = join(this.dir, 'mcu');
    this.log = join(this.dir, 'mcu.log');
  }

  async startSocat(): Promise<void> {
    // Own process groups (detached): a terminal's Ctrl-C must reach only the service, which
    // then parks the rig over this link before stopping it.
    this.socat = spawn('socat', [`pty,raw,echo=0,link=${this.host}`, `pty,raw,echo=0,link=${this.mcu}`], { stdio: 'ignore', detached: true });
    killOnExit(this.socat);
    await waitFor(() => existsSync(this.host) && existsSync(this.mcu), 3000, 'socat pty links');
  }

  /** Kills socat (both pty ends vanish, like pulling the USB cable) and waits for it to be gone. */
  async unplug(): Promise<void> {
    const s = this.socat;
    this.socat = undefined;
    if (!s || s.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      s.once('exit', () => resolve());
      s.kill('SIGKILL');
    });
  }

  async startSim(): Promise<void> {
    this.sim = spawn(this.mcuSim, ['--device', this.mcu, '--log', this.log, ...this.simArgs], { stdio: 'ignore', detached: true });
    killOnExit(this.sim);
    await waitFor(() => existsSync(this.log) && readFileSync(this.log, 'utf8').includes('state parked'), 3000, 'MCU simulator start');
  }

  async start(): Promise<void> {
    await this.startSocat();
    await this.startSim();
  }

  simLog(): string {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8') : '';
  }

  async stop(): Promise<void> {
    const sim = this.sim;
    this.sim = undefined;
    if (sim && sim.exitCode === null) {
      await new Promise<void>((resolve) => {
        sim.once('exit', () => resolve());
        sim.kill('SIGTERM');
      });
    }
    await this.unplug();
  }
}
