import { closeSync, constants, open as openFile } from 'node:fs';
import { ReadStream } from 'node:tty';
import { asyncClose, asyncDrain, asyncFlush, asyncOpen, asyncSet } from '@serialport/bindings-cpp/dist/load-bindings.js';

/**
 * A serial port as a bare file descriptor, through serialport's native calls (open with
 * termios settings and flock(LOCK_EX), modem lines, tcflush, close). These run as N-API
 * async work, which is safe on a worker thread; serialport's stream layer is not (its poller
 * lives on the main thread's event loop and crashes a worker that reads with it). So the
 * serial thread opens the port here and reads it through Node's own tty stream (ttyReader),
 * which waits on the thread's event loop: it wakes when the MCU sends, not every millisecond.
 */
export interface TtyOptions {
  baudRate: number;
  /**
   * true sets HUPCL (drop DTR on close). false leaves it as it is: serialport never clears it,
   * and Linux sets it on a serial port by default, so DTR still drops at close unless something
   * cleared it (`stty -F PORT -hupcl`). An Arduino with auto-reset resets at every open anyway:
   * Linux raises DTR when a tty is opened.
   */
  hupcl: boolean;
}

type Callback<T> = (err: Error | null, value?: T) => void;
const open = asyncOpen as (path: string, opts: object, cb?: Callback<number>) => Promise<number>;
const set = asyncSet as (fd: number, opts: object) => Promise<void>;
const flush = asyncFlush as (fd: number) => Promise<void>;
const close = asyncClose as (fd: number) => Promise<void>;
const drain = asyncDrain as (fd: number) => Promise<void>;

/**
 * Opens raw 8N1, O_NONBLOCK, under flock(LOCK_EX | LOCK_NB): a second motion-rig (or anything
 * else that flocks the port) is refused; a program that opens without flock is not (advisory).
 * Resolves with the descriptor.
 */
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
 * A second, read-only descriptor of the port, for ttyReader. Node closes a stream's descriptor
 * by itself when the port fails, at once and on this thread; with its own descriptor that
 * cannot close the one the control thread is writing to (whose number could then be reused by
 * any file the process opens next).
 */
export function openTtyReadSide(path: string): Promise<number> {
  return new Promise((resolve, reject) => openFile(path, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/**
 * Node's tty stream on the read side (libuv's uv_tty: epoll on this thread's event loop).
 * libuv reopens the tty by name when it can (to own its O_NONBLOCK flag without touching other
 * users of the descriptor): it keeps the new descriptor, dup2s it over `readFd` and leaves
 * `readFd` to the caller, so it is closed here (a descriptor more per session otherwise: a USB
 * adapter unplugged and plugged again would come back under another name while this one held
 * the old). The stream owns its descriptor from here on: destroy() closes it. An open raises
 * DTR on Linux, so make the reader before setting the modem lines, as the first open raised it
 * anyway. Throws when the descriptor is not a tty.
 */
export function ttyReader(readFd: number): ReadStream {
  const reader = new ReadStream(readFd);
  const own = (reader as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (own !== undefined && own >= 0 && own !== readFd) closeSync(readFd);
  return reader;
}
