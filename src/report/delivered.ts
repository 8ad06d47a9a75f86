import { ForwardSolver } from '../kinematics/forward.js';
import type { RigKinematics } from '../kinematics/rig.js';
import { rotationFromPose } from '../kinematics/rotation.js';
import { STANDARD_GRAVITY } from '../telemetry/motion-sample.js';
import type { RigRun } from './rig-run.js';

/**
 * What the driver gets, per control tick, from the pose the rig actually reaches: the forward
 * kinematics of the setpoints the limiter let through (not the pose the cue asked for).
 *
 *   specific force at the platform origin  f_p = Rᵀ·(ẍ_p + g·e_z) − g·e_z,
 *     R = Rz(yaw)·Ry(pitch)·Rx(roll), ẍ_p the platform's acceleration in the base frame;
 *   body rates from the Euler rates        p = φ̇ − ψ̇ sinθ
 *                                          q = θ̇ cosφ + ψ̇ sinφ cosθ
 *                                          r = −θ̇ sinφ + ψ̇ cosφ cosθ.
 *
 * Derivatives are zero-phase: Savitzky–Golay (local quadratic least-squares fit, symmetric
 * window of ±SMOOTHING_HALF_WIDTH_S), so smoothing adds no delay to what the metrics measure.
 * The first and last half-window of ticks have no value (NaN).
 */
export const SMOOTHING_HALF_WIDTH_S = 0.025;
/** FK stops when a Gauss–Newton step is below this (m, rad); the round trip is exact to ~1e-12. */
const FK_TOLERANCE = 1e-12;
/**
 * A tick counts as inexact when the best pose misses a setpoint by more than this (m or rad of
 * actuator; m of rod length on crank rigs): four rams over three DOF, each limited on its own,
 * are not exactly consistent with a rigid platform, and FK then gives the least-squares pose.
 */
export const INEXACT_RESIDUAL = 1e-9;

export interface DeliveredPose {
  /** Reached pose per tick, [k·6 + j] (x y z roll pitch yaw; m, rad). */
  pose: Float64Array;
  /** Per tick, ForwardSolver's residual: ~0 but where no rigid pose reproduces the setpoints (then the pose is the best fit). */
  residual: Float64Array;
}

/** FK of every tick's limited setpoints, each solve starting from the previous tick's pose. */
export function reachedPose(run: RigRun, rig: RigKinematics): DeliveredPose {
  const n = run.actuators;
  const solver = new ForwardSolver(rig, { reuseJacobian: true });
  const pose = new Float64Array(run.ticks * 6);
  const residual = new Float64Array(run.ticks);
  for (let k = 0; k < run.ticks; k++) {
    solver.solve(run.positions.subarray(k * n, k * n + n), undefined, 50, FK_TOLERANCE);
    residual[k] = solver.residual;
    pose.set(solver.pose, k * 6);
  }
  return { pose, residual };
}

/** Savitzky–Golay weights for the first (per sample) and second (per sample²) derivative over ±h samples, quadratic fit. */
export function savitzkyGolay(h: number): { d1: Float64Array; d2: Float64Array } {
  const N = 2 * h + 1;
  let s2 = 0;
  for (let k = -h; k <= h; k++) s2 += k * k;
  const mean = s2 / N;
  let s4 = 0;
  for (let k = -h; k <= h; k++) s4 += (k * k - mean) ** 2;
  const d1 = new Float64Array(N);
  const d2 = new Float64Array(N);
  for (let k = -h; k <= h; k++) {
    d1[k + h] = k / s2;
    d2[k + h] = (2 * (k * k - mean)) / s4;
  }
  return { d1, d2 };
}

/**
 * Delivered channels (fx fy fz p q r) per tick from a pose series [k·6 + j] at `rateHz`:
 * specific force at the platform origin and body rates, as defined above.
 */
export function deliveredSignals(pose: Float64Array, rateHz: number, halfWidthS = SMOOTHING_HALF_WIDTH_S): Float64Array[] {
  const ticks = Math.floor(pose.length / 6);
  const h = Math.max(2, Math.round(halfWidthS * rateHz));
  const { d1, d2 } = savitzkyGolay(h);
  const out = Array.from({ length: 6 }, () => new Float64Array(ticks).fill(Number.NaN));
  const g = STANDARD_GRAVITY;
  const rate2 = rateHz * rateHz;
  const acc = new Float64Array(3);
  const euler = new Float64Array(3);
  const rot = new Float64Array(9);
  for (let k = h; k < ticks - h; k++) {
    acc.fill(0);
    euler.fill(0);
    for (let w = -h; w <= h; w++) {
      const at = (k + w) * 6;
      const c1 = d1[w + h]!;
      const c2 = d2[w + h]!;
      for (let j = 0; j < 3; j++) {
        acc[j] = acc[j]! + c2 * pose[at + j]!;
        euler[j] = euler[j]! + c1 * pose[at + 3 + j]!;
      }
    }
    // v = ẍ_p + g·e_z; f = Rᵀv − g·e_z with R = Rz·Ry·Rx, row-major.
    rotationFromPose(pose, k * 6, rot);
    const vx = acc[0]! * rate2;
    const vy = acc[1]! * rate2;
    const vz = acc[2]! * rate2 + g;
    out[0]![k] = rot[0]! * vx + rot[3]! * vy + rot[6]! * vz;
    out[1]![k] = rot[1]! * vx + rot[4]! * vy + rot[7]! * vz;
    out[2]![k] = rot[2]! * vx + rot[5]! * vy + rot[8]! * vz - g;
    const phi = pose[k * 6 + 3]!;
    const cr = Math.cos(phi);
    const sr = Math.sin(phi);
    const cp = Math.cos(pose[k * 6 + 4]!);
    const sp = Math.sin(pose[k * 6 + 4]!);
    const dPhi = euler[0]! * rateHz;
    const dTheta = euler[1]! * rateHz;
    const dPsi = euler[2]! * rateHz;
    out[3]![k] = dPhi - dPsi * sp;
    out[4]![k] = dTheta * cr + dPsi * sr * cp;
    out[5]![k] = -dTheta * sr + dPsi * cr * cp;
  }
  return out;
}
