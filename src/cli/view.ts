import type { F1ClientStats, F1Telemetry } from '../telemetry/f1/client.js';
import type { Gt7ClientStats, Gt7Telemetry } from '../telemetry/gt7/client.js';
import type { MotionSample } from '../telemetry/motion-sample.js';

/** Human-readable telemetry table for the terminal (the CLI's only job besides parsing argv). */

const f = (n: number, digits = 1, width = 7) => n.toFixed(digits).padStart(width);

export function telemetryTable(t: Gt7Telemetry, stats: Gt7ClientStats, ratePerS: number): string {
  const p = t.packet;
  const s = t.sample;
  const state = [s.onTrack ? 'on-track' : s.replay ? 'replay/menu' : '', s.paused ? 'PAUSED' : '', s.loading ? 'loading' : ''].filter(Boolean).join(' ');
  const gear = p.currentGear === 0 ? 'N' : String(p.currentGear);
  const suggested = p.suggestedGear === 15 ? '' : ` (→${p.suggestedGear})`;
  const src = ['none', 'game', 'derived'][s.accelerationSource] ?? '?';
  return [
    `GT7 format ${p.format}  packet ${p.packetId}  car ${p.carCode}  ${state}`,
    `speed ${f(p.speed * 3.6, 0)} km/h   gear ${gear}${suggested}   rpm ${f(p.engineRpm, 0)}   throttle ${f((p.throttle / 255) * 100, 0, 4)} %   brake ${f((p.brake / 255) * 100, 0, 4)} %`,
    `lap ${p.lapCount}/${p.lapsInRace}   best ${lapTime(p.bestLapTime)}   last ${lapTime(p.lastLapTime)}`,
    '',
    ...motionLines(s, src, 'n/a (format A)'),
    '',
    `packets ${stats.accepted}  ${f(ratePerS, 1, 5)}/s   lost ${stats.lost}  dup ${stats.duplicated}  out-of-order ${stats.outOfOrder}  unconfirmed ${stats.unconfirmed}  foreign ${stats.foreign}  garbage ${stats.garbage}  heartbeats ${stats.heartbeatsSent}`,
  ].join('\n');
}

function motionLines(s: MotionSample, accelerationSource: string, noSteer: string): string[] {
  return [
    'motion (ISO 8855 body frame: x forward, y left, z up)',
    `  acceleration  ax ${f(s.ax)}  ay ${f(s.ay)}  az ${f(s.az)}  m/s²   (${accelerationSource})`,
    `  gravity dir   gx ${f(s.gx, 3)}  gy ${f(s.gy, 3)}  gz ${f(s.gz, 3)}`,
    `  rates         p  ${f(s.p, 3)}  q  ${f(s.q, 3)}  r  ${f(s.r, 3)}  rad/s`,
    `  steering      ${s.hasSteer ? `${f(s.steer, 3)} rad  ${f(s.steerRate, 2)} rad/s` : noSteer}`,
  ];
}

export function f1TelemetryTable(t: F1Telemetry, stats: F1ClientStats, ratePerS: number): string {
  const h = t.packet.header;
  const s = t.sample;
  const state = [s.onTrack ? 'on track' : 'in garage', s.paused ? 'PAUSED' : '', s.replay ? 'spectating' : ''].filter(Boolean).join(' ');
  const dropped = Object.entries(stats.dropped)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return [
    `F1 format ${h.packetFormat}  frame ${h.frameIdentifier}  session time ${h.sessionTime.toFixed(2)} s  player ${h.playerCarIndex}  team ${s.carId < 0 ? '?' : s.carId}  ${state}`,
    `speed ${f(s.speed * 3.6, 0)} km/h   from ${stats.byType[`${h.packetFormat} motion`] ?? 0} motion packets`,
    '',
    ...motionLines(s, 'game g-forces', 'n/a (no player data yet)'),
    '',
    `samples ${stats.samples}  ${f(ratePerS, 1, 5)}/s   packets ${stats.accepted}   lost ${stats.lost}  dup ${stats.duplicated}  out-of-order ${stats.outOfOrder}  unconfirmed ${stats.unconfirmed}  foreign ${stats.foreign}  dropped ${dropped || 0}`,
  ].join('\n');
}

export function lapTime(ms: number): string {
  if (ms < 0) return '--:--.---';
  const m = Math.floor(ms / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${m}:${s.toFixed(3).padStart(6, '0')}`;
}

/**
 * The human view of `motion-rig telemetry`: a table redrawn in place 10 times a second on a
 * terminal, or printed once a second into a pipe, with the packet rate measured over 1 s.
 */
export class TelemetryScreen {
  private readonly tty: boolean;
  private readonly live: LiveBlock;
  private lastDraw = 0;
  private rateBase = { t: performance.now(), n: 0 };
  private rate = 0;

  constructor(private readonly out: NodeJS.WriteStream) {
    this.tty = out.isTTY === true;
    this.live = new LiveBlock(out);
  }

  /** `accepted`: the source's running packet count; `table` renders with the rate. */
  update(accepted: number, table: (ratePerS: number) => string, force = false): void {
    const now = performance.now();
    if (now - this.rateBase.t >= 1000) {
      this.rate = ((accepted - this.rateBase.n) * 1000) / (now - this.rateBase.t);
      this.rateBase = { t: now, n: accepted };
    }
    if (now - this.lastDraw < (this.tty ? 100 : 1000) && !force) return;
    this.lastDraw = now;
    const text = table(this.rate);
    if (this.tty) this.live.draw(text);
    else this.out.write(text + '\n\n');
  }
}

/** Redraws a block in place on a terminal. */
export class LiveBlock {
  private lines = 0;
  constructor(private readonly out: NodeJS.WriteStream) {}
  draw(text: string): void {
    const up = this.lines > 0 ? `\x1b[${this.lines}F` : '';
    this.out.write(`${up}\x1b[0J${text}\n`);
    this.lines = text.split('\n').length;
  }
}
