import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { round, vmSteal } from './measure.js';

/**
 * The AVR firmware (issue 16) as it runs: `make -C firmware-protocol avr`, then the built
 * service (its normal 1 kHz loop, console simulator, default playout delay 2 ms) over a pty to
 * the Mega image in simavr (build/avr-rig). Prints JSON:
 *   flash/RAM per image (avr-size: text+data, data+bss);
 *   interrupt handlers: longest run per vector in cycles, from the vector fetch to the end of
 *     RETI, with and without time spent in handlers nested in it ("own"), and CPU share;
 *   UART: bytes/s received, line load at the firmware's 500 kbaud (10 bits per byte), and the
 *     CPU share of the receive handler;
 *   actuator update jitter: the control tick's test-point edges against the ideal 1 ms grid,
 *     |edge − median| in cycles (16 cycles = 1 µs): p50/p99/p99.9/p99.99/max;
 *   playout: frames accepted and late (played at once, not on time) per million, from the
 *     service's status file (the firmware's PLAYOUT_STATUS);
 *   CPU idle share of the AVR, and how far simavr fell behind the wall clock.
 *   node dist/bench/firmware.js [--seconds 20] [--profile FILE] [--rig-nice N] [--service-only]
 * Also the firmware alone (firmwareAlone below): a host in simulated time, 0 and 0-1 ms late,
 * and capacity: step rams driven up to their 25,000 steps/s limit, default and all-step images.
 * --profile: avr-rig's cycles per flash address (its --profile) to FILE, for finding where the
 * firmware's time goes (bucket the addresses with avr-nm -S).
 * --rig-nice: avr-rig's nice value (default −10, as the tests run it); --service-only: the run
 * with the service alone, without firmwareAlone and capacity (~30 s instead of ~3 min).
 */
const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 20) || 20;
const profile = args.includes('--profile') ? args[args.indexOf('--profile') + 1] : undefined;
const rigNice = args.includes('--rig-nice') ? Number(args[args.indexOf('--rig-nice') + 1]) : -10;
const serviceOnly = args.includes('--service-only');
const FW = join(PACKAGE_ROOT, 'firmware-protocol');
const CLI = join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');
const BAUD = 500_000;

function out(result: object): void {
  process.stdout.write(`${JSON.stringify({ bench: 'firmware', ...result })}\n`);
}

const make = spawnSync('make', ['-s', '-C', FW, 'avr'], { encoding: 'utf8' });
if (make.status !== 0) {
  out({ skipped: `make -C firmware-protocol avr failed (gcc-avr, avr-libc, libsimavr-dev, libelf-dev installed?): ${(make.stderr || make.stdout).trim().slice(0, 300)}` });
  process.exit(0);
}

function size(elf: string): { flashBytes: number; ramBytes: number } {
  const r = spawnSync('avr-size', [elf], { encoding: 'utf8' });
  const [text, data, bss] = r.stdout.split('\n')[1]!.trim().split(/\s+/).map(Number) as [number, number, number];
  return { flashBytes: text + data, ramBytes: data + bss };
}
const images = {
  mega2560: { ...size(join(FW, 'build', 'riglink-mega2560.elf')), flashOf: 253952, ramOf: 8192, axes: '2 DC + 1 step/dir' },
  uno328p: { ...size(join(FW, 'build', 'riglink-uno328p.elf')), flashOf: 32256, ramOf: 2048, axes: '2 DC' },
};

const dir = mkdtempSync(join(tmpdir(), 'motion-rig-fw-bench-'));
const link = join(dir, 'avr-link');
const stats = join(dir, 'stats.json');
const status = join(dir, 'status.json');
const config = join(dir, 'config.yaml');
const wait = async (cond: () => boolean, ms: number, what: string) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`firmware bench: ${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
/** Steps over the whole travel (wire 0..65535), from the firmware's config.h. */
const STEPS_TRAVEL = Number(/#define STEPS_TRAVEL (\d+)L/.exec(readFileSync(join(FW, 'avr', 'config.h'), 'utf8'))?.[1]);
/** Late frames per million accepted (null before any). */
const latePerMillion = (c: { accepted: number; late: number }) => (c.accepted ? Math.round((c.late / c.accepted) * 1e6) : null);

/**
 * The firmware alone: avr-rig's host in simulated time (--feed-hz, sim/feeder.c) streams
 * 1 kHz SETPOINT_TIMED to the Mega, each handed to the UART a fixed pseudo-random 0..lateUs
 * after its tick; no service, no wall clock, the same every run. Its late frames are the
 * firmware's (and the 500 kbaud wire's) alone.
 */
type AloneOptions = { swing?: number; cycleMs?: number; image?: string; dc?: number; step?: number };
type Feed = { faults: number; estops: number; firmware: { accepted: number; late: number; minLeadUs: number }; afterFirstSecond: { accepted: number; late: number; minLeadUs: number } };
type FeedStats = { feed: Feed; idleShare: number; isr?: IsrStats };
/** One avr-rig run with its host in simulated time at 1 kHz; its stats, or why it failed. */
function feedRun(lateUs: number, frames: number, o: AloneOptions, extra: string[] = []): FeedStats | { error: string } {
  const feedStats = join(dir, 'feed.json');
  const mix = ['--axes-dc', String(o.dc ?? 2), '--axes-step', String(o.step ?? 1)];
  const motion = ['--feed-swing', String(o.swing ?? 2000), '--feed-cycle-ms', String(o.cycleMs ?? 2000)];
  const elf = join(FW, 'build', o.image ?? 'riglink-mega2560.elf');
  const r = spawnSync(join(FW, 'build', 'avr-rig'), ['--firmware', elf, ...mix, '--link', join(dir, 'feed-link'), '--stats', feedStats, '--feed-hz', '1000', '--feed-late-us', String(lateUs), '--feed-frames', String(frames), ...motion, ...extra], {
    encoding: 'utf8',
  });
  if (r.status !== 0) return { error: r.stderr.trim().slice(0, 300) };
  return JSON.parse(readFileSync(feedStats, 'utf8')) as FeedStats;
}
function firmwareAlone(lateUs: number, frames: number, o: AloneOptions = {}) {
  const st = feedRun(lateUs, frames, o);
  if ('error' in st) return st;
  const f = st.feed;
  return {
    mix: `${o.dc ?? 2} DC + ${o.step ?? 1} step`,
    // The feeder's sine: wire units each way and its period; a step ram's peak speed follows.
    swing: o.swing ?? 2000,
    cycleMs: o.cycleMs ?? 2000,
    stepPeakPerS: Math.round((((o.swing ?? 2000) * 2 * Math.PI) / ((o.cycleMs ?? 2000) / 1000)) * (STEPS_TRAVEL / 65535)),
    hostLateUsUpTo: lateUs,
    accepted: f.firmware.accepted,
    late: f.firmware.late,
    latePerMillion: latePerMillion(f.firmware),
    minLeadUs: f.firmware.minLeadUs,
    // From the stream's second second on: after the step ram's slew from park (feeder.c).
    afterFirstSecond: { ...f.afterFirstSecond, latePerMillion: latePerMillion(f.afterFirstSecond) },
    // STATUS faults: 0x10 is the receive ring overflowing (bytes lost).
    faults: f.faults,
    avrIdleShare: round(st.idleShare, 3),
  };
}
/*
 * How much the Mega carries: step rams driven hard (the feeder's sine asks up to the peak
 * speed given), frames 0.5 and 1 ms late, the default image and the all-step one.
 */
function capacity() {
  const runs = [];
  for (const lateUs of [500, 1000]) {
    for (const swing of [10000, 20000, 28000]) runs.push(firmwareAlone(lateUs, 10_000, { swing, cycleMs: 1000 }));
    for (const swing of [7000, 10000, 14000]) runs.push(firmwareAlone(lateUs, 10_000, { swing, cycleMs: 1000, image: 'riglink-mega2560-0dc-3step.elf', dc: 0, step: 3 }));
  }
  return runs;
}
const ISR_NAMES: Record<string, string> = {
  '5': 'INT4 (e-stop)',
  '13': 'TIMER2_COMPA (control tick)',
  '25': 'USART0_RX',
  '29': 'ADC',
  '32': 'TIMER3_COMPA (step)',
  '63': 'tick body (run at a handler\'s exit, interrupts on)',
};
const ESTOP_NAME = ISR_NAMES['5']!;
type IsrStats = Record<string, { count: number; maxCycles: number; maxOwnCycles: number; cpuShare: number }>;
type IsrRow = { count: number; maxCycles: number; maxOwnCycles: number; cpuPct: number };
function isrTable(stats: IsrStats): Record<string, IsrRow> {
  return Object.fromEntries(Object.entries(stats).map(([v, x]) => [ISR_NAMES[v] ?? `vector ${v}`, { count: x.count, maxCycles: x.maxCycles, maxOwnCycles: x.maxOwnCycles, cpuPct: round(100 * x.cpuShare, 2) }]));
}
function longestHandler(rows: Record<string, IsrRow>): { vector: string; ownCycles: number; us: number } | null {
  let best: { vector: string; ownCycles: number; us: number } | null = null;
  for (const [vector, r] of Object.entries(rows)) {
    if (vector === ISR_NAMES['63'] || (best && r.maxOwnCycles <= best.ownCycles)) continue;
    best = { vector, ownCycles: r.maxOwnCycles, us: round(r.maxOwnCycles / 16, 2) };
  }
  return best;
}
function estopHandler(): { presses: number; isr: IsrRow } | { error: string } {
  const st = feedRun(500, 3000, { swing: 28000, cycleMs: 1000 }, ['--isr-stats', '1', '--feed-estop-every-ms', '97.3']);
  if ('error' in st) return st;
  const row = isrTable(st.isr ?? {})[ESTOP_NAME];
  return row ? { presses: st.feed.estops, isr: row } : { error: 'the e-stop handler never ran' };
}
const readStatus = () => {
  try {
    return JSON.parse(readFileSync(status, 'utf8')) as {
      state: string;
      loop: { tick: number; lateTicks: number; skippedTicks: number; maxLatenessUs: number; latenessP50Us: number; latenessP99Us: number };
      link: { sessions: number; loss: string; playout: { on: boolean; accepted: number; late: number; stale: number; outside: number; overflow: number; minLeadUs: number; reanchors: number } };
    };
  } catch {
    return undefined;
  }
};
const stop = (p: ChildProcess | undefined) =>
  new Promise<void>((resolve) => {
    if (!p || p.exitCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });

const rig = spawn(join(FW, 'build', 'avr-rig'), ['--firmware', join(FW, 'build', 'riglink-mega2560.elf'), '--link', link, '--stats', stats, '--isr-stats', '1', ...(profile ? ['--profile', profile] : [])], { stdio: 'ignore' });
try {
  if (rig.pid !== undefined) setPriority(rig.pid, rigNice); // a stand-in for an MCU: as test/helpers/avr-rig.ts
} catch {
  // not allowed here
}
let service: ChildProcess | undefined;
try {
  await wait(() => existsSync(link), 5000, 'avr-rig link');
  writeFileSync(
    config,
    `source: { type: simulator, simulator: { phases: "drive:3600" }, gt7: { bind: 127.0.0.${50 + (process.pid % 150)} } }
loop: { rateHz: 1000 }
rig: ${join(PACKAGE_ROOT, 'test', 'fixtures', 'rigs', 'avr-rig.yaml')}
output: { type: riglink, serial: { path: ${link}, baud: ${BAUD}, lowLatency: false } }
profiles: { dir: ${join(PACKAGE_ROOT, 'profiles')} }
status: { file: ${status} }
`,
  );
  service = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: 'ignore' });
  await wait(() => readStatus()?.state === 'online', 30_000, 'service online');
  const steal0 = vmSteal();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const vmStealPct = vmSteal(steal0);
  const { link: linkStatus, loop: hostLoop } = readStatus()!;
  const after = linkStatus.playout;
  await stop(service);
  await stop(rig);
  const s = JSON.parse(readFileSync(stats, 'utf8')) as {
    cycles: number;
    simSeconds: number;
    idleShare: number;
    maxBehindMs: number;
    uart: { rxBytes: number; txBytes: number };
    pty: { txDropped: number; rxWaitMaxMs: number; readerRealtime: boolean };
    status: { count: number; maxGapMs: number };
    playoutAtPty: { accepted: number; late: number; stale: number; outside: number; overflow: number };
    playoutAtDelivery: { accepted: number; late: number; stale: number; outside: number; overflow: number };
    isr: Record<string, { count: number; maxCycles: number; maxOwnCycles: number; cpuShare: number }>;
    tick: Record<string, number>;
  };
  const isr = isrTable(s.isr);
  const estop = estopHandler();
  const rxPerS = s.uart.rxBytes / s.simSeconds;
  out({
    images,
    run: { seconds: round(s.simSeconds, 1), avrIdlePct: round(100 * s.idleShare, 1), simBehindWallMaxMs: round(s.maxBehindMs, 1), rigNice: rigNice },
    // The share of this VM's CPU time its hypervisor took while the service ran: the host
    // figures below (playoutAtPty, hostLoop) rise with it, the firmware's cycles do not.
    vmStealPct,
    isr,
    // The longest interrupt handler: its own cycles, vector to RETI, without the handlers that
    // nested in it and without the tick body it may run at its exit (counted apart).
    longestHandler: longestHandler({ ...isr, ...('isr' in estop ? { [ESTOP_NAME]: estop.isr } : {}) }),
    note: "the control tick's body runs at the exit of whichever handler leaves last (rig.h); avr-rig counts it apart ('tick body'), so each vector's own cycles are its handler's",
    // The e-stop handler, which the run above never enters: the firmware alone with the pin
    // pressed 20 ms of every 97.3 ms while the step ram runs at its limit.
    estopHandler: estop,
    uart: { baud: BAUD, rxBytesPerS: Math.round(rxPerS), lineLoadPct: round((100 * rxPerS * 10) / BAUD, 1), rxIsrCpuPct: isr.USART0_RX?.cpuPct },
    // avr-rig's stand-in for the wire (sim/pty_link.c): readerRealtime false means its stamps
    // include this VM's scheduling delays too.
    pty: { ...s.pty, rxWaitMaxMs: round(s.pty.rxWaitMaxMs, 2) },
    tickJitter: { edges: s.tick.edges, medianLatencyCycles: s.tick.medianLatencyCycles, p50: s.tick.p50JitterCycles, p99: s.tick.p99JitterCycles, p999: s.tick.p999JitterCycles, p9999: s.tick.p9999JitterCycles, max: s.tick.maxJitterCycles, unit: 'cycles (16 = 1 µs)', targetP9999: 16 },
    // The firmware's counters since the service's last SET_PLAYOUT (a new session zeroes them).
    playout: { on: after.on, delayMs: 2, accepted: after.accepted, late: after.late, latePerMillion: latePerMillion(after), stale: after.stale, outside: after.outside, overflow: after.overflow, since: 'the last SET_PLAYOUT' },
    // The same engine (avr-rig) fed each frame when its last byte reached the pty on the wall
    // clock (what the host and this VM delivered) and when it reached the UART in simulated time
    // (plus the bytes' queue at the baud rate), not when the firmware's main loop handled it: the
    // differences are the UART's share and the frames' wait in the firmware's receive ring.
    playoutAtPty: { ...s.playoutAtPty, latePerMillion: latePerMillion(s.playoutAtPty) },
    playoutAtDelivery: { ...s.playoutAtDelivery, latePerMillion: latePerMillion(s.playoutAtDelivery) },
    firmwareAlone: serviceOnly ? undefined : [firmwareAlone(0, 20_000), firmwareAlone(1000, 20_000)],
    capacity: serviceOnly ? undefined : capacity(),
    // The service's own control loop meanwhile (its status file): how late its ticks started.
    hostLoop,
    // A new session or a re-anchor sends SET_PLAYOUT, which zeroes the counters above.
    link: { sessions: linkStatus.sessions, lastLoss: linkStatus.loss, reanchors: after.reanchors },
    // The firmware's STATUS in simulated time (the host gives a session up after 200 ms without one).
    status: { count: s.status.count, maxGapMs: round(s.status.maxGapMs, 1), targetMs: 20 },
  });
} finally {
  await stop(service);
  await stop(rig);
  rmSync(dir, { recursive: true, force: true });
}
