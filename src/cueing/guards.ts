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

const VALUE = 0;
/** The last accepted input, without the blend offset. */
const ACCEPTED = 1;
/** Output minus accepted input, decaying to 0 after a real jump. */
const OFFSET = 2;
const HELD_FOR = 3;

export class InputGuard {
  rejected = 0;
  spikes = 0;
  private started = false;
  /** Numeric state in a typed array (see filters.ts on the hot-path convention). */
  private readonly st = new Float64Array(4);

  constructor(private readonly s: GuardSettings) {}

  /** Guarded output. */
  get value(): number {
    return this.st[VALUE]!;
  }

  /** Hot path: io[i] holds a raw sample taken dt[0] seconds after the previous one; receives the guarded value. */
  apply(io: Float64Array, i: number, dt: Float64Array): void {
    const st = this.st;
    const raw = io[i]!;
    if (!Number.isFinite(raw)) {
      this.rejected++;
      io[i] = st[VALUE]!;
      return;
    }
    const lim = this.s.limit;
    const x = raw > lim ? lim : raw < -lim ? -lim : raw;
    if (!this.started) {
      this.started = true;
      st[ACCEPTED] = st[VALUE] = x;
      io[i] = x;
      return;
    }
    if (Math.abs(x - st[ACCEPTED]!) > this.s.spikeThreshold) {
      if (st[HELD_FOR] === 0) this.spikes++;
      st[HELD_FOR] = st[HELD_FOR]! + dt[0]!;
      if (st[HELD_FOR]! <= this.s.spikeHoldS + 1e-9) {
        io[i] = st[VALUE]!;
        return;
      }
      // Still there after the hold: a real change. Carry the difference as an offset that
      // decays, so the output moves to the new level smoothly.
      st[OFFSET] = st[VALUE]! - x;
    }
    st[HELD_FOR] = 0;
    st[ACCEPTED] = x;
    let offset = st[OFFSET]! * Math.exp(-dt[0]! / this.s.blendS);
    if (Math.abs(offset) < 1e-9) offset = 0;
    st[OFFSET] = offset;
    st[VALUE] = x + offset;
    io[i] = st[VALUE]!;
  }

  /** One sample `raw`, `dt` s after the previous; returns the guarded value (tests, offline). */
  update(raw: number, dt: number): number {
    const io = Float64Array.of(raw);
    this.apply(io, 0, Float64Array.of(dt));
    return io[0]!;
  }

  reset(): void {
    this.started = false;
    this.st.fill(0);
  }
}
