/**
 * Follows a target angle with bounded rate and bounded acceleration: what keeps tilt
 * coordination below the driver's rotation-perception threshold. The commanded rate is the
 * largest that can still brake to a stop at the target (passing it by at most a·dt²), never above the rate
 * limit, and it changes by at most a·dt per tick. A limit of 0 means "unlimited".
 */
export class RateAccelLimiter {
  angle = 0;
  rate = 0;

  constructor(
    public maxRate: number,
    public maxAccel: number,
    public dt: number,
  ) {}

  step(target: number): number {
    const dt = this.dt;
    const e = target - this.angle;
    const rateCap = this.maxRate > 0 ? this.maxRate : Infinity;
    const accel = this.maxAccel > 0 ? this.maxAccel : Infinity;
    // Fastest rate that reaches the target this tick without passing it, and that can still
    // decelerate in time.
    const distance = Math.abs(e);
    let desired = Math.min(rateCap, distance / dt);
    // Braking bound, exact for this discrete update: braking from rate m·a·dt (new rate used for
    // the whole step) covers a·dt²·m(m+1)/2, so m ≤ (√(1 + 8e/(a·dt²)) − 1)/2. The continuous
    // √(2·a·e) overshoots. (Only with a finite acceleration limit: ∞·0 would be NaN.)
    if (accel !== Infinity) {
      const adt = accel * dt;
      desired = Math.min(desired, (adt * (Math.sqrt(1 + (8 * distance) / (adt * dt)) - 1)) / 2);
    }
    desired = e < 0 ? -desired : desired;
    const maxChange = accel * dt;
    let next = desired;
    if (next > this.rate + maxChange) next = this.rate + maxChange;
    else if (next < this.rate - maxChange) next = this.rate - maxChange;
    if (next > rateCap) next = rateCap;
    else if (next < -rateCap) next = -rateCap;
    this.rate = next;
    this.angle += next * dt;
    return this.angle;
  }

  reset(angle = 0): void {
    this.angle = angle;
    this.rate = 0;
  }
}
