import { closeSync, existsSync, mkdtempSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isatty } from 'node:tty';
import { loadProfiles } from '../config/profiles.js';
import { loadServiceConfig, type ServiceConfig } from '../config/service-config.js';
import { rigFromSpec } from '../kinematics/rig.js';
import { createLogger } from '../log.js';
import { PACKAGE_ROOT } from '../paths.js';
import { PtyRig, buildMcuSim, haveSocat, mcuSimArgs } from '../service/pty-rig.js';
import { MotionService, type ServiceStatus } from '../service/service.js';
import { UsageError } from './usage.js';
import { LiveBlock } from './view.js';

/** `run`, `check-config`, `clear-estop`, `status` and the demo: the service for humans. */

export async function runService(v: { config?: string; set?: string[] }, signal: AbortSignal): Promise<number> {
  if (!v.config) throw new UsageError('run needs --config FILE');
  const cfg = loadServiceConfig(v.config, v.set ?? []);
  const log = createLogger({ level: cfg.log.level });
  const service = new MotionService(cfg, log, v.set ?? []);
  await service.start();
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await service.stop();
  return process.exitCode === 1 ? 1 : 0;
}

/** Config, rig and every profile (at the configured loop rate), as the service loads them; builds no service. */
export function runCheckConfig(file: string, v: { set?: string[] }): number {
  const cfg = loadServiceConfig(file, v.set ?? []);
  const profiles = loadProfiles(cfg.profiles.dir, cfg.profiles.default, cfg.loop.rateHz);
  process.stdout.write(`${file}: OK (${describe(cfg)}; profile ${profiles.base.name})\n`);
  return 0;
}

function describe(cfg: ServiceConfig): string {
  const out = cfg.output.type === 'virtual' ? 'virtual rig' : `${cfg.output.type} on ${cfg.output.serial.path} @ ${cfg.output.serial.baud}`;
  return `${cfg.rig.type}${cfg.rig.name ? ` "${cfg.rig.name}"` : ''}, ${cfg.source.type} source, ${out}, ${cfg.loop.rateHz} Hz`;
}

function statusFileOf(v: { config?: string; status?: string; set?: string[] }): string {
  if (v.status) return v.status;
  if (!v.config) throw new UsageError('give --config FILE (its status.file) or --status FILE');
  const file = loadServiceConfig(v.config, v.set ?? []).status.file;
  if (!file) throw new UsageError(`${v.config} sets no status.file, so there is no running service to talk to`);
  return file;
}

function readStatus(file: string): ServiceStatus | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ServiceStatus;
  } catch {
    return undefined;
  }
}

/** Re-arms a latched e-stop: SIGUSR2 to the service named by the status file, then reports what happened. */
export async function runClearEstop(v: { config?: string; status?: string; set?: string[] }): Promise<number> {
  const file = statusFileOf(v);
  const before = readStatus(file);
  if (!before) {
    process.stderr.write(`no status at ${file}: is the service running?\n`);
    return 1;
  }
  if (before.state !== 'estop') {
    process.stdout.write(`not in e-stop (state ${before.state}); nothing to clear\n`);
    return 0;
  }
  if (before.estop.trigger) {
    const why = [before.estop.configKey ? 'safety.estop is true in the config' : '', before.estop.filePresent ? `${before.estop.file} exists` : ''].filter(Boolean).join(' and ');
    process.stderr.write(`e-stop stays latched: the trigger is still present (${why}). Remove it first.\n`);
    return 1;
  }
  try {
    process.kill(before.pid, 'SIGUSR2');
  } catch (err) {
    process.stderr.write(`cannot signal the service (pid ${before.pid}): ${(err as Error).message}\n`);
    return 1;
  }
  const deadline = Date.now() + 3000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const s = readStatus(file);
    if (s && s.state === 'fault') {
      // The MCU had a fault under the e-stop (a stall, a lost pot): it stays off until reset.
      process.stderr.write(`e-stop cleared, but the rig is in fault (${s.cause}): it stays off until the MCU is reset\n`);
      return 1;
    }
    if (s && s.state !== 'estop') {
      process.stdout.write(`e-stop cleared: state ${s.state}; the rig unparks through the normal ramp when telemetry is fresh\n`);
      return 0;
    }
    if (Date.now() > deadline) {
      process.stderr.write('the service did not leave e-stop within 3 s (is the MCU connected?)\n');
      return 1;
    }
  }
}

export async function runStatus(v: { config?: string; status?: string; set?: string[]; json?: boolean; once?: boolean }, signal: AbortSignal): Promise<number> {
  const file = statusFileOf(v);
  const once = v.once || v.json || !process.stdout.isTTY;
  const block = new LiveBlock(process.stdout);
  for (;;) {
    const s = readStatus(file);
    if (once) {
      if (!s) {
        process.stderr.write(`no status at ${file}: is the service running?\n`);
        return 1;
      }
      process.stdout.write(v.json ? `${JSON.stringify(s)}\n` : `${statusView(s)}\n`);
      return 0;
    }
    block.draw(s ? statusView(s) : `waiting for ${file} …`);
    await new Promise((r) => setTimeout(r, 100));
    if (signal.aborted) return 0;
  }
}

/** The page's token for the status view: read from its file (the service created it), or where it is when this user cannot read it. */
function webToken(file: string | null): string {
  if (file === null) return '(web.token in the config)';
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    return `in ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`;
  }
}

const BAR = 24;
function bar(u: number): string {
  const n = Math.max(0, Math.min(BAR, Math.round(u * BAR)));
  return `[${'#'.repeat(n)}${'.'.repeat(BAR - n)}]`;
}

/** MCU-timed playout, one line: on with the MCU's counters, or why the core SETPOINT is used. */
function playoutLine(p: ServiceStatus['link']['playout']): string {
  if (!p.on) return `off (${p.why}): core SETPOINT, played as it arrives`;
  const lead = p.minLeadUs === null ? '' : `, min lead ${p.minLeadUs} µs`;
  return `MCU-timed, tick ${p.lastTick}: ${p.accepted} played, ${p.late} late, ${p.stale} stale, ${p.outside} outside, ${p.overflow} overflow${lead}, clock ${p.rateAdjPpm} ppm`;
}

/** The human view of a status snapshot: state, cue, actuator bars. */
export function statusView(s: ServiceStatus): string {
  const age = (Date.now() - Date.parse(s.updatedAt)) / 1000;
  const f = (x: number, d = 3) => (x >= 0 ? ' ' : '') + x.toFixed(d);
  const lines = [
    `state     ${s.state.toUpperCase()}${s.state === 'hold' ? ` (${s.holdReason})` : ''}   engagement ${s.engagement.toFixed(2)}   cause ${s.cause}${age > 1 ? `   [status ${age.toFixed(0)} s old]` : ''}`,
    `e-stop    ${s.estop.trigger ? 'TRIGGER PRESENT' : 'armed'}${s.estop.file ? `   file ${s.estop.file}` : ''}`,
    `link      ${s.link.type} ${s.link.state}, MCU ${s.link.mcu}${s.link.firmware ? ` (${s.link.firmware})` : ''}, reconnects ${s.link.reconnects}, bad frames ${s.link.badFrames}`,
    `playout   ${playoutLine(s.link.playout)}`,
    `telemetry ${s.telemetry.source}, ${s.telemetry.ratePerS.toFixed(0)}/s, car ${s.telemetry.carId}, profile ${s.telemetry.profile}`,
    `loop      ${s.loop.rateHz} Hz, tick ${s.loop.tick}, late ${s.loop.lateTicks}, skipped ${s.loop.skippedTicks}, lateness p50 ${s.loop.latenessP50Us} µs p99 ${s.loop.latenessP99Us} µs; packet→frame p50 ${s.latency.p50Us} µs`,
    `frames    ${s.output.framesWritten} written, ${s.output.writeErrors} errors, last command ${s.output.lastCommand}`,
    `cue       x${f(s.cue.x!)} y${f(s.cue.y!)} z${f(s.cue.z!)} m  roll${f(s.cue.roll!)} pitch${f(s.cue.pitch!)} yaw${f(s.cue.yaw!)} rad`,
    `pose      x${f(s.pose.x!)} y${f(s.pose.y!)} z${f(s.pose.z!)} m  roll${f(s.pose.roll!)} pitch${f(s.pose.pitch!)} yaw${f(s.pose.yaw!)} rad  scale ${s.scale.toFixed(3)}`,
    ...s.wire.map((w, i) => `a${i + 1}        ${bar(w / 65535)} ${f(s.actuators[i]!, 4)}`),
  ];
  if (s.relay) {
    const apps = s.relay.clients.map((c) => `${c.address} (${c.format}, ${c.packets})`).join(', ') || 'none';
    lines.push(`relay     apps ${apps}; relayed ${s.relay.relayed}, dropped ${s.relay.dropped}, refused ${s.relay.refused}, garbage ${s.relay.garbage}`);
  }
  if (s.web) lines.push(`web       ${s.web.url}   token ${webToken(s.web.tokenFile)}`);
  if (s.config.lastError) lines.push(`config    last change refused: ${s.config.lastError.split('\n')[0]}`);
  return lines.join('\n');
}

/**
 * `npm start`: the whole service on built-in defaults — the console simulator's synthetic
 * drive over loopback UDP, the real pipeline, RigLink over a socat pty pair to the C MCU
 * simulator (or, without socat or a C compiler, the in-process virtual rig).
 */
export async function runDemo(v: { virtual?: boolean; json?: boolean; seconds?: string }, signal: AbortSignal): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'motion-rig-demo-'));
  const seconds = v.seconds === undefined ? Infinity : Number(v.seconds);
  if (!(seconds > 0)) throw new UsageError('--seconds must be a positive number');
  // A real file, as the service expects: the e-stop thread reads safety.estop from it and
  // edits to it are reloaded. Absolute paths, so a reload finds the rig and profiles too.
  const configFile = join(dir, 'config.yaml');
  const demoConfig = (output: string, path: string): ServiceConfig => {
    writeFileSync(
      configFile,
      `# motion-rig demo defaults (written by \`motion-rig demo\`; config.example.yaml documents every key)
source: { type: simulator }
loop: { rateHz: 1000 }
rig: ${JSON.stringify(join(PACKAGE_ROOT, 'profiles', 'rigs', 'stewart-linear.yaml'))}
output: { type: ${output}, serial: { path: ${JSON.stringify(path)}, baud: 500000, lowLatency: false } }
profiles: { dir: ${JSON.stringify(join(PACKAGE_ROOT, 'profiles'))}, default: default.yaml }
status: { file: ${JSON.stringify(join(dir, 'status.json'))} }
safety: { estop: false }
`,
    );
    return loadServiceConfig(configFile);
  };
  let cfg = demoConfig('virtual', '-');
  let pty: PtyRig | undefined;
  let why = '';
  if (!v.virtual) {
    const sim = haveSocat() ? buildMcuSim() : { error: 'socat is not installed (Debian/Ubuntu/Raspberry Pi OS: sudo apt-get install socat)' };
    if ('error' in sim) why = sim.error;
    else {
      pty = new PtyRig(sim.path, mcuSimArgs(rigFromSpec(cfg.rig)), dir);
      await pty.start();
      cfg = demoConfig('riglink', pty.host);
    }
  }
  const logFile = join(dir, 'motion-rig.log');
  const log = createLogger({ level: 'info', file: logFile });
  const screen = new DemoScreen();
  screen.say(`motion-rig demo: console simulator (synthetic lap with pause, menu, replay and silence) → service at 1000 Hz → `);
  screen.say(pty ? `RigLink over a socat pty pair → MCU simulator (log ${pty.log})\n` : `in-process virtual rig\n  (no pty path: ${why || '--virtual'}; the C MCU simulator needs socat, make and a C compiler)\n`);
  screen.say(`  config: ${configFile}   logs: ${logFile}   status: ${cfg.status.file}\n  Ctrl-C parks the rig and exits; safety.estop: true in the config is an e-stop.\n`);
  const service = new MotionService(cfg, log);
  let s: ServiceStatus;
  try {
    await service.start();
    const web = service.status().web;
    if (web) screen.say(`  web page: ${web.url} (\`motion-rig status\` and the live view show its token)\n`);
    const started = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      if (signal.aborted || Date.now() - started >= seconds * 1000) break;
      if (!v.json && process.stdout.isTTY) screen.draw(statusView(service.status()));
    }
    screen.say('parking…\n');
    await service.stop();
    s = service.status();
  } finally {
    await pty?.stop();
  }
  // After the rig is parked and the children are stopped: a failed write cannot skip either.
  if (v.json) screen.out(`${JSON.stringify(s)}\n`);
  else if (!process.stdout.isTTY) screen.out(`${statusView(s)}\n`);
  screen.say(`stopped: ${s.state}, ${s.output.framesWritten} frames written${pty && existsSync(pty.log) ? `; MCU log ${pty.log}` : ''}\n`);
  screen.close();
  return 0;
}

/**
 * The demo's terminal can go away under it: closing the window hangs the terminal up (SIGHUP
 * follows, from the shell) and every later write to it fails with EIO (a closed pipe: EPIPE).
 * An unhandled write error would end the process before the rig is parked, so from the first
 * failed write on the demo stops writing to the screen and goes on parking quietly. The live
 * view is written with writeSync, whose error is ours to catch: process.stdout's would reach
 * the CLI's handler, which ends the process.
 */
class DemoScreen {
  private gone = false;
  private readonly ttys = [0, 1, 2].filter((fd) => isatty(fd));
  private readonly view = new LiveBlock({
    write: (text: string) => {
      try {
        if (!this.gone) writeSync(1, text);
      } catch {
        this.gone = true;
      }
      return true;
    },
  } as Pick<NodeJS.WriteStream, 'write'> as NodeJS.WriteStream);

  constructor() {
    process.stderr.on('error', () => (this.gone = true));
  }
  /** Progress lines (stderr). */
  say(text: string): void {
    if (!this.gone) process.stderr.write(text);
  }
  /** The live view, redrawn in place (stdout is a terminal). */
  draw(text: string): void {
    this.view.draw(text);
  }
  /** The final status (stdout); skipped on a terminal that is gone. */
  out(text: string): void {
    if (!(this.gone && process.stdout.isTTY)) process.stdout.write(text);
  }
  /**
   * Last, once all is stopped: closes the stdio descriptors whose terminal has hung up (a
   * terminal at the start, not one now). Node restores each terminal's settings at exit and
   * aborts when that fails with anything but EPERM (a hung-up one fails with EIO;
   * nodejs/node#42433): SIGABRT and a core dump after a clean park. Closed ones it skips.
   */
  close(): void {
    for (const fd of this.ttys) if (!isatty(fd)) closeSync(fd);
  }
}
