import type { RigKinematics } from './rig.js';

/**
 * Channel budgets: per pose component (x y z m, roll pitch yaw rad), a half-width b_k such
 * that every combination of channels inside the box |pose_k| ≤ b_k is reachable, so the
 * cueing chain can use them as its channel limits and the IK's scaling toward neutral (which
 * shrinks every channel at once) stays a last resort.
 *
 * The box keeps the proportions the profile asks for: b = s · limits with one factor s in
 * [0, 1], the largest for which all 3⁶ points of the box's grid (every component at −b_k, 0 or
 * +b_k: the 64 corners, the neutral pose and the face and edge centres between) pass IK with
 * at least `margin` of each actuator's usable travel to spare. The channels' soft limits never
 * reach their limit, so the chain's output stays strictly inside the box.
 *
 * A pose component no actuator of the rig follows (surge on a 3DOF, yaw without a yaw table)
 * gets budget 0: the chain then leaves that channel at 0 instead of asking for motion the rig
 * ignores. Set-up code, not per tick: about a thousand IK evaluations: p50 0.1–1 ms on the example
 * rigs, up to 13–35 ms while V8 still compiles it (the first calls; bench/budgets.ts). The
 * control thread runs it on a profile change, the first one at start-up.
 *
 * The grid is a check, not a proof: a hexapod's reachable set is not convex in pose space, so
 * a pose between grid points can in principle leave it (then the IK scales it, as before).
 */
export interface BudgetOptions {
  /** Spare travel at every grid point, fraction of each actuator's usable travel. */
  margin?: number;
}

/** Bisection steps per direction that limits the box: 2⁻³⁰ of the profile's limits. */
const STEPS = 30;

export function channelBudgets(rig: RigKinematics, limits: ArrayLike<number>, options: BudgetOptions = {}): Float64Array {
  const pose = new Float64Array(6);
  rig.evaluate(pose, 0);
  // A rig whose neutral pose has less spare travel than asked still gets a box: half of what neutral has.
  const margin = Math.min(options.margin ?? 0.02, 0.5 * rig.margin);
  const want = new Float64Array(6);
  for (let k = 0; k < 6; k++) {
    const l = limits[k]!;
    want[k] = rig.follows(k) && Number.isFinite(l) && l > 0 ? l : 0;
  }
  const active = [0, 1, 2, 3, 4, 5].filter((k) => want[k]! > 0);
  // Each grid point is s·d for a direction d with components in {−1, 0, 1}·want: the box fits at
  // s when every such ray reaches s. So s is the least, over the directions, of how far each
  // one reaches; a direction that already reaches the current least costs one evaluation.
  const reaches = (d: number, s: number): boolean => {
    let code = d;
    for (const k of active) {
      pose[k] = ((code % 3) - 1) * s * want[k]!;
      code = Math.floor(code / 3);
    }
    return rig.evaluate(pose, 0) && rig.margin >= margin;
  };
  let best = 1;
  const directions = 3 ** active.length;
  for (let d = 0; d < directions; d++) {
    if (reaches(d, best)) continue;
    let lo = 0;
    let hi = best;
    for (let i = 0; i < STEPS; i++) {
      const mid = 0.5 * (lo + hi);
      if (reaches(d, mid)) lo = mid;
      else hi = mid;
    }
    best = lo;
  }
  return want.map((w) => w * best);
}
