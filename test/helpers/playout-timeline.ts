/**
 * Host → MCU timelines for the playout engine's tests: a host ticking on its own clock with
 * wake-up jitter, a link with a fixed delay, an MCU clock running `ppm` fast or slow, and
 * queries of the playout target in between, as runner commands in MCU-time order.
 */
export interface Arrival {
  /** MCU microseconds (integer). */
  t: number;
  tick: number;
  targets: number[];
  /** Index of this command in the script. */
  index?: number;
}

export interface TimelineOptions {
  periodUs: number;
  frames: number;
  /** Host jitter (µs, ≥ 0) of tick k: how late the host sent it. One thread sends in tick order, so a frame never leaves before the previous one. */
  jitter: (k: number) => number;
  /** Targets of tick k. */
  targets: (k: number) => number[];
  /** MCU clock rate error, ppm (positive: the MCU's clock runs fast). */
  ppm?: number;
  /** Fixed link delay, µs. */
  linkUs?: number;
  /** MCU time of host time 0. */
  t0?: number;
  /** A target query every this many µs of MCU time. */
  queryEveryUs: number;
}

export interface Timeline {
  commands: string[];
  arrivals: Arrival[];
  /** MCU time of each query, and its command index. */
  queries: { t: number; index: number }[];
}

export function buildTimeline(o: TimelineOptions): Timeline {
  const scale = 1 + (o.ppm ?? 0) * 1e-6;
  const t0 = o.t0 ?? 1_000_000;
  const link = o.linkUs ?? 100;
  const events: { t: number; order: number; cmd: string; arrival?: Arrival }[] = [];
  let sent = -Infinity;
  for (let k = 0; k < o.frames; k++) {
    sent = Math.max(k * o.periodUs + o.jitter(k), sent + 1);
    const t = Math.round(t0 + (sent + link) * scale);
    const arrival = { t, tick: k, targets: o.targets(k) };
    events.push({ t, order: k, cmd: `offer ${t} ${k} ${arrival.targets.join(' ')}`, arrival });
  }
  const end = t0 + (o.frames * o.periodUs + 5000) * scale;
  for (let t = t0, i = 0; t < end; t += o.queryEveryUs, i++) events.push({ t: Math.round(t), order: o.frames + i, cmd: `target ${Math.round(t)}` });
  // Time order; at equal times a frame before a query (it arrived, then the servo step ran).
  events.sort((a, b) => a.t - b.t || (a.arrival ? 0 : 1) - (b.arrival ? 0 : 1) || a.order - b.order);
  const commands: string[] = [];
  const arrivals: Arrival[] = [];
  const queries: { t: number; index: number }[] = [];
  for (const e of events) {
    if (e.arrival) arrivals.push({ ...e.arrival, index: commands.length });
    else queries.push({ t: e.t, index: commands.length });
    commands.push(e.cmd);
  }
  return { commands, arrivals, queries };
}

/** A deterministic PRNG (xorshift32) for timelines, so a failing case replays. */
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}
