import type { RigSpec } from '../config/rig-schema.js';
import { type RigGeometry, resolveRig } from './geometry.js';
import { rotationFromPose } from './rotation.js';

const KIND_LINEAR = 0;
const KIND_VERTICAL = 1;
const KIND_CRANK = 2;

/** The search for the largest reachable fraction stops when the bracket is this narrow (about 1 µm per metre of pose, 1 µrad per rad)... */
const SCALE_TOLERANCE = 1e-6;
/** ...or when an actuator is this close to its limit, as a fraction of its travel. */
const MARGIN_TOLERANCE = 1e-6;
/** Bisection alone needs 20 steps for 1e-6; a hard bound even if the margin misbehaves. */
const MAX_SEARCH_STEPS = 48;

/**
 * Inverse kinematics of one rig: pose (x y z roll pitch yaw, platform relative to home,
 * ISO 8855, R = Rz·Ry·Rx) in, leg lengths and actuator values out.
 *
 * Per tick this allocates nothing (docs/cueing.md, "hot path"): pose in as (buffer, index),
 * results in the reused `legs` and `actuators` arrays, state in typed arrays.
 *
 * An unreachable pose is scaled toward neutral as a whole (one factor, found by a bracketed
 * search), so the seat keeps the direction of the cue and no leg is clipped on its own.
 */
export class RigKinematics {
  readonly geometry: RigGeometry;
  readonly legCount: number;
  /** Legs plus the yaw table when there is one (last). */
  readonly actuatorCount: number;
  /** Per leg, m: |l| (linear, crank: pivot to anchor) or l_z (vertical). */
  readonly legs: Float64Array;
  /** Per actuator, its own unit: m of extension, rad of crank, rad of yaw table. */
  readonly actuators: Float64Array;
  /** Usable travel per actuator: [min + margin, max − margin]. */
  readonly low: Float64Array;
  readonly high: Float64Array;
  /** Actuator values at the neutral pose (all zeros). */
  readonly neutral: Float64Array;

  private readonly base: Float64Array;
  private readonly platform: Float64Array;
  private readonly hornCos: Float64Array;
  private readonly hornSin: Float64Array;
  /** 1 for a pose component the legs follow, 0 for one the mechanism holds. */
  private readonly dof: Uint8Array;
  /** 1 for a pose component any actuator follows (the legs', and yaw for a yaw table). */
  private readonly used: Uint8Array;
  private readonly kind: number;
  private readonly hasYawTable: boolean;
  private readonly homeHeight: number;
  private readonly retracted: number;
  private readonly twoA: number;
  private readonly rodMinusHorn: number;
  private readonly rot = new Float64Array(9);
  private readonly scaled = new Float64Array(6);
  /**
   * [0] scale applied by the last solve() (1 = as asked, 0 = neutral); [1] the factor being
   * tried; [2] the margin of the last evaluate(): the smallest distance of any actuator to
   * its usable limits as a fraction of its travel (and, for cranks, of the rod from full
   * stretch), negative outside.
   */
  private readonly state = new Float64Array(3);
  private readonly invTravel: Float64Array;
  private readonly neutralMargin: number;

  constructor(geometry: RigGeometry) {
    this.geometry = geometry;
    const n = geometry.base.length;
    this.legCount = n;
    this.hasYawTable = geometry.yaw !== undefined;
    this.actuatorCount = n + (this.hasYawTable ? 1 : 0);
    this.legs = new Float64Array(n);
    this.actuators = new Float64Array(this.actuatorCount);
    this.low = new Float64Array(this.actuatorCount).fill(geometry.actuators.low);
    this.high = new Float64Array(this.actuatorCount).fill(geometry.actuators.high);
    if (geometry.yaw) {
      this.low[n] = geometry.yaw.low;
      this.high[n] = geometry.yaw.high;
    }
    this.base = Float64Array.from(geometry.base.flat());
    this.platform = Float64Array.from(geometry.platform.flat());
    this.hornCos = Float64Array.from(geometry.hornAngles, Math.cos);
    this.hornSin = Float64Array.from(geometry.hornAngles, Math.sin);
    this.dof = Uint8Array.from(geometry.legDof, (d) => (d ? 1 : 0));
    this.used = Uint8Array.from(geometry.legDof, (d, k) => (d || (k === 5 && this.hasYawTable) ? 1 : 0));
    this.kind = geometry.legKind === 'linear' ? KIND_LINEAR : geometry.legKind === 'vertical' ? KIND_VERTICAL : KIND_CRANK;
    this.homeHeight = geometry.homeHeight;
    this.retracted = geometry.retractedLength;
    this.twoA = 2 * geometry.hornLength;
    this.rodMinusHorn = geometry.rodLength * geometry.rodLength - geometry.hornLength * geometry.hornLength;
    this.invTravel = Float64Array.from(this.low, (lo, i) => 1 / (this.high[i]! - lo));
    this.scaled.fill(0);
    this.evaluate(this.scaled, 0);
    this.neutral = Float64Array.from(this.actuators);
    this.neutralMargin = this.state[2]!;
  }

  /**
   * Margin of the last evaluate(): the smallest distance of any actuator to its usable travel's
   * ends as a fraction of that travel (cranks: also of the rod from full stretch); negative outside.
   */
  get margin(): number {
    return this.state[2]!;
  }

  /** Which pose components (x y z roll pitch yaw) any actuator follows: the legs', and yaw for a yaw table. */
  follows(k: number): boolean {
    return this.used[k] === 1;
  }

  /** Scale applied by the last solve(): 1 = the pose as asked, less = moved toward neutral, 0 = neutral. */
  get scale(): number {
    return this.state[0]!;
  }

  /**
   * IK for the exact pose at pose[index..index+5], no scaling. Writes legs and actuators
   * (NaN for a crank the rod cannot reach) and returns whether every actuator is inside
   * its usable travel.
   */
  evaluate(pose: Float64Array, index: number): boolean {
    const rot = this.rot;
    const dof = this.dof;
    const scaled = this.scaled;
    // Components the mechanism holds (e.g. surge on a 3DOF) are ignored here, not in the caller.
    for (let k = 0; k < 6; k++) scaled[k] = dof[k] === 1 ? pose[index + k]! : 0;
    rotationFromPose(scaled, 0, rot);
    const tx = scaled[0]!;
    const ty = scaled[1]!;
    const tz = this.homeHeight + scaled[2]!;
    const b = this.base;
    const p = this.platform;
    const legs = this.legs;
    const act = this.actuators;
    const low = this.low;
    const high = this.high;
    const invTravel = this.invTravel;
    let ok = true;
    let margin = 1;
    for (let i = 0, j = 0; i < this.legCount; i++, j += 3) {
      const px = p[j]!;
      const py = p[j + 1]!;
      const pz = p[j + 2]!;
      const lx = rot[0]! * px + rot[1]! * py + rot[2]! * pz + tx - b[j]!;
      const ly = rot[3]! * px + rot[4]! * py + rot[5]! * pz + ty - b[j + 1]!;
      const lz = rot[6]! * px + rot[7]! * py + rot[8]! * pz + tz - b[j + 2]!;
      const l2 = lx * lx + ly * ly + lz * lz;
      let value: number;
      let reaches = true; // false for a crank whose rod cannot reach its platform anchor
      if (this.kind === KIND_VERTICAL) {
        legs[i] = lz;
        value = lz - this.retracted;
      } else if (this.kind === KIND_LINEAR) {
        const l = Math.sqrt(l2);
        legs[i] = l;
        value = l - this.retracted;
      } else {
        // Horn tip h = b + a(cos α cos β, cos α sin β, sin α); |p − h| = s gives e·sin α + f·cos α = g.
        legs[i] = Math.sqrt(l2);
        const g = l2 - this.rodMinusHorn;
        const e = this.twoA * lz;
        const f = this.twoA * (this.hornCos[i]! * lx + this.hornSin[i]! * ly);
        const norm = Math.sqrt(e * e + f * f);
        const absG = g < 0 ? -g : g;
        // How far the rod is from full stretch (or from folding onto the horn), 0 at the
        // singularity, negative beyond: continuous, so the scale search can find that edge too.
        const reach = (norm - absG) / (norm + absG + 1e-300);
        if (reach < margin) margin = reach;
        // Beyond full stretch the travel margin is taken at the crank angle nearest to reaching
        // (asin clamped), so the margin stays continuous across the edge for the scale search.
        const sine = norm > 0 ? (g > norm ? 1 : g < -norm ? -1 : g / norm) : 0;
        value = Math.asin(sine) - Math.atan2(f, e);
        if (value > Math.PI) value -= 2 * Math.PI;
        else if (value <= -Math.PI) value += 2 * Math.PI;
        reaches = absG <= norm && norm > 0;
      }
      act[i] = reaches ? value : Number.NaN;
      if (!reaches || !(value >= low[i]! && value <= high[i]!)) ok = false;
      const below = (value - low[i]!) * invTravel[i]!;
      const above = (high[i]! - value) * invTravel[i]!;
      if (below < margin) margin = below;
      if (above < margin) margin = above;
    }
    if (this.hasYawTable) {
      const n = this.legCount;
      const yaw = pose[index + 5]!;
      act[n] = yaw;
      if (!(yaw >= low[n]! && yaw <= high[n]!)) ok = false;
      const below = (yaw - low[n]!) * invTravel[n]!;
      const above = (high[n]! - yaw) * invTravel[n]!;
      if (below < margin) margin = below;
      if (above < margin) margin = above;
    }
    this.state[2] = margin;
    return ok;
  }

  /**
   * IK with reachability: the pose as asked when every actuator can reach it; otherwise the
   * largest fraction of it (toward neutral) that all can. Writes legs and actuators (always
   * finite, always inside the usable travel) and returns whether the pose was reachable as
   * asked. `scale` says how much of it was kept.
   */
  solve(pose: Float64Array, index: number): boolean {
    const state = this.state;
    if (this.evaluate(pose, index)) {
      state[0] = 1;
      return true;
    }
    let finite = true;
    for (let k = 0; k < 6; k++) {
      const v = pose[index + k]!;
      if (this.used[k] === 1 && (v !== v || v - v !== 0)) finite = false;
    }
    // Largest reachable fraction in [0, 1]: a bracketed secant search on the margin
    // (Anderson–Björck: an end kept twice has its margin shrunk, so both ends move), with a
    // bisection step when the secant point falls outside the bracket. lo is always reachable.
    let lo = 0;
    let atLo = false; // legs and actuators already hold the values at lo
    if (finite) {
      let hi = 1;
      let mLo = this.neutralMargin;
      let mHi = state[2]!; // from the evaluate() of the whole pose above
      let kept = 0; // +1: the last step kept lo (moved hi), −1: it kept hi
      // Cues move smoothly, so the last scale is the best first guess while a pose stays out of reach.
      const previous = state[0]!;
      for (let step = 0; step < MAX_SEARCH_STEPS && hi - lo > SCALE_TOLERANCE; step++) {
        let c = mLo - mHi > 0 ? lo + (mLo * (hi - lo)) / (mLo - mHi) : 0.5 * (lo + hi);
        if (step === 0 && previous > 0 && previous < 1) c = previous;
        if (!(c > lo && c < hi)) c = 0.5 * (lo + hi);
        state[1] = c; // the factor travels in a typed array: a double argument would box when not inlined
        const inside = this.evaluateScaled(pose, index);
        const mC = state[2]!;
        atLo = inside;
        if (inside) {
          lo = c;
          if (mC < MARGIN_TOLERANCE) break; // an actuator is at its limit: as far as the pose can go
          if (kept === -1) {
            const ratio = 1 - mC / mLo;
            mHi *= ratio > 0 ? ratio : 0.5;
          }
          mLo = mC;
          kept = -1;
        } else {
          hi = c;
          if (kept === 1) {
            const ratio = 1 - mC / mHi;
            mLo *= ratio > 0 ? ratio : 0.5;
          }
          mHi = mC;
          kept = 1;
        }
      }
    }
    // lo = 0 is the neutral pose, which config validation guarantees reachable.
    state[1] = lo;
    if (!atLo) this.evaluateScaled(pose, index);
    state[0] = lo;
    return false;
  }

  private readonly scaledPose = new Float64Array(6);
  /** evaluate() of the pose times state[1]. */
  private evaluateScaled(pose: Float64Array, index: number): boolean {
    const sp = this.scaledPose;
    const factor = this.state[1]!;
    // Ignored components stay out of the product: 0 · ±Inf would be NaN.
    for (let k = 0; k < 6; k++) sp[k] = factor === 0 || this.used[k] === 0 ? 0 : pose[index + k]! * factor;
    return this.evaluate(sp, 0);
  }
}

/** A validated rig description (see config/rig-file.ts) as kinematics; throws if it does not resolve. */
export function rigFromSpec(spec: RigSpec): RigKinematics {
  const resolved = resolveRig(spec);
  if (!resolved.geometry) throw new Error(`invalid rig: ${resolved.problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
  return new RigKinematics(resolved.geometry);
}
