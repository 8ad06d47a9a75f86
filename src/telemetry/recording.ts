import { createWriteStream, openSync, readFileSync, type WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Capture files. Two kinds are read:
 *
 * - Our recording format (docs/recording-format.md): a 24-byte header
 *   `"MRIG-REC" · version:u16 · heartbeat:u8 · game:u8 · startUnixMs:u64 · reserved:u32`
 *   then records `offsetNs:u64 · length:u32 · datagram`, all little-endian. The datagram is
 *   exactly what the socket received (encrypted for GT7).
 * - Plain `*.lpr` files: records `length:u32 · bytes`, no header, taken as 60 Hz.
 */

export const RECORDING_MAGIC = 'MRIG-REC';
export const RECORDING_VERSION = 1;
export const RECORDING_HEADER_SIZE = 24;
const LPR_PERIOD_NS = 1e9 / 60;

export type CaptureGame = 'gt7' | 'gtsport' | 'f1' | 'unknown';
const GAME_CODES: readonly CaptureGame[] = ['gt7', 'gtsport', 'f1', 'unknown'];

export interface CaptureRecord {
  /** Receive time relative to the first record, ns. */
  offsetNs: number;
  datagram: Uint8Array;
}

export interface Capture {
  kind: 'recording' | 'lpr';
  /** Heartbeat character the recording asked for, when known. */
  heartbeat?: string;
  game: CaptureGame;
  startUnixMs?: number;
  records: CaptureRecord[];
}

export class CaptureFormatError extends Error {}

export function parseCapture(bytes: Uint8Array, name = 'capture'): Capture {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isRecording =
    bytes.length >= RECORDING_HEADER_SIZE && Buffer.from(bytes.subarray(0, 8)).toString('latin1') === RECORDING_MAGIC;
  const records: CaptureRecord[] = [];
  if (isRecording) {
    const version = view.getUint16(8, true);
    if (version !== RECORDING_VERSION) throw new CaptureFormatError(`${name}: recording version ${version} is not supported (want ${RECORDING_VERSION})`);
    const hb = view.getUint8(10);
    const game = GAME_CODES[view.getUint8(11)] ?? 'unknown';
    const startUnixMs = Number(view.getBigUint64(12, true));
    let at = RECORDING_HEADER_SIZE;
    while (at < bytes.length) {
      if (at + 12 > bytes.length) throw new CaptureFormatError(`${name}: truncated record header at byte ${at}`);
      const offsetNs = Number(view.getBigUint64(at, true));
      const length = view.getUint32(at + 8, true);
      at += 12;
      if (at + length > bytes.length) throw new CaptureFormatError(`${name}: record at byte ${at - 12} claims ${length} bytes, file ends first`);
      records.push({ offsetNs, datagram: bytes.subarray(at, at + length) });
      at += length;
    }
    return { kind: 'recording', heartbeat: hb === 0 ? undefined : String.fromCharCode(hb), game, startUnixMs, records };
  }
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new CaptureFormatError(`${name}: truncated length prefix at byte ${at}`);
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > bytes.length) throw new CaptureFormatError(`${name}: record at byte ${at - 4} claims ${length} bytes, file ends first`);
    records.push({ offsetNs: records.length * LPR_PERIOD_NS, datagram: bytes.subarray(at, at + length) });
    at += length;
  }
  return { kind: 'lpr', game: 'unknown', records };
}

export function readCapture(path: string): Capture {
  return parseCapture(readFileSync(path), path);
}

export interface RecorderOptions {
  heartbeat?: string;
  game?: CaptureGame;
  /** 'w' (default) replaces an existing file; 'wx' refuses one (EEXIST). */
  flags?: 'w' | 'wx';
  /** Called once, on the first write or close error (a full disk, a failed device). */
  onError?: (err: Error) => void;
}

/**
 * Bytes the recorder lets the file stream hold while the disk is slow; beyond it datagrams are
 * dropped and counted (`dropped`) instead of buffered without bound in the service's memory.
 * 1 MiB is about 55 s of GT7 heartbeat "B" at 60 Hz (316 + 12 bytes a record).
 */
export const RECORDER_BACKLOG_BYTES = 1024 * 1024;

/**
 * Writes datagrams as they arrive; call `close()` to flush. The file is opened synchronously,
 * so a folder that cannot be written throws from the constructor. A later write error (a full
 * disk) never throws: it lands in `error` (and `onError`, once), and every datagram after it
 * is dropped and counted.
 */
export class Recorder {
  private readonly out: WriteStream;
  private firstNs: number | undefined;
  private readonly onError: ((err: Error) => void) | undefined;
  count = 0;
  bytes = 0;
  /** Datagrams not written: the stream was backed up or had failed. */
  dropped = 0;
  /** The first write/close error, if any. */
  error: Error | undefined;

  constructor(path: string, opts: RecorderOptions = {}) {
    const fd = openSync(path, opts.flags ?? 'w', 0o644);
    this.out = createWriteStream(path, { fd, highWaterMark: RECORDER_BACKLOG_BYTES });
    this.onError = opts.onError;
    this.out.on('error', (err) => this.fail(err));
    const header = Buffer.alloc(RECORDING_HEADER_SIZE);
    header.write(RECORDING_MAGIC, 0, 'latin1');
    header.writeUInt16LE(RECORDING_VERSION, 8);
    header.writeUInt8(opts.heartbeat ? opts.heartbeat.charCodeAt(0) : 0, 10);
    header.writeUInt8(GAME_CODES.indexOf(opts.game ?? 'unknown'), 11);
    header.writeBigUInt64LE(BigInt(Date.now()), 12);
    this.out.write(header);
    this.bytes = RECORDING_HEADER_SIZE;
  }

  write(datagram: Uint8Array, receiveTimeNs: number): void {
    // writableNeedDrain: an earlier write() returned false and the stream has not drained.
    if (this.error !== undefined || this.out.destroyed || this.out.writableNeedDrain) {
      this.dropped++;
      return;
    }
    if (this.firstNs === undefined) this.firstNs = receiveTimeNs;
    // One buffer per record, so a dropped datagram never leaves half a record in the file.
    const rec = Buffer.allocUnsafe(12 + datagram.length);
    rec.writeBigUInt64LE(BigInt(Math.max(0, Math.round(receiveTimeNs - this.firstNs))), 0);
    rec.writeUInt32LE(datagram.length, 8);
    rec.set(datagram, 12);
    this.out.write(rec);
    this.count++;
    this.bytes += rec.length;
  }

  /** Flushes and closes; never rejects: an error is in `error` (and was passed to onError). */
  close(): Promise<Error | undefined> {
    return new Promise((resolve) => {
      if (this.out.destroyed || this.out.writableFinished) return resolve(this.error);
      this.out.end((err?: Error | null) => {
        if (err) this.fail(err);
        resolve(this.error);
      });
    });
  }

  private fail(err: Error): void {
    if (this.error !== undefined) return;
    this.error = err;
    this.onError?.(err);
  }
}

export interface ReplayOptions {
  /** Pace records by their offsets (true) or hand them out as fast as possible. */
  realTime?: boolean;
  /** Start again at the end, forever (until the signal aborts). */
  loop?: boolean;
  signal?: AbortSignal;
}

/**
 * Hands out a capture's records in order. In real time it sleeps to absolute targets
 * (start + offset), so timer error never accumulates over a long file.
 */
export async function* replay(capture: Capture, opts: ReplayOptions = {}): AsyncGenerator<CaptureRecord> {
  const { realTime = false, loop = false, signal } = opts;
  if (capture.records.length === 0) return;
  const lastOffset = capture.records[capture.records.length - 1]!.offsetNs;
  const period = capture.records.length > 1 ? lastOffset / (capture.records.length - 1) : LPR_PERIOD_NS;
  let base = 0;
  const start = performance.now();
  do {
    for (const record of capture.records) {
      if (signal?.aborted) return;
      if (realTime) {
        const dueMs = (base + record.offsetNs) / 1e6 - (performance.now() - start);
        if (dueMs > 1) {
          try {
            await sleep(dueMs, undefined, { signal });
          } catch {
            return;
          }
        }
      }
      yield { offsetNs: base + record.offsetNs, datagram: record.datagram };
    }
    base += lastOffset + period;
  } while (loop);
}
