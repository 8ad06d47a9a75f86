/**
 * The one thing every telemetry source produces and everything downstream consumes.
 * ISO 8855 body frame (x forward, y left, z up), SI units. Nothing after this type knows
 * which game is running. A class with plain number fields so one instance can be reused
 * per packet without allocation.
 */

/** Standard gravity, m/s². */
export const STANDARD_GRAVITY = 9.80665;

export const enum AccelerationSource {
  /** No acceleration yet (e.g. the first packet of a derived stream). */
  None = 0,
  /** The game reports it (GT7 B/~/C sway/heave/surge, F1 g-forces). */
  Game = 1,
  /** Differentiated from world velocity (GT7 format A). */
  Derived = 2,
}

export type SourceKind = 'gt7' | 'f1' | 'replay' | 'simulator' | 'csv';

export class MotionSample {
  /** Monotonic receive time, ns. */
  receiveTimeNs = 0;
  /** The game's own packet counter (GT7 packet id, F1 frame identifier). */
  sequence = 0;
  /** Vehicle acceleration in the body frame, gravity excluded, m/s². */
  ax = 0;
  ay = 0;
  az = 0;
  accelerationSource: AccelerationSource = AccelerationSource.None;
  /** Unit gravity direction in the body frame; (0, 0, −1) for a level car. */
  gx = 0;
  gy = 0;
  gz = -1;
  /** False when the game gives no orientation; g then stays level. */
  hasGravity = false;
  /** Angular velocity in the body frame: roll rate p, pitch rate q, yaw rate r, rad/s. */
  p = 0;
  q = 0;
  r = 0;
  /** Steering-wheel angle (rad, + to the left) and its rate (rad/s). */
  steer = 0;
  steerRate = 0;
  hasSteer = false;
  /** Speed over ground, m/s. */
  speed = 0;
  /**
   * World position of the car, m, in the game's own world frame (only distances between
   * samples are used: a jump no car can drive is a teleport, e.g. a reset to track).
   */
  px = 0;
  py = 0;
  pz = 0;
  hasPosition = false;
  onTrack = false;
  paused = false;
  loading = false;
  /** Watching a replay: the car moves but nobody drives it. */
  replay = false;
  /** Game's car identifier (GT7 car code, F1 team id); −1 unknown. */
  carId = -1;
}

/** Specific force f = a − g·ĝ (what a seat-mounted accelerometer reads), into `out`. */
export function specificForce(s: MotionSample, out: Float64Array): Float64Array {
  out[0] = s.ax - STANDARD_GRAVITY * s.gx;
  out[1] = s.ay - STANDARD_GRAVITY * s.gy;
  out[2] = s.az - STANDARD_GRAVITY * s.gz;
  return out;
}

export function copyMotionSample(from: MotionSample, to: MotionSample): MotionSample {
  to.receiveTimeNs = from.receiveTimeNs;
  to.sequence = from.sequence;
  to.ax = from.ax;
  to.ay = from.ay;
  to.az = from.az;
  to.accelerationSource = from.accelerationSource;
  to.gx = from.gx;
  to.gy = from.gy;
  to.gz = from.gz;
  to.hasGravity = from.hasGravity;
  to.p = from.p;
  to.q = from.q;
  to.r = from.r;
  to.steer = from.steer;
  to.steerRate = from.steerRate;
  to.hasSteer = from.hasSteer;
  to.speed = from.speed;
  to.px = from.px;
  to.py = from.py;
  to.pz = from.pz;
  to.hasPosition = from.hasPosition;
  to.onTrack = from.onTrack;
  to.paused = from.paused;
  to.loading = from.loading;
  to.replay = from.replay;
  to.carId = from.carId;
  return to;
}
