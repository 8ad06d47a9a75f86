import { FORMATS, type Heartbeat, PACKET_RATE_HZ } from './formats.js';
import { isoToGt } from './frames.js';
import { Gt7Packet } from './packet.js';
import { FLAG_BITS } from './layout.js';
import { eulerToQuaternion } from '../synthetic/attitude.js';
import { type DrivePhase, type DriveState, SyntheticCar, type SyntheticCarOptions } from '../synthetic/car.js';
import { FUEL_CAPACITY, GEAR_RATIOS, STEERING_RATIO, TYRE_RADIUS } from '../synthetic/drivetrain.js';
import { TOP_SPEED } from '../synthetic/speed-profile.js';

/**
 * The synthetic car (../synthetic/car.ts) as GT7 packets, for the console simulator and the
 * demo: position, velocity, orientation and angular velocity converted from ISO 8855 to the
 * game's frames, the car's measured acceleration as the B fields (sway, heave, surge), and
 * the instruments, controls and flags a GT7 packet carries.
 */

const CAR_CODE = 3321;

/**
 * Generates consecutive GT7 packets of the synthetic lap. `next()` advances one frame
 * (1/60 s) in the current phase and fills a reused packet.
 */
export class SyntheticDrive {
  readonly packet = new Gt7Packet();
  readonly car: SyntheticCar;
  private packetId = 1000;
  private readonly tmp = new Float64Array(3);
  private readonly quat = new Float64Array(4);

  constructor(opts: SyntheticCarOptions = {}) {
    this.car = new SyntheticCar({ ...opts, rateHz: opts.rateHz ?? PACKET_RATE_HZ });
  }

  get phase(): DrivePhase {
    return this.car.phase;
  }

  set phase(phase: DrivePhase) {
    this.car.phase = phase;
  }

  get state(): DriveState {
    return this.car.state;
  }

  /** Total distance driven (m), not wrapped. */
  get distanceDriven(): number {
    return this.car.distanceDriven;
  }

  /** Advances one frame in the current phase and fills `this.packet` in `format`. */
  next(format: Heartbeat = 'B'): Gt7Packet {
    this.car.step();
    this.packetId++;
    this.fill(format);
    return this.packet;
  }

  private fill(format: Heartbeat): void {
    const p = this.packet;
    const st = this.car.state;
    const r = this.car.readout;
    const moving = r.moving;
    p.format = format;
    p.magic = 0x47375330;
    p.packetId = this.packetId;

    const inMenu = this.car.phase === 'menu';
    const v = st.velocity;
    const speed = r.speed;

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

    // B fields as the game computes them: the measured car-frame acceleration, sway + right.
    let surge = 0;
    let sway = 0;
    let heave = 0;
    if (r.accelerationMeasured) {
      surge = r.acceleration[0]!;
      sway = -r.acceleration[1]!;
      heave = r.acceleration[2]!;
    }
    if (FORMATS[format].rank >= 1) {
      p.wheelRotation = r.steeringWheel;
      p.wheelRotationRate = r.steeringWheelRate;
      p.sway = sway;
      p.heave = heave;
      p.surge = surge;
    }

    // Drivetrain and driver.
    const gear = r.gear;
    const rpm = r.rpm;
    const a = moving ? st.pathAcceleration : 0;
    const throttle = r.throttle;
    const brake = r.brake;
    p.engineRpm = inMenu ? 0 : rpm;
    p.speed = speed;
    p.bodyHeight = 0.08 - 0.002 * heave;
    p.fuelLevel = r.fuel;
    p.fuelCapacity = FUEL_CAPACITY;
    p.turboBoost = 1 + (throttle / 255) * 0.8;
    p.oilPressure = 2 + rpm / 2000;
    p.waterTemperature = 85;
    p.oilTemperature = 95;
    p.tyreTemp.fill(78);
    p.tyreTemp[0] = 78 + Math.max(0, -st.curvature) * 300;
    p.tyreTemp[1] = 78 + Math.max(0, st.curvature) * 300;
    p.lapCount = st.lap;
    p.lapsInRace = 0;
    p.bestLapTime = r.bestLapMs;
    p.lastLapTime = r.lastLapMs;
    p.timeOfDay = 14 * 3600_000 + Math.round(this.car.frames * this.car.dt * 1000);
    p.preRaceStartPosition = -1;
    p.numCarsAtPreRace = -1;
    p.minAlertRpm = 7000;
    p.maxAlertRpm = 7800;
    p.calculatedMaxSpeed = Math.round(TOP_SPEED * 3.6 * 1.1);
    let flags = 0;
    if (this.car.phase === 'drive' || this.car.phase === 'pause') flags |= 1 << FLAG_BITS.carOnTrack;
    if (this.car.phase === 'pause') flags |= 1 << FLAG_BITS.paused;
    if (this.car.phase === 'menu') flags |= 1 << FLAG_BITS.loadingOrProcessing;
    if (!inMenu) flags |= 1 << FLAG_BITS.inGear;
    flags |= 1 << FLAG_BITS.hasTurbo;
    if (rpm > 7600) flags |= 1 << FLAG_BITS.revLimiterAlert;
    flags |= 1 << FLAG_BITS.tcs;
    p.flags = flags;
    const suggested = a < -6 && gear > 2 ? gear - 1 : 15;
    p.gearByte = ((suggested & 0xf) << 4) | (inMenu ? 0 : gear);
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
      p.currentLapTime = r.currentLapMs;
      const roadWheel = r.steeringWheel / STEERING_RATIO;
      p.wheelSteerAngleFL = roadWheel;
      p.wheelSteerAngleFR = roadWheel;
      p.unknown0x168 = 0;
      p.carCategoryCodes.set([0x4e, 0x33, 0, 0]); // "N3"
    }
  }
}
