import { cobsDecode } from './cobs.js';
import { crc16 } from './crc16.js';
import { MAX_BODY, MAX_ENCODED, lengthOk } from './protocol.js';

/**
 * The receiving half: bytes in (any chunking), frames out. Same state machine as the C
 * parser: accumulate to the 0x00 delimiter, COBS-decode, check length, CRC, type and payload
 * length; drop and count anything that fails. Never throws on input.
 */
export type ParseError = 'badCobs' | 'truncated' | 'badCrc' | 'oversize' | 'unknownType' | 'badLength';

export interface ParserCounters {
  rxFrames: number;
  badCobs: number;
  truncated: number;
  badCrc: number;
  oversize: number;
  unknownType: number;
  badLength: number;
}

export interface FrameSink {
  /** payload is a view into the parser's buffer, valid only during the call. */
  frame(type: number, seq: number, payload: Uint8Array): void;
  error?(kind: ParseError): void;
}

export class FrameParser {
  readonly counters: ParserCounters = { rxFrames: 0, badCobs: 0, truncated: 0, badCrc: 0, oversize: 0, unknownType: 0, badLength: 0 };
  private readonly buf = new Uint8Array(MAX_ENCODED);
  private readonly body = new Uint8Array(MAX_BODY);
  private len = 0;
  private discarding = false;

  constructor(private readonly sink: FrameSink) {}

  /** Bytes chunk[0, length) (default: all of it); allocation-free. */
  push(chunk: Uint8Array, length = chunk.length): void {
    for (let i = 0; i < length; i++) {
      const byte = chunk[i]!;
      if (byte === 0) {
        if (this.discarding) {
          this.discarding = false;
          this.len = 0;
          this.fail('oversize');
        } else if (this.len > 0) this.finish();
      } else if (!this.discarding) {
        if (this.len >= this.buf.length) this.discarding = true;
        else this.buf[this.len++] = byte;
      }
    }
  }

  /** Forget a partial frame (after a reconnect). */
  reset(): void {
    this.len = 0;
    this.discarding = false;
  }

  private fail(kind: ParseError): void {
    this.counters[kind]++;
    this.sink.error?.(kind);
  }

  private finish(): void {
    const n = cobsDecode(this.buf, 0, this.len, this.body);
    this.len = 0;
    if (n < 0) return this.fail('badCobs');
    if (n < 5) return this.fail('truncated');
    const b = this.body;
    const crc = b[n - 2]! | (b[n - 1]! << 8);
    if (crc16(b, 0, n - 2) !== crc) return this.fail('badCrc');
    const ok = lengthOk(b[0]!, b, 3, n - 5);
    if (ok === undefined) return this.fail('unknownType');
    if (!ok) return this.fail('badLength');
    this.counters.rxFrames++;
    this.sink.frame(b[0]!, b[1]! | (b[2]! << 8), b.subarray(3, n - 2));
  }
}
