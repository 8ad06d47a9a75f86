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
 * ignores. Set-up code (a few thousand IK evaluations, about a millisecond), not per tick.
 *
 * The grid is a check, not a proof: a hexapod's reachable set is not convex in pose space, so
 * a pose between grid points can in principle leave it (then the IK scales it, as before).
 */
export interface BudgetOptions {
  /** Spare travel at every grid point, fraction of each actuator's usable travel. */
  margin?: number;
}

const STEPS = 40;

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
  const fits = (s: number): boolean => {
    const n = 3 ** active.length;
    for (let c = 0; c < n; c++) {
      let code = c;
      for (const k of active) {
        pose[k] = ((code % 3) - 1) * s * want[k]!;
        code = Math.floor(code / 3);
      }
      if (!rig.evaluate(pose, 0) || rig.margin < margin) return false;
    }
    return true;
  };
  let lo = 0;
  if (fits(1)) lo = 1;
  else {
    let hi = 1;
    for (let i = 0; i < STEPS; i++) {
      const mid = 0.5 * (lo + hi);
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
  }
  return want.map((w) => w * lo);
}
