import { BRAKE_LIMIT } from './speed-profile.js';

/**
 * The synthetic car's drivetrain and its driver's controls (see car.ts): steering from the
 * path's curvature, pedals from its longitudinal acceleration, a six-speed gearbox.
 */

/** Steering-wheel angle per road-wheel angle. */
export const STEERING_RATIO = 14;
const WHEELBASE = 2.6;
/** Tyre radii (m): front left, front right, rear left, rear right; the rear wheels drive. */
export const TYRE_RADIUS = [0.34, 0.34, 0.36, 0.36];
export const GEAR_RATIOS = [3.2, 2.3, 1.75, 1.4, 1.15, 0.97, 0, 0];
const FINAL_DRIVE = 3.9;
const IDLE_RPM = 900;
const SHIFT_UP_RPM = 7600;
export const FUEL_CAPACITY = 60;

/** Steering-wheel angle (rad, + left) that follows a path of curvature `kappa` (1/m, + left). */
export function steeringWheelFor(kappa: number): number {
  return STEERING_RATIO * Math.atan(WHEELBASE * kappa);
}

/** Throttle 0..255 (full travel 255) for longitudinal acceleration `a` (m/s²). */
export function throttleFor(a: number): number {
  return a > -0.5 ? Math.min(255, Math.round(80 + 175 * Math.max(0, a) / 4)) : 0;
}

/** Brake 0..255 (full travel 255) for longitudinal acceleration `a` (m/s²). */
export function brakeFor(a: number): number {
  return a < -0.5 ? Math.min(255, Math.round((255 * -a) / BRAKE_LIMIT)) : 0;
}

function engineRpm(wheelOmega: number, gear: number): number {
  return (wheelOmega * GEAR_RATIOS[gear - 1]! * FINAL_DRIVE * 60) / (2 * Math.PI);
}

/** Gear 1..6 and engine speed: one shift per update, up above 7600 rpm, down below 55 % of it. */
export class Gearbox {
  gear = 1;
  rpm = 0;

  /** Shifts for road speed `speed` (m/s), then sets the engine speed (rpm, at least idle). */
  update(speed: number): void {
    const wheelOmega = speed / TYRE_RADIUS[2]!;
    const rpm = engineRpm(wheelOmega, this.gear);
    if (rpm > SHIFT_UP_RPM && this.gear < 6) this.gear++;
    else if (this.gear > 1 && rpm < 0.55 * SHIFT_UP_RPM) this.gear--;
    this.rpm = Math.max(IDLE_RPM, engineRpm(wheelOmega, this.gear));
  }
}
