import { FrameParser } from './riglink/parser.js';
import { McuState, MessageType } from './riglink/protocol.js';

/**
 * An in-process stand-in for the rig's MCU, for the demo when socat (and so a pty pair to
 * the C MCU simulator) is missing. It takes the host's frames as bytes through the real
 * parser and behaves like firmware-protocol/c/mcu_sim.c: ENABLE/PARK/ESTOP/CLEAR_ESTOP, the
 * 100 ms hold and 500 ms park watchdog, positions that follow targets at a bounded speed.
 * It has no serial line, so it proves less than the pty path; tests use the pty path.
 */
export class VirtualRig {
  state: number = McuState.parked;
  readonly positions: Uint16Array;
  readonly counters = { frames: 0, setpoints: 0 };
  private readonly targets: Uint16Array;
  private readonly parser: FrameParser;
  private lastFrameMs = 0;
  private lastAdvanceMs = 0;
  private readonly axes: number;

  constructor(
    axes: number,
    private readonly speedPerS = 60000,
    private readonly park = 0,
  ) {
    this.axes = axes;
    this.positions = new Uint16Array(axes).fill(park);
    this.targets = new Uint16Array(axes).fill(park);
    this.parser = new FrameParser({ frame: (type, _seq, p) => this.onFrame(type, p) });
  }

  /** Frame bytes from the host, received at nowMs. */
  receive(frame: Uint8Array, length: number, nowMs: number): void {
    this.lastFrameMs = nowMs;
    this.parser.push(length === frame.length ? frame : frame.subarray(0, length));
  }

  /** Moves the actuators and runs the watchdog up to nowMs. */
  advance(nowMs: number): void {
    const dt = this.lastAdvanceMs === 0 ? 0 : (nowMs - this.lastAdvanceMs) / 1000;
    this.lastAdvanceMs = nowMs;
    const silence = nowMs - this.lastFrameMs;
    if (this.state === McuState.enabled && silence > 100) {
      this.targets.set(this.positions);
      this.state = McuState.holding;
    }
    if (this.state === McuState.holding && silence > 500) this.state = McuState.parking;
    const step = this.speedPerS * dt;
    let moving = false;
    for (let i = 0; i < this.axes; i++) {
      const goal = this.state === McuState.enabled ? this.targets[i]! : this.state === McuState.parking ? this.park : this.positions[i]!;
      const p = this.positions[i]!;
      const next = goal > p ? Math.min(goal, p + step) : Math.max(goal, p - step);
      this.positions[i] = Math.round(next);
      if (this.positions[i] !== goal) moving = true;
    }
    if (this.state === McuState.parking && !moving) this.state = McuState.parked;
  }

  private onFrame(type: number, p: Uint8Array): void {
    this.counters.frames++;
    switch (type) {
      case MessageType.SETPOINT:
        if (p[1] !== this.axes) return;
        this.counters.setpoints++;
        if (this.state === McuState.holding) this.state = McuState.enabled;
        for (let i = 0; i < this.axes; i++) this.targets[i] = p[2 + 2 * i]! | (p[3 + 2 * i]! << 8);
        break;
      case MessageType.ENABLE:
        if (this.state !== McuState.estop && this.state !== McuState.fault) {
          this.targets.set(this.positions);
          this.state = McuState.enabled;
        }
        break;
      case MessageType.PARK:
        if (this.state !== McuState.estop) this.state = McuState.parking;
        break;
      case MessageType.ESTOP:
        this.state = McuState.estop;
        break;
      case MessageType.CLEAR_ESTOP:
        if (this.state === McuState.estop) this.state = McuState.parked;
        break;
    }
  }
}
