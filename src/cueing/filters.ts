/**
 * Discrete filters designed from physical parameters (rad/s, damping) by the bilinear
 * transform, pre-warped at the filter's characteristic frequency so that frequency is
 * exact at any sample rate. Changing the loop rate redesigns the coefficients and leaves
 * the motion unchanged. Each filter is one object with its own state.
 *
 * Hot-path convention (all of src/cueing): per-tick work goes through `apply(io, i)`, which
 * filters io[i] in place. No double crosses a call boundary, so nothing is boxed even where
 * V8 declines to inline (a double argument or return value becomes a heap number then).
 * `step(x)` is the same filter for tests and offline use.
 *
 * Transposed direct form II: y = b0·x + s1; s1 = b1·x − a1·y + s2; s2 = b2·x − a2·y.
 */

export class Biquad {
  b0 = 1;
  b1 = 0;
  b2 = 0;
  a1 = 0;
  a2 = 0;
  /** [s1, s2]: state in a typed array so stores never box. */
  private readonly s = new Float64Array(2);

  /** io[i] ← filter(io[i]). */
  apply(io: Float64Array, i: number): void {
    const x = io[i]!;
    const s = this.s;
    const y = this.b0 * x + s[0]!;
    s[0] = this.b1 * x - this.a1 * y + s[1]!;
    s[1] = this.b2 * x - this.a2 * y;
    io[i] = y;
  }

  step(x: number): number {
    const io = new Float64Array(1);
    io[0] = x;
    this.apply(io, 0);
    return io[0]!;
  }

  /** Sets the state as if the input had been `x` forever (no start-up transient). */
  settle(x: number): void {
    // Steady state: y = H(1)·x; s2 = (b2 − a2·H1)·x; s1 = (b1 − a1·H1)·x + s2.
    const h1 = (this.b0 + this.b1 + this.b2) / (1 + this.a1 + this.a2);
    const y = h1 * x;
    this.s[1] = this.b2 * x - this.a2 * y;
    this.s[0] = this.b1 * x - this.a1 * y + this.s[1]!;
  }

  reset(): void {
    this.s.fill(0);
  }

  /** |H(e^{jωT})| at analog-equivalent frequency ω (rad/s), for checks and docs. */
  gainAt(omega: number, rateHz: number): number {
    const w = omega / rateHz;
    const c1 = Math.cos(w);
    const s1 = Math.sin(w);
    const c2 = Math.cos(2 * w);
    const s2 = Math.sin(2 * w);
    const nr = this.b0 + this.b1 * c1 + this.b2 * c2;
    const ni = -(this.b1 * s1 + this.b2 * s2);
    const dr = 1 + this.a1 * c1 + this.a2 * c2;
    const di = -(this.a1 * s1 + this.a2 * s2);
    return Math.sqrt((nr * nr + ni * ni) / (dr * dr + di * di));
  }

  private setNormalized(b0: number, b1: number, b2: number, a0: number, a1: number, a2: number): this {
    this.b0 = b0 / a0;
    this.b1 = b1 / a0;
    this.b2 = b2 / a0;
    this.a1 = a1 / a0;
    this.a2 = a2 / a0;
    return this;
  }

  /** H(s) = (n2·s² + n1·s + n0) / (s² + 2ζωn·s + ωn²), pre-warped at ωn. */
  designAnalog(n2: number, n1: number, n0: number, omegaN: number, zeta: number, rateHz: number): this {
    const k = prewarp(omegaN, rateHz);
    const k2 = k * k;
    const w2 = omegaN * omegaN;
    const d1 = 2 * zeta * omegaN * k;
    return this.setNormalized(n2 * k2 + n1 * k + n0, 2 * (n0 - n2 * k2), n2 * k2 - n1 * k + n0, k2 + d1 + w2, 2 * (w2 - k2), k2 - d1 + w2);
  }

  /** First-order H(s) = (n1·s + n0) / (s + ω), pre-warped at ω (a2 = b2 = 0). */
  designFirstOrder(n1: number, n0: number, omega: number, rateHz: number): this {
    const k = prewarp(omega, rateHz);
    return this.setNormalized(n1 * k + n0, n0 - n1 * k, 0, k + omega, omega - k, 0);
  }
}

/**
 * Why a filter frequency ω (rad/s) cannot be designed at `rateHz`, or undefined if it can: ω
 * must be > 0 and below Nyquist, π·rateHz (by a hair, where tan(ω/2·rate) still is finite).
 * The one rule: `prewarp` throws with it, and the profile schema refuses with it.
 */
export function filterFrequencyProblem(omega: number, rateHz: number): string | undefined {
  if (!(omega > 0)) return `${omega} rad/s: a filter frequency must be > 0`;
  if (omega / (2 * rateHz) < Math.PI / 2 - 1e-6) return undefined;
  return `${omega} rad/s is not below Nyquist, π·rateHz = ${(Math.PI * rateHz).toFixed(1)} rad/s at loop.rateHz ${rateHz}`;
}

/** K of s = K·(1 − z⁻¹)/(1 + z⁻¹) that maps analog ω exactly onto the digital frequency ω. */
export function prewarp(omega: number, rateHz: number): number {
  const problem = filterFrequencyProblem(omega, rateHz);
  if (problem !== undefined) throw new RangeError(`filter frequency ${problem}`);
  return omega / Math.tan(omega / (2 * rateHz));
}

/** s² / (s² + 2ζωn s + ωn²) */
export function highPass2(omegaN: number, zeta: number, rateHz: number): Biquad {
  return new Biquad().designAnalog(1, 0, 0, omegaN, zeta, rateHz);
}

/** ωn² / (s² + 2ζωn s + ωn²) */
export function lowPass2(omegaN: number, zeta: number, rateHz: number): Biquad {
  return new Biquad().designAnalog(0, 0, omegaN * omegaN, omegaN, zeta, rateHz);
}

/** 1 / (s² + 2ζωn s + ωn²): second-order high-pass followed by double integration, in one section. */
export function highPassDoubleIntegrated(omegaN: number, zeta: number, rateHz: number): Biquad {
  return new Biquad().designAnalog(0, 0, 1, omegaN, zeta, rateHz);
}

/** s / (s + ω) */
export function highPass1(omega: number, rateHz: number): Biquad {
  return new Biquad().designFirstOrder(1, 0, omega, rateHz);
}

/** 1 / (s + ω): first-order high-pass followed by one integration. */
export function highPass1Integrated(omega: number, rateHz: number): Biquad {
  return new Biquad().designFirstOrder(0, 1, omega, rateHz);
}

/** s / (s² + 2ζωn s + ωn²): second-order high-pass followed by one integration. */
export function highPass2Integrated(omegaN: number, zeta: number, rateHz: number): Biquad {
  return new Biquad().designAnalog(0, 1, 0, omegaN, zeta, rateHz);
}
