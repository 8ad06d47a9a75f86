// Live plots (uPlot: made for fast time series) of the last WINDOW_S seconds of the live points:
// [t, vehicle fx fy fz p q r, delivered fx fy fz p q r, reached pose x y z roll pitch yaw].
import uPlot from '/vendor/uPlot.esm.js';

const WINDOW_S = 20;
const CHANNELS = [
  ['fx', 'surge specific force', 'm/s²'], ['fy', 'sway specific force', 'm/s²'], ['fz', 'heave specific force − 1 g', 'm/s²'],
  ['p', 'roll rate', 'rad/s'], ['q', 'pitch rate', 'rad/s'], ['r', 'yaw rate', 'rad/s'],
];
const DEG = 180 / Math.PI;

export class Plots {
  constructor(el) {
    this.el = el;
    this.cols = Array.from({ length: 19 }, () => []);
    this.charts = [];
    // Charts side by side as the page is wide: 3, 2 or 1 per row.
    const width = () => {
      const w = el.clientWidth || 1200;
      const cols = w > 1300 ? 3 : w > 860 ? 2 : 1;
      return Math.floor((w - 12 * (cols - 1)) / cols) - 4;
    };
    const opts = (title, unit, series) => ({
      title: `${title} (${unit})`,
      width: width(),
      height: 170,
      legend: { show: true },
      scales: { x: { time: false } },
      axes: [{ stroke: '#8a929c', grid: { stroke: '#2a3038' } }, { stroke: '#8a929c', grid: { stroke: '#2a3038' }, size: 56 }],
      series: [{ label: 't (s)' }, ...series.map(([label, color]) => ({ label, stroke: color, width: 1.5, spanGaps: true }))],
    });
    CHANNELS.forEach(([key, title, unit], i) => {
      const div = document.createElement('div');
      el.append(div);
      this.charts.push({ chart: new uPlot(opts(title, unit, [[`vehicle ${key}`, '#8a929c'], [`delivered ${key}`, '#4f9cf9']]), [[], [], []], div), cols: [0, 1 + i, 7 + i], scale: 1 });
    });
    const tilt = document.createElement('div');
    el.append(tilt);
    this.charts.push({ chart: new uPlot(opts('tilt: platform roll and pitch', 'deg', [['roll', '#e3b341'], ['pitch', '#2fbf71']]), [[], [], []], tilt), cols: [0, 16, 17], scale: DEG });
    const pose = document.createElement('div');
    el.append(pose);
    this.charts.push({ chart: new uPlot(opts('pose: platform translation', 'mm', [['x', '#e5484d'], ['y', '#2fbf71'], ['z', '#4f9cf9']]), [[], [], [], []], pose), cols: [0, 13, 14, 15], scale: 1000 });
    const yaw = document.createElement('div');
    el.append(yaw);
    this.charts.push({ chart: new uPlot(opts('pose: yaw', 'deg', [['yaw', '#c678dd']]), [[], []], yaw), cols: [0, 18], scale: DEG });
    this.width = width;
  }

  push(points) {
    for (const p of points) for (let j = 0; j < 19; j++) this.cols[j].push(p[j] === null ? null : p[j]);
    const t = this.cols[0];
    if (t.length === 0) return;
    const from = t[t.length - 1] - WINDOW_S;
    let cut = 0;
    while (cut < t.length && t[cut] < from) cut++;
    if (cut > 0) for (const c of this.cols) c.splice(0, cut);
  }

  draw() {
    for (const c of this.charts) {
      const data = c.cols.map((j, k) => (k === 0 || c.scale === 1 ? this.cols[j] : this.cols[j].map((v) => (v === null ? null : v * c.scale))));
      c.chart.setData(data);
    }
  }

  resize() {
    for (const c of this.charts) c.chart.setSize({ width: this.width(), height: 170 });
    this.draw();
  }
}
