import type { RigKinematics } from './rig.js';
import { rotationFromPose } from './rotation.js';

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
  /** Largest |IK(pose) − actuators| over the legs, actuator units; for crank rigs the largest rod-length miss, m. */
  residual: number;
}

/** Central-difference step for the Jacobian: small against the rig (1e-7 m or rad), truncation error O(h²). */
const JACOBIAN_STEP = 1e-7;
/** A step is halved at most this often (to 1/4096) before the pose counts as stationary: no nearby pose fits better. */
const MAX_HALVINGS = 12;

/**
 * A reusable forward solver: buffers allocated once, so a whole trajectory (one solve per
 * control tick, `motion-rig report`) costs no garbage.
 *
 * - With `reuseJacobian`, the Gauss–Newton step matrix is kept from the last solve and
 *   computed again only when a step fails to halve the one before (the chord method): along
 *   a smooth trajectory most solves then cost a few residual evaluations instead of 13 per
 *   iteration. Only for square systems (as many legs as free pose components), whose fixed
 *   point is a zero residual whatever matrix steers it; a least-squares rig (four rams on
 *   three DOF) takes a fresh Jacobian every iteration, as there the matrix decides which pose
 *   the residual is smallest for.
 * - A step is taken only as far as the residual does not grow and stays defined (halved up
 *   to MAX_HALVINGS times; a kept matrix that does not help is replaced by a fresh Jacobian
 *   first); the Jacobian falls back to one-sided differences where the residual is undefined
 *   on one side.
 * - Crank rigs are solved on rod lengths, not crank angles (see `crank` below).
 * - Actuator values no rigid pose reproduces (four rams over three DOF, each moved on its
 *   own) end at the pose that fits them best, with `residual` saying how far off.
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
  /** Per free component: this iteration's full step and the pose before it. */
  private readonly delta: Float64Array;
  private readonly saved: Float64Array;
  /** Residual at a trial pose. */
  private readonly trial: Float64Array;
  /**
   * Crank rigs: the residual is each rod's length miss |P_i(pose) − h_i| − s (m), with h_i the
   * horn tip the target angle puts in space; smooth in the pose everywhere. The crank angle as
   * a function of the pose folds where horn and rod are in line (full stretch): a crank turned
   * past that point holds a pose on the IK's other branch, which Gauss–Newton on angles cannot
   * reach (it stalls at the fold), and on rod lengths does.
   */
  private readonly crank: boolean;
  private readonly hornTips: Float64Array;
  private readonly legPose = new Float64Array(6);
  private readonly rot = new Float64Array(9);

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
    this.delta = new Float64Array(m);
    this.saved = new Float64Array(m);
    this.trial = new Float64Array(this.n);
    this.crank = rig.geometry.legKind === 'crank';
    this.hornTips = new Float64Array(3 * this.n);
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
    if (this.crank) {
      const g = rig.geometry;
      const a = g.hornLength;
      for (let i = 0; i < n; i++) {
        const alpha = this.target[i]!;
        const beta = g.hornAngles[i]!;
        const b = g.base[i]!;
        this.hornTips[3 * i] = b[0] + a * Math.cos(alpha) * Math.cos(beta);
        this.hornTips[3 * i + 1] = b[1] + a * Math.cos(alpha) * Math.sin(beta);
        this.hornTips[3 * i + 2] = b[2] + a * Math.sin(alpha);
      }
    }
    if (initial !== undefined) for (let k = 0; k < 6; k++) pose[k] = initial[k] ?? 0;
    for (let k = 0; k < 6; k++) if (!rig.geometry.legDof[k]) pose[k] = 0;
    if (rig.geometry.yaw) pose[5] = this.target[n]!;
    let converged = false;
    let previousStep = Number.MAX_VALUE;
    let iterations = 0;
    if (!this.reuse) this.haveStep = false;
    let norm = this.residualAt(this.r);
    if (!(norm < Number.MAX_VALUE)) {
      // A start the IK cannot evaluate (a rod that does not reach): start from neutral instead.
      for (const k of free) pose[k] = 0;
      norm = this.residualAt(this.r);
    }
    for (; iterations < maxIterations && norm < Number.MAX_VALUE; iterations++) {
      let fresh = false;
      if (!this.haveStep) {
        if (!this.updateStep()) break;
        fresh = true;
      }
      const delta = this.delta;
      for (let c = 0; c < m; c++) {
        let d = 0;
        for (let i = 0; i < n; i++) d -= this.step[c * n + i]! * this.r[i]!;
        delta[c] = d;
        this.saved[c] = pose[free[c]!]!;
      }
      // Take the step, or a fraction of it, only where the residual does not grow (and the IK is
      // defined): a full Gauss–Newton step from far away can leave the reach of a crank's rod.
      // A step from a kept matrix that does not help is retried with a fresh Jacobian first.
      let lambda = 1;
      let accepted = false;
      const before = norm;
      for (let halvings = 0; halvings < MAX_HALVINGS; halvings++) {
        for (let c = 0; c < m; c++) pose[free[c]!] = this.saved[c]! + lambda * delta[c]!;
        const trial = this.residualAt(this.trial);
        if (trial <= norm * (1 + 1e-9) + 1e-30) {
          this.r.set(this.trial);
          norm = trial;
          accepted = true;
          break;
        }
        for (let c = 0; c < m; c++) pose[free[c]!] = this.saved[c]!;
        if (!fresh) break;
        lambda *= 0.5;
      }
      if (!accepted) {
        if (!fresh) {
          this.haveStep = false;
          continue;
        }
        break;
      }
      let step = 0;
      for (let c = 0; c < m; c++) {
        const a = lambda * (delta[c]! < 0 ? -delta[c]! : delta[c]!);
        if (a > step) step = a;
      }
      if (step < tolerance) {
        converged = true;
        iterations++;
        break;
      }
      // No progress on a fresh Jacobian: a best fit that is not exact (no pose gives these values).
      if (fresh && before - norm <= 1e-12 * before) {
        iterations++;
        break;
      }
      // Plain Gauss–Newton takes a fresh Jacobian every iteration; the chord method only when it stops contracting.
      if (!this.reuse || step > 0.5 * previousStep) this.haveStep = false;
      previousStep = step;
    }
    let residual = 0;
    for (let i = 0; i < n; i++) {
      const a = this.r[i]! < 0 ? -this.r[i]! : this.r[i]!;
      if (a > residual) residual = a;
    }
    if (!(residual < Number.MAX_VALUE)) residual = Number.POSITIVE_INFINITY;
    this.iterations = iterations;
    this.residual = residual;
    this.converged = converged || residual < 1e-12;
    return this.converged;
  }

  /**
   * Per leg into out: IK(pose) − target (actuator units), or for cranks the rod's length miss
   * (m). Returns the sum of squares (NaN where the IK is undefined).
   */
  private residualAt(out: Float64Array): number {
    let sum = 0;
    if (this.crank) {
      const g = this.rig.geometry;
      const lp = this.legPose;
      for (let k = 0; k < 6; k++) lp[k] = g.legDof[k] ? this.pose[k]! : 0;
      const rot = this.rot;
      rotationFromPose(lp, 0, rot);
      const h = this.hornTips;
      for (let i = 0; i < this.n; i++) {
        const p = g.platform[i]!;
        const dx = rot[0]! * p[0] + rot[1]! * p[1] + rot[2]! * p[2] + lp[0]! - h[3 * i]!;
        const dy = rot[3]! * p[0] + rot[4]! * p[1] + rot[5]! * p[2] + lp[1]! - h[3 * i + 1]!;
        const dz = rot[6]! * p[0] + rot[7]! * p[1] + rot[8]! * p[2] + g.homeHeight + lp[2]! - h[3 * i + 2]!;
        const e = Math.sqrt(dx * dx + dy * dy + dz * dz) - g.rodLength;
        out[i] = e;
        sum += e * e;
      }
      return sum;
    }
    this.rig.evaluate(this.pose, 0);
    for (let i = 0; i < this.n; i++) {
      const e = this.rig.actuators[i]! - this.target[i]!;
      out[i] = e;
      sum += e * e;
    }
    return sum;
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
      const plus = this.residualAt(this.rPlus);
      pose[k] = saved - JACOBIAN_STEP;
      const minus = this.residualAt(this.rMinus);
      pose[k] = saved;
      // At the edge of a rod's reach one side may be undefined: a one-sided difference then.
      const hasPlus = plus < Number.MAX_VALUE;
      const hasMinus = minus < Number.MAX_VALUE;
      const lo = hasMinus ? this.rMinus : this.r;
      const hi = hasPlus ? this.rPlus : this.r;
      const width = (hasPlus ? 1 : 0) + (hasMinus ? 1 : 0);
      if (width === 0) return false;
      for (let i = 0; i < n; i++) jac[c * n + i] = (hi[i]! - lo[i]!) / (width * JACOBIAN_STEP);
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
