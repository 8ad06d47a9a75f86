import { NOT_SCORED } from '../cueing/soft-limit.js';

/**
 * How much the cueing chain's soft limits squeeze each channel (issue 15's target: no channel
 * compressed by more than 10 % on more than 5 % of ticks). Per tick the chain writes, for every
 * channel, the compression 1 − |y|/|x| of its two soft limits (the mixer's saturation on the
 * mixed input, the output limit on the washed-out pose), or NOT_SCORED when that limit's input
 * was within 1 % of its limit of zero (cueing/soft-limit.ts). A tick is scored for a channel
 * when either input was above that floor; its compression is the larger of the two.
 */
export const CUE_CHANNELS = ['surge', 'sway', 'heave', 'roll', 'pitch', 'yaw'] as const;
export type CueChannel = (typeof CUE_CHANNELS)[number];
/** A tick counts as compressed above this compression (10 %). */
export const COMPRESSION_THRESHOLD = 0.1;

export interface ChannelCompression {
  /** % of the span's ticks on which the channel was scored (an input above the floor). */
  scoredPct: number;
  /** % of the scored ticks compressed by more than 10 %: by either soft limit, by the saturation, by the output limit. */
  compressedPct: number;
  saturationPct: number;
  limitPct: number;
  /** The largest compression over the span, %. */
  maxPct: number;
}

/** Per channel over ticks [from, to] of a run's compression series ([k·12 + 2c + stage]). */
export function compressionOver(series: Float64Array, from: number, to: number): Record<CueChannel, ChannelCompression> {
  const out = {} as Record<CueChannel, ChannelCompression>;
  const span = to - from + 1;
  CUE_CHANNELS.forEach((name, c) => {
    let scored = 0;
    let over = 0;
    let overSat = 0;
    let overLimit = 0;
    let max = 0;
    for (let k = from; k <= to; k++) {
      const sat = series[k * 12 + 2 * c]!;
      const lim = series[k * 12 + 2 * c + 1]!;
      if (sat === NOT_SCORED && lim === NOT_SCORED) continue;
      scored++;
      const worst = sat > lim ? sat : lim;
      if (worst > COMPRESSION_THRESHOLD) over++;
      if (sat > COMPRESSION_THRESHOLD) overSat++;
      if (lim > COMPRESSION_THRESHOLD) overLimit++;
      if (worst > max) max = worst;
    }
    const pct = (x: number) => (scored > 0 ? (100 * x) / scored : 0);
    out[name] = { scoredPct: span > 0 ? (100 * scored) / span : 0, compressedPct: pct(over), saturationPct: pct(overSat), limitPct: pct(overLimit), maxPct: 100 * max };
  });
  return out;
}
