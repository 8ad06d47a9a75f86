import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AVR_BUILD, AVR_PARK_WIRE, AVR_RIG_FILE, AvrRig, type PlantSample, buildAvr } from '../helpers/avr-rig.js';
import { buildCli, runCli } from '../helpers/cli.js';
import { buildFirmwareHostPrograms } from '../helpers/firmware.js';
import { ServiceRun } from '../helpers/service-run.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The real firmware, end to end: the built service (unchanged) over a pty to the AVR image
 * running in simavr (firmware-protocol/build/avr-rig), whose simulated plant moves two DC
 * rams with pots and one step/dir ram. Positions come from the plant, not from the firmware.
 * The service runs at 500 Hz here: at 1 kHz the simulated AVR is busy enough that simavr,
 * sharing this 2-core VM, falls behind the wall clock and the service (rightly) ends sessions
 * with an MCU that lags; bench/firmware.ts measures the firmware at the service's 1 kHz.
 */
const missing = buildAvr();
if (missing) console.warn(`AVR end-to-end tests skipped: ${missing.missing}`);

const State = { parked: 0, enabled: 1, holding: 2, parking: 3, estop: 4, fault: 5 } as const;
const range = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
const round = (x: number) => Math.round(x * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(missing !== null)('AVR firmware in simavr, driven by the service', () => {
  let mcuSim: string;
  const runs: { run: ServiceRun; avr: AvrRig }[] = [];
  beforeAll(() => {
    buildCli();
    mcuSim = buildFirmwareHostPrograms().mcuSim;
  });
  afterEach(async () => {
    for (const { run } of runs.splice(0)) {
      await run.stop();
      if (process.env.AVR_KEEP) process.stdout.write(`kept ${run.dir}\n`);
      else rmSync(run.dir, { recursive: true, force: true });
    }
  });

  async function online(phases: string): Promise<{ run: ServiceRun; avr: AvrRig }> {
    const dir = mkdtempSync(join(tmpdir(), 'motion-rig-avr-'));
    const avr = new AvrRig(dir, process.env.AVR_PROFILE ? ['--profile', process.env.AVR_PROFILE] : []);
    const run = new ServiceRun(mcuSim, phases, [], { rigEnd: avr, rigFile: AVR_RIG_FILE, baud: 500_000, rateHz: 500 });
    runs.push({ run, avr });
    await run.start();
    try {
      await run.waitState('online', 30_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nservice output (tail):\n${run.out.slice(-3000)}\navr-rig: ${avr.out.slice(-500)}`);
    }
    return { run, avr };
  }

  /**
   * Tracking error (wire units), per axis: the plant against the targets the firmware had
   * received `lag` samples (10 ms each) earlier; only samples 200 ms into an `enabled` stretch
   * (a watchdog hold on this loaded VM restarts the count).
   */
  function trackingError(s: PlantSample[], lag: number, q: number): number[] {
    const errs: number[][] = [[], [], []];
    let run = 0;
    for (let k = 0; k < s.length; k++) {
      run = s[k]!.state === State.enabled ? run + 1 : 0;
      if (run < 20 || k < lag) continue;
      for (let i = 0; i < 3; i++) errs[i]!.push(Math.abs(s[k]!.plant[i]! - s[k - lag]!.targets[i]!));
    }
    return errs.map((e) => e.sort((a, b) => a - b)[Math.min(e.length - 1, Math.floor(q * e.length))] ?? 0);
  }

  it("the firmware's 32-bit playout target equals the shared engine's (build/playout_fast_check, random timelines)", () => {
    const r = spawnSync(join(AVR_BUILD, 'playout_fast_check'), ['300'], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(Number(/^ok (\d+)/.exec(r.stdout)?.[1])).toBeGreaterThan(1_000_000);
  });

  it('handshake, homing, unpark; the rams track the setpoints; hold on telemetry silence; SIGTERM parks them', async () => {
    const { run, avr } = await online('drive:20,silent:4,drive:600');
    expect(run.out).toContain('riglink-avr 1.0 mega2560');
    // The step ram homed at boot (its switch at 0) before the firmware reported parked.
    const first = avr.events();
    expect(first.map((e) => e.state).slice(0, 3)).toEqual([State.parking, State.parked, State.enabled]);
    const t0 = avr.samples().at(-1)!.simMs;
    // At least 3 s of `enabled` (a session the service restarts on this loaded VM pauses it).
    const enabledAfter = () => avr.samples().filter((x) => x.simMs > t0 + 1000 && x.state === State.enabled);
    await waitFor(() => enabledAfter().length >= 300, 15_000, 'three seconds of tracking');
    const window = avr.samples().filter((x) => x.simMs > t0 + 1000);
    const tracked = enabledAfter();
    const err = trackingError(window, 1, 0.95);
    const worst = trackingError(window, 1, 1);
    const moved = [0, 1, 2].map((i) => range(tracked.map((x) => x.targets[i]!)));
    process.stdout.write(`AVR tracking: targets moved over ${moved.join(' / ')} wire units; |plant − target received 10 ms before| p95 ${err.join(' / ')}, max ${worst.join(' / ')} (DC, DC, step)\n`);
    for (let i = 0; i < 3; i++) expect(moved[i]).toBeGreaterThan(2000);
    // Stated error: p95 within 2 % of travel (1311 wire units) of the target received 10 ms
    // before (2 ms playout delay, 1 ms output pipeline, the motor's 30 ms time constant under
    // PI + feed-forward, the step ram's acceleration-limited profile). The max is printed, not
    // bounded: on this loaded VM simavr trails the wall clock, playout frames then fall outside
    // the window and the rams wait for the next anchor (max 540..6080 over runs).
    for (let i = 0; i < 3; i++) expect(err[i]).toBeLessThan(1311);
    // The firmware offered playout and the service uses it (default delay 2 ms).
    const po = run.status()!.link.playout;
    process.stdout.write(`AVR playout: ${JSON.stringify(po)}\n`);
    expect(po.on).toBe(true);
    expect(po.accepted).toBeGreaterThan(100); // since the last SET_PLAYOUT (the host re-sends it when frames fall outside)
    // Stale (a tick that went back) never happens; frames late, outside the window or over the
    // queue do when simavr trails the wall clock and catches up (bench/firmware.ts counts them).
    expect(po.stale).toBe(0);
    // STATUS faults bit 0x10: the receive ring overflowed. It does when simavr, behind the
    // wall clock on a loaded machine, catches up and delivers the queued bytes at line rate.
    if (avr.events().some((e) => (e.faults & 0x10) !== 0)) process.stdout.write('AVR: receive ring overflowed during this run (simavr catching up)\n');

    // Telemetry silence: the service holds, the rams settle where it leads them and stay.
    await run.waitState('hold', 20_000, 'stale');
    await sleep(1500);
    expect(run.status()!.state).toBe('hold');
    const held = avr.samples().slice(-50);
    for (let i = 0; i < 3; i++) expect(range(held.map((x) => x.plant[i]!))).toBeLessThan(300); // 0.5 % of travel over 0.5 s (measured 40..203)
    await run.waitState('online', 15_000);

    // SIGTERM: the service parks the rig through the firmware and exits 0.
    expect(await run.stop()).toBe(0);
    const ev = avr.events();
    expect(ev.at(-1)!.state).toBe(State.parked);
    const last = avr.samples().at(-1)!;
    expect(Math.abs(last.plant[0]! - AVR_PARK_WIRE)).toBeLessThan(400);
    expect(Math.abs(last.plant[1]! - AVR_PARK_WIRE)).toBeLessThan(400);
    expect(Math.abs(last.plant[2]! - AVR_PARK_WIRE)).toBeLessThanOrEqual(7);
    // The step ram's position is counted: at rest, what the firmware reports is where the plant is, to a step (6.55 wire units).
    expect(Math.abs(last.reported[2]! - last.plant[2]!)).toBeLessThanOrEqual(7);
  }, 90_000);

  it('SIGKILL of the service: the firmware holds 100 ms after the last frame, parks at 500 ms (positions from the plant)', async () => {
    const { run, avr } = await online('drive:600');
    await sleep(2000);
    const proc = run.proc!;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
    run.exitCode = 137; // killed: nothing left for stop() to signal
    await waitFor(() => avr.events().at(-1)?.state === State.parked, 10_000, 'firmware parked');
    const ev = avr.events();
    const hold = ev.findLast((e) => e.state === State.holding)!;
    const park = ev.findLast((e) => e.state === State.parking)!;
    // STATUS goes out every 20 ms: a state shows up to 20 ms after it began.
    expect(hold.simMs - hold.lastRxMs).toBeGreaterThanOrEqual(100);
    expect(hold.simMs - hold.lastRxMs).toBeLessThanOrEqual(130);
    expect(park.simMs - park.lastRxMs).toBeGreaterThanOrEqual(500);
    expect(park.simMs - park.lastRxMs).toBeLessThanOrEqual(530);
    // Holding: still, where the watchdog caught them (after the DC rams' short coast-down).
    const during = avr.samples().filter((x) => x.simMs > hold.simMs + 30 && x.simMs < park.simMs - 30);
    for (let i = 0; i < 3; i++) expect(range(during.map((x) => x.plant[i]!))).toBeLessThan(250);
    await sleep(200);
    const last = avr.samples().at(-1)!;
    expect(Math.abs(last.plant[0]! - AVR_PARK_WIRE)).toBeLessThan(400);
    expect(Math.abs(last.plant[2]! - AVR_PARK_WIRE)).toBeLessThanOrEqual(7);
  }, 60_000);

  it('e-stop pin: the service shows estop within 50 ms, nothing moves; CLEAR_ESTOP is refused while pressed and works after release', async () => {
    const { run, avr } = await online('drive:600');
    await sleep(1500);
    const tPress = Date.now();
    writeFileSync(avr.estopFile, '');
    await run.waitState('estop', 2000);
    await waitFor(() => run.out.includes('"state":"estop"'), 2000, 'estop logged');
    const line = run.out.split('\n').find((l) => l.includes('"event":"state"') && l.includes('"state":"estop"'))!;
    const latency = (JSON.parse(line) as { time: number }).time - tPress;
    const pin = avr.estopPin().find((p) => p.pressed === 1)!;
    const pressSim = avr.events().find((e) => e.state === State.estop)!.simMs;
    process.stdout.write(`AVR e-stop pin → service estop: ${latency} ms (firmware: STATUS estop ${round(pressSim - pin.simMs)} ms of simulated time after the pin; simavr ${round(pin.behindMs)} ms behind the wall clock then)\n`);
    // The firmware's part, in its own time: the next STATUS (every 20 ms) says estop.
    expect(pressSim - pin.simMs).toBeLessThanOrEqual(21);
    // End to end on the wall clock, when simavr was keeping time (on a loaded VM it can trail
    // by hundreds of ms, which no MCU does; the line above then still holds).
    if (pin.behindMs < 10) expect(latency).toBeLessThanOrEqual(50);
    await sleep(1000);
    // Motors off at once: after the DC rams coast down (30 ms time constant), nothing moves.
    const after = avr.samples().filter((x) => x.simMs > pressSim + 150);
    expect(after.length).toBeGreaterThan(50);
    for (let i = 0; i < 3; i++) expect(range(after.map((x) => x.plant[i]!))).toBeLessThan(40);
    expect(after.every((x) => x.enable === 0)).toBe(true);

    // Clear while pressed: the service sends CLEAR_ESTOP, the firmware refuses, the latch
    // holds (the CLI waits 3 s for the state to change and says it did not).
    expect(runCli(['clear-estop', '--config', run.config]).status).toBe(1);
    expect(run.status()!.state).toBe('estop');
    expect(avr.samples().at(-1)!.state).toBe(State.estop);
    // Released: the service's CLEAR_ESTOP goes through, then parked → unpark → online.
    rmSync(avr.estopFile);
    await run.waitState('online', 20_000);
    const states = avr.events().map((e) => e.state);
    const fromEstop = states.slice(states.lastIndexOf(State.estop));
    expect(fromEstop.slice(0, 2)).toEqual([State.estop, State.parked]);
    expect(fromEstop).toContain(State.enabled);
  }, 60_000);

  it('a jammed DC ram: stall detected, motor off, the service shows fault', async () => {
    const { run, avr } = await online('drive:600');
    writeFileSync(avr.jamFile, '');
    await waitFor(() => avr.events().some((e) => e.state === State.fault), 5000, 'firmware fault');
    await run.waitState('fault', 5000);
    const ev = avr.events().find((e) => e.state === State.fault)!;
    expect(ev.faults & ~0x10).toBe(0x0102); // stall, axis 0 (0x10: a receive overflow, see above)
    await sleep(300);
    expect(avr.samples().at(-1)!.enable).toBe(0);
  }, 60_000);
});
