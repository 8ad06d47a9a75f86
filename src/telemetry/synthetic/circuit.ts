/**
 * The synthetic circuit (see car.ts): two identical halves (straight, chicane, straight,
 * 180° turn); the second half is the first rotated by π, which closes the loop exactly.
 * Curvature is a smooth cosine bump, so lateral acceleration has no steps. Elevation: a
 * long hill plus short bumps, both periodic over the lap (heave cues).
 *
 * ISO 8855 world frame: x east, y north, z up; distances along the lap in m.
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

/** Step (m) of the tables along the lap (position here, the speed profile in speed-profile.ts), and steps per lap. */
export const GRID = 0.5;
export const GRID_STEPS = Math.round(LAP_LENGTH / GRID);

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

/** Distance s (m, any number of laps, or negative) as a distance into the lap, [0, LAP_LENGTH). */
export function lapDistance(s: number): number {
  return ((s % LAP_LENGTH) + LAP_LENGTH) % LAP_LENGTH;
}

export function curvature(s: number): number {
  return halfCurvature(lapDistance(s) % HALF);
}

export function heading(s: number): number {
  const w = lapDistance(s);
  return w < HALF ? halfHeading(w) : Math.PI + halfHeading(w - HALF);
}

const HILL_K = (2 * Math.PI * 2) / LAP_LENGTH;
const BUMP_K = (2 * Math.PI * BUMPS_PER_LAP) / LAP_LENGTH;
/** Elevation h(s) and its first two derivatives along s. */
export function elevation(s: number, out: Float64Array): void {
  out[0] = HILL_AMPLITUDE * Math.sin(HILL_K * s) + BUMP_AMPLITUDE * Math.sin(BUMP_K * s);
  out[1] = HILL_AMPLITUDE * HILL_K * Math.cos(HILL_K * s) + BUMP_AMPLITUDE * BUMP_K * Math.cos(BUMP_K * s);
  out[2] = -HILL_AMPLITUDE * HILL_K * HILL_K * Math.sin(HILL_K * s) - BUMP_AMPLITUDE * BUMP_K * BUMP_K * Math.sin(BUMP_K * s);
}

/** World x, y (m) at the grid points, the last closing the lap; built on first use. */
let gridXY: [Float64Array, Float64Array] | undefined;

/** Simpson integration of (cos ψ, sin ψ) over each grid cell. */
function integratePosition(): [Float64Array, Float64Array] {
  const x = new Float64Array(GRID_STEPS + 1);
  const y = new Float64Array(GRID_STEPS + 1);
  for (let i = 0; i < GRID_STEPS; i++) {
    const s0 = i * GRID;
    const a = heading(s0);
    const m = heading(s0 + GRID / 2);
    const b = heading(s0 + GRID);
    x[i + 1] = x[i]! + (GRID / 6) * (Math.cos(a) + 4 * Math.cos(m) + Math.cos(b));
    y[i + 1] = y[i]! + (GRID / 6) * (Math.sin(a) + 4 * Math.sin(m) + Math.sin(b));
  }
  return [x, y];
}

/** World x, y (m) at distance s: cubic Hermite between grid points, with the exact tangents (cos ψ, sin ψ). */
export function horizontalPosition(s: number, out: Float64Array): void {
  gridXY ??= integratePosition();
  const x = gridXY[0];
  const y = gridXY[1];
  const w = lapDistance(s);
  const g = w / GRID;
  const i = Math.min(Math.floor(g), GRID_STEPS - 1);
  const f = g - i;
  const h00 = 2 * f ** 3 - 3 * f ** 2 + 1;
  const h10 = f ** 3 - 2 * f ** 2 + f;
  const h01 = -2 * f ** 3 + 3 * f ** 2;
  const h11 = f ** 3 - f ** 2;
  const a = heading(i * GRID);
  const b = heading((i + 1) * GRID);
  out[0] = h00 * x[i]! + h10 * GRID * Math.cos(a) + h01 * x[i + 1]! + h11 * GRID * Math.cos(b);
  out[1] = h00 * y[i]! + h10 * GRID * Math.sin(a) + h01 * y[i + 1]! + h11 * GRID * Math.sin(b);
}
