import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RigKinematics } from '../kinematics/rig.js';
import { PACKAGE_ROOT } from '../paths.js';
import { toWire } from '../runtime/control-loop.js';
import { setFifo } from '../runtime/thread-scheduling.js';
import { waitFor } from '../util/wait.js';

/**
 * A real pty pair made by socat, with the MCU simulator (firmware-protocol/c/mcu_sim) on one
 * end: what the serial tests and the demo use instead of a rig. `host` is the path the
 * service opens. Neither child outlives this process, even after SIGKILL: socat is started
 * under a watchdog (SOCAT_WATCHDOG below), mcu_sim exits when its parent is gone.
 */
export function haveSocat(): boolean {
  return spawnSync('socat', ['-V'], { encoding: 'utf8' }).status === 0;
}

/** mcu_sim arguments for a rig: its axis count and park position, fast actuators (the host's limiter is what limits). */
export function mcuSimArgs(rig: RigKinematics): string[] {
  return ['--axes', String(rig.actuatorCount), '--speed', '400000', '--park', String(toWire(rig.geometry.actuators.park, rig.geometry.actuators))];
}

/**
 * Detached children outlive us unless told: stop them when this process exits normally. The
 * 'exit' event does not run on SIGKILL or a signal without a handler; for those, socat's
 * watchdog and mcu_sim's own parent check end them.
 */
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

/**
 * How socat is started: `sh -c SOCAT_WATCHDOG sh socat ADDR1 ADDR2`. The shell moves the pipe
 * from us (its stdin) to fd 3, starts a watchdog subshell that blocks reading it, then execs
 * socat, which keeps the shell's pid: the ChildProcess we hold is socat itself, so kill()
 * (unplug, stop, signals) and 'exit' act on socat exactly as if we had spawned it directly.
 *
 * The read ends when the pipe's only write end, ours, is closed: Node closes it when socat
 * exits, and the kernel closes it when this process dies however it dies (SIGKILL included;
 * libuv opens it close-on-exec, so no other child holds it). The watchdog then sends SIGTERM
 * to its process group, which (detached: true, a new session) holds only socat and the
 * watchdog: socat, if still running, exits and removes its links; the watchdog ends with it.
 * Killing the group rather than socat's pid is what makes this safe after socat is gone: the
 * group exists as long as the watchdog is in it, so no recycled pid can be hit. Event-driven,
 * so there is no poll interval, no getppid() or /proc reading, and a zombie parent (dead but
 * not yet reaped) is noticed at once.
 */
const SOCAT_WATCHDOG = 'exec 3<&0 </dev/null; (read -r _ <&3; kill -TERM -$$) & exec "$@" 3<&-';

/**
 * The pty pair and the MCU simulator stand in for a USB cable and a microcontroller, which no
 * load on the host can starve. On a busy 2-core machine a starved socat delivers several
 * STATUS frames at once, each honestly saying nothing new was read, and fakes an MCU that
 * stopped reading. So they get priority where that is allowed (root: tests, CI: SCHED_FIFO 5,
 * else nice −10); elsewhere they keep the default.
 */
function standInPriority(pid: number | undefined): void {
  if (pid === undefined) return;
  // Real-time where allowed, below the control thread's default 10: a pty write waits on
  // locks the reading side holds, and a reader preempted by ordinary load stalls the writer
  // for milliseconds (seen: 1–5 ms writes from the control thread under load 5). Both sleep
  // in poll() between bytes, so the RT throttle never meets them.
  if (setFifo(pid, 5).error === undefined) return;
  try {
    setPriority(pid, -10);
  } catch {
    // Not allowed: fine for a demo.
  }
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
    this.socat = spawn('sh', ['-c', SOCAT_WATCHDOG, 'sh', 'socat', `pty,raw,echo=0,link=${this.host}`, `pty,raw,echo=0,link=${this.mcu}`], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    // The pipe is the watchdog's lifeline: nothing is written to it, and an EPIPE once the
    // watchdog is gone is expected.
    this.socat.stdin!.on('error', () => {});
    killOnExit(this.socat);
    standInPriority(this.socat.pid);
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
    // A pulled cable takes its device node with it. socat killed by SIGKILL leaves its links,
    // naming pty numbers the next socat may hand to the other end: the MCU simulator reopening
    // its stale link then sat on the host's new pty and never heard a HELLO (seen once in 8
    // runs), and startSocat took the stale links for the new ones.
    rmSync(this.host, { force: true });
    rmSync(this.mcu, { force: true });
  }

  async startSim(): Promise<void> {
    this.sim = spawn(this.mcuSim, ['--device', this.mcu, '--log', this.log, ...this.simArgs], { stdio: 'ignore', detached: true });
    killOnExit(this.sim);
    standInPriority(this.sim.pid);
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
