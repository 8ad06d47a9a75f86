import { rotationFromPose } from '../../kinematics/rotation.js';
import { curvature, elevation } from './circuit.js';
import { pathAcceleration, pathSpeed } from './speed-profile.js';

/**
 * The synthetic car's body attitude (see car.ts): roll follows lateral acceleration, pitch
 * follows longitudinal acceleration and the road grade. Angles in rad, ISO 8855 signs,
 * R = Rz(yaw)·Ry(pitch)·Rx(roll).
 */

const ROLL_PER_LATERAL = 0.004; // rad per m/s²
const PITCH_PER_LONGITUDINAL = 0.003;

/** Body attitude at s: roll φ, pitch θ (ISO signs), both small; `elev` is scratch. */
export function attitude(s: number, out: Float64Array, elev: Float64Array): void {
  const v = pathSpeed(s);
  const lateral = v * v * curvature(s);
  elevation(s, elev);
  // Outward roll (a left turn puts the right side down: +φ); braking dives the nose (+θ),
  // climbing lifts it (−θ).
  out[0] = ROLL_PER_LATERAL * lateral;
  out[1] = -Math.atan(elev[1]!) - PITCH_PER_LONGITUDINAL * pathAcceleration(s);
}

/** Quaternion (x, y, z, w) of R = Rz(yaw)·Ry(pitch)·Rx(roll). */
export function eulerToQuaternion(roll: number, pitch: number, yaw: number, out: Float64Array): Float64Array {
  const cr = Math.cos(roll / 2);
  const sr = Math.sin(roll / 2);
  const cp = Math.cos(pitch / 2);
  const sp = Math.sin(pitch / 2);
  const cy = Math.cos(yaw / 2);
  const sy = Math.sin(yaw / 2);
  out[0] = sr * cp * cy - cr * sp * sy;
  out[1] = cr * sp * cy + sr * cp * sy;
  out[2] = cr * cp * sy - sr * sp * cy;
  out[3] = cr * cp * cy + sr * sp * sy;
  return out;
}

const bodyPose = new Float64Array(6);
const rotation = new Float64Array(9);
/** v_body = Rᵀ v_world for R = Rz(yaw)·Ry(pitch)·Rx(roll) (the kinematics' rotationFromPose). */
export function worldToBody(roll: number, pitch: number, yaw: number, v: ArrayLike<number>, out: Float64Array): Float64Array {
  bodyPose[3] = roll;
  bodyPose[4] = pitch;
  bodyPose[5] = yaw;
  rotationFromPose(bodyPose, 0, rotation);
  const r = rotation;
  const x = v[0]!;
  const y = v[1]!;
  const z = v[2]!;
  out[0] = r[0]! * x + r[3]! * y + r[6]! * z;
  out[1] = r[1]! * x + r[4]! * y + r[7]! * z;
  out[2] = r[2]! * x + r[5]! * y + r[8]! * z;
  return out;
}
