import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRigFile } from '../../src/config/rig-file.js';
import { SeqlockSlot } from '../../src/runtime/shared-slot.js';
import { Sample, Status, createSharedBuffers } from '../../src/runtime/slots.js';
import { LiveFeed } from '../../src/web/live.js';
import { REPO_ROOT } from '../helpers/shared-data.js';

/**
 * The live stream's signals against closed forms: the worker's status slot is fed the
 * actuator positions (IK) of a known platform motion at uneven sampling instants, as the
 * main thread's timer would see them; the stream's reached pose and delivered specific force
 * and body rates must match the motion's own derivatives. Vehicle channels: a known sample
 * in the sample slot.
 */
const rig = loadRigFile(join(REPO_ROOT, 'profiles/rigs/stewart-linear.yaml'));

function drive(motion: (t: number) => number[]) {
  const buffers = createSharedBuffers();
  const feed = new LiveFeed(buffers, rig, 1000, () => ({}));
  const slot = new SeqlockSlot(buffers.status);
  const pose = new Float64Array(6);
  let tick = 0;
  const points: number[][] = [];
  for (let i = 0; i < 400; i++) {
    tick += 7 + ((i * 5) % 7); // 7..13 ms between looks: a timer on a busy thread
    pose.set(motion(tick / 1000));
    expect(rig.evaluate(pose, 0)).toBe(true);
    slot.beginWrite();
    slot.values[Status.tick] = tick;
    for (let a = 0; a < rig.actuatorCount; a++) slot.values[Status.actuators + a] = rig.actuators[a]!;
    slot.endWrite();
    feed.samplePoint();
    points.push(...feed.drainPoints());
  }
  return { points, buffers, feed };
}

describe('live stream signals', () => {
  it('surge x = A sin ωt: reached pose x, delivered fx = −Aω² sin ωt, others ~0 (linear resampling + 70 ms zero-phase fit)', () => {
    const A = 0.04;
    const w = 2 * Math.PI * 0.7;
    const { points } = drive((t) => [A * Math.sin(w * t), 0, 0, 0, 0, 0]);
    expect(points.length).toBeGreaterThan(300);
    let worstX = 0;
    let worstF = 0;
    for (const p of points.slice(20)) {
      const t = p[0]!;
      worstX = Math.max(worstX, Math.abs(p[13]! - A * Math.sin(w * t)));
      worstF = Math.max(worstF, Math.abs(p[7]! - -A * w * w * Math.sin(w * t)));
      expect(Math.abs(p[8]!)).toBeLessThan(0.02); // fy
      expect(Math.abs(p[9]!)).toBeLessThan(0.02); // fz
    }
    // Points are on a 10 ms grid; the pose between looks is linear, so x misses by ≤ Aω²Δt²/8 with Δt ≤ 13 ms.
    expect(worstX).toBeLessThan((A * w * w * 0.013 ** 2) / 8 + 1e-6);
    expect(worstF).toBeLessThan(0.05 * A * w * w);
  });

  it('roll φ = B sin ωt: delivered p = φ̇ = Bω cos ωt, and fy = g sin φ (gravity tilts into sway)', () => {
    const B = 0.05;
    const w = 2 * Math.PI * 0.5;
    const { points } = drive((t) => [0, 0, 0, B * Math.sin(w * t), 0, 0]);
    let worstP = 0;
    let worstFy = 0;
    for (const p of points.slice(20)) {
      const t = p[0]!;
      const phi = B * Math.sin(w * t);
      worstP = Math.max(worstP, Math.abs(p[10]! - B * w * Math.cos(w * t)));
      // Rᵀ·g e_z − g e_z, y row: g·sin φ (cos θ = 1), for a platform rolling about its origin at rest.
      worstFy = Math.max(worstFy, Math.abs(p[8]! - 9.80665 * Math.sin(phi)));
    }
    expect(worstP).toBeLessThan(0.03 * B * w);
    expect(worstFy).toBeLessThan(0.05 * 9.80665 * B);
  });

  it('vehicle channels: the newest sample, as the report defines them (specific force, minus 1 g on z; rates)', () => {
    const buffers = createSharedBuffers();
    const sample = new SeqlockSlot(buffers.sample);
    sample.beginWrite();
    Object.assign(sample.values, { [Sample.ax]: 3, [Sample.ay]: -1, [Sample.az]: 0.5, [Sample.gx]: 0, [Sample.gy]: 0, [Sample.gz]: -1, [Sample.p]: 0.1, [Sample.q]: 0.2, [Sample.r]: 0.3 });
    sample.endWrite();
    const feed = new LiveFeed(buffers, rig, 1000, () => ({}));
    const status = new SeqlockSlot(buffers.status);
    for (let k = 1; k <= 12; k++) {
      rig.evaluate(new Float64Array(6), 0);
      status.beginWrite();
      status.values[Status.tick] = k * 10;
      for (let a = 0; a < rig.actuatorCount; a++) status.values[Status.actuators + a] = rig.actuators[a]!;
      status.endWrite();
      feed.samplePoint();
    }
    const p = feed.drainPoints().at(-1)!;
    // f = a − g·ĝ with ĝ = (0, 0, −1): f = (3, −1, 0.5 + g); minus 1 g on z → 0.5.
    expect(p.slice(1, 7)).toEqual([3, -1, 0.5, 0.1, 0.2, 0.3]);
  });
});
