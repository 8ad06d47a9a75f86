import { writeSync } from 'node:fs';

/**
 * Writes one frame synchronously to a serial port's file descriptor, from whichever thread
 * owns the tick. A tty may take part of a frame when its buffer is nearly full: finish it, or
 * report a loss (false). Never throws; allocation-free when the write succeeds.
 */
export function writeFrame(fd: number, frame: Uint8Array, length: number): boolean {
  if (fd < 0 || length <= 0) return false;
  try {
    let done = writeSync(fd, frame, 0, length);
    for (let tries = 0; done < length && tries < 3; tries++) done += writeSync(fd, frame, done, length - done);
    return done === length;
  } catch {
    return false;
  }
}
