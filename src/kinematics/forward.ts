import type { RigKinematics } from './rig.js';

/**
 * Forward kinematics: actuator values in, pose out, by Gauss–Newton on the inverse
 * kinematics (a hexapod has no closed form). Used offline and for status (what pose do the
 * reported actuator positions mean), not per control tick.
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

/** Central-difference step for the Jacobian: small against the rig (1e-7 m or rad), truncation error O(h²). */
const JACOBIAN_STEP = 1e-7;

/**
 * A reusable forward solver: buffers allocated once, so a whole trajectory (one solve per
 * control tick, `motion-rig report`) costs no garbage. With `reuseJacobian`, the Gauss–Newton
 * step matrix is kept from the last solve and computed again only when a step fails to
 * halve the one before (the chord method): along a smooth trajectory most solves then cost
 * a few IK evaluations instead of 13 per iteration. A square system (as many legs as free
 * pose components) converges to the same pose either way, since its fixed point is a zero
 * residual whatever matrix steers it; a least-squares rig (four rams on three DOF) always
 * takes a fresh Jacobian, because there the matrix decides which pose the residual is
 * smallest for.
 */
export class ForwardSolver {
  readonly pose = new Float64Array(6);
  converged = false;
  iterations = 0;
  residual = 0;
  /** Jacobian evaluations so far (each costs 2 IK evaluations per free component). */
  jacobians = 0;
  private readonly rig: RigKinematics;
  private readonly n: number;
  private readonly free: Int32Array;
  private readonly reuse: boolean;
  private readonly r: Float64Array;
  private readonly rPlus: Float64Array;
  private readonly rMinus: Float64Array;
  /** Jacobian, column c (free component c) at [c·n, c·n + n). */
  private readonly jac: Float64Array;
  /** Step matrix (JᵀJ)⁻¹Jᵀ, row c at [c·n, c·n + n); valid when `haveStep`. */
  private readonly step: Float64Array;
  /** Augmented [JᵀJ | I] for the inversion, m × 2m. */
  private readonly work: Float64Array;
  private haveStep = false;
  private readonly target: Float64Array;

  constructor(rig: RigKinematics, opts: { reuseJacobian?: boolean } = {}) {
    this.rig = rig;
    this.n = rig.legCount;
    this.free = Int32Array.from(rig.geometry.legDof.flatMap((d, k) => (d ? [k] : [])));
    const m = this.free.length;
    this.reuse = (opts.reuseJacobian ?? false) && m === this.n;
    this.r = new Float64Array(this.n);
    this.rPlus = new Float64Array(this.n);
    this.rMinus = new Float64Array(this.n);
    this.jac = new Float64Array(m * this.n);
    this.step = new Float64Array(m * this.n);
    this.work = new Float64Array(m * 2 * m);
    this.target = new Float64Array(rig.actuatorCount);
  }

  /**
   * The pose for these actuator values, into `pose`, starting from `initial` (or the last
   * solve's pose). Returns whether it converged (step below `tolerance`, or residual < 1e-12).
   */
  solve(actuators: ArrayLike<number>, initial?: ArrayLike<number>, maxIterations = 50, tolerance = 1e-14): boolean {
    const rig = this.rig;
    const n = this.n;
    const free = this.free;
    const m = free.length;
    const pose = this.pose;
    for (let i = 0; i < rig.actuatorCount; i++) this.target[i] = actuators[i]!;
    if (initial !== undefined) for (let k = 0; k < 6; k++) pose[k] = initial[k] ?? 0;
    for (let k = 0; k < 6; k++) if (!rig.geometry.legDof[k]) pose[k] = 0;
    if (rig.geometry.yaw) pose[5] = this.target[n]!;
    let converged = false;
    let previousStep = Number.MAX_VALUE;
    let iterations = 0;
    if (!this.reuse) this.haveStep = false;
    for (; iterations < maxIterations; iterations++) {
      this.residualAt(this.r);
      if (!this.haveStep && !this.updateStep()) break;
      let step = 0;
      for (let c = 0; c < m; c++) {
        let d = 0;
        for (let i = 0; i < n; i++) d -= this.step[c * n + i]! * this.r[i]!;
        pose[free[c]!] = pose[free[c]!]! + d;
        const a = d < 0 ? -d : d;
        if (a > step) step = a;
      }
      if (!(step === step)) break;
      if (step < tolerance) {
        converged = true;
        iterations++;
        break;
      }
      // Plain Gauss–Newton takes a fresh Jacobian every iteration; the chord method only when it stops contracting.
      if (!this.reuse || step > 0.5 * previousStep) this.haveStep = false;
      previousStep = step;
    }
    this.residualAt(this.r);
    let residual = 0;
    for (let i = 0; i < n; i++) {
      const a = this.r[i]! < 0 ? -this.r[i]! : this.r[i]!;
      if (a > residual) residual = a;
    }
    this.iterations = iterations;
    this.residual = residual;
    this.converged = converged || residual < 1e-12;
    return this.converged;
  }

  /** IK(pose) − target, per leg. */
  private residualAt(out: Float64Array): void {
    this.rig.evaluate(this.pose, 0);
    for (let i = 0; i < this.n; i++) out[i] = this.rig.actuators[i]! - this.target[i]!;
  }

  /** Jacobian at the current pose and the step matrix (JᵀJ)⁻¹Jᵀ; false when JᵀJ is singular. */
  private updateStep(): boolean {
    const n = this.n;
    const free = this.free;
    const m = free.length;
    const pose = this.pose;
    const jac = this.jac;
    this.jacobians++;
    for (let c = 0; c < m; c++) {
      const k = free[c]!;
      const saved = pose[k]!;
      pose[k] = saved + JACOBIAN_STEP;
      this.residualAt(this.rPlus);
      pose[k] = saved - JACOBIAN_STEP;
      this.residualAt(this.rMinus);
      pose[k] = saved;
      for (let i = 0; i < n; i++) jac[c * n + i] = (this.rPlus[i]! - this.rMinus[i]!) / (2 * JACOBIAN_STEP);
    }
    // [JᵀJ | I] → [I | (JᵀJ)⁻¹] by Gauss–Jordan with partial pivoting.
    const w = this.work;
    const width = 2 * m;
    for (let row = 0; row < m; row++) {
      for (let col = 0; col < m; col++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += jac[row * n + i]! * jac[col * n + i]!;
        w[row * width + col] = s;
        w[row * width + m + col] = row === col ? 1 : 0;
      }
    }
    for (let col = 0; col < m; col++) {
      let pivot = col;
      for (let row = col + 1; row < m; row++) if (Math.abs(w[row * width + col]!) > Math.abs(w[pivot * width + col]!)) pivot = row;
      if (!(Math.abs(w[pivot * width + col]!) > 1e-300)) return false;
      if (pivot !== col) {
        for (let c = 0; c < width; c++) {
          const t = w[col * width + c]!;
          w[col * width + c] = w[pivot * width + c]!;
          w[pivot * width + c] = t;
        }
      }
      const inv = 1 / w[col * width + col]!;
      for (let c = 0; c < width; c++) w[col * width + c] = w[col * width + c]! * inv;
      for (let row = 0; row < m; row++) {
        if (row === col) continue;
        const f = w[row * width + col]!;
        if (f === 0) continue;
        for (let c = 0; c < width; c++) w[row * width + c] = w[row * width + c]! - f * w[col * width + c]!;
      }
    }
    // step = (JᵀJ)⁻¹ Jᵀ.
    for (let row = 0; row < m; row++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < m; c++) s += w[row * width + m + c]! * jac[c * n + i]!;
        this.step[row * n + i] = s;
      }
    }
    this.haveStep = true;
    return true;
  }
}

/** One forward solve, plain Gauss–Newton (a fresh Jacobian each iteration). Allocates a solver. */
export function forwardKinematics(
  rig: RigKinematics,
  actuators: ArrayLike<number>,
  options: { initial?: ArrayLike<number>; maxIterations?: number; tolerance?: number } = {},
): ForwardResult {
  const solver = new ForwardSolver(rig);
  solver.pose.fill(0);
  solver.solve(actuators, options.initial, options.maxIterations ?? 50, options.tolerance ?? 1e-14);
  return { pose: Float64Array.from(solver.pose), converged: solver.converged, iterations: solver.iterations, residual: solver.residual };
}
