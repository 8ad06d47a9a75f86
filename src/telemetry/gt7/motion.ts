import { AccelerationSource, type MotionSample } from '../motion-sample.js';
import { PACKET_RATE_HZ } from './formats.js';
import { gtToIso, rotateByQuaternion } from './frames.js';
import type { Gt7Packet } from './packet.js';

const scratch = new Float64Array(3);
const scratch2 = new Float64Array(3);

/** Packet-id gaps longer than this (0.1 s) make a velocity difference meaningless. */
const MAX_DIFFERENCE_GAP = 6;

/**
 * Car-frame acceleration for format A, which has no sway/heave/surge: the backward
 * difference of world velocity over the packet-id step (the game's physics clock, not our
 * receive clock), rotated into the car frame by the mean of the two orientations.
 * It estimates the acceleration half a packet ago: 8.3 ms of lag at 60 Hz. Its noise and
 * agreement with the game's own B fields are measured in test/unit/gt7-motion.test.ts.
 */
export class VelocityDifferentiator {
  private havePrevious = false;
  private previousId = 0;
  private readonly previousVelocity = new Float64Array(3);
  private readonly previousRotation = new Float64Array(4);

  reset(): void {
    this.havePrevious = false;
  }

  /** Writes ISO body-frame acceleration into `out`; false when it cannot (first packet, gap). */
  update(packet: Gt7Packet, out: Float64Array): boolean {
    const steps = packet.packetId - this.previousId;
    const usable = this.havePrevious && steps >= 1 && steps <= MAX_DIFFERENCE_GAP;
    let ok = false;
    if (usable) {
      const dt = steps / PACKET_RATE_HZ;
      const v = packet.velocity;
      const pv = this.previousVelocity;
      const q = packet.rotation;
      const pq = this.previousRotation;
      // Mean orientation of the interval; flip the older one into the same hemisphere first.
      const sign = q[0]! * pq[0]! + q[1]! * pq[1]! + q[2]! * pq[2]! + q[3]! * pq[3]! < 0 ? -1 : 1;
      let mx = q[0]! + sign * pq[0]!;
      let my = q[1]! + sign * pq[1]!;
      let mz = q[2]! + sign * pq[2]!;
      let mw = q[3]! + sign * pq[3]!;
      // Math.hypot allocates in V8; this path must not.
      const n = Math.sqrt(mx * mx + my * my + mz * mz + mw * mw);
      if (n > 0) {
        mx /= n;
        my /= n;
        mz /= n;
        mw /= n;
        rotateByQuaternion(mx, my, mz, mw, true, (v[0]! - pv[0]!) / dt, (v[1]! - pv[1]!) / dt, (v[2]! - pv[2]!) / dt, scratch);
        gtToIso(scratch[0]!, scratch[1]!, scratch[2]!, out);
        ok = Number.isFinite(out[0]!) && Number.isFinite(out[1]!) && Number.isFinite(out[2]!);
      }
    }
    if (steps !== 0 || !this.havePrevious) {
      this.previousId = packet.packetId;
      this.previousVelocity.set(packet.velocity);
      this.previousRotation.set(packet.rotation);
      this.havePrevious = true;
    }
    return ok;
  }
}

/**
 * GT7 packet → MotionSample (ISO 8855 body frame, SI). Allocates nothing.
 * `derive` supplies acceleration for packets without the B fields; without it such a
 * sample carries AccelerationSource.None.
 */
export function gt7ToMotionSample(
  packet: Gt7Packet,
  receiveTimeNs: number,
  out: MotionSample,
  derive?: VelocityDifferentiator,
): MotionSample {
  out.receiveTimeNs = receiveTimeNs;
  out.sequence = packet.packetId;
  const q = packet.rotation;
  const qx = q[0]!;
  const qy = q[1]!;
  const qz = q[2]!;
  const qw = q[3]!;

  if (packet.hasB) {
    // +surge forward, +sway toward the car's right, +heave up.
    out.ax = packet.surge;
    out.ay = -packet.sway;
    out.az = packet.heave;
    out.accelerationSource = AccelerationSource.Game;
    out.steer = packet.wheelRotation;
    out.steerRate = packet.wheelRotationRate;
    out.hasSteer = true;
    derive?.update(packet, scratch2);
  } else {
    out.hasSteer = false;
    out.steer = 0;
    out.steerRate = 0;
    if (derive !== undefined && derive.update(packet, scratch2)) {
      out.ax = scratch2[0]!;
      out.ay = scratch2[1]!;
      out.az = scratch2[2]!;
      out.accelerationSource = AccelerationSource.Derived;
    } else {
      out.ax = out.ay = out.az = 0;
      out.accelerationSource = AccelerationSource.None;
    }
  }

  // Gravity points along world −y in the game; bring it into the car frame, then to ISO.
  const qn = qx * qx + qy * qy + qz * qz + qw * qw;
  if (qn > 0.5 && qn < 1.5) {
    rotateByQuaternion(qx, qy, qz, qw, true, 0, -1, 0, scratch);
    gtToIso(scratch[0]!, scratch[1]!, scratch[2]!, scratch);
    const n = Math.sqrt(scratch[0]! * scratch[0]! + scratch[1]! * scratch[1]! + scratch[2]! * scratch[2]!);
    out.gx = scratch[0]! / n;
    out.gy = scratch[1]! / n;
    out.gz = scratch[2]! / n;
    out.hasGravity = true;
  } else {
    out.gx = 0;
    out.gy = 0;
    out.gz = -1;
    out.hasGravity = false;
  }

  const w = packet.angularVelocity;
  gtToIso(w[0]!, w[1]!, w[2]!, scratch);
  out.p = scratch[0]!;
  out.q = scratch[1]!;
  out.r = scratch[2]!;

  out.speed = packet.speed;
  out.px = packet.position[0]!;
  out.py = packet.position[1]!;
  out.pz = packet.position[2]!;
  out.hasPosition = true;
  out.onTrack = packet.carOnTrack;
  out.paused = packet.paused;
  out.loading = packet.loading;
  out.replay = !packet.carOnTrack;
  out.carId = packet.carCode;
  return out;
}
