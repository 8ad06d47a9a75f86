import { FORMATS, type Heartbeat, PACKET_RATE_HZ } from './formats.js';
import { rotationFromPose } from '../../kinematics/rotation.js';
import { isoToGt } from './frames.js';
import { Gt7Packet } from './packet.js';
import { FLAG_BITS } from './layout.js';

/**
 * A car lapping a closed circuit, for the console simulator and the demo: no captured game
 * data ships with the project. Everything is derived from one path and one speed profile,
 * so position, velocity, orientation, angular velocity and the B-format accelerations
 * agree with each other the way the game's do:
 *
 * - The circuit is two identical halves (straight, chicane, straight, 180° turn); the
 *   second half is the first rotated by π, which closes the loop exactly. Curvature is a
 *   smooth cosine bump, so lateral acceleration has no steps.
 * - Elevation: a long hill plus short bumps, both periodic over the lap (heave cues).
 * - Speed: a lap-time-simulator profile (corner limit √(a_lat/κ), forward pass with a
 *   speed-dependent drive limit, backward pass with a braking limit), then smoothed.
 * - Body roll follows lateral acceleration, pitch follows longitudinal acceleration and
 *   the road grade; angular velocity comes from the Euler-angle rates.
 * - sway/heave/surge are computed as the game does (measured on real data): the backward
 *   difference of world velocity over the frame, rotated into the car frame.
 *
 * Frames: computed in ISO 8855 (world x east, y north, z up; body x forward, y left, z up)
 * and converted to the game's frames at the end.
 */

const STRAIGHT_1 = 180;
const CHICANE = 80;
const CHICANE_PEAK_CURVATURE = 0.012;
const STRAIGHT_2 = 140;
const TURN = 220;
const HALF = STRAIGHT_1 + CHICANE + STRAIGHT_2 + TURN;
export const LAP_LENGTH = 2 * HALF;

const HILL_AMPLITUDE = 3;
const BUMP_AMPLITUDE = 0.012;
const BUMPS_PER_LAP = 80;

const TOP_SPEED = 62;
const LATERAL_LIMIT = 13;
const DRIVE_LIMIT = 7;
const BRAKE_LIMIT = 12;
const GRID = 0.5;

const ROLL_PER_LATERAL = 0.004; // rad per m/s²
const PITCH_PER_LONGITUDINAL = 0.003;
export const STEERING_RATIO = 14;
const WHEELBASE = 2.6;
const TYRE_RADIUS = [0.34, 0.34, 0.36, 0.36];
const GEAR_RATIOS = [3.2, 2.3, 1.75, 1.4, 1.15, 0.97, 0, 0];
const FINAL_DRIVE = 3.9;
const IDLE_RPM = 900;
const SHIFT_UP_RPM = 7600;
const CAR_CODE = 3321;

/** Signed curvature (1/m, + = left) over one half lap. */
function halfCurvature(u: number): number {
  if (u < STRAIGHT_1) return 0;
  u -= STRAIGHT_1;
  if (u < CHICANE) return CHICANE_PEAK_CURVATURE * Math.sin((2 * Math.PI * u) / CHICANE);
  u -= CHICANE;
  if (u < STRAIGHT_2) return 0;
  u -= STRAIGHT_2;
  return (Math.PI / TURN) * (1 - Math.cos((2 * Math.PI * u) / TURN));
}

/** Heading (rad) over one half lap: the closed-form integral of halfCurvature. */
function halfHeading(u: number): number {
  if (u < STRAIGHT_1) return 0;
  u -= STRAIGHT_1;
  if (u < CHICANE) return ((CHICANE_PEAK_CURVATURE * CHICANE) / (2 * Math.PI)) * (1 - Math.cos((2 * Math.PI * u) / CHICANE));
  u -= CHICANE;
  if (u < STRAIGHT_2) return 0;
  u -= STRAIGHT_2;
  return (Math.PI / TURN) * (u - (TURN / (2 * Math.PI)) * Math.sin((2 * Math.PI * u) / TURN));
}

function wrap(s: number): number {
  return ((s % LAP_LENGTH) + LAP_LENGTH) % LAP_LENGTH;
}

export function curvature(s: number): number {
  return halfCurvature(wrap(s) % HALF);
}

export function heading(s: number): number {
  const w = wrap(s);
  return w < HALF ? halfHeading(w) : Math.PI + halfHeading(w - HALF);
}

const HILL_K = (2 * Math.PI * 2) / LAP_LENGTH;
const BUMP_K = (2 * Math.PI * BUMPS_PER_LAP) / LAP_LENGTH;
/** Elevation h(s) and its first two derivatives along s. */
function elevation(s: number, out: Float64Array): void {
  out[0] = HILL_AMPLITUDE * Math.sin(HILL_K * s) + BUMP_AMPLITUDE * Math.sin(BUMP_K * s);
  out[1] = HILL_AMPLITUDE * HILL_K * Math.cos(HILL_K * s) + BUMP_AMPLITUDE * BUMP_K * Math.cos(BUMP_K * s);
  out[2] = -HILL_AMPLITUDE * HILL_K * HILL_K * Math.sin(HILL_K * s) - BUMP_AMPLITUDE * BUMP_K * BUMP_K * Math.sin(BUMP_K * s);
}

interface Tables {
  n: number;
  speed: Float64Array;
  accel: Float64Array;
  x: Float64Array;
  y: Float64Array;
}

let tables: Tables | undefined;

function buildTables(): Tables {
  const n = Math.round(LAP_LENGTH / GRID);
  const limit = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.abs(curvature(i * GRID));
    limit[i] = Math.min(TOP_SPEED, k > 1e-9 ? Math.sqrt(LATERAL_LIMIT / k) : TOP_SPEED);
  }
  const v = Float64Array.from(limit);
  // Two rounds so the profile is periodic across the start line.
  for (let round = 0; round < 2; round++) {
    for (let j = 1; j <= n; j++) {
      const i = j % n;
      const prev = v[(j - 1) % n]!;
      const drive = DRIVE_LIMIT * (1 - 0.6 * (prev / TOP_SPEED));
      v[i] = Math.min(v[i]!, Math.sqrt(prev * prev + 2 * drive * GRID));
    }
    for (let j = n - 1; j >= 0; j--) {
      const next = v[(j + 1) % n]!;
      v[j] = Math.min(v[j]!, Math.sqrt(next * next + 2 * BRAKE_LIMIT * GRID));
    }
  }
  // Smooth over ±10 m so longitudinal acceleration ramps like a driver's pedal.
  const half = Math.round(10 / GRID);
  const speed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let k = -half; k <= half; k++) sum += v[(i + k + n) % n]!;
    speed[i] = sum / (2 * half + 1);
  }
  const accel = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const dv = (speed[(i + 1) % n]! - speed[(i - 1 + n) % n]!) / (2 * GRID);
    accel[i] = speed[i]! * dv;
  }
  // Horizontal position by Simpson integration of (cos ψ, sin ψ) over each grid cell.
  const x = new Float64Array(n + 1);
  const y = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const s0 = i * GRID;
    const a = heading(s0);
    const m = heading(s0 + GRID / 2);
    const b = heading(s0 + GRID);
    x[i + 1] = x[i]! + (GRID / 6) * (Math.cos(a) + 4 * Math.cos(m) + Math.cos(b));
    y[i + 1] = y[i]! + (GRID / 6) * (Math.sin(a) + 4 * Math.sin(m) + Math.sin(b));
  }
  return { n, speed, accel, x, y };
}

function table(): Tables {
  tables ??= buildTables();
  return tables;
}

function lerpTable(arr: Float64Array, s: number, n: number): number {
  const g = wrap(s) / GRID;
  const i = Math.floor(g);
  const f = g - i;
  return arr[i % n]! * (1 - f) + arr[(i + 1) % n]! * f;
}

/** Speed along the path (m/s) at distance s. */
export function pathSpeed(s: number): number {
  const t = table();
  return lerpTable(t.speed, s, t.n);
}

/** Longitudinal acceleration along the path (m/s²) at distance s. */
export function pathAcceleration(s: number): number {
  const t = table();
  return lerpTable(t.accel, s, t.n);
}

/** Cubic Hermite between grid points, with the exact tangents (cos ψ, sin ψ). */
function horizontalPosition(s: number, out: Float64Array): void {
  const t = table();
  const w = wrap(s);
  const g = w / GRID;
  const i = Math.min(Math.floor(g), t.n - 1);
  const f = g - i;
  const h00 = 2 * f ** 3 - 3 * f ** 2 + 1;
  const h10 = f ** 3 - 2 * f ** 2 + f;
  const h01 = -2 * f ** 3 + 3 * f ** 2;
  const h11 = f ** 3 - f ** 2;
  const a = heading(i * GRID);
  const b = heading((i + 1) * GRID);
  out[0] = h00 * t.x[i]! + h10 * GRID * Math.cos(a) + h01 * t.x[i + 1]! + h11 * GRID * Math.cos(b);
  out[1] = h00 * t.y[i]! + h10 * GRID * Math.sin(a) + h01 * t.y[i + 1]! + h11 * GRID * Math.sin(b);
}

/** Body attitude at s: roll φ, pitch θ (ISO signs), both small. */
function attitude(s: number, out: Float64Array, elev: Float64Array): void {
  const v = pathSpeed(s);
  const lateral = v * v * curvature(s);
  elevation(s, elev);
  // Outward roll (a left turn puts the right side down: +φ); braking dives the nose (+θ),
  // climbing lifts it (−θ).
  out[0] = ROLL_PER_LATERAL * lateral;
  out[1] = -Math.atan(elev[1]!) - PITCH_PER_LONGITUDINAL * pathAcceleration(s);
}

export type DrivePhase = 'drive' | 'pause' | 'menu' | 'replay';

/** The state of the car at one frame, ISO 8855, SI. */
export interface DriveState {
  s: number;
  lap: number;
  /** World position and velocity (z up). */
  position: Float64Array;
  velocity: Float64Array;
  /** Body attitude: roll, pitch, yaw (R = Rz·Ry·Rx). */
  roll: number;
  pitch: number;
  yaw: number;
  /** Body angular velocity p, q, r. */
  angularVelocity: Float64Array;
  /** Signed curvature and path acceleration, for the driver inputs. */
  curvature: number;
  pathAcceleration: number;
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

export interface SyntheticDriveOptions {
  /** Start distance along the lap (m). */
  startDistance?: number;
  /** Frame rate of the generated packets. */
  rateHz?: number;
  /** Substeps per frame for the distance integration. */
  substeps?: number;
}

/**
 * Generates consecutive GT7 packets of the synthetic lap. `next()` advances one frame
 * (1/60 s) in the current phase and fills a reused packet.
 */
export class SyntheticDrive {
  phase: DrivePhase = 'drive';
  readonly packet = new Gt7Packet();
  readonly state: DriveState;
  private readonly dt: number;
  private readonly substeps: number;
  private distance: number;
  private packetId = 1000;
  private frame = 0;
  private lapStartFrame = 0;
  private currentLap = 1;
  private bestLapMs = -1;
  private lastLapMs = -1;
  private fuel = 60;
  private gear = 1;
  private steerAngle = 0;
  private readonly prevVelocity = new Float64Array(3);
  private prevRoll = 0;
  private prevPitch = 0;
  private prevYaw = 0;
  private havePrev = false;
  private readonly elev = new Float64Array(3);
  private readonly att = new Float64Array(2);
  private readonly tmp = new Float64Array(3);
  private readonly tmp2 = new Float64Array(3);
  private readonly quat = new Float64Array(4);

  constructor(opts: SyntheticDriveOptions = {}) {
    this.dt = 1 / (opts.rateHz ?? PACKET_RATE_HZ);
    this.substeps = opts.substeps ?? 4;
    this.distance = opts.startDistance ?? 0;
    this.state = {
      s: 0,
      lap: 1,
      position: new Float64Array(3),
      velocity: new Float64Array(3),
      roll: 0,
      pitch: 0,
      yaw: 0,
      angularVelocity: new Float64Array(3),
      curvature: 0,
      pathAcceleration: 0,
    };
    this.computeState();
    this.currentLap = this.state.lap;
  }

  /** Total distance driven (m), not wrapped. */
  get distanceDriven(): number {
    return this.distance;
  }

  private advance(): void {
    // RK4 on ds/dt = v(s).
    const h = this.dt / this.substeps;
    for (let i = 0; i < this.substeps; i++) {
      const s = this.distance;
      const k1 = pathSpeed(s);
      const k2 = pathSpeed(s + (h / 2) * k1);
      const k3 = pathSpeed(s + (h / 2) * k2);
      const k4 = pathSpeed(s + h * k3);
      this.distance = s + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
    }
  }

  private computeState(): void {
    const st = this.state;
    const s = this.distance;
    st.s = wrap(s);
    st.lap = Math.floor(s / LAP_LENGTH) + 1;
    const v = pathSpeed(s);
    const psi = heading(s);
    const kappa = curvature(s);
    horizontalPosition(s, this.tmp);
    elevation(s, this.elev);
    st.position[0] = this.tmp[0]!;
    st.position[1] = this.tmp[1]!;
    st.position[2] = this.elev[0]!;
    st.velocity[0] = v * Math.cos(psi);
    st.velocity[1] = v * Math.sin(psi);
    st.velocity[2] = v * this.elev[1]!;
    attitude(s, this.att, this.elev);
    st.roll = this.att[0]!;
    st.pitch = this.att[1]!;
    // Yaw unwrapped by laps so its rate stays smooth; heading() already carries the halves.
    st.yaw = psi + 2 * Math.PI * Math.floor(s / LAP_LENGTH);
    // Euler rates by central difference along s, times ds/dt.
    const ds = 0.05;
    attitude(s + ds, this.att, this.elev);
    const rollP = this.att[0]!;
    const pitchP = this.att[1]!;
    attitude(s - ds, this.att, this.elev);
    const rollDot = ((rollP - this.att[0]!) / (2 * ds)) * v;
    const pitchDot = ((pitchP - this.att[1]!) / (2 * ds)) * v;
    const yawDot = kappa * v;
    const cr = Math.cos(st.roll);
    const sr = Math.sin(st.roll);
    const cp = Math.cos(st.pitch);
    const sp = Math.sin(st.pitch);
    st.angularVelocity[0] = rollDot - yawDot * sp;
    st.angularVelocity[1] = pitchDot * cr + yawDot * cp * sr;
    st.angularVelocity[2] = -pitchDot * sr + yawDot * cp * cr;
    st.curvature = kappa;
    st.pathAcceleration = pathAcceleration(s);
  }

  /** Advances one frame in the current phase and fills `this.packet` in `format`. */
  next(format: Heartbeat = 'B'): Gt7Packet {
    const moving = this.phase === 'drive' || this.phase === 'replay';
    if (moving) {
      this.advance();
      this.computeState();
    }
    this.frame++;
    this.packetId++;
    this.fill(format, moving);
    return this.packet;
  }

  private fill(format: Heartbeat, moving: boolean): void {
    const p = this.packet;
    const st = this.state;
    p.format = format;
    p.magic = 0x47375330;
    p.packetId = this.packetId;

    const inMenu = this.phase === 'menu';
    const v = st.velocity;
    const speed = inMenu ? 0 : Math.hypot(v[0]!, v[1]!, v[2]!);

    // Game's frames: position/velocity through the same axis map as vectors; the quaternion
    // axis likewise (the map is a proper rotation), its angle unchanged.
    isoToGt(st.position[0]!, st.position[1]!, st.position[2]!, this.tmp);
    p.position.set(this.tmp);
    // Menus and pauses freeze the car (moving is false in both).
    if (moving) {
      isoToGt(v[0]!, v[1]!, v[2]!, this.tmp);
      p.velocity.set(this.tmp);
    } else {
      p.velocity.fill(0);
    }
    eulerToQuaternion(st.roll, st.pitch, st.yaw, this.quat);
    isoToGt(this.quat[0]!, this.quat[1]!, this.quat[2]!, this.tmp);
    p.rotation[0] = this.tmp[0]!;
    p.rotation[1] = this.tmp[1]!;
    p.rotation[2] = this.tmp[2]!;
    p.rotation[3] = this.quat[3]!;
    const w = st.angularVelocity;
    if (moving) {
      isoToGt(w[0]!, w[1]!, w[2]!, this.tmp);
      p.angularVelocity.set(this.tmp);
    } else {
      p.angularVelocity.fill(0);
    }

    // B fields as the game computes them: backward difference of world velocity over the
    // frame, rotated into the car frame by the mean attitude.
    let surge = 0;
    let sway = 0;
    let heave = 0;
    if (moving && this.havePrev) {
      this.tmp2[0] = (v[0]! - this.prevVelocity[0]!) / this.dt;
      this.tmp2[1] = (v[1]! - this.prevVelocity[1]!) / this.dt;
      this.tmp2[2] = (v[2]! - this.prevVelocity[2]!) / this.dt;
      worldToBody((st.roll + this.prevRoll) / 2, (st.pitch + this.prevPitch) / 2, (st.yaw + this.prevYaw) / 2, this.tmp2, this.tmp);
      surge = this.tmp[0]!;
      sway = -this.tmp[1]!;
      heave = this.tmp[2]!;
    }
    if (moving) {
      this.prevVelocity.set(v);
      this.prevRoll = st.roll;
      this.prevPitch = st.pitch;
      this.prevYaw = st.yaw;
      this.havePrev = true;
    }
    const steerTarget = moving ? STEERING_RATIO * Math.atan(WHEELBASE * st.curvature) : this.steerAngle;
    const steerRate = (steerTarget - this.steerAngle) / this.dt;
    this.steerAngle = steerTarget;
    if (FORMATS[format].rank >= 1) {
      p.wheelRotation = steerTarget;
      p.wheelRotationRate = moving ? steerRate : 0;
      p.sway = sway;
      p.heave = heave;
      p.surge = surge;
    }

    // Drivetrain and driver, consistent with the speed.
    const wheelOmega = speed / TYRE_RADIUS[2]!;
    let rpm = (wheelOmega * GEAR_RATIOS[this.gear - 1]! * FINAL_DRIVE * 60) / (2 * Math.PI);
    if (rpm > SHIFT_UP_RPM && this.gear < 6) this.gear++;
    else if (this.gear > 1 && rpm < 0.55 * SHIFT_UP_RPM) this.gear--;
    rpm = Math.max(IDLE_RPM, (wheelOmega * GEAR_RATIOS[this.gear - 1]! * FINAL_DRIVE * 60) / (2 * Math.PI));
    const a = moving ? st.pathAcceleration : 0;
    const throttle = inMenu ? 0 : a > -0.5 ? Math.min(255, Math.round(80 + 175 * Math.max(0, a) / 4)) : 0;
    const brake = inMenu ? 0 : a < -0.5 ? Math.min(255, Math.round((255 * -a) / BRAKE_LIMIT)) : 0;
    p.engineRpm = inMenu ? 0 : rpm;
    p.speed = speed;
    p.bodyHeight = 0.08 - 0.002 * heave;
    if (moving) this.fuel = Math.max(0, this.fuel - speed * this.dt * 0.00008);
    p.fuelLevel = this.fuel;
    p.fuelCapacity = 60;
    p.turboBoost = 1 + (throttle / 255) * 0.8;
    p.oilPressure = 2 + rpm / 2000;
    p.waterTemperature = 85;
    p.oilTemperature = 95;
    p.tyreTemp.fill(78);
    p.tyreTemp[0] = 78 + Math.max(0, -st.curvature) * 300;
    p.tyreTemp[1] = 78 + Math.max(0, st.curvature) * 300;
    // Lap timing: a lap ends when the distance crosses a multiple of the lap length.
    if (moving && st.lap !== this.currentLap) {
      const lapMs = Math.round((this.frame - this.lapStartFrame) * this.dt * 1000);
      this.lastLapMs = lapMs;
      if (this.bestLapMs < 0 || lapMs < this.bestLapMs) this.bestLapMs = lapMs;
      this.currentLap = st.lap;
      this.lapStartFrame = this.frame;
    }
    p.lapCount = st.lap;
    p.lapsInRace = 0;
    p.bestLapTime = this.bestLapMs;
    p.lastLapTime = this.lastLapMs;
    p.timeOfDay = 14 * 3600_000 + Math.round(this.frame * this.dt * 1000);
    p.preRaceStartPosition = -1;
    p.numCarsAtPreRace = -1;
    p.minAlertRpm = 7000;
    p.maxAlertRpm = 7800;
    p.calculatedMaxSpeed = Math.round(TOP_SPEED * 3.6 * 1.1);
    let flags = 0;
    if (this.phase === 'drive' || this.phase === 'pause') flags |= 1 << FLAG_BITS.carOnTrack;
    if (this.phase === 'pause') flags |= 1 << FLAG_BITS.paused;
    if (this.phase === 'menu') flags |= 1 << FLAG_BITS.loadingOrProcessing;
    if (!inMenu) flags |= 1 << FLAG_BITS.inGear;
    flags |= 1 << FLAG_BITS.hasTurbo;
    if (rpm > 7600) flags |= 1 << FLAG_BITS.revLimiterAlert;
    flags |= 1 << FLAG_BITS.tcs;
    p.flags = flags;
    const suggested = a < -6 && this.gear > 2 ? this.gear - 1 : 15;
    p.gearByte = ((suggested & 0xf) << 4) | (inMenu ? 0 : this.gear);
    p.throttle = throttle;
    p.brake = brake;
    p.unknown0x93 = 0;
    p.roadPlane[0] = 0;
    p.roadPlane[1] = 1;
    p.roadPlane[2] = 0;
    p.roadPlaneDistance = -st.position[2]!;
    for (let i = 0; i < 4; i++) {
      p.wheelRevPerSecond[i] = -speed / TYRE_RADIUS[i]!;
      p.tyreRadius[i] = TYRE_RADIUS[i]!;
      p.suspensionHeight[i] = 0.28 + 0.002 * heave;
    }
    p.unknown0xD4.fill(0);
    p.clutchPedal = 0;
    p.clutchEngagement = 1;
    p.rpmClutchToGearbox = rpm;
    p.transmissionTopSpeed = GEAR_RATIOS[5]!;
    for (let i = 0; i < 8; i++) p.gearRatios[i] = GEAR_RATIOS[i]!;
    p.carCode = CAR_CODE;
    if (FORMATS[format].rank >= 2) {
      p.throttleInput = throttle;
      p.brakeOutput = brake;
      p.unknown0x13E = 0;
      p.unknown0x13F = 0;
      p.unknown0x140.fill(0);
      p.energyRecovery = 0;
      p.unknown0x154 = 0;
    }
    if (FORMATS[format].rank >= 3) {
      p.surfaceCodes.fill('T'.charCodeAt(0));
      p.currentLapTime = Math.round((this.frame - this.lapStartFrame) * this.dt * 1000);
      const roadWheel = steerTarget / STEERING_RATIO;
      p.wheelSteerAngleFL = roadWheel;
      p.wheelSteerAngleFR = roadWheel;
      p.unknown0x168 = 0;
      p.carCategoryCodes.set([0x4e, 0x33, 0, 0]); // "N3"
    }
  }
}
