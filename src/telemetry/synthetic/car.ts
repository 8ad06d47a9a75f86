import { attitude, worldToBody } from './attitude.js';
import { LAP_LENGTH, curvature, elevation, heading, horizontalPosition, lapDistance } from './circuit.js';
import { FUEL_CAPACITY, Gearbox, brakeFor, steeringWheelFor, throttleFor } from './drivetrain.js';
import { pathAcceleration, pathSpeed } from './speed-profile.js';

/**
 * A car lapping a closed circuit, for the simulators of both games, the demo, the tests and
 * the benches: no captured game data ships with the project. Everything is derived from one
 * path and one speed profile, so position, velocity, orientation, angular velocity and the
 * measured accelerations agree with each other the way a game's do:
 *
 * - circuit.ts: the path (curvature, heading, elevation, position);
 * - speed-profile.ts: the speed along it;
 * - attitude.ts: roll and pitch; angular velocity comes from the Euler-angle rates;
 * - drivetrain.ts: steering, pedals and gearbox, consistent with the path and speed;
 * - the car-frame acceleration is measured as the games do (measured on GT7 data): the
 *   backward difference of world velocity over the frame, rotated into the car frame.
 *
 * Everything is ISO 8855 and SI (world x east, y north, z up; body x forward, y left, z up);
 * each game's simulator converts to its own frames and packets (gt7/synthetic-drive.ts,
 * f1/simulator.ts).
 */

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

/** What the car's instruments and the driver's controls show at one frame, besides DriveState. */
export interface CarReadout {
  /** drive and replay move the car; pause and menu freeze it. */
  moving: boolean;
  /** |velocity| (m/s); 0 in menus. */
  speed: number;
  /** Whether `acceleration` is a measurement: moving, after a moving frame. */
  accelerationMeasured: boolean;
  /** Car-frame acceleration over the frame (m/s², body x forward, y left, z up); 0 when not measured. */
  readonly acceleration: Float64Array;
  /** Steering-wheel angle (rad, + left), held while not moving, and its rate over the frame (rad/s, 0 while not moving). */
  steeringWheel: number;
  steeringWheelRate: number;
  /** Pedals, 0..255 (full travel 255); 0 in menus. */
  throttle: number;
  brake: number;
  /** Gear 1..6 and engine speed (rpm, at least idle). */
  gear: number;
  rpm: number;
  /** Fuel in the tank (l). */
  fuel: number;
  /** Lap times (ms): the last and the best completed lap (−1 before the first), the current lap so far. */
  lastLapMs: number;
  bestLapMs: number;
  currentLapMs: number;
}

export interface SyntheticCarOptions {
  /** Start distance along the lap (m). */
  startDistance?: number;
  /** Frame rate (Hz); default 60. */
  rateHz?: number;
  /** Substeps per frame for the distance integration. */
  substeps?: number;
}

/** The synthetic car. `step()` advances one frame in the current phase and updates `state` and `readout`. */
export class SyntheticCar {
  phase: DrivePhase = 'drive';
  readonly state: DriveState;
  /** Frame period (s). */
  readonly dt: number;
  private readonly substeps: number;
  private distance: number;
  private frame = 0;
  private lapStartFrame = 0;
  private currentLap = 1;
  private readonly out: CarReadout = {
    moving: false,
    speed: 0,
    accelerationMeasured: false,
    acceleration: new Float64Array(3),
    steeringWheel: 0,
    steeringWheelRate: 0,
    throttle: 0,
    brake: 0,
    gear: 1,
    rpm: 0,
    fuel: FUEL_CAPACITY,
    lastLapMs: -1,
    bestLapMs: -1,
    currentLapMs: 0,
  };
  private readonly gearbox = new Gearbox();
  private readonly prevVelocity = new Float64Array(3);
  private prevRoll = 0;
  private prevPitch = 0;
  private prevYaw = 0;
  private havePrev = false;
  private readonly elev = new Float64Array(3);
  private readonly att = new Float64Array(2);
  private readonly tmp = new Float64Array(3);

  constructor(opts: SyntheticCarOptions = {}) {
    this.dt = 1 / (opts.rateHz ?? 60);
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

  /** Frames stepped, in every phase. */
  get frames(): number {
    return this.frame;
  }

  /** The instruments and controls of the last frame. */
  get readout(): Readonly<CarReadout> {
    return this.out;
  }

  /** Advances one frame in the current phase. */
  step(): void {
    const moving = this.phase === 'drive' || this.phase === 'replay';
    if (moving) {
      this.advance();
      this.computeState();
    }
    this.frame++;
    this.measure(moving);
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
    st.s = lapDistance(s);
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

  /** The readout of the frame just stepped. Menus and pauses freeze the car (moving is false in both). */
  private measure(moving: boolean): void {
    const st = this.state;
    const r = this.out;
    const inMenu = this.phase === 'menu';
    const v = st.velocity;
    r.moving = moving;
    r.speed = inMenu ? 0 : Math.hypot(v[0]!, v[1]!, v[2]!);

    // Backward difference of world velocity over the frame, rotated into the car frame by
    // the mean attitude.
    r.accelerationMeasured = moving && this.havePrev;
    if (r.accelerationMeasured) {
      this.tmp[0] = (v[0]! - this.prevVelocity[0]!) / this.dt;
      this.tmp[1] = (v[1]! - this.prevVelocity[1]!) / this.dt;
      this.tmp[2] = (v[2]! - this.prevVelocity[2]!) / this.dt;
      worldToBody((st.roll + this.prevRoll) / 2, (st.pitch + this.prevPitch) / 2, (st.yaw + this.prevYaw) / 2, this.tmp, r.acceleration);
    } else {
      r.acceleration.fill(0);
    }
    if (moving) {
      this.prevVelocity.set(v);
      this.prevRoll = st.roll;
      this.prevPitch = st.pitch;
      this.prevYaw = st.yaw;
      this.havePrev = true;
    }

    // Driver and drivetrain, consistent with the path and the speed.
    const steer = moving ? steeringWheelFor(st.curvature) : r.steeringWheel;
    r.steeringWheelRate = moving ? (steer - r.steeringWheel) / this.dt : 0;
    r.steeringWheel = steer;
    this.gearbox.update(r.speed);
    r.gear = this.gearbox.gear;
    r.rpm = this.gearbox.rpm;
    const a = moving ? st.pathAcceleration : 0;
    r.throttle = inMenu ? 0 : throttleFor(a);
    r.brake = inMenu ? 0 : brakeFor(a);
    if (moving) r.fuel = Math.max(0, r.fuel - r.speed * this.dt * 0.00008);

    // Lap timing: a lap ends when the distance crosses a multiple of the lap length.
    if (moving && st.lap !== this.currentLap) {
      const lapMs = Math.round((this.frame - this.lapStartFrame) * this.dt * 1000);
      r.lastLapMs = lapMs;
      if (r.bestLapMs < 0 || lapMs < r.bestLapMs) r.bestLapMs = lapMs;
      this.currentLap = st.lap;
      this.lapStartFrame = this.frame;
    }
    r.currentLapMs = Math.round((this.frame - this.lapStartFrame) * this.dt * 1000);
  }
}
