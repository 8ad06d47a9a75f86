/**
 * A limit that does not distort: exactly linear up to a knee (a fraction k of the limit L),
 * then a smooth approach to L that never reaches it:
 *
 *   |x| ≤ kL:  y = x
 *   |x| > kL:  y = sign(x) · (kL + (1 − k)L · tanh((|x| − kL) / ((1 − k)L)))
 *
 * Value and slope (1) agree at the knee (C¹; the curvature too, as tanh'' = 0 there), it is
 * odd, increasing and |y| < L. k = 0 is the plain L·tanh(x/L) the chain used before, which
 * shrinks every signal (a 5.85° tilt through a 10° limit came out 5.26°).
 *
 * Hot path: `apply(io, i)` limits io[i] in place; parameters live in a typed array (no double
 * crosses a call, docs/cueing.md).
 *
 * Compression (issue 15's "no channel compressed by more than 10 %"): 1 − |y| / |x|, the share
 * of the input the limit took away; 0 up to the knee. `applyMeasured` writes it beside the
 * limiting, or NOT_SCORED when |x| ≤ COMPRESSION_FLOOR · L (near zero the ratio says nothing,
 * and a channel at rest would otherwise count as uncompressed ticks).
 */
export const DEFAULT_KNEE = 0.8;
/** Inputs up to this fraction of the limit are not scored for compression. */
export const COMPRESSION_FLOOR = 0.01;
/** Compression of a tick whose input was at or below the floor. */
export const NOT_SCORED = -1;

export class SoftLimit {
  /** [limit, knee point kL, soft span (1 − k)L]. */
  private readonly p = new Float64Array(3);

  constructor(limit: number, knee: number) {
    if (!(limit > 0) || !(knee >= 0 && knee < 1)) throw new RangeError(`soft limit: need limit > 0 and 0 ≤ knee < 1 (got ${limit}, ${knee})`);
    this.p[0] = limit;
    this.p[1] = knee * limit;
    this.p[2] = (1 - knee) * limit;
  }

  get limit(): number {
    return this.p[0]!;
  }

  /** io[i] ← limited io[i]. */
  apply(io: Float64Array, i: number): void {
    const x = io[i]!;
    const p = this.p;
    const kl = p[1]!;
    if (x > kl) io[i] = kl + p[2]! * Math.tanh((x - kl) / p[2]!);
    else if (x < -kl) io[i] = -kl - p[2]! * Math.tanh((-x - kl) / p[2]!);
  }

  /** apply(io, i), and comp[j] ← its compression (NOT_SCORED at or below the floor). Same output as apply. */
  applyMeasured(io: Float64Array, i: number, comp: Float64Array, j: number): void {
    const a = Math.abs(io[i]!);
    this.apply(io, i);
    // Two stores, not `comp[j] = c ? double : NOT_SCORED`: that joins a double with the small
    // integer −1 and V8 boxed the result (4.3 B per chain tick with the rig's budgets, bench/cueing).
    if (a > COMPRESSION_FLOOR * this.p[0]!) comp[j] = 1 - Math.abs(io[i]!) / a;
    else comp[j] = NOT_SCORED;
  }

  /** The same for one value (tests, offline). */
  of(x: number): number {
    const io = new Float64Array(1);
    io[0] = x;
    this.apply(io, 0);
    return io[0]!;
  }
}
