/**
 * A bounded compass search (coordinate pattern search, Kolda, Lewis & Torczon 2003, "Optimization
 * by direct search", §3) maximising f over the unit box [0, 1]^n: derivative free, and every
 * point it asks for is inside the box, so a caller that maps the box onto parameter ranges
 * never sees a value outside them.
 *
 * From the start it polls u ± Δ·e_i, one coordinate at a time, clamped to the box; a poll
 * point that improves on the best by more than `minGain` is taken at once (opportunistic) and
 * the same direction is tried again from there; 2n failed polls in a row (every direction at
 * the same point) halve Δ. It ends when Δ < minStep, or the budget (evaluations, seconds) is
 * spent. Deterministic: the order of
 * the polls depends only on the values f returned (a time budget can only end it earlier).
 *
 * f may return -Infinity (or NaN) for a point it cannot score: that point never becomes the best.
 * Repeated points are not evaluated twice (a cache keyed by the point).
 */

export interface SearchOptions {
  /** Start, in the box (clamped into it). */
  start: readonly number[];
  /** First step, as a fraction of the box (default 0.25). */
  step?: number;
  /** Stop when the step falls below this (default 1/64). */
  minStep?: number;
  /** Most evaluations of f, the start's included (default 50). */
  maxEvaluations?: number;
  /** Stop starting evaluations after this many seconds (default: no limit). */
  maxSeconds?: number;
  /** An improvement must exceed this to count (default 1e-9). */
  minGain?: number;
  /** Called after each evaluation (progress). */
  onEvaluation?: (e: Evaluation) => void;
  /** Wall clock, s (for the time budget; injectable for tests). */
  now?: () => number;
}

export interface Evaluation {
  /** 1-based count of evaluations so far. */
  index: number;
  u: number[];
  value: number;
  best: number;
  step: number;
  /** The coordinate moved from the best point and the sign, or undefined for the start. */
  moved?: { coordinate: number; direction: 1 | -1 };
}

export type StopReason = 'converged' | 'evaluations' | 'time';

export interface SearchResult {
  u: number[];
  value: number;
  /** The start's value. */
  startValue: number;
  evaluations: number;
  /** Evaluations skipped because the point was already scored. */
  cacheHits: number;
  step: number;
  stop: StopReason;
  seconds: number;
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const score = (v: number) => (Number.isNaN(v) ? -Infinity : v);

export function compassSearch(f: (u: readonly number[]) => number, opts: SearchOptions): SearchResult {
  const n = opts.start.length;
  const minStep = opts.minStep ?? 1 / 64;
  const maxEvaluations = opts.maxEvaluations ?? 50;
  const minGain = opts.minGain ?? 1e-9;
  const now = opts.now ?? (() => performance.now() / 1000);
  const t0 = now();
  let step = opts.step ?? 0.25;
  let evaluations = 0;
  let cacheHits = 0;
  const cache = new Map<string, number>();
  let best = opts.start.map(clamp01);
  let bestValue = -Infinity;

  const outOfBudget = (): StopReason | undefined => {
    if (evaluations >= maxEvaluations) return 'evaluations';
    if (opts.maxSeconds !== undefined && now() - t0 >= opts.maxSeconds) return 'time';
    return undefined;
  };
  const evaluate = (u: number[], moved?: Evaluation['moved']): number => {
    const key = u.join(',');
    const known = cache.get(key);
    if (known !== undefined) {
      cacheHits++;
      return known;
    }
    const value = score(f(u));
    evaluations++;
    cache.set(key, value);
    opts.onEvaluation?.({ index: evaluations, u: [...u], value, best: Math.max(value, bestValue), step, moved });
    return value;
  };

  bestValue = evaluate(best);
  const startValue = bestValue;
  if (n === 0) return { u: best, value: bestValue, startValue, evaluations, cacheHits, step, stop: 'converged', seconds: now() - t0 };
  // The poll directions, cycled through: coordinate 0 up, 0 down, 1 up, … A direction that
  // improved is tried again at once (it often keeps paying: a gain far from its best); a
  // failed one hands over to the next. Only when all 2n directions have failed in a row at
  // the same point is the step halved, as in the textbook poll.
  const directions: { coordinate: number; direction: 1 | -1 }[] = [];
  for (let i = 0; i < n; i++) directions.push({ coordinate: i, direction: 1 }, { coordinate: i, direction: -1 });
  let k = 0;
  let failures = 0;
  let stop: StopReason = 'converged';
  while (step >= minStep) {
    const d = directions[k]!;
    const u = [...best];
    u[d.coordinate] = clamp01(u[d.coordinate]! + d.direction * step);
    let improved = false;
    if (u[d.coordinate] !== best[d.coordinate]) {
      const budget = outOfBudget();
      if (budget) {
        stop = budget;
        break;
      }
      const value = evaluate(u, d);
      if (value > bestValue + minGain) {
        best = u;
        bestValue = value;
        improved = true;
      }
    }
    if (improved) {
      failures = 0;
      continue;
    }
    k = (k + 1) % directions.length;
    if (++failures >= directions.length) {
      step /= 2;
      failures = 0;
    }
  }
  return { u: best, value: bestValue, startValue, evaluations, cacheHits, step, stop, seconds: now() - t0 };
}
