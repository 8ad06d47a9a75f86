import { FD_VIRTUAL, Port } from '../runtime/slots.js';
import { FrameParser } from './riglink/parser.js';
import { McuState, MessageType, RIGLINK_VERSION } from './riglink/protocol.js';

/**
 * An in-process stand-in for the rig's MCU, for the demo when socat (and so a pty pair to
 * the C MCU simulator) is missing. It takes the host's frames as bytes through the real
 * parser and behaves like firmware-protocol/c/mcu_sim.c: ENABLE/PARK/ESTOP/CLEAR_ESTOP, the
 * 100 ms hold and 500 ms park watchdog, positions that follow targets at a bounded speed.
 * It has no serial line, so it proves less than the pty path; tests use the pty path.
 * What it says back (HELLO_ACK, a STATUS every 20 ms) it publishes in the serial thread's
 * port-slot layout, so the control step judges it exactly as it judges a real port.
 */
export class VirtualRig {
  state: number = McuState.parked;
  readonly positions: Uint16Array;
  readonly counters = { frames: 0, setpoints: 0, hellos: 0, status: 0 };
  /** Sequence number of the newest frame taken. */
  lastSeq = 0;
  private readonly targets: Uint16Array;
  private readonly parser: FrameParser;
  private lastFrameMs = 0;
  private lastAdvanceMs = 0;
  private lastStatusMs = -1e12;
  /** lastSeq as the newest STATUS reported it, and how many STATUS in a row it has not moved. */
  private statusSeq = 0;
  private statusStuck = 0;
  private readonly axes: number;
  /** A fault was raised (fault()): only a reset leaves it, an e-stop and its clear do not. */
  private faulted = false;

  constructor(
    axes: number,
    private readonly speedPerS = 60000,
    private readonly park = 0,
  ) {
    this.axes = axes;
    this.positions = new Uint16Array(axes).fill(park);
    this.targets = new Uint16Array(axes).fill(park);
    this.parser = new FrameParser({
      frame: (type, seq, p) => {
        this.lastSeq = seq;
        this.onFrame(type, p);
      },
    });
  }

  /** Frame bytes from the host, received at nowMs. */
  receive(frame: Uint8Array, length: number, nowMs: number): void {
    this.lastFrameMs = nowMs;
    this.parser.push(frame, length);
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
    if (nowMs - this.lastStatusMs >= 20) {
      this.lastStatusMs = nowMs;
      this.statusStuck = this.counters.status > 0 && this.lastSeq === this.statusSeq ? this.statusStuck + 1 : 0;
      this.statusSeq = this.lastSeq;
      this.counters.status++;
    }
  }

  /** What a serial thread would publish for this MCU: one port generation, fd FD_VIRTUAL. */
  publish(out: Float64Array): void {
    out[Port.generation] = 1;
    out[Port.fd] = FD_VIRTUAL;
    out[Port.statusCount] = this.counters.status;
    out[Port.mcuState] = this.state;
    out[Port.faults] = 0;
    out[Port.lastSeq] = this.statusSeq;
    out[Port.statusStuck] = this.statusStuck;
    for (let i = 0; i < this.axes; i++) out[Port.positions + i] = this.positions[i]!;
    out[Port.helloCount] = this.counters.hellos;
    out[Port.helloVersion] = RIGLINK_VERSION;
    out[Port.helloAxes] = this.axes;
  }

  /** A firmware-detected fault (a stall, a lost pot), as the AVR firmware raises it: latched for good. */
  fault(): void {
    this.state = McuState.fault;
    this.faulted = true;
  }

  private onFrame(type: number, p: Uint8Array): void {
    this.counters.frames++;
    switch (type) {
      case MessageType.HELLO:
        this.counters.hellos++;
        break;
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
        if (this.state !== McuState.estop && this.state !== McuState.fault) this.state = McuState.parking;
        break;
      case MessageType.ESTOP:
        this.state = McuState.estop;
        break;
      case MessageType.CLEAR_ESTOP:
        // PROTOCOL.md §3: a fault outlives an e-stop; clearing the e-stop returns to it.
        if (this.state === McuState.estop) this.state = this.faulted ? McuState.fault : McuState.parked;
        break;
    }
  }
}
