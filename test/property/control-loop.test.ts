import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultCueProfile } from '../../src/cueing/profile.js';
import { actuatorLimits } from '../../src/kinematics/geometry.js';
import { Command, SupervisorState as S } from '../../src/safety/supervisor.js';
import { ClosedLoop } from '../helpers/closed-loop.js';

/**
 * The whole tick (cue → supervisor → IK → limiter → frame) under random and adversarial
 * telemetry and flapping states, with the virtual MCU in the loop: every setpoint inside the
 * usable travel, and wherever the rig is moving (unparking, online, hold, parking) every step
 * within maxVelocity·dt and every change of step within maxAcceleration·dt². The bounds are
 * the rig file's numbers, not the limiter's. While a park request stands no ENABLE is sent
 * and the supervisor is never unparking or online.
 */

type Kind = 'drive' | 'nan' | 'huge' | 'spike' | 'pause' | 'stale' | 'teleport' | 'car' | 'estop' | 'clear' | 'link' | 'backpressure' | 'shutdown' | 'mcuPark' | 'profile' | 'park' | 'parkFlap';
const eventArb = fc.record({
  kind: fc.constantFrom<Kind>('drive', 'nan', 'huge', 'spike', 'pause', 'stale', 'teleport', 'car', 'estop', 'clear', 'link', 'backpressure', 'shutdown', 'mcuPark', 'profile', 'park', 'parkFlap'),
  value: fc.double({ min: -1, max: 1, noNaN: true }),
  ticks: fc.integer({ min: 1, max: 1500 }),
});

const MOVING = new Set<number>([S.unparking, S.online, S.hold, S.parking]);

function runScenario(events: { kind: Kind; value: number; ticks: number }[], rigFile: string): number {
  const c = new ClosedLoop(rigFile);
  c.recordFrames = true;
  const loop = c.loop;
  const n = loop.rig.actuatorCount;
  const g = loop.rig.geometry;
  const lim = (i: number) => actuatorLimits(g, i);
  const dt = 1 / loop.rateHz;
  const prev = Float64Array.from(loop.limiter.position);
  const prevStep = new Float64Array(n);
  let prevMoving = false;
  let ticks = 0;
  for (const ev of events) {
    const s = c.sample;
    c.streaming = ev.kind !== 'stale';
    s.paused = ev.kind === 'pause';
    c.linkUp = ev.kind !== 'link';
    c.writable = ev.kind !== 'backpressure';
    const tr = c.control.triggers;
    tr.estop = ev.kind === 'estop';
    if (ev.kind === 'clear') tr.clearRequests++;
    tr.shutdown = ev.kind === 'shutdown';
    tr.park = ev.kind === 'park';
    if (ev.kind === 'teleport') s.px += 1e4 * ev.value;
    if (ev.kind === 'car') s.carId = Math.round(ev.value * 1000);
    if (ev.kind === 'mcuPark') c.mcu.state = 3; // the MCU's watchdog parks on its own
    if (ev.kind === 'profile') {
      const p = defaultCueProfile();
      p.surge.gain = 0.2 * Math.abs(ev.value);
      loop.setProfile(p);
    }
    c.shape = (smp, t) => {
      const v = ev.value;
      switch (ev.kind) {
        case 'nan': smp.ax = Number.NaN; smp.p = Number.NaN; smp.ay = 5 * v; break;
        case 'huge': smp.ax = 1e30 * v; smp.ay = -1e30; smp.q = 1e30 * v; smp.steer = 1e30; break;
        case 'spike': smp.ax = (Math.floor(t * 60) % 2 ? 60 : -60) * v; smp.r = 6 * v; break;
        default: smp.ax = 15 * Math.sin(2 * Math.PI * (0.2 + Math.abs(v)) * t); smp.ay = 12 * v; smp.az = 3 * Math.sin(9 * t); smp.q = v; smp.r = -v;
      }
    };
    // parkFlap: the park request comes and goes every 1–21 ticks, so it often lands between
    // an ENABLE and the MCU's STATUS confirming it.
    const flap = 1 + Math.round(20 * Math.abs(ev.value));
    for (let t = 0; t < ev.ticks; t++, ticks++) {
      if (ev.kind === 'parkFlap') tr.park = Math.floor(t / flap) % 2 === 1;
      c.step();
      // A standing park request: no ENABLE goes out and no unpark starts, not even for a tick
      // (the request may arrive between our ENABLE and the MCU's STATUS confirming it).
      if (tr.park) {
        const st = loop.supervisor.state;
        if (loop.supervisor.command === Command.enable) throw new Error(`tick ${ticks}: ENABLE sent while a park request stands`);
        if (st === S.unparking || st === S.online) throw new Error(`tick ${ticks}: state ${st} (unparking/online) while a park request stands`);
      }
      const pos = loop.limiter.position;
      const moving = MOVING.has(loop.supervisor.state);
      for (let i = 0; i < n; i++) {
        const p = pos[i]!;
        if (!(p >= loop.rig.low[i]! && p <= loop.rig.high[i]!)) throw new Error(`tick ${ticks} actuator ${i + 1}: ${p} outside [${loop.rig.low[i]}, ${loop.rig.high[i]}] (${ev.kind})`);
        const w = loop.wire[i]!;
        const back = loop.travelMin[i]! + (w / 65535) * (loop.travelMax[i]! - loop.travelMin[i]!);
        if (Math.abs(back - p) > (0.5 + 1e-9) * ((loop.travelMax[i]! - loop.travelMin[i]!) / 65535)) throw new Error(`tick ${ticks}: wire ${w} is not round(${p})`);
        const step = p - prev[i]!;
        if (moving) {
          const vmax = lim(i).maxVelocity;
          const amax = lim(i).maxAcceleration;
          if (!(Math.abs(step) <= vmax * dt * (1 + 1e-9) + 1e-15)) throw new Error(`tick ${ticks} actuator ${i + 1}: |Δ| ${Math.abs(step)} > ${vmax * dt} (${ev.kind})`);
          const accel = prevMoving ? Math.abs(step - prevStep[i]!) : Math.abs(step);
          if (!(accel <= amax * dt * dt * (1 + 1e-9) + 1e-15)) throw new Error(`tick ${ticks} actuator ${i + 1}: |Δ²| ${accel} > ${amax * dt * dt} (${ev.kind})`);
        }
        prev[i] = p;
        prevStep[i] = moving ? step : 0;
      }
      prevMoving = moving;
    }
  }
  checkWire(c);
  return ticks;
}

/**
 * The same limits on the frames as the MCU received them: between SETPOINTs with consecutive
 * sequence numbers (nothing in between) that the MCU acts on (motion-active), every step
 * within maxVelocity·dt and every change of step within maxAcceleration·dt², allowing the
 * wire's rounding (1 LSB per value). A tick that wrote no frame while the session went on
 * would show here as two ticks of motion in one step.
 */
function checkWire(c: ClosedLoop): void {
  const g = c.loop.rig.geometry;
  const dt = 1 / c.loop.rateHz;
  const f = c.frames;
  const lsb = (i: number) => (c.loop.travelMax[i]! - c.loop.travelMin[i]!) / 65535;
  const next = (a: number, b: number) => ((f[a]!.seq + 1) & 0xffff) === f[b]!.seq;
  for (let k = 1; k < f.length; k++) {
    if (!f[k]!.active || !next(k - 1, k)) continue;
    for (let i = 0; i < f[k]!.wire.length; i++) {
      const l = actuatorLimits(g, i);
      const step = (f[k]!.wire[i]! - f[k - 1]!.wire[i]!) * lsb(i);
      if (!(Math.abs(step) <= l.maxVelocity * dt + lsb(i) * 1.01)) throw new Error(`frame seq ${f[k]!.seq} axis ${i + 1}: |Δ| ${Math.abs(step)} > ${l.maxVelocity * dt}`);
      if (k >= 2 && f[k - 1]!.active && next(k - 2, k - 1)) {
        const before = (f[k - 1]!.wire[i]! - f[k - 2]!.wire[i]!) * lsb(i);
        if (!(Math.abs(step - before) <= l.maxAcceleration * dt * dt + 2 * lsb(i) * 1.01)) throw new Error(`frame seq ${f[k]!.seq} axis ${i + 1}: |Δ²| ${Math.abs(step - before)} > ${l.maxAcceleration * dt * dt}`);
      }
    }
  }
}

describe('control loop safety invariants (fast-check, virtual MCU in the loop)', () => {
  for (const [rig, runs] of [
    ['profiles/rigs/stewart-linear.yaml', 45],
    ['profiles/rigs/two-actuator.yaml', 25],
  ] as const) {
    it(`${rig}: no frame leaves the envelope or the rate limits`, () => {
      let total = 0;
      fc.assert(
        fc.property(fc.array(eventArb, { minLength: 10, maxLength: 40 }), (events) => {
          total += runScenario(events, rig);
        }),
        { numRuns: runs, seed: 611 },
      );
      expect(total).toBeGreaterThan(runs * 10_000);
    }, 300_000);
  }
});
