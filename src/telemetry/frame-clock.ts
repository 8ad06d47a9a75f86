import type { Logger } from '../log.js';
import type { DrivePhase } from './synthetic/car.js';

/**
 * The pacing both game simulators share (GT7 console, F1): one frame per period on a
 * drift-free grid that never bursts to catch up — a late timer skips frames the way a game
 * drops them — and an optional phase script (drive, pause, menu, replay, silent) stepped
 * on the same clock.
 */

export type SimulatorPhase = DrivePhase | 'silent';

export interface PhaseStep {
  phase: SimulatorPhase;
  seconds: number;
}

/** Parses `drive:20,pause:3,menu:2` into steps. */
export function parsePhases(text: string): PhaseStep[] {
  return text.split(',').map((part) => {
    const [phase, seconds] = part.split(':');
    if (!['drive', 'pause', 'menu', 'replay', 'silent'].includes(phase ?? '') || !(Number(seconds) > 0)) {
      throw new Error(`bad phase step "${part}": want NAME:SECONDS with NAME one of drive, pause, menu, replay, silent`);
    }
    return { phase: phase as SimulatorPhase, seconds: Number(seconds) };
  });
}

export class FrameClock {
  private phaseNow: SimulatorPhase = 'drive';
  private steps: PhaseStep[] | undefined;
  private step = 0;
  private stepEndsMs = Infinity;
  private readonly periodMs: number;
  private nextDueMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    rateHz: number,
    private readonly onFrame: (phase: SimulatorPhase) => void,
    private readonly onPhase: (phase: SimulatorPhase) => void,
    private readonly log: Logger,
    steps?: PhaseStep[],
  ) {
    this.periodMs = 1000 / rateHz;
    if (steps && steps.length > 0) {
      this.steps = steps;
      this.enter(0, performance.now());
    }
  }

  get phase(): SimulatorPhase {
    return this.phaseNow;
  }

  /** Switch phase by hand (stops any phase script). */
  setPhase(phase: SimulatorPhase): void {
    this.steps = undefined;
    this.stepEndsMs = Infinity;
    this.apply(phase);
  }

  /** First frame one period from now. */
  start(): void {
    this.running = true;
    this.nextDueMs = performance.now() + this.periodMs;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private apply(phase: SimulatorPhase): void {
    if (phase !== this.phaseNow) this.log.info({ phase }, 'phase');
    this.phaseNow = phase;
    this.onPhase(phase);
  }

  private enter(step: number, nowMs: number): void {
    const steps = this.steps!;
    this.step = step % steps.length;
    const s = steps[this.step]!;
    this.stepEndsMs = nowMs + s.seconds * 1000;
    this.apply(s.phase);
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.nextDueMs - performance.now()));
  }

  private tick(): void {
    const now = performance.now();
    this.nextDueMs += this.periodMs;
    if (this.nextDueMs < now) this.nextDueMs = now + this.periodMs;
    if (this.steps && now >= this.stepEndsMs) this.enter(this.step + 1, now);
    this.onFrame(this.phaseNow);
    this.schedule();
  }
}
