/**
 * Input guards, applied to every input signal as each telemetry sample arrives, before
 * anything is filtered:
 *
 * 1. NaN/±Inf is rejected: the last good value is held (and counted).
 * 2. The value is clamped to the source limit (e.g. ±60 m/s², ±6 rad/s).
 * 3. Spike filter: a jump larger than `spikeThreshold` from the last accepted value is held
 *    off for up to `spikeHoldS` (a kerb strike or contact lasts one or two frames in GT7,
 *    ±130 m/s²). If the new level is still there after the hold, it is real (a crash, a
 *    jump landing): the output blends to it with time constant `blendS` instead of stepping.
 */
export interface GuardSettings {
  limit: number;
  spikeThreshold: number;
  spikeHoldS: number;
  blendS: number;
}

export class InputGuard {
  /** Guarded output. */
  value = 0;
  rejected = 0;
  spikes = 0;
  /** The last accepted input, without the blend offset. */
  private accepted = 0;
  /** Output minus accepted input, decaying to 0 after a real jump. */
  private offset = 0;
  private heldFor = 0;
  private started = false;

  constructor(private readonly s: GuardSettings) {}

  /** Accepts one raw sample taken `dt` seconds after the previous one; returns the guarded value. */
  update(raw: number, dt: number): number {
    if (!Number.isFinite(raw)) {
      this.rejected++;
      return this.value;
    }
    const lim = this.s.limit;
    const x = raw > lim ? lim : raw < -lim ? -lim : raw;
    if (!this.started) {
      this.started = true;
      this.accepted = this.value = x;
      return x;
    }
    if (Math.abs(x - this.accepted) > this.s.spikeThreshold) {
      if (this.heldFor === 0) this.spikes++;
      this.heldFor += dt;
      if (this.heldFor <= this.s.spikeHoldS + 1e-9) return this.value;
      // Still there after the hold: a real change. Carry the difference as an offset that
      // decays, so the output moves to the new level smoothly.
      this.offset = this.value - x;
    }
    this.heldFor = 0;
    this.accepted = x;
    this.offset *= Math.exp(-dt / this.s.blendS);
    if (Math.abs(this.offset) < 1e-9) this.offset = 0;
    this.value = x + this.offset;
    return this.value;
  }

  reset(): void {
    this.started = false;
    this.value = this.accepted = this.offset = this.heldFor = 0;
  }
}
