/**
 * Follows a target angle with bounded rate and bounded acceleration: what keeps tilt
 * coordination below the driver's rotation-perception threshold. The commanded rate is the
 * largest that can still brake to a stop at the target (passing it by at most a·dt²), never
 * above the rate limit, and it changes by at most a·dt per tick. A limit of 0 means
 * "unlimited".
 *
 * Allocation-free by construction: "unlimited" is a large finite cap chosen once, and the
 * state lives in a Float64Array. Both fix measured boxing: Infinity in the per-tick
 * arithmetic cost 16 B/call, plain double fields still ~4 B/call.
 */
const UNLIMITED = 1e300;

export class RateAccelLimiter {
  /** [angle, rate] */
  private readonly state = new Float64Array(2);
  private readonly rateCap: number;
  private readonly accel: number;
  private readonly accelLimited: boolean;

  constructor(
    maxRate: number,
    maxAccel: number,
    readonly dt: number,
  ) {
    this.rateCap = maxRate > 0 ? maxRate : UNLIMITED;
    this.accelLimited = maxAccel > 0;
    this.accel = maxAccel > 0 ? maxAccel : UNLIMITED;
  }

  get angle(): number {
    return this.state[0]!;
  }

  get rate(): number {
    return this.state[1]!;
  }

  /** Hot path: io[i] holds the target, and receives the new angle. */
  apply(io: Float64Array, i: number): void {
    const dt = this.dt;
    const st = this.state;
    const angle = st[0]!;
    const rate = st[1]!;
    const e = io[i]! - angle;
    const distance = e < 0 ? -e : e;
    let desired = distance / dt;
    if (desired > this.rateCap) desired = this.rateCap;
    if (this.accelLimited) {
      // Braking bound, exact for this discrete update: braking from rate m·a·dt (new rate
      // used for the whole step) covers a·dt²·m(m+1)/2, so m ≤ (√(1 + 8e/(a·dt²)) − 1)/2.
      // The continuous √(2·a·e) overshoots.
      const adt = this.accel * dt;
      const braking = (adt * (Math.sqrt(1 + (8 * distance) / (adt * dt)) - 1)) / 2;
      if (desired > braking) desired = braking;
    }
    if (e < 0) desired = -desired;
    let next = desired;
    if (this.accelLimited) {
      const maxChange = this.accel * dt;
      if (next > rate + maxChange) next = rate + maxChange;
      else if (next < rate - maxChange) next = rate - maxChange;
    }
    if (next > this.rateCap) next = this.rateCap;
    else if (next < -this.rateCap) next = -this.rateCap;
    st[1] = next;
    st[0] = angle + next * dt;
    io[i] = st[0];
  }

  step(target: number): number {
    const io = new Float64Array(1);
    io[0] = target;
    this.apply(io, 0);
    return io[0]!;
  }

  reset(angle = 0): void {
    this.state[0] = angle;
    this.state[1] = 0;
  }
}
