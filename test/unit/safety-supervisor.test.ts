import { describe, expect, it } from 'vitest';
import { defaultCueProfile } from '../../src/cueing/profile.js';
import { McuState } from '../../src/output/riglink/protocol.js';
import { Command, Mcu, SupervisorState as S } from '../../src/safety/supervisor.js';
import { HoldReason } from '../../src/safety/telemetry-watch.js';
import { ClosedLoop } from '../helpers/closed-loop.js';

/** Scenarios from docs/safety.md, each through the whole tick with the virtual MCU in the loop (1 tick = 1 ms). */

function online(): ClosedLoop {
  const c = new ClosedLoop();
  expect(c.runUntil(() => c.state === S.online, 10_000)).toBeGreaterThan(0);
  return c;
}

describe('safety supervisor', () => {
  it('start: parked until fresh telemetry, ENABLE, unpark at park speed to neutral, then online with an engagement ramp', () => {
    const c = new ClosedLoop();
    c.streaming = false;
    c.run(500);
    expect(c.state).toBe(S.parked);
    expect(c.commands).toEqual([]);
    c.streaming = true;
    const tEnable = c.runUntil(() => c.commands.some((x) => x.command === Command.enable));
    // Fresh telemetry must have been steady for the settle time (250 ms) first.
    expect(tEnable).toBeGreaterThanOrEqual(250);
    c.runUntil(() => c.state === S.unparking);
    expect(c.mcu.state).toBe(McuState.enabled);
    const unpark = c.runUntil(() => c.state === S.online, 10_000);
    // Rest to rest over d at v = 25 % of maxVelocity with a = maxAcceleration: d/v + v/a.
    const g = c.loop.rig.geometry.actuators;
    const d = Math.max(...Array.from(c.loop.rig.neutral, (x, i) => Math.abs(x - c.loop.park[i]!)));
    const v = 0.25 * g.maxVelocity;
    const expected = (d / v + v / g.maxAcceleration) * 1000;
    expect(unpark).toBeGreaterThan(expected - 15);
    expect(unpark).toBeLessThan(expected + 30);
    const e0 = c.engagement;
    c.run(750);
    expect(c.engagement - e0).toBeCloseTo(0.5, 2); // 1.5 s for 0 → 1
    c.run(1000);
    expect(c.engagement).toBe(1);
  });

  it('hold on pause, loading, menu, replay, stale and frozen telemetry, teleport and car change; back online through the ramp', () => {
    const cases: [string, (c: ClosedLoop) => void, (c: ClosedLoop) => void, number][] = [
      ['paused', (c) => (c.sample.paused = true), (c) => (c.sample.paused = false), HoldReason.paused],
      ['loading', (c) => (c.sample.loading = true), (c) => (c.sample.loading = false), HoldReason.loading],
      ['menu', (c) => (c.sample.onTrack = false), (c) => (c.sample.onTrack = true), HoldReason.menu],
      ['replay', (c) => (c.sample.replay = true), (c) => (c.sample.replay = false), HoldReason.replay],
      ['stale', (c) => (c.streaming = false), (c) => (c.streaming = true), HoldReason.stale],
      ['frozen', (c) => (c.shape = () => {}), (c) => (c.shape = (s, t) => (s.ax = Math.sin(t))), HoldReason.frozen],
      ['teleport', (c) => (c.sample.px += 500), () => {}, HoldReason.teleport],
      ['car change', (c) => (c.sample.carId = 2000), () => {}, HoldReason.carChange],
    ];
    for (const [name, begin, end, reason] of cases) {
      const c = online();
      c.run(2000);
      expect(c.engagement, name).toBe(1);
      begin(c);
      const t = c.runUntil(() => c.state === S.hold, 2000);
      expect(c.loop.inputs.holdReason, name).toBe(reason);
      // stale and frozen take 100 ms to call; the rest the next sample (≤ 17 ms).
      expect(t, name).toBeLessThanOrEqual(reason === HoldReason.stale || reason === HoldReason.frozen ? 125 : 20);
      expect(c.runUntil(() => c.engagement === 0, 1000), name).toBeGreaterThan(450);
      end(c);
      const back = c.runUntil(() => c.state === S.online, 3000);
      expect(back, name).toBeGreaterThan(0);
      expect(c.engagement, name).toBeLessThan(0.01);
    }
  });

  it('e-stop: ESTOP on the tick the trigger appears, latched until the trigger is gone AND clear-estop; then parked and a normal unpark', () => {
    const c = online();
    c.loop.inputs.estopTrigger = true;
    c.step();
    expect(c.state).toBe(S.estop);
    expect(c.commands.at(-1)).toEqual({ k: c.k - 1, command: Command.estop });
    c.run(100);
    expect(c.mcu.state).toBe(McuState.estop);
    c.loop.inputs.clearRequests++; // clear while the trigger is still there: ignored
    c.run(500);
    expect(c.state).toBe(S.estop);
    c.loop.inputs.estopTrigger = false; // trigger gone, no new clear request: still latched
    c.run(500);
    expect(c.state).toBe(S.estop);
    c.loop.inputs.clearRequests++;
    c.runUntil(() => c.state === S.parked, 100);
    expect(c.commands.some((x) => x.command === Command.clearEstop)).toBe(true);
    expect(c.runUntil(() => c.state === S.online, 10_000)).toBeGreaterThan(0);
  });

  it('an e-stop the MCU reports by itself latches the host too', () => {
    const c = online();
    c.mcu.state = McuState.estop;
    c.step();
    expect(c.state).toBe(S.estop);
  });

  it('shutdown: disengage, ramp to park, PARK, then parked with the actuators at park', () => {
    const c = online();
    c.run(2000);
    c.loop.inputs.shutdown = true;
    c.step();
    expect(c.state).toBe(S.parking);
    expect(c.runUntil(() => c.state === S.parked, 10_000)).toBeGreaterThan(0);
    expect(c.commands.at(-1)!.command).toBe(Command.park);
    expect(c.mcu.state).toBe(McuState.parked);
    for (let i = 0; i < c.loop.rig.actuatorCount; i++) expect(c.loop.limiter.position[i]).toBeCloseTo(c.loop.park[i]!, 6);
    c.run(2000);
    expect(c.state).toBe(S.parked); // and it stays there
  });

  it('serial loss: fault; the same session coming back is not enough, a fresh handshake is, then a normal unpark', () => {
    const c = online();
    c.linkUp = false;
    c.step();
    expect(c.state).toBe(S.fault);
    c.run(700); // silence: the MCU's watchdog holds, then parks
    expect(c.mcu.state === McuState.parking || c.mcu.state === McuState.parked).toBe(true);
    c.linkUp = true;
    c.run(100);
    expect(c.state).toBe(S.fault);
    c.linkGeneration++;
    c.step();
    expect(c.state).toBe(S.parked);
    expect(c.runUntil(() => c.state === S.unparking, 5000)).toBeGreaterThan(0);
    expect(c.runUntil(() => c.state === S.online, 10_000)).toBeGreaterThan(0);
  });

  it('after a fresh handshake it waits for the first STATUS: no command, no unpark while the MCU state is unknown', () => {
    const c = online();
    c.linkUp = false;
    c.step();
    c.linkUp = true;
    c.linkGeneration++;
    const real = c.mcu.state;
    c.mcu.state = Mcu.unknown; // what the worker reports before the session's first STATUS
    const commands = c.commands.length;
    c.run(500);
    expect(c.state).toBe(S.parked);
    expect(c.commands.length).toBe(commands);
    expect(c.loop.supervisor.motionActive).toBe(false);
    c.mcu.state = real;
    expect(c.runUntil(() => c.state === S.online, 10_000)).toBeGreaterThan(0);
    expect(c.commands.slice(commands).map((x) => x.command)).toContain(Command.enable);
  });

  it('a profile change waits for engagement 0 in hold, then applies', () => {
    const c = online();
    c.run(2000);
    const before = c.loop.chain;
    c.loop.setProfile(defaultProfileWithGain(0.5));
    c.step();
    expect(c.state).toBe(S.hold);
    expect(c.loop.chain).toBe(before);
    c.runUntil(() => c.loop.chain !== before, 1000);
    expect(c.engagement).toBe(0);
    expect(c.runUntil(() => c.state === S.online, 2000)).toBeGreaterThan(0);
  });
});

function defaultProfileWithGain(g: number) {
  const p = defaultCueProfile();
  p.surge.gain = g;
  return p;
}
