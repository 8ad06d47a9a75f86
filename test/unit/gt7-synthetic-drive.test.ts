import { describe, expect, it } from 'vitest';
import { SyntheticDrive } from '../../src/telemetry/gt7/synthetic-drive.js';
import { LAP_LENGTH, curvature, heading } from '../../src/telemetry/synthetic/circuit.js';
import type { Gt7Packet } from '../../src/telemetry/gt7/packet.js';
import { pearson } from '../helpers/shared-data.js';

/** Plain copies of the fields the checks need, so the reused packet can move on. */
function snapshot(p: Gt7Packet) {
  return {
    id: p.packetId,
    pos: Array.from(p.position),
    vel: Array.from(p.velocity),
    q: Array.from(p.rotation),
    w: Array.from(p.angularVelocity),
    speed: p.speed,
    sway: p.sway,
    heave: p.heave,
    surge: p.surge,
    lap: p.lapCount,
    last: p.lastLapTime,
    flags: p.flags,
  };
}

// Independent quaternion algebra for the checks (Hamilton product, x y z w order).
function qmul(a: number[], b: number[]): number[] {
  const [ax, ay, az, aw] = a as [number, number, number, number];
  const [bx, by, bz, bw] = b as [number, number, number, number];
  return [aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz];
}
function rotate(q: number[], v: number[]): number[] {
  const r = qmul(qmul(q, [v[0]!, v[1]!, v[2]!, 0]), [-q[0]!, -q[1]!, -q[2]!, q[3]!]);
  return [r[0]!, r[1]!, r[2]!];
}
const conj = (q: number[]) => [-q[0]!, -q[1]!, -q[2]!, q[3]!];

describe('synthetic drive', () => {
  const drive = new SyntheticDrive();
  const frames = Array.from({ length: 60 * 90 }, () => snapshot(drive.next('B')));

  it('the circuit closes: heading turns 2π and curvature is periodic', () => {
    expect(heading(LAP_LENGTH - 1e-9) - heading(0)).toBeCloseTo(2 * Math.PI, 6);
    expect(curvature(10)).toBe(curvature(10 + LAP_LENGTH));
  });

  it('completes laps and reports lap times', () => {
    const laps = new Set(frames.map((f) => f.lap));
    expect(laps.size).toBeGreaterThanOrEqual(2);
    const withTime = frames.filter((f) => f.last > 0);
    expect(withTime.length).toBeGreaterThan(0);
    // A lap time equals the time between the frames where the lap counter changed.
    const changes = frames.map((f, i) => (i > 0 && f.lap !== frames[i - 1]!.lap ? i : -1)).filter((i) => i >= 0);
    if (changes.length >= 2) expect(frames[changes[1]!]!.last).toBe(Math.round(((changes[1]! - changes[0]!) * 1000) / 60));
  });

  it('returns to its start position after a lap (closed loop, both halves meet)', () => {
    const d = new SyntheticDrive();
    const start = Array.from(d.packet.position);
    d.next();
    const p0 = Array.from(d.packet.position);
    let prevDist = d.distanceDriven;
    let closest = Infinity;
    for (let i = 0; i < 60 * 200; i++) {
      d.next();
      if (d.distanceDriven > LAP_LENGTH - 30 && prevDist < LAP_LENGTH + 30) {
        closest = Math.min(closest, Math.hypot(d.packet.position[0]! - p0[0]!, d.packet.position[2]! - p0[2]!));
      }
      prevDist = d.distanceDriven;
      if (d.distanceDriven > LAP_LENGTH + 40) break;
    }
    expect(start.length).toBe(3);
    expect(closest).toBeLessThan(1.5); // one frame at speed is ~1 m
  });

  it('position differences match velocity (trapezoid), |velocity| = speed, consecutive ids', () => {
    for (let k = 1; k < frames.length; k++) {
      const a = frames[k - 1]!;
      const b = frames[k]!;
      expect(b.id).toBe(a.id + 1);
      expect(Math.hypot(...(b.vel as [number, number, number]))).toBeCloseTo(b.speed, 6);
      for (let i = 0; i < 3; i++) {
        const fd = (b.pos[i]! - a.pos[i]!) * 60;
        expect(Math.abs(fd - (a.vel[i]! + b.vel[i]!) / 2)).toBeLessThan(0.05);
      }
    }
  });

  it('quaternion differences match the angular velocity (car frame)', () => {
    const measured: number[][] = [[], [], []];
    const reported: number[][] = [[], [], []];
    for (let k = 1; k < frames.length; k++) {
      const a = frames[k - 1]!;
      const b = frames[k]!;
      expect(Math.hypot(...(b.q as [number, number, number, number]))).toBeCloseTo(1, 9);
      // Body-frame rotation over the frame: dq = q_a⁻¹ q_b ≈ [ω dt / 2, 1].
      const dq = qmul(conj(a.q), b.q);
      for (let i = 0; i < 3; i++) {
        measured[i]!.push((2 * dq[i]! * 60) / Math.sign(dq[3]!));
        reported[i]!.push((a.w[i]! + b.w[i]!) / 2);
      }
    }
    for (let i = 0; i < 3; i++) {
      const rms = Math.sqrt(measured[i]!.reduce((s, m, k) => s + (m - reported[i]![k]!) ** 2, 0) / measured[i]!.length);
      expect(rms).toBeLessThan(0.01);
    }
    // Yaw rate (game y, up) carries the motion and must correlate almost perfectly.
    expect(pearson(measured[1]!, reported[1]!)).toBeGreaterThan(0.999);
  });

  it('the car points where it goes, and B accelerations agree with velocity differences', () => {
    const surge: number[] = [];
    const sway: number[] = [];
    const ds: number[] = [];
    const dw: number[] = [];
    for (let k = 1; k < frames.length; k++) {
      const a = frames[k - 1]!;
      const b = frames[k]!;
      const fwd = rotate(b.q, [0, 0, -1]);
      const cos = (fwd[0]! * b.vel[0]! + fwd[1]! * b.vel[1]! + fwd[2]! * b.vel[2]!) / b.speed;
      expect(cos).toBeGreaterThan(0.995);
      const dv = [0, 1, 2].map((i) => (b.vel[i]! - a.vel[i]!) * 60);
      const body = rotate(conj(b.q), dv);
      surge.push(b.surge);
      ds.push(-body[2]!);
      sway.push(b.sway);
      dw.push(body[0]!);
      // Plausible for a road car.
      expect(Math.abs(b.sway)).toBeLessThan(16);
      expect(Math.abs(b.surge)).toBeLessThan(14);
    }
    expect(pearson(surge, ds)).toBeGreaterThan(0.999);
    expect(pearson(sway, dw)).toBeGreaterThan(0.999);
    expect(Math.max(...sway.map(Math.abs))).toBeGreaterThan(8);
    expect(Math.min(...surge)).toBeLessThan(-8);
  });

  it('pause freezes physics with the pause flag; menu clears on-track and stops; replay moves without on-track', () => {
    const d = new SyntheticDrive();
    for (let i = 0; i < 120; i++) d.next();
    d.phase = 'pause';
    const before = Array.from(d.next().position);
    const p1 = snapshot(d.next());
    expect(p1.pos).toEqual(before);
    expect(p1.flags & 2).toBe(2);
    expect(p1.flags & 1).toBe(1);
    d.phase = 'menu';
    const m = snapshot(d.next());
    expect(m.flags & 1).toBe(0);
    expect(m.speed).toBe(0);
    d.phase = 'replay';
    const r1 = snapshot(d.next());
    const r2 = snapshot(d.next());
    expect(r1.flags & 1).toBe(0);
    expect(r2.pos).not.toEqual(r1.pos);
    expect(r2.id).toBe(r1.id + 1);
  });
});
