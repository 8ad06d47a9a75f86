import type { RigKinematics } from './rig.js';

/**
 * Forward kinematics: actuator values in, pose out, by Gauss–Newton on the inverse
 * kinematics (a hexapod has no closed form). Used offline and for status (what pose do the
 * reported actuator positions mean), not per tick: it allocates.
 *
 * Only the pose components the legs follow are solved for; the others are what the
 * mechanism holds (0), except yaw on a rig with a yaw table, which is the table's value.
 */
export interface ForwardResult {
  pose: Float64Array;
  converged: boolean;
  iterations: number;
  /** Largest |IK(pose) − actuators| over the legs, actuator units. */
  residual: number;
}

export function forwardKinematics(
  rig: RigKinematics,
  actuators: ArrayLike<number>,
  options: { initial?: ArrayLike<number>; maxIterations?: number; tolerance?: number } = {},
): ForwardResult {
  const n = rig.legCount;
  const free = rig.geometry.legDof.flatMap((d, k) => (d ? [k] : []));
  const pose = new Float64Array(6);
  if (options.initial) for (let k = 0; k < 6; k++) pose[k] = options.initial[k] ?? 0;
  for (let k = 0; k < 6; k++) if (!rig.geometry.legDof[k]) pose[k] = 0;
  if (rig.geometry.yaw) pose[5] = actuators[n] ?? 0;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-14;

  const residualAt = (p: Float64Array, out: Float64Array): void => {
    rig.evaluate(p, 0);
    for (let i = 0; i < n; i++) out[i] = rig.actuators[i]! - actuators[i]!;
  };
  const r = new Float64Array(n);
  const rPlus = new Float64Array(n);
  const rMinus = new Float64Array(n);
  const m = free.length;
  const jac = free.map(() => new Float64Array(n));
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations++) {
    residualAt(pose, r);
    // Central differences: the step is small against the rig (1e-7 m or rad) and the truncation error is O(h²).
    const h = 1e-7;
    free.forEach((k, c) => {
      const saved = pose[k]!;
      pose[k] = saved + h;
      residualAt(pose, rPlus);
      pose[k] = saved - h;
      residualAt(pose, rMinus);
      pose[k] = saved;
      for (let i = 0; i < n; i++) jac[c]![i] = (rPlus[i]! - rMinus[i]!) / (2 * h);
    });
    // Normal equations (JᵀJ)Δ = −Jᵀr: square for a hexapod, least squares for four corners on three DOF.
    const a = Array.from({ length: m }, (_, row) => {
      const line = new Float64Array(m + 1);
      for (let col = 0; col < m; col++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += jac[row]![i]! * jac[col]![i]!;
        line[col] = s;
      }
      let s = 0;
      for (let i = 0; i < n; i++) s -= jac[row]![i]! * r[i]!;
      line[m] = s;
      return line;
    });
    const delta = solveLinear(a);
    if (!delta) break;
    let step = 0;
    free.forEach((k, c) => {
      pose[k] = pose[k]! + delta[c]!;
      step = Math.max(step, Math.abs(delta[c]!));
    });
    if (!(step === step)) break;
    if (step < tolerance) {
      converged = true;
      iterations++;
      break;
    }
  }
  residualAt(pose, r);
  let residual = 0;
  for (let i = 0; i < n; i++) residual = Math.max(residual, Math.abs(r[i]!));
  return { pose, converged: converged || residual < 1e-12, iterations, residual };
}

/** Gaussian elimination with partial pivoting on an augmented m×(m+1) matrix; undefined when singular. */
function solveLinear(a: Float64Array[]): Float64Array | undefined {
  const m = a.length;
  for (let col = 0; col < m; col++) {
    let pivot = col;
    for (let row = col + 1; row < m; row++) if (Math.abs(a[row]![col]!) > Math.abs(a[pivot]![col]!)) pivot = row;
    if (!(Math.abs(a[pivot]![col]!) > 1e-300)) return undefined;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    for (let row = col + 1; row < m; row++) {
      const f = a[row]![col]! / a[col]![col]!;
      for (let c = col; c <= m; c++) a[row]![c] = a[row]![c]! - f * a[col]![c]!;
    }
  }
  const x = new Float64Array(m);
  for (let row = m - 1; row >= 0; row--) {
    let s = a[row]![m]!;
    for (let c = row + 1; c < m; c++) s -= a[row]![c]! * x[c]!;
    x[row] = s / a[row]![row]!;
  }
  return x;
}
