import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { F1MotionState } from '../../src/telemetry/f1/motion.js';
import { type F1Packet, decodeF1Packet } from '../../src/telemetry/f1/packet.js';
import { F1PacketSource } from '../../src/telemetry/f1/simulator.js';
import { worldToBody } from '../../src/telemetry/synthetic/attitude.js';
import { SyntheticCar } from '../../src/telemetry/synthetic/car.js';
import { STEERING_RATIO } from '../../src/telemetry/synthetic/drivetrain.js';
import { MotionSample, STANDARD_GRAVITY, specificForce } from '../../src/telemetry/motion-sample.js';
import { dataPath, haveSharedData, pearson } from '../helpers/shared-data.js';

function decode(b: Uint8Array): F1Packet {
  const r = decodeF1Packet(b);
  if (!r.ok) throw new Error(r.message);
  return r.packet;
}

/** The motion sample of `bytes` with the player index (header byte `at`) set to `car`. */
function sampleAs(bytes: Uint8Array, at: number, car: number): MotionSample {
  const b = new Uint8Array(bytes);
  b[at] = car;
  const s = new MotionSample();
  if (!new F1MotionState().update(decode(b), 0, s)) throw new Error('no sample');
  return s;
}

/** A 2018 motion packet for car 0 with the given world vectors and player-only values. */
function motion2018(o: { forward?: number[]; right?: number[]; g?: number[]; omega?: number[]; wheels?: number; time?: number; frame?: number; velocity?: number[] }): Uint8Array {
  const b = new Uint8Array(1341);
  const v = new DataView(b.buffer);
  v.setUint16(0, 2018, true);
  v.setFloat32(12, o.time ?? 0, true);
  v.setUint32(16, o.frame ?? 1, true);
  const put16 = (at: number, xs: number[]) => xs.forEach((x, i) => v.setInt16(at + 2 * i, Math.round(x * 32767), true));
  const put32 = (at: number, xs: number[]) => xs.forEach((x, i) => v.setFloat32(at + 4 * i, x, true));
  put32(21 + 12, o.velocity ?? [0, 0, 0]);
  put16(21 + 24, o.forward ?? [0, 0, 1]);
  put16(21 + 30, o.right ?? [-1, 0, 0]);
  put32(21 + 36, o.g ?? [0, 0, 0]); // lateral, longitudinal, vertical
  put32(1221 + 92, o.omega ?? [0, 0, 0]);
  v.setFloat32(1221 + 116, o.wheels ?? 0, true);
  return b;
}

function sampleOf(b: Uint8Array, state = new F1MotionState()): MotionSample {
  const s = new MotionSample();
  if (!state.update(decode(b), 0, s)) throw new Error('no sample');
  return s;
}

describe('F1 → MotionSample conversions (hand-made packets, closed form)', () => {
  it('g-forces are ISO axes already: longitudinal → ax, lateral → ay, vertical → az, × 9.80665', () => {
    const s = sampleOf(motion2018({ g: [0.5, -2, 0.25] }));
    expect(s.ax).toBeCloseTo(-2 * STANDARD_GRAVITY, 5);
    expect(s.ay).toBeCloseTo(0.5 * STANDARD_GRAVITY, 5);
    expect(s.az).toBeCloseTo(0.25 * STANDARD_GRAVITY, 5);
  });

  it('level car: gravity straight down in the body, specific force +1 g up', () => {
    const s = sampleOf(motion2018({}));
    expect([s.gx, s.gy, s.gz].map((x) => x + 0)).toEqual([0, 0, -1]);
    expect(Array.from(specificForce(s, new Float64Array(3)))).toEqual([0, 0, STANDARD_GRAVITY]);
  });

  it('nose down by θ: gravity gains +x = sin θ; right side down by φ: gravity gains −y = −sin φ (ISO)', () => {
    const th = 0.2;
    let s = sampleOf(motion2018({ forward: [0, -Math.sin(th), Math.cos(th)], right: [-1, 0, 0] }));
    expect(s.gx).toBeCloseTo(Math.sin(th), 4);
    expect(s.gy).toBeCloseTo(0, 4);
    expect(s.gz).toBeCloseTo(-Math.cos(th), 4);
    const ph = 0.15;
    // Facing +z the car's right is −x; right side down tips the right vector below the horizon.
    s = sampleOf(motion2018({ forward: [0, 0, 1], right: [-Math.cos(ph), -Math.sin(ph), 0] }));
    expect(s.gx).toBeCloseTo(0, 4);
    expect(s.gy).toBeCloseTo(-Math.sin(ph), 4);
    expect(s.gz).toBeCloseTo(-Math.cos(ph), 4);
    // Heading does not change gravity.
    const psi = 2.1;
    s = sampleOf(motion2018({ forward: [Math.sin(psi), 0, Math.cos(psi)], right: [-Math.cos(psi), 0, Math.sin(psi)] }));
    expect(s.gz).toBeCloseTo(-1, 6);
  });

  it('angular velocity: car frame (x left, y up, z forward) → p = ω_z, q = ω_x, r = ω_y', () => {
    const s = sampleOf(motion2018({ omega: [0.1, 0.2, 0.3] }));
    expect([s.p, s.q, s.r].map((x) => Number(x.toFixed(6)))).toEqual([0.3, 0.1, 0.2]);
  });

  it('steering from the front wheels angle; its rate over session time', () => {
    const state = new F1MotionState();
    sampleOf(motion2018({ wheels: 0.05, time: 10, frame: 1 }), state);
    const s = sampleOf(motion2018({ wheels: 0.07, time: 10.05, frame: 4 }), state);
    expect(s.hasSteer).toBe(true);
    expect(s.steer).toBeCloseTo(0.07, 6);
    expect(s.steerRate).toBeCloseTo(0.4, 3);
    expect(s.sequence).toBe(4);
  });

  it('speed is |world velocity|; a player index with no car, or NaN values, give no sample', () => {
    expect(sampleOf(motion2018({ velocity: [3, 4, 12] })).speed).toBeCloseTo(13, 5);
    const state = new F1MotionState();
    const b = motion2018({});
    b[20] = 255;
    expect(state.update(decode(b), 0, new MotionSample())).toBe(false);
    const nan = motion2018({});
    new DataView(nan.buffer).setFloat32(21 + 36, Number.NaN, true);
    expect(state.update(decode(nan), 0, new MotionSample())).toBe(false);
    expect(state.stats).toEqual({ noPlayer: 1, nonFinite: 1 });
  });

  it('paused from the session packet, spectating → replay, garage → not on track, team id → car id; a new session forgets them', () => {
    const src = new F1PacketSource({ teamId: 7 });
    const state = new F1MotionState();
    const s = new MotionSample();
    const feed = () => {
      let got = false;
      for (const d of src.next()) got = state.update(decode(d), 0, s) || got;
      return got;
    };
    expect(feed()).toBe(true);
    // The participants packet follows the first motion packet: the car is known from the next.
    expect(s.carId).toBe(-1);
    feed();
    expect([s.paused, s.replay, s.onTrack, s.carId]).toEqual([false, false, true, 7]);
    src.phase = 'pause';
    for (let i = 0; i < 40; i++) feed();
    expect(s.paused).toBe(true);
    src.phase = 'replay';
    for (let i = 0; i < 40; i++) feed();
    expect([s.paused, s.replay]).toEqual([false, true]);
    src.phase = 'menu';
    for (let i = 0; i < 40; i++) feed();
    expect([s.replay, s.onTrack]).toEqual([false, false]);
    const other = new F1PacketSource({ sessionUID: 99n });
    for (const d of other.next()) state.update(decode(d), 0, s);
    expect(state.teamId).toBe(0);
  });

  it('F1 23/24: angular velocity and steering come from the motion-ex packet', () => {
    for (const format of [2023, 2024] as const) {
      const src = new F1PacketSource({ format });
      const state = new F1MotionState();
      const s = new MotionSample();
      let maxR = 0;
      for (let i = 0; i < 1200; i++) {
        for (const d of src.next()) if (state.update(decode(d), 0, s)) maxR = Math.max(maxR, Math.abs(s.r));
      }
      expect(s.hasSteer).toBe(true);
      expect(maxR).toBeGreaterThan(0.3);
    }
  });
});

describe('F1 packet simulator round trip against the synthetic drive (ISO, closed form)', () => {
  for (const format of [2018, 2019, 2022, 2023, 2024] as const) {
    it(`format ${format}: acceleration, gravity, angular velocity, steering and speed come back as the drive made them`, () => {
      const src = new F1PacketSource({ format });
      const drive = new SyntheticCar({ rateHz: 60 });
      const state = new F1MotionState();
      const s = new MotionSample();
      const g = new Float64Array(3);
      let worst = { a: 0, g: 0, w: 0, steer: 0, speed: 0 };
      let samples = 0;
      const previousW = new Float64Array(3);
      let previousSteer = 0;
      for (let i = 0; i < 60 * 40; i++) {
        const got = src.next().map((d) => state.update(decode(d), 0, s)).some(Boolean);
        drive.step();
        const car = drive.readout;
        const keep = () => {
          previousW.set(drive.state.angularVelocity);
          previousSteer = car.steeringWheel / STEERING_RATIO;
        };
        if (!got || i === 0) {
          keep();
          continue;
        }
        samples++;
        const st = drive.state;
        worldToBody(st.roll, st.pitch, st.yaw, [0, 0, -1], g);
        // F1 23/24: the motion-ex packet follows the motion packet, so a sample carries the
        // previous frame's angular velocity and steering.
        const late = format >= 2023;
        const w = late ? previousW : st.angularVelocity;
        const steer = late ? previousSteer : car.steeringWheel / STEERING_RATIO;
        const d = (a: number, b: number) => Math.abs(a - b);
        worst = {
          a: Math.max(worst.a, d(s.ax, car.acceleration[0]!), d(s.ay, car.acceleration[1]!), d(s.az, car.acceleration[2]!)),
          g: Math.max(worst.g, d(s.gx, g[0]!), d(s.gy, g[1]!), d(s.gz, g[2]!)),
          w: Math.max(worst.w, d(s.p, w[0]!), d(s.q, w[1]!), d(s.r, w[2]!)),
          steer: Math.max(worst.steer, d(s.steer, steer)),
          speed: Math.max(worst.speed, d(s.speed, Math.hypot(st.velocity[0]!, st.velocity[1]!, st.velocity[2]!))),
        };
        keep();
      }
      expect(samples).toBe(60 * 40 - 1);
      expect(worst.a).toBeLessThan(1e-4); // f32 g-forces
      expect(worst.g).toBeLessThan(2e-4); // i16 direction vectors
      expect(worst.w).toBeLessThan(1e-6);
      expect(worst.steer).toBeLessThan(1e-6);
      expect(worst.speed).toBeLessThan(1e-4);
    });
  }
});

describe.skipIf(!haveSharedData)('sign conventions measured on the real captures', () => {
  const read = (...p: string[]) => new Uint8Array(readFileSync(dataPath('f1', ...p)));

  it('braking is negative longitudinal g → ax < 0: all 20 cars of the 2018 packet brake toward a corner, slower the further along', () => {
    const bytes = read('2018', '00-motion.bin');
    const packet = decode(bytes);
    if (packet.type !== 'motion') throw new Error();
    const cars = packet.data.carMotionData;
    // Along-track distance: position projected on the field's mean heading.
    const hx = cars.reduce((a, c) => a + c.worldForwardDirX, 0);
    const hz = cars.reduce((a, c) => a + c.worldForwardDirZ, 0);
    const along = cars.map((c) => c.worldPositionX * hx + c.worldPositionZ * hz);
    const speed = cars.map((c) => Math.hypot(c.worldVelocityX, c.worldVelocityY, c.worldVelocityZ));
    expect(pearson(along, speed)).toBeLessThan(-0.8);
    for (let i = 0; i < 20; i++) expect(sampleAs(bytes, 20, i).ax).toBeLessThan(0);
  });

  it('lateral g is toward the left and the yaw rate right-handed about up: ay ≈ speed · r for the player in 2018 and 2019', () => {
    for (const [bytes, at, name] of [
      [read('2018', '00-motion.bin'), 20, '2018'],
      [read('later-formats', 'racehub-2019-00.bin'), 22, '2019'],
      [read('later-formats', 'racehub-2022-00.bin'), 23, '2022'],
    ] as const) {
      const s = sampleAs(bytes, at, 19 * Number(name !== '2018'));
      if (Math.abs(s.r) < 0.05) continue; // 2022: the player is on a straight
      expect(Math.sign(s.ay), name).toBe(Math.sign(s.r));
      expect(Math.abs(s.ay - s.speed * s.r), name).toBeLessThan(0.15 * Math.abs(s.ay));
    }
  });

  it('gravity is excluded from the g-forces: cars standing still report ≈ 0 g vertical, so az ≈ 0', () => {
    let standing = 0;
    for (const [file, at, cars] of [
      ['maciejpedzich-2022-00.bin', 22, 22],
      ['maciejpedzich-2023-00.bin', 27, 22],
      ['maciejpedzich-2024-00.bin', 27, 22],
    ] as const) {
      const bytes = read('later-formats', file);
      for (let i = 0; i < cars; i++) {
        const s = sampleAs(bytes, at, i);
        if (s.speed > 0.01) continue;
        standing++;
        expect(Math.abs(s.az), `${file} car ${i}`).toBeLessThan(0.05 * STANDARD_GRAVITY);
        expect(s.gz).toBeLessThan(-0.99);
      }
    }
    expect(standing).toBe(66);
  });

  it('the 2018 player: level-ish car, gravity ≈ down, speed = |world velocity|, steering present', () => {
    const s = sampleAs(read('2018', '00-motion.bin'), 20, 0);
    expect(s.gz).toBeLessThan(-0.99);
    expect(s.speed).toBeCloseTo(63, 0);
    expect(s.hasSteer).toBe(true);
    expect(s.sequence).toBe(382);
  });
});
