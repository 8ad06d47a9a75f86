import { describe, expect, it } from 'vitest';
import { defaultCueProfile } from '../../src/cueing/profile.js';
import { McuState } from '../../src/output/riglink/protocol.js';
import { Cause, Command, SupervisorState as S } from '../../src/safety/supervisor.js';
import { HoldReason } from '../../src/safety/telemetry-watch.js';
import { Port } from '../../src/runtime/slots.js';
import { SeqlockSlot } from '../../src/runtime/shared-slot.js';
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
    c.control.triggers.estop = true;
    c.step();
    expect(c.state).toBe(S.estop);
    expect(c.commands.at(-1)).toEqual({ k: c.k - 1, command: Command.estop });
    c.run(100);
    expect(c.mcu.state).toBe(McuState.estop);
    c.control.triggers.clearRequests++; // clear while the trigger is still there: ignored
    c.run(500);
    expect(c.state).toBe(S.estop);
    c.control.triggers.estop = false; // trigger gone, no new clear request: still latched
    c.run(500);
    expect(c.state).toBe(S.estop);
    c.control.triggers.clearRequests++;
    c.runUntil(() => c.state === S.parked, 100);
    expect(c.commands.some((x) => x.command === Command.clearEstop)).toBe(true);
    expect(c.runUntil(() => c.state === S.online, 10_000)).toBeGreaterThan(0);
  });

  it('a fault the MCU had before an e-stop outlives it: after the trigger is gone and clear-estop, fault again, never parked or enabled', () => {
    const c = online();
    c.mcu.fault(); // a stall, say: latched in the firmware until a reset
    expect(c.runUntil(() => c.state === S.fault, 25)).toBeGreaterThan(0);
    c.control.triggers.estop = true;
    c.runUntil(() => c.state === S.estop, 5);
    c.run(100);
    expect(c.mcu.state).toBe(McuState.estop);
    c.control.triggers.estop = false;
    c.control.triggers.clearRequests++;
    const sent = c.commands.length;
    c.runUntil(() => c.state !== S.estop, 200);
    expect(c.commands.slice(sent).map((x) => x.command)).toContain(Command.clearEstop);
    expect(c.state).toBe(S.fault);
    expect(c.loop.supervisor.cause).toBe(Cause.mcuFault);
    c.run(2000);
    expect(c.state).toBe(S.fault);
    expect(c.mcu.state).toBe(McuState.fault);
    expect(c.commands.slice(sent).map((x) => x.command)).not.toContain(Command.enable);
    expect(c.engagement).toBe(0);
  });

  it('an e-stop the MCU reports by itself latches the host too (with its next STATUS, ≤ 20 ms)', () => {
    const c = online();
    c.mcu.state = McuState.estop;
    expect(c.runUntil(() => c.state === S.estop, 25)).toBeGreaterThan(0);
  });

  it('shutdown: disengage, ramp to park, PARK, then parked with the actuators at park', () => {
    const c = online();
    c.run(2000);
    c.control.triggers.shutdown = true;
    c.step();
    expect(c.state).toBe(S.parking);
    expect(c.runUntil(() => c.state === S.parked, 10_000)).toBeGreaterThan(0);
    expect(c.commands.at(-1)!.command).toBe(Command.park);
    expect(c.mcu.state).toBe(McuState.parked);
    for (let i = 0; i < c.loop.rig.actuatorCount; i++) expect(c.loop.limiter.position[i]).toBeCloseTo(c.loop.park[i]!, 6);
    c.run(2000);
    expect(c.state).toBe(S.parked); // and it stays there
  });

  it('park request (web page / API): parks like shutdown with its own cause, stays parked while it stands, unparks through ENABLE when withdrawn', () => {
    const c = online();
    c.run(2000);
    c.control.triggers.park = true;
    c.step();
    expect(c.state).toBe(S.parking);
    expect(c.loop.supervisor.cause).toBe(Cause.parkRequest);
    expect(c.runUntil(() => c.state === S.parked, 10_000)).toBeGreaterThan(0);
    expect(c.mcu.state).toBe(McuState.parked);
    const sent = c.commands.length;
    c.run(3000);
    expect(c.state).toBe(S.parked); // fresh telemetry does not unpark it
    expect(c.commands.slice(sent).some((x) => x.command === Command.enable)).toBe(false);
    c.control.triggers.park = false;
    expect(c.runUntil(() => c.state === S.online, 10_000)).toBeGreaterThan(0);
    expect(c.commands.slice(sent).some((x) => x.command === Command.enable)).toBe(true);
  });

  it('a park request arriving after ENABLE was sent but before the MCU confirmed: no unpark starts, the MCU is parked again', () => {
    const c = new ClosedLoop();
    c.runUntil(() => c.commands.some((x) => x.command === Command.enable), 10_000);
    expect(c.state).toBe(S.parked);
    // The MCU took ENABLE; its STATUS saying so has not reached the host yet.
    c.control.triggers.park = true;
    const states = new Set<number>();
    const active: boolean[] = [];
    for (let t = 0; t < 3000; t++) {
      c.step();
      states.add(c.state);
      active.push(c.loop.supervisor.motionActive);
    }
    expect([...states]).toEqual([S.parked]);
    expect(active.includes(true)).toBe(false);
    expect(c.commands.some((x) => x.command === Command.park)).toBe(true);
    expect(c.mcu.state).toBe(McuState.parked);
    // Withdrawn: a normal unpark through a fresh ENABLE.
    const sent = c.commands.length;
    c.control.triggers.park = false;
    expect(c.runUntil(() => c.state === S.online, 10_000)).toBeGreaterThan(0);
    expect(c.commands.slice(sent).some((x) => x.command === Command.enable)).toBe(true);
  });

  it('serial loss: fault; the port coming back is a new session: HELLO first, then a normal unpark', () => {
    const c = online();
    c.linkUp = false;
    c.step();
    expect(c.state).toBe(S.fault);
    c.run(700); // silence: the MCU's watchdog holds, then parks
    expect(c.mcu.state === McuState.parking || c.mcu.state === McuState.parked).toBe(true);
    const hellos = c.mcu.counters.hellos;
    c.linkUp = true;
    c.step();
    expect(c.mcu.counters.hellos).toBe(hellos + 1);
    expect(c.runUntil(() => c.state === S.parked, 100)).toBeGreaterThan(0);
    expect(c.runUntil(() => c.state === S.unparking, 5000)).toBeGreaterThan(0);
    expect(c.runUntil(() => c.state === S.online, 10_000)).toBeGreaterThan(0);
  });

  it('after a reconnect no frame but HELLO goes out before the session\'s first STATUS; then flag-0 frames carry exactly the positions it reported', () => {
    const c = online();
    c.recordFrames = true;
    c.linkUp = false;
    c.run(300); // the MCU holds where it was, then starts its watchdog park
    c.linkUp = true;
    const seqsBefore = c.seqs.length;
    const framesBefore = c.frames.length;
    c.step(); // HELLO
    expect(c.seqs.length).toBe(seqsBefore + 1);
    expect(c.frames.length).toBe(framesBefore);
    // The virtual MCU reports every 20 ms: until then nothing else is written. The first
    // SETPOINT (flag 0) carries exactly the positions that STATUS reported.
    expect(c.runUntil(() => c.frames.length > framesBefore, 100)).toBeGreaterThan(0);
    const f = c.frames[framesBefore]!;
    expect(f.active).toBe(false);
    expect(c.control.session.newPositions).toBe(true);
    expect(f.wire).toEqual(Array.from(c.control.session.positions));
    expect(c.runUntil(() => c.state === S.online, 10_000)).toBeGreaterThan(0);
    // One counter from the first HELLO on: every frame's seq follows the one before.
    for (let i = 1; i < c.seqs.length; i++) expect(c.seqs[i]).toBe((c.seqs[i - 1]! + 1) & 0xffff);
  });

  it('write backpressure (the port takes nothing): fault at once, no frame while it lasts, reconnect through a fresh handshake', () => {
    const c = online();
    c.writable = false;
    c.step(); // the write fails: the session ends
    expect(c.control.session.loss).toBe(5); // LinkLoss.backpressure
    c.step(); // the supervisor sees it on the next tick
    expect(c.state).toBe(S.fault);
    const n = c.seqs.length;
    c.run(50);
    expect(c.seqs.length).toBe(n);
    c.writable = true;
    expect(c.runUntil(() => c.state === S.online, 15_000)).toBeGreaterThan(0);
    for (let i = 1; i < c.seqs.length; i++) expect(c.seqs[i]).toBe((c.seqs[i - 1]! + 1) & 0xffff);
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

describe('a profile the chain cannot build', () => {
  it('is refused when it arrives, with the reason; the running profile stays and the loop goes on', () => {
    const c = online();
    const before = c.loop.chain;
    const bad = defaultCueProfile();
    // Above the Nyquist limit π·rate at 1 kHz: the chain's own check throws.
    bad.surge.highpass.omegaN = 25_000;
    const refused = c.control.setProfile(bad);
    expect(refused).toMatch(/Nyquist|omega/i);
    c.run(2000);
    expect(c.loop.chain).toBe(before);
    expect(c.state).toBe(S.online);
    expect(c.loop.inputs.reconfigure).toBe(false);
  });
});

describe('a failed read of a shared slot', () => {
  it('leaves the last good snapshot in place, and the tick still writes exactly one limited frame', () => {
    const slot = new SeqlockSlot(Port.length);
    const good = new Float64Array(Port.length).fill(7);
    slot.write(good);
    const out = new Float64Array(Port.length);
    const scratch = new Float64Array(Port.length);
    expect(slot.readOrKeep(out, scratch)).toBe(true);
    expect(Array.from(out)).toEqual(Array.from(good));
    // The writer is mid-write (odd counter) and has half-written new values: a reader must not see them.
    slot.beginWrite();
    slot.values.fill(99, 0, Port.length / 2);
    expect(slot.readOrKeep(out, scratch)).toBe(false);
    expect(Array.from(out)).toEqual(Array.from(good));
    slot.endWrite();
    expect(slot.readOrKeep(out, scratch)).toBe(true);
    expect(out[0]).toBe(99);

    // The step, online, fed the same (last good) port snapshot: one SETPOINT per tick, in sequence.
    const c = online();
    const before = c.seqs.length;
    c.run(100);
    expect(c.seqs.length - before).toBeGreaterThanOrEqual(100);
  });
});
