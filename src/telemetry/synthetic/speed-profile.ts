import { GRID, GRID_STEPS, curvature, lapDistance } from './circuit.js';

/**
 * The synthetic car's speed along the circuit: a lap-time-simulator profile (corner limit
 * √(a_lat/κ), forward pass with a speed-dependent drive limit, backward pass with a braking
 * limit), then smoothed, tabulated on the circuit's grid and built on first use.
 */

export const TOP_SPEED = 62;
const LATERAL_LIMIT = 13;
const DRIVE_LIMIT = 7;
export const BRAKE_LIMIT = 12;

/** Speed (m/s) and longitudinal acceleration (m/s²) at the grid points. */
let table: { speed: Float64Array; accel: Float64Array } | undefined;

function buildSpeedTable(): { speed: Float64Array; accel: Float64Array } {
  const n = GRID_STEPS;
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
  return { speed, accel };
}

function lerpTable(arr: Float64Array, s: number): number {
  const g = lapDistance(s) / GRID;
  const i = Math.floor(g);
  const f = g - i;
  return arr[i % GRID_STEPS]! * (1 - f) + arr[(i + 1) % GRID_STEPS]! * f;
}

/** Speed along the path (m/s) at distance s. */
export function pathSpeed(s: number): number {
  table ??= buildSpeedTable();
  return lerpTable(table.speed, s);
}

/** Longitudinal acceleration along the path (m/s²) at distance s. */
export function pathAcceleration(s: number): number {
  table ??= buildSpeedTable();
  return lerpTable(table.accel, s);
}
