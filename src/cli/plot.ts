/**
 * A small SVG line plot for tuning: stacked panels sharing the time axis. Written by hand
 * (no plotting dependency): the CLI only needs lines, axes and a legend.
 */
export interface Series {
  label: string;
  values: ArrayLike<number>;
  color: string;
}

export interface Panel {
  title: string;
  unit: string;
  series: Series[];
}

const W = 1100;
const PANEL_H = 220;
const LEFT = 70;
const RIGHT = 20;
const TOP = 30;
const GAP = 40;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
}

export function svgPlot(title: string, time: ArrayLike<number>, panels: Panel[], maxPoints = 3000): string {
  const n = time.length;
  const stride = Math.max(1, Math.ceil(n / maxPoints));
  const t0 = n > 0 ? time[0]! : 0;
  const t1 = n > 0 ? time[n - 1]! : 1;
  const plotW = W - LEFT - RIGHT;
  const height = TOP + panels.length * (PANEL_H + GAP);
  const x = (t: number) => LEFT + ((t - t0) / (t1 - t0 || 1)) * plotW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="18" font-size="14">${esc(title)}</text>`,
  ];
  panels.forEach((panel, pi) => {
    const top = TOP + pi * (PANEL_H + GAP) + 10;
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of panel.series) for (let i = 0; i < n; i += stride) {
      const v = s.values[i]!;
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    if (!(hi > lo)) {
      lo -= 1;
      hi += 1;
    }
    const pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    const y = (v: number) => top + PANEL_H - ((v - lo) / (hi - lo)) * PANEL_H;
    out.push(`<rect x="${LEFT}" y="${top}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#999"/>`);
    out.push(`<text x="${LEFT}" y="${top - 4}" font-size="12">${esc(panel.title)} (${esc(panel.unit)})</text>`);
    const step = niceStep(hi - lo, 5);
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
      const yy = y(v).toFixed(1);
      out.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${yy}" y2="${yy}" stroke="#eee"/>`);
      out.push(`<text x="${LEFT - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${Number(v.toPrecision(3))}</text>`);
    }
    const tStep = niceStep(t1 - t0 || 1, 10);
    for (let t = Math.ceil(t0 / tStep) * tStep; t <= t1; t += tStep) {
      out.push(`<text x="${x(t).toFixed(1)}" y="${top + PANEL_H + 14}" text-anchor="middle">${Number(t.toPrecision(4))} s</text>`);
    }
    panel.series.forEach((s, si) => {
      const pts: string[] = [];
      for (let i = 0; i < n; i += stride) {
        const v = s.values[i]!;
        if (Number.isFinite(v)) pts.push(`${x(time[i]!).toFixed(1)},${y(v).toFixed(1)}`);
      }
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.2" points="${pts.join(' ')}"/>`);
      out.push(`<text x="${LEFT + 8 + si * 110}" y="${top + 14}" fill="${s.color}">${esc(s.label)}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
