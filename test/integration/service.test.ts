import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveSocat } from '../../src/service/pty-rig.js';
import { buildCli, runCli } from '../helpers/cli.js';
import { buildFirmwareHostPrograms } from '../helpers/firmware.js';
import { PARK_WIRE, ServiceRun, g, monotonicMs, rig, toWire } from '../helpers/service-run.js';
import { waitFor } from '../helpers/wait.js';

/**
 * End to end on real parts: the built CLI's `run` with the console simulator over loopback
 * UDP, RigLink over a socat pty pair, the C MCU simulator on the other end. Limits are
 * checked from what the MCU received.
 */

describe.skipIf(!haveSocat() && process.env.CI !== 'true')('service end to end (console simulator → service → pty → MCU simulator)', () => {
  let mcuSim: string;
  const runs: ServiceRun[] = [];
  beforeAll(() => {
    if (!haveSocat()) throw new Error('socat is required under CI=true (.ci/run installs it)');
    buildCli();
    mcuSim = buildFirmwareHostPrograms().mcuSim;
  });
  afterAll(async () => {
    for (const r of runs) {
      await r.stop();
      rmSync(r.dir, { recursive: true, force: true });
    }
  });

  it('drives online, holds on pause, menu, replay and silence and comes back; SIGTERM parks and exits 0; no frame breaks a limit', async () => {
    const run = new ServiceRun(mcuSim, 'drive:5,pause:2,drive:3,menu:2,drive:3,replay:2,drive:3,silent:1,drive:30');
    runs.push(run);
    await run.start();
    await run.waitState('online', 15_000);
    for (const reason of ['paused', 'menu', 'replay', 'stale']) {
      // The simulator's menu sets GT7's loading flag (and the car off track): any of these names is right.
      const ok = reason === 'menu' ? ['loading', 'menu', 'replay'] : [reason];
      await waitFor(() => { const s = run.status(); return s?.state === 'hold' && ok.includes(s.holdReason); }, 20_000, `hold (${reason})`);
      await run.waitState('online', 10_000);
    }
    expect(run.status()!.telemetry.profile).toBe('example override (stiffer surge, softer pitch)');
    // Enough frames to judge below: the drive goes on (drive:30), so wait for them rather than
    // stop at the last hold (about 20,000 then, fewer when the VM made the loop skip ticks).
    for (const t0 = Date.now(); run.pty.simLog().split(' rx SETPOINT').length - 1 <= 20_500 && Date.now() - t0 < 20_000; ) await new Promise((r) => setTimeout(r, 250));
    expect(await run.stop()).toBe(0);
    expect(run.out).toContain('stopped, rig parked');
    // The control thread and the e-stop thread ask for SCHED_FIFO (loop.realtimePriority 10):
    // granted as root, else a warning each.
    const rts = run.out.split('\n').filter((l) => l.includes('"event":"realtime"')).map((l) => JSON.parse(l) as { policy: number; priority: number; error?: string; thread?: string });
    expect(rts.map((r) => r.thread ?? 'control').sort()).toEqual(['control', 'estop']);
    for (const rt of rts) {
      if (process.getuid?.() === 0) expect(rt).toMatchObject({ policy: 1, priority: 10 });
      else expect(rt.error).toMatch(/\S/);
    }
    const states = run.states().map((s) => s.state);
    // Seen once under load 8 on 2 cores (parking → fault), not reproduced: print what the next one looks like.
    if (states.at(-1) !== 'parked') process.stdout.write(`PARK FAILED\n${run.out.split('\n').filter((l) => l.includes('"event"')).slice(-12).join('\n')}\n${run.pty.simLog().split('\n').filter((l) => !l.includes(' rx SETPOINT')).slice(-30).join('\n')}\n`);
    expect(states.slice(0, 2)).toEqual(['unparking', 'online']);
    expect(states.slice(-2)).toEqual(['parking', 'parked']);
    expect(states.filter((s) => s === 'hold').length).toBeGreaterThanOrEqual(4);

    const { lines } = run.mcuTimes();
    expect(lines.some((l) => / rx PARK /.test(l))).toBe(true);
    expect(lines.filter((l) => l.includes(' state ')).at(-1)).toContain('state parked');
    // Every SETPOINT the MCU received: inside the usable travel; steps within vmax·dt and
    // changes of step within amax·dt² (1 ms ticks), allowing the wire's rounding (≤ 1 LSB per value).
    // Steps are checked between frames the MCU acted on (received while it was `enabled`: in
    // any other state it ignores targets, and the host's frames then report the MCU's own
    // positions, e.g. while its watchdog parks it) with consecutive sequence numbers (a command
    // in between, or a frame the tty refused, breaks the chain; such breaks are counted).
    let mcuState = 'parked';
    const frames: { seq: number; enabled: boolean; wire: number[] }[] = [];
    let watchdogHolds = 0;
    for (const l of lines) {
      const st = / state (\w+)$/.exec(l);
      if (st) {
        mcuState = st[1]!;
        if (mcuState === 'holding') watchdogHolds++;
      } else if (l.includes(' rx SETPOINT ') || l.includes(' rx SETPOINT_TIMED ')) {
        // SETPOINT: seq flags targets…; SETPOINT_TIMED (the MCU has playout, the default): seq flags tick verdict targets…
        const timed = l.includes('_TIMED');
        const f = l.split(' ').slice(3);
        frames.push({ seq: Number(f[0]), enabled: mcuState === 'enabled', wire: f.slice(timed ? 4 : 2).map(Number) });
      }
    }
    const setpoints = frames.map((f) => f.wire);
    expect(setpoints.length).toBeGreaterThan(20_000);
    // The simulator has MCU-timed playout, so the service (default output.playoutDelayMs 2) uses it.
    expect(lines.filter((l) => l.includes(' rx SETPOINT_TIMED ')).length).toBeGreaterThan(setpoints.length * 0.99);
    const lo = toWire(rig.low[0]!) - 0.5;
    const hi = toWire(rig.high[0]!) + 0.5;
    const vmax = toWire(g.min + g.maxVelocity * 1e-3) + 1;
    const amax = toWire(g.min + g.maxAcceleration * 1e-6) + 2;
    const linked = (a: number, b: number) => frames[a]!.enabled && frames[b]!.enabled && ((frames[a]!.seq + 1) & 0xffff) === frames[b]!.seq;
    let maxStep = 0;
    let breaks = 0;
    let checked = 0;
    for (let k = 0; k < setpoints.length; k++) {
      const chained1 = k >= 1 && linked(k - 1, k);
      const chained2 = chained1 && k >= 2 && linked(k - 2, k - 1);
      if (k >= 1 && frames[k]!.enabled && frames[k - 1]!.enabled && !chained1) breaks++;
      if (chained2) checked++;
      for (let i = 0; i < 6; i++) {
        const w = setpoints[k]![i]!;
        expect(w).toBeGreaterThanOrEqual(lo);
        expect(w).toBeLessThanOrEqual(hi);
        if (chained1) {
          const step = w - setpoints[k - 1]![i]!;
          maxStep = Math.max(maxStep, Math.abs(step));
          expect(Math.abs(step)).toBeLessThanOrEqual(vmax);
          if (chained2 && Math.abs(step - (setpoints[k - 1]![i]! - setpoints[k - 2]![i]!)) > amax) {
            // Seen twice in about twelve full runs under load and not reproduced since: print what the next one looks like.
            process.stdout.write(`Δ² VIOLATION axis ${i}\n${[k - 3, k - 2, k - 1, k, k + 1].map((j) => JSON.stringify(frames[j])).join('\n')}\n${JSON.stringify(run.states().map((x) => [x.state, x.cause, x.holdReason, (x as unknown as { tick: number }).tick]))}\n`);
          }
          if (chained2) expect(Math.abs(step - (setpoints[k - 1]![i]! - setpoints[k - 2]![i]!))).toBeLessThanOrEqual(amax);
        }
      }
    }
    process.stdout.write(`MCU side: ${setpoints.length} setpoints, ${checked} checked for steps, ${breaks} chain breaks, ${watchdogHolds} watchdog holds\n`);
    expect(checked).toBeGreaterThan(setpoints.length / 2);
    expect(breaks).toBeLessThan(setpoints.length / 1000);
    expect(maxStep).toBeGreaterThan(vmax / 10); // it did move
    expect(setpoints.at(-1)).toEqual(new Array(6).fill(PARK_WIRE));
    // One sequence counter from HELLO on, across hold, park and the commands between: no gap.
    expect(run.pty.simLog()).toMatch(/seqGaps 0\b/);
  }, 120_000);

  it('e-stop by file and by config key: ESTOP on the wire within 20 ms, latched until the trigger is gone and clear-estop; serial unplug → fault → back through a fresh handshake', async () => {
    const run = new ServiceRun(mcuSim, 'drive:600');
    runs.push(run);
    await run.start();
    await run.waitState('online', 15_000);

    // By file, five times (the first with the latch checks): the median within the 20 ms
    // target, and no single one beyond 50 ms on a loaded machine.
    const fileLatencies: number[] = [];
    for (let rep = 0; rep < 5; rep++) {
      const seen = run.pty.simLog().split('rx ESTOP').length;
      const t0 = monotonicMs();
      writeFileSync(run.estopFile, '');
      await run.waitState('estop', 2000);
      await waitFor(() => run.pty.simLog().split('rx ESTOP').length > seen, 2000, 'ESTOP at the MCU');
      const { offset, lines } = run.mcuTimes();
      const rx = lines.filter((l) => l.includes('rx ESTOP')).at(-1)!;
      fileLatencies.push(offset + Number(rx.split(' ')[0]) - t0);
      if (rep === 0) {
        const r = runCli(['clear-estop', '--status', run.statusFile]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('still present');
      }
      rmSync(run.estopFile);
      await new Promise((res) => setTimeout(res, 300));
      expect(run.status()!.state).toBe('estop'); // the trigger going away does not re-arm
      const r = runCli(['clear-estop', '--status', run.statusFile]);
      expect(r.status, r.stderr).toBe(0);
      await run.waitState('online', 15_000);
      // The child's log lines sat in the pipe while runCli blocked this process: let them arrive.
      await waitFor(() => run.states().at(-1)?.state === 'online', 2000, 'online logged');
      expect(run.states().map((s) => s.state).slice(-4)).toEqual(['estop', 'parked', 'unparking', 'online']);
    }
    fileLatencies.sort((x, y) => x - y);
    expect(fileLatencies[2]).toBeLessThanOrEqual(20);
    expect(fileLatencies[4]).toBeLessThanOrEqual(50);

    // By config key (the service watches its config file).
    const t0 = monotonicMs();
    run.writeConfig('drive:600', true);
    await run.waitState('estop', 2000);
    await waitFor(() => run.pty.simLog().split('rx ESTOP').length === 7, 2000, 'ESTOP at the MCU');
    const { offset, lines } = run.mcuTimes();
    const rx = lines.filter((l) => l.includes('rx ESTOP')).at(-1)!;
    const configLatency = offset + Number(rx.split(' ')[0]) - t0;
    expect(configLatency).toBeLessThanOrEqual(50);
    run.writeConfig('drive:600', false);
    await new Promise((res) => setTimeout(res, 400));
    expect(runCli(['clear-estop', '--config', run.config]).status).toBe(0);
    await run.waitState('online', 15_000);

    // An invalid edit is refused and the service keeps running on the last good config.
    writeFileSync(run.config, readFileSync(run.config, 'utf8').replace('rateHz: 1000', 'rateHz: 5'));
    await waitFor(() => run.out.includes('config-refused'), 3000, 'refused config logged');
    expect(run.out).toMatch(/config\.yaml:2: loop\.rateHz: Too small/);
    expect(run.status()!.state).toBe('online');
    run.writeConfig('drive:600', false);

    // Unplug: the link is lost → fault; plug back in → fresh HELLO, ENABLE, unpark.
    await run.pty.unplug();
    await run.waitState('fault', 3000);
    await run.pty.startSocat(); // the MCU simulator reopens the device by itself, like firmware after a cable swap
    await run.waitState('online', 20_000);
    // The new session on the MCU side: HELLO, then ENABLE, then motion (SETPOINT lines are
    // buffered in the simulator's log: wait for them).
    const session = () => {
      const all = run.pty.simLog().split('\n');
      return all.slice(all.findLastIndex((l) => l.includes('link down')));
    };
    await waitFor(() => session().some((l) => / rx SETPOINT(_TIMED)? \d+ 1 /.test(l)), 3000, 'motion-active SETPOINT logged');
    const fresh = session();
    const hello = fresh.findIndex((l) => l.includes('rx HELLO'));
    const enable = fresh.findIndex((l) => l.includes('rx ENABLE'));
    const firstActive = fresh.findIndex((l) => / rx SETPOINT(_TIMED)? \d+ 1 /.test(l));
    expect(hello).toBeGreaterThanOrEqual(0);
    expect(enable).toBeGreaterThan(hello);
    expect(firstActive).toBeGreaterThan(enable);
    await waitFor(() => run.states().at(-1)?.state === 'online', 2000, 'online logged');
    expect(run.states().map((s) => s.state).slice(-4)).toEqual(['fault', 'parked', 'unparking', 'online']);
    process.stdout.write(`e-stop latency (file change → ESTOP at the MCU): file ${fileLatencies.map((x) => x.toFixed(1)).join(', ')} ms; config key ${configLatency.toFixed(1)} ms\n`);
    expect(await run.stop()).toBe(0);
    expect(existsSync(run.statusFile)).toBe(true);
  }, 120_000);
});
