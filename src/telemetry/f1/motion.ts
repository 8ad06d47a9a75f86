import { AccelerationSource, type MotionSample, STANDARD_GRAVITY } from '../motion-sample.js';
import type { F1Packet, MotionExPacket } from './packet.js';

/**
 * F1 packets → MotionSample (ISO 8855 body frame: x forward, y left, z up; SI units).
 * The conversions, each measured on the captures and tested in test/unit/f1-motion.test.ts:
 *
 * - Acceleration: the player's g-forces × 9.80665. They are acceleration with gravity
 *   excluded (a car at rest reports ≈ 0 g vertical), lateral + toward the car's left,
 *   longitudinal + forward, vertical + up: already ISO axes, no sign change.
 * - Gravity direction: from the world forward and right vectors (world y is up):
 *   body x = forward, y = −right, z = x × y; ĝ_body = (−x_y, −y_y, −z_y).
 * - Angular velocity: the player-only data is in the car frame x left, y up, z forward
 *   (right-handed), so p = ω_z, q = ω_x, r = ω_y: a cyclic relabelling, no sign change.
 * - Steering: the front road-wheel angle (rad, + left assumed; no capture has it non-zero).
 *   It is the road-wheel angle, not the steering-wheel angle GT7 reports (about a tenth).
 * - Speed: |world velocity|. Position: world position (teleport detection only).
 * - Paused from the session packet, spectating → replay, in garage → not on track,
 *   car id = the player's team id from the participants packet.
 *
 * F1 23/24 send the player-only data in its own packet (motion-ex, id 13); the newest one
 * of the same session is used, so angular velocity can be one frame older than the rest.
 */

export interface F1MotionStats {
  /** Motion packets whose player index is not a car in the packet (e.g. 255). */
  noPlayer: number;
  /** Motion packets with a non-finite value in the player's data. */
  nonFinite: number;
}

type PlayerData = {
  localVelocityX: number;
  angularVelocityX: number;
  angularVelocityY: number;
  angularVelocityZ: number;
  frontWheelsAngle: number;
};

function hasPlayerData(m: object): m is PlayerData {
  return 'angularVelocityX' in m;
}

export class F1MotionState {
  readonly stats: F1MotionStats = { noPlayer: 0, nonFinite: 0 };
  paused = false;
  spectating = false;
  /** Player's team id, −1 until a participants packet names it. */
  teamId = -1;
  /** Player's lap-data driver status (0 = in garage), −1 unknown. */
  driverStatus = -1;
  private session: bigint | undefined;
  private motionEx: MotionExPacket | undefined;
  private previousSteer = 0;
  private previousTime = Number.NaN;

  /**
   * Takes any decoded packet; returns true when it was a motion packet and `out` now holds
   * a fresh sample.
   */
  update(packet: F1Packet, receiveTimeNs: number, out: MotionSample): boolean {
    const h = packet.header;
    if (this.session !== h.sessionUID) this.newSession(h.sessionUID);
    switch (packet.type) {
      case 'session':
        this.paused = packet.data.gamePaused !== 0;
        this.spectating = packet.data.isSpectating !== 0;
        return false;
      case 'participants': {
        const p = packet.data.participants[h.playerCarIndex];
        if (p !== undefined) this.teamId = p.teamId;
        return false;
      }
      case 'lapData': {
        const l = packet.data.lapData[h.playerCarIndex];
        if (l !== undefined) this.driverStatus = l.driverStatus;
        return false;
      }
      case 'motionEx':
        this.motionEx = packet.data;
        return false;
      case 'motion':
        return this.motionSample(packet, receiveTimeNs, out);
      default:
        return false;
    }
  }

  private newSession(uid: bigint): void {
    this.session = uid;
    this.paused = false;
    this.spectating = false;
    this.teamId = -1;
    this.driverStatus = -1;
    this.motionEx = undefined;
    this.previousTime = Number.NaN;
  }

  private motionSample(packet: Extract<F1Packet, { type: 'motion' }>, receiveTimeNs: number, out: MotionSample): boolean {
    const h = packet.header;
    const car = packet.data.carMotionData[h.playerCarIndex];
    if (car === undefined) {
      this.stats.noPlayer++;
      return false;
    }
    const player: PlayerData | undefined = hasPlayerData(packet.data) ? packet.data : this.motionEx;

    // Body axes in world coordinates: x forward, y left (= −right made orthogonal to x).
    let fx = car.worldForwardDirX;
    let fy = car.worldForwardDirY;
    let fz = car.worldForwardDirZ;
    const fn = Math.sqrt(fx * fx + fy * fy + fz * fz);
    let lx = -car.worldRightDirX;
    let ly = -car.worldRightDirY;
    let lz = -car.worldRightDirZ;
    let hasGravity = fn > 0.5;
    if (hasGravity) {
      fx /= fn;
      fy /= fn;
      fz /= fn;
      const d = lx * fx + ly * fy + lz * fz;
      lx -= d * fx;
      ly -= d * fy;
      lz -= d * fz;
      const ln = Math.sqrt(lx * lx + ly * ly + lz * lz);
      hasGravity = ln > 0.5;
      lx /= ln;
      ly /= ln;
      lz /= ln;
    }
    // z = x × y; only its world-y component matters for gravity.
    const upY = fz * lx - fx * lz;

    const ax = car.gForceLongitudinal * STANDARD_GRAVITY;
    const ay = car.gForceLateral * STANDARD_GRAVITY;
    const az = car.gForceVertical * STANDARD_GRAVITY;
    const vx = car.worldVelocityX;
    const vy = car.worldVelocityY;
    const vz = car.worldVelocityZ;
    const p = player?.angularVelocityZ ?? 0;
    const q = player?.angularVelocityX ?? 0;
    const r = player?.angularVelocityY ?? 0;
    const steer = player?.frontWheelsAngle ?? 0;
    if (
      !Number.isFinite(ax + ay + az + vx + vy + vz + p + q + r + steer + h.sessionTime) ||
      !Number.isFinite(car.worldPositionX + car.worldPositionY + car.worldPositionZ)
    ) {
      this.stats.nonFinite++;
      return false;
    }

    out.receiveTimeNs = receiveTimeNs;
    out.sequence = h.frameIdentifier;
    out.ax = ax;
    out.ay = ay;
    out.az = az;
    out.accelerationSource = AccelerationSource.Game;
    if (hasGravity) {
      out.gx = -fy;
      out.gy = -ly;
      out.gz = -upY;
    } else {
      out.gx = 0;
      out.gy = 0;
      out.gz = -1;
    }
    out.hasGravity = hasGravity;
    out.p = p;
    out.q = q;
    out.r = r;
    out.hasSteer = player !== undefined;
    const dt = h.sessionTime - this.previousTime;
    out.steerRate = player !== undefined && dt > 0 && dt < 0.5 ? (steer - this.previousSteer) / dt : 0;
    out.steer = steer;
    this.previousSteer = steer;
    this.previousTime = h.sessionTime;
    out.speed = Math.sqrt(vx * vx + vy * vy + vz * vz);
    out.px = car.worldPositionX;
    out.py = car.worldPositionY;
    out.pz = car.worldPositionZ;
    out.hasPosition = true;
    out.onTrack = this.driverStatus !== 0;
    out.paused = this.paused;
    out.loading = false;
    out.replay = this.spectating;
    out.carId = this.teamId;
    return true;
  }
}
