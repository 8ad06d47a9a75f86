import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, lstatSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveSocat } from '../../src/service/pty-rig.js';
import { CLI, buildCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `npm start` (the demo) leaves nothing behind: its socat (with the watchdog that execs it)
 * and its MCU simulator end with it, whether it is told to stop (SIGHUP), loses its terminal
 * (a pty that hangs up: SIGHUP, and every write to it fails) or is killed outright (SIGKILL:
 * no handler runs). Linux: descendants are read from /proc; util-linux setsid gives the
 * demo its terminal.
 *
 * "Gone" means: no such pid, a pid now used by another process (a different start time),
 * or a zombie — a process that has exited and waits to be reaped by pid 1 (after SIGKILL
 * the children are re-parented to it, and some inits, this test machine's among them, reap
 * late).
 */

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
  start: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces: the fields after it are split from its end.
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    return { pid, comm: stat.slice(stat.indexOf('(') + 1, close), state: rest[0]!, ppid: Number(rest[1]), start: rest[19]! };
  } catch {
    return undefined;
  }
}

function descendants(root: number): Proc[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => !!p);
  const out: Proc[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const p of all.filter((q) => q.ppid === parent)) {
      out.push(p);
      queue.push(p.pid);
    }
  }
  return out;
}

/** The ones of `procs` still running (same pid, same start time, not a zombie). */
function stillRunning(procs: Proc[]): Proc[] {
  return procs.filter((p) => {
    const now = readProc(p.pid);
    return now !== undefined && now.start === p.start && now.state !== 'Z';
  });
}

const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

class Demo {
  readonly proc: ChildProcess;
  /** What the demo wrote on stderr, or on its terminal. */
  err = '';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  /** With a terminal: socat holding its master side (killing it closes the terminal). */
  terminal: ChildProcess | undefined;

  constructor(tty?: string) {
    if (tty) {
      // A session of its own with the pty as controlling terminal, as a shell in a terminal
      // window gives it: when the terminal hangs up, the kernel sends it SIGHUP.
      const fd = openSync(tty, 'r+');
      this.proc = spawn('setsid', ['--ctty', process.execPath, CLI, 'demo'], { stdio: [fd, fd, fd] });
      closeSync(fd);
    } else {
      this.proc = spawn(process.execPath, [CLI, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc.stdout!.resume();
      this.proc.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    }
    this.proc.on('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
    });
  }

  get exited(): boolean {
    return this.exitCode !== null || this.exitSignal !== null;
  }

  /** The status file the demo names on stderr ("status: …/status.json"). */
  statusFile(): string | undefined {
    return / status: (\S+)/.exec(this.err)?.[1];
  }

  async waitOnline(): Promise<void> {
    await waitFor(() => this.statusFile() !== undefined || this.exited, 30_000, `demo start; stderr: ${this.err}`);
    expect(this.err, 'the demo runs on the pty path (socat + mcu_sim), not the virtual rig').toContain('socat pty pair');
    const file = this.statusFile()!;
    await waitFor(() => {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as { state: string }).state === 'online';
      } catch {
        return false;
      }
    }, 30_000, `demo online; stderr: ${this.err}`);
  }

  dir(): string {
    return dirname(this.statusFile()!);
  }
}

describe.skipIf(!haveSocat() && process.env.CI !== 'true')('the demo leaves no process behind', () => {
  const demos: Demo[] = [];
  beforeAll(() => {
    if (!haveSocat()) throw new Error('socat is required under CI=true (.ci/run installs it)');
    buildCli();
  });
  afterAll(() => {
    for (const d of demos) {
      if (!d.exited) d.proc.kill('SIGKILL');
      d.terminal?.kill('SIGKILL');
      if (d.statusFile()) rmSync(d.dir(), { recursive: true, force: true });
    }
  });

  /** The demo's children once online: socat (exec'd by its watchdog shell), the watchdog, mcu_sim. */
  function children(demo: Demo): Proc[] {
    const kids = descendants(demo.proc.pid!);
    const names = kids.map((p) => p.comm).sort();
    expect(names).toEqual(['mcu_sim', 'sh', 'socat']);
    return kids;
  }

  it('SIGHUP (what a closing terminal\'s shell sends its jobs): parks, exits 0, and socat, its watchdog and mcu_sim are gone within 2 s', async () => {
    const demo = new Demo();
    demos.push(demo);
    await demo.waitOnline();
    const kids = children(demo);
    const t0 = monotonicMs();
    demo.proc.kill('SIGHUP');
    await waitFor(() => demo.exited, 15_000, `demo exit after SIGHUP; stderr: ${demo.err}`);
    const exitMs = monotonicMs() - t0;
    expect(demo.exitCode).toBe(0);
    expect(demo.err).toContain('parking…');
    await waitFor(() => stillRunning(kids).length === 0, 2000, `children gone after the demo exited: ${JSON.stringify(stillRunning(kids))}`);
    const goneMs = monotonicMs() - t0;
    // The MCU simulator was stopped by the demo (SIGTERM writes its counters), parked first.
    const mcuLog = readFileSync(`${demo.dir()}/mcu.log`, 'utf8');
    expect(mcuLog).toMatch(/state parked[\s\S]*counters /);
    expect(mcuLog).not.toContain('parent gone');
    process.stdout.write(`demo SIGHUP: exited 0 after ${exitMs.toFixed(0)} ms (parked), ${kids.length} children gone ${(goneMs - exitMs).toFixed(0)} ms after the exit\n`);
  }, 60_000);

  it('the terminal closes (a pty hangs up under it): parks, exits 0, its children gone within 2 s', async () => {
    // socat makes the terminal: a pty whose master side it copies to our pipe.
    const termDir = mkdtempSync(join(tmpdir(), 'motion-rig-term-'));
    const tty = join(termDir, 'tty');
    const terminal = spawn('socat', ['-u', `pty,link=${tty},raw,echo=0`, 'stdout'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await waitFor(() => lstatExists(tty), 3000, 'socat pty');
    const demo = new Demo(tty);
    demo.terminal = terminal;
    demos.push(demo);
    terminal.stdout!.on('data', (d: Buffer) => (demo.err += d.toString()));
    await demo.waitOnline();
    const kids = children(demo);
    await new Promise((r) => setTimeout(r, 500)); // a few live-view redraws on the terminal
    expect(demo.err).toContain('a6        [');
    const t0 = monotonicMs();
    terminal.kill('SIGKILL'); // the window closes: the pty's master side is gone
    await waitFor(() => demo.exited, 15_000, `demo exit after the hangup; terminal: ${demo.err.slice(-500)}`);
    const exitMs = monotonicMs() - t0;
    // Not a crash on the dead terminal (an unhandled EIO, or Node's abort restoring its settings).
    expect({ code: demo.exitCode, signal: demo.exitSignal }).toEqual({ code: 0, signal: null });
    await waitFor(() => stillRunning(kids).length === 0, 2000, `children gone after the demo exited: ${JSON.stringify(stillRunning(kids))}`);
    const mcuLog = readFileSync(`${demo.dir()}/mcu.log`, 'utf8');
    expect(mcuLog).toMatch(/state parked[\s\S]*counters /);
    expect(readFileSync(`${demo.dir()}/motion-rig.log`, 'utf8')).toContain('stopped, rig parked');
    rmSync(termDir, { recursive: true, force: true });
    process.stdout.write(`demo, terminal closed: parked and exited 0 after ${exitMs.toFixed(0)} ms, ${kids.length} children gone\n`);
  }, 60_000);

  it('SIGKILL (no handler runs): socat, its watchdog and mcu_sim are gone within 2 s; socat exited cleanly (its pty links removed)', async () => {
    const demo = new Demo();
    demos.push(demo);
    await demo.waitOnline();
    const kids = children(demo);
    const host = `${demo.dir()}/host`;
    expect(lstatSync(host).isSymbolicLink()).toBe(true);
    const t0 = monotonicMs();
    demo.proc.kill('SIGKILL');
    await waitFor(() => demo.exited, 5000, 'demo gone after SIGKILL');
    await waitFor(() => stillRunning(kids).length === 0, 2000, `children gone after SIGKILL: ${JSON.stringify(stillRunning(kids))}`);
    const goneMs = monotonicMs() - t0;
    // The watchdog's SIGTERM lets socat remove its links; mcu_sim saw its parent go.
    await waitFor(() => !lstatExists(host), 2000, 'socat removed its pty links');
    expect(readFileSync(`${demo.dir()}/mcu.log`, 'utf8')).toContain('parent gone');
    process.stdout.write(`demo SIGKILL: ${kids.length} children (${kids.map((p) => p.comm).join(', ')}) gone ${goneMs.toFixed(0)} ms after the kill\n`);
  }, 60_000);
});

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
