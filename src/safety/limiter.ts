/**
 * The last stage before the encoder, and the one nothing upstream can defeat: every
 * setpoint it emits lies in [low, high] (the usable travel, margins included), moves at
 * most maxVelocity·dt from the previous one, and changes its step by at most
 * maxAcceleration·dt² — whatever the targets are (NaN, ±1e30, steps, flapping states).
 *
 * Per actuator and tick, with a = maxAcceleration and p, v the previous position and velocity:
 * 1. a NaN target means "stay" (target = p); the target is clamped into [low, high];
 * 2. the wanted velocity heads for the target, no faster than the speed cap nor than the
 *    speed from which braking at a still stops at the target (so targets are not overshot);
 * 3. it changes from v by at most a·dt;
 * 4. hard envelope: it never exceeds the speed from which braking at a still stops at
 *    `high` (or `low`), so the position cannot cross them however the target moves; a final
 *    clamp only absorbs rounding.
 *
 * Braking bound, exact for this discrete update: from speed m·a·dt, braking by a·dt per
 * step covers S(m) = Σ_{j=0..⌊m⌋} (m − j) · a·dt², continuous and increasing in m (for whole m
 * it is m(m+1)/2). brakingSpeed() inverts it. Since S(m) = m + S(m − 1), a state that meets
 * the bound at one tick meets it at the next by slowing by a·dt, so steps 3 and 4 never
 * conflict. (The continuous √(2ad), or the whole-m formula used for fractional m, overshoot
 * by a fraction of a·dt²; the property test caught the latter.)
 *
 * The speed cap is maxVelocity × speedFraction (park and unpark ramps go slower). Lowering
 * the fraction while moving fast slows down at a, never by a jump.
 *
 * Hot path: apply() allocates nothing; state lives in typed arrays.
 */
/** Fastest speed (units/s) from which braking at a·dt per step stops within d ≥ 0; adt = a·dt, a2 = a·dt². */
function brakingSpeed(d: number, adt: number, a2: number): number {
  const D = d / a2;
  const k = Math.floor((Math.sqrt(1 + 8 * D) - 1) / 2);
  return ((D + (k * (k + 1)) / 2) / (k + 1)) * adt;
}

export interface ActuatorEnvelope {
  low: Float64Array;
  high: Float64Array;
  maxVelocity: Float64Array;
  maxAcceleration: Float64Array;
}

export class SetpointLimiter {
  readonly count: number;
  readonly dt: number;
  /** The setpoints of the last tick (actuator units). */
  readonly position: Float64Array;
  /** Their velocities (units/s). */
  readonly velocity: Float64Array;
  /** [0]: speed cap as a fraction of maxVelocity, 0..1. */
  readonly speedFraction = new Float64Array([1]);
  private readonly low: Float64Array;
  private readonly high: Float64Array;
  private readonly vmax: Float64Array;
  private readonly amax: Float64Array;

  constructor(envelope: ActuatorEnvelope, rateHz: number) {
    const n = envelope.low.length;
    for (let i = 0; i < n; i++) {
      const ok = envelope.low[i]! < envelope.high[i]! && envelope.maxVelocity[i]! > 0 && envelope.maxAcceleration[i]! > 0;
      if (!ok || !Number.isFinite(envelope.maxVelocity[i]!) || !Number.isFinite(envelope.maxAcceleration[i]!)) {
        throw new RangeError(`actuator ${i + 1}: the limiter needs low < high and finite, positive maxVelocity and maxAcceleration`);
      }
    }
    this.count = n;
    this.dt = 1 / rateHz;
    this.low = Float64Array.from(envelope.low);
    this.high = Float64Array.from(envelope.high);
    this.vmax = Float64Array.from(envelope.maxVelocity);
    this.amax = Float64Array.from(envelope.maxAcceleration);
    this.position = new Float64Array(n);
    this.velocity = new Float64Array(n);
    for (let i = 0; i < n; i++) this.position[i] = (this.low[i]! + this.high[i]!) / 2;
  }

  /**
   * Start from where the actuators are (e.g. the MCU's reported positions), at rest. A
   * position outside the envelope starts at the nearest bound instead: the envelope holds for
   * every setpoint, and the MCU covers the small step at its own limits.
   */
  reset(positions: Float64Array): void {
    for (let i = 0; i < this.count; i++) {
      let p = positions[i]!;
      const lo = this.low[i]!;
      const hi = this.high[i]!;
      if (p !== p) p = (lo + hi) / 2;
      this.position[i] = p < lo ? lo : p > hi ? hi : p;
      this.velocity[i] = 0;
    }
  }

  /** True when every setpoint is within `tolerance` (units) of targets and nearly at rest. */
  settledAt(targets: Float64Array, tolerance: number): boolean {
    for (let i = 0; i < this.count; i++) {
      const e = this.position[i]! - targets[i]!;
      if (!(e <= tolerance && e >= -tolerance)) return false;
      const v = this.velocity[i]!;
      if (v * this.dt > tolerance || v * this.dt < -tolerance) return false;
    }
    return true;
  }

  /** targets[0, count) in, this tick's setpoints in `position`. */
  apply(targets: Float64Array): Float64Array {
    const dt = this.dt;
    const fraction = this.speedFraction[0]!;
    const f = fraction >= 0 && fraction <= 1 ? fraction : fraction > 1 ? 1 : 0;
    for (let i = 0; i < this.count; i++) {
      const lo = this.low[i]!;
      const hi = this.high[i]!;
      const p = this.position[i]!;
      const v = this.velocity[i]!;
      const adt = this.amax[i]! * dt;
      const a2 = adt * dt;
      let u = targets[i]!;
      if (u !== u) u = p;
      if (u < lo) u = lo;
      else if (u > hi) u = hi;

      const e = u - p;
      const d = e < 0 ? -e : e;
      let want = d / dt;
      const cap = this.vmax[i]! * f;
      if (want > cap) want = cap;
      const toTarget = brakingSpeed(d, adt, a2);
      if (want > toTarget) want = toTarget;
      if (e < 0) want = -want;

      let next = want;
      if (next > v + adt) next = v + adt;
      else if (next < v - adt) next = v - adt;

      const up = hi - p;
      const down = p - lo;
      const maxUp = up > 0 ? brakingSpeed(up, adt, a2) : 0;
      const maxDown = down > 0 ? brakingSpeed(down, adt, a2) : 0;
      if (next > maxUp) next = maxUp;
      else if (next < -maxDown) next = -maxDown;

      let q = p + next * dt;
      if (q > hi) q = hi;
      else if (q < lo) q = lo;
      this.velocity[i] = (q - p) / dt;
      this.position[i] = q;
    }
    return this.position;
  }
}
