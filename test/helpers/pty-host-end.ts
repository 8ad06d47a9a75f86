import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { expect } from 'vitest';
import { FrameParser } from '../../src/output/riglink/parser.js';
import { FrameEncoder, MessageType, SetpointEncoder, TimedSetpointEncoder, decodeFields } from '../../src/output/riglink/protocol.js';

const AXES = 6;

export interface Status {
  state: number;
  lastSeq: number;
  positions: number[];
}

/** The host end of a socat pty pair (6 axes), opened raw and non-blocking; frames out with the TS encoder, frames in through the TS parser. */
export class HostEnd {
  readonly statuses: Status[] = [];
  readonly replies: { type: number; seq: number; fields: Record<string, unknown> }[] = [];
  private readonly fd: number;
  private readonly timer: NodeJS.Timeout;
  private readonly parser = new FrameParser({
    frame: (type, seq, payload) => {
      const fields = decodeFields(type, payload);
      if (type === MessageType.STATUS) this.statuses.push(fields as unknown as Status);
      else this.replies.push({ type, seq, fields });
    },
  });
  private readonly buf = Buffer.alloc(4096);
  private readonly encoder = new FrameEncoder();
  private readonly setpoints = new SetpointEncoder();
  private readonly timed = new TimedSetpointEncoder();

  constructor(path: string) {
    this.fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    this.timer = setInterval(() => this.drain(), 2);
  }

  private drain(): void {
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return;
        throw err;
      }
      if (n <= 0) return;
      this.parser.push(this.buf.subarray(0, n));
    }
  }

  private write(frame: Uint8Array, n: number): void {
    expect(n).toBeGreaterThan(0);
    expect(writeSync(this.fd, frame, 0, n)).toBe(n);
  }

  send(type: number, seq: number, payload: number[] = []): void {
    this.write(this.encoder.frame, this.encoder.encode(type, seq, payload));
  }

  setpoint(seq: number, value: number): void {
    this.write(this.setpoints.frame, this.setpoints.encode(seq, 1, new Uint16Array(AXES).fill(value), AXES));
  }

  /** A SETPOINT_TIMED (playout extension) for host tick `tick`, every axis at `value`. */
  timedSetpoint(seq: number, tick: number, value: number): void {
    this.write(this.timed.frame, this.timed.encode(seq, 1, tick, new Uint16Array(AXES).fill(value), AXES));
  }

  private closed = false;
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    closeSync(this.fd);
  }
}

