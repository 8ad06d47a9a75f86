import { readSync } from 'node:fs';
import { asyncClose, asyncDrain, asyncFlush, asyncOpen, asyncSet } from '@serialport/bindings-cpp/dist/load-bindings.js';

/**
 * A serial port as a bare file descriptor, through serialport's native calls (open with
 * termios settings and an exclusive lock, modem lines, tcflush, close). These run as N-API
 * async work, which is safe on a worker thread; serialport's stream layer is not (its poller
 * lives on the main thread's event loop and crashes a worker that reads with it). So the
 * serial thread opens the port here and reads the descriptor itself (readTty).
 */
export interface TtyOptions {
  baudRate: number;
  /** Drop DTR on close (resets an Arduino): off for a rig. */
  hupcl: boolean;
}

type Callback<T> = (err: Error | null, value?: T) => void;
const open = asyncOpen as (path: string, opts: object, cb?: Callback<number>) => Promise<number>;
const set = asyncSet as (fd: number, opts: object) => Promise<void>;
const flush = asyncFlush as (fd: number) => Promise<void>;
const close = asyncClose as (fd: number) => Promise<void>;
const drain = asyncDrain as (fd: number) => Promise<void>;

/** Opens raw 8N1 with an exclusive lock (TIOCEXCL) and O_NONBLOCK; resolves with the descriptor. */
export function openTty(path: string, o: TtyOptions): Promise<number> {
  return open(path, { path, baudRate: o.baudRate, dataBits: 8, stopBits: 1, parity: 'none', lock: true, rtscts: false, xon: false, xoff: false, xany: false, hupcl: o.hupcl, vmin: 1, vtime: 0 });
}

/** Modem lines and ASYNC_LOW_LATENCY; a pty has no modem lines (ENOTTY), which is fine. */
export async function setTtyLines(fd: number, lines: { dtr: boolean; rts: boolean; lowLatency: boolean }): Promise<void> {
  await set(fd, { brk: false, cts: false, dsr: false, dtr: lines.dtr, rts: lines.rts, lowLatency: lines.lowLatency }).catch(() => undefined);
}

/** Discards what is queued in both directions (tcflush TCIOFLUSH). */
export function flushTty(fd: number): Promise<void> {
  return flush(fd);
}

/** Waits until what is queued has gone out (tcdrain). */
export function drainTty(fd: number): Promise<void> {
  return drain(fd);
}

export function closeTty(fd: number): Promise<void> {
  return close(fd);
}

/**
 * Reads what is waiting without blocking: the byte count, 0 when nothing is there, −1 when
 * the port is gone (hang-up, EIO, closed descriptor).
 */
export function readTty(fd: number, into: Uint8Array): number {
  try {
    const n = readSync(fd, into, 0, into.length, null);
    return n === 0 ? -1 : n;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR' ? 0 : -1;
  }
}
